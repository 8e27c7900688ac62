import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing
@testable import BarfillCore

/// Slots built from the domain: New York wall-clock times on session dates.
private enum Fixture {
    static let clock = CoverageClock.newYork

    static func date(_ text: String) -> LocalDate { LocalDate(iso: text)! }

    /// The instant of `hour:minute` New York time on `date`.
    static func newYork(_ date: LocalDate, _ hour: Int, _ minute: Int = 0) -> Int64 {
        NewYork.instant(date, hour: hour, minute: minute)
    }

    /// Weekdays from `from` through `through`, less the given holidays.
    static func sessions(_ from: String, _ through: String, except holidays: Set<String> = []) -> [LocalDate] {
        var out: [LocalDate] = []
        var d = date(from)
        while d <= date(through) {
            if (1...5).contains(d.weekday) && !holidays.contains(d.description) { out.append(d) }
            d = d.adding(days: 1)
        }
        return out
    }

    /// Default-grid h1 slots (clock anchor, regular hours, start inside): 10:00 … 15:00, or 10 … 12
    /// on a 13:00 early close.
    static func h1Slots(_ date: LocalDate, earlyClose: Bool = false) -> [Int64] {
        (10...(earlyClose ? 12 : 15)).map { newYork(date, $0) }
    }

    static func m15Slots(_ date: LocalDate) -> [Int64] {
        (0..<26).map { newYork(date, 9, 30) + Int64($0) * 900 }
    }
}

@Suite struct CoverageModelTests {
    @Test func totalsCountEachStateAndOffGridBars() {
        let series = CoverageSeries(
            ticker: "AAPL", timeframe: .h1,
            slots: [.init(start: 0, state: .present), .init(start: 3_600, state: .missing),
                    .init(start: 7_200, state: .confirmedEmpty), .init(start: 10_800, state: .present)],
            offGrid: [100, 200])
        let t = series.totals
        #expect(t.expected == 4)
        #expect(t.present == 2)
        #expect(t.missing == 1)
        #expect(t.confirmedEmpty == 1)
        #expect(t.offGrid == 2)
        #expect(t.coveredText == "75.0%")
    }

    @Test func oneMissingSlotInAThousandNeverShowsAsComplete() {
        var t = CoverageTotals()
        t.expected = 1_000
        t.present = 999
        t.missing = 1
        #expect(t.coveredText == "99.9%")
        t.expected = 10_000
        t.present = 9_999
        #expect(t.coveredText == "99.9%")
    }

    @Test(arguments: [
        ("2024-03-08T20:00:00Z", Int64(-18_000)),   // Friday before the spring change: EST
        ("2024-03-10T06:59:59Z", -18_000),          // 01:59:59 EST on the change day
        ("2024-03-10T07:00:00Z", -14_400),          // 02:00 EST becomes 03:00 EDT
        ("2024-11-03T05:59:59Z", -14_400),          // 01:59:59 EDT, first pass
        ("2024-11-03T06:00:00Z", -18_000),          // back to 01:00 EST
        ("2006-04-02T07:00:00Z", -14_400),          // before 2007: first Sunday of April
        ("2006-03-13T15:00:00Z", -18_000),          // second Monday of March 2006: still EST
        ("2006-10-29T06:00:00Z", -18_000),          // before 2007: last Sunday of October
    ])
    func theClockFollowsNewYorkDaylightSavingTime(_ instant: String, _ offset: Int64) {
        #expect(CoverageClock.newYork.offset(UTC.parse(instant)!) == offset)
    }

    @Test func intradayRowsAreSessionsAndColumnsAreTimesOfDayAcrossTheDSTChange() {
        // 2024-03-04 … 2024-03-15 spans the change to daylight time on Sunday 10 March.
        let days = Fixture.sessions("2024-03-04", "2024-03-15")
        let slots = days.flatMap { Fixture.h1Slots($0) }.map { CoverageSlot(start: $0, state: .present) }
        let grid = CoverageGrid(CoverageSeries(ticker: "AAPL", timeframe: .h1, slots: slots), clock: Fixture.clock)

        #expect(grid.rows.map(\.date) == days)
        #expect(grid.columns == ["10:00", "11:00", "12:00", "13:00", "14:00", "15:00"])
        for row in grid.rows {
            #expect(row.cells.map(\.column) == [0, 1, 2, 3, 4, 5], "row \(row.label)")
        }
    }

    @Test func anEarlyCloseRowIsShorterAndAHalfHourOpenShiftsNothing() {
        // The day after Thanksgiving 2024 closes at 13:00.
        let friday = Fixture.date("2024-11-29"), monday = Fixture.date("2024-12-02")
        let slots = (Fixture.h1Slots(friday, earlyClose: true) + Fixture.h1Slots(monday))
            .map { CoverageSlot(start: $0, state: .missing) }
        let grid = CoverageGrid(CoverageSeries(ticker: "MSFT", timeframe: .h1, slots: slots), clock: Fixture.clock)
        #expect(grid.rows.map(\.cells.count) == [3, 6])
        #expect(grid.rows[0].cells.map(\.column) == [0, 1, 2])
    }

    @Test func m15ColumnsStartAtTheOpenAndLabelWholeHours() {
        let day = Fixture.date("2024-07-03")
        let slots = Fixture.m15Slots(day).map { CoverageSlot(start: $0, state: .present) }
        let grid = CoverageGrid(CoverageSeries(ticker: "SPY", timeframe: .m15, slots: slots), clock: Fixture.clock)
        #expect(grid.columns.count == 26)
        #expect(grid.columns[0] == "")          // 09:30
        #expect(grid.columns[2] == "10:00")
        #expect(grid.columns[25] == "")         // 15:45
        #expect(grid.rows.count == 1)
        #expect(grid.rows[0].cells.map(\.column) == Array(0..<26))
    }

    @Test func offGridBarsCountOnTheirDayAndAHolidayGetsARowOfItsOwn() {
        let thursday = Fixture.date("2024-03-28"), goodFriday = Fixture.date("2024-03-29")
        let slots = Fixture.h1Slots(thursday).map { CoverageSlot(start: $0, state: .present) }
        let offGrid = [Fixture.newYork(thursday, 8), Fixture.newYork(thursday, 17),   // extended hours
                       Fixture.newYork(goodFriday, 11)]                                // exchange closed
        let grid = CoverageGrid(CoverageSeries(ticker: "AAPL", timeframe: .h1, slots: slots, offGrid: offGrid),
                                clock: Fixture.clock)
        #expect(grid.rows.map(\.date) == [thursday, goodFriday])
        #expect(grid.rows[0].offGrid.count == 2)
        #expect(grid.rows[1].cells.isEmpty)
        #expect(grid.rows[1].offGrid == [Fixture.newYork(goodFriday, 11)])
        // Off-grid bars do not widen the slot columns.
        #expect(grid.columns.count == 6)
    }

    @Test func dailyRowsAreWeeksAndColumnsAreWeekdays() {
        // March 2024: Good Friday (29th) is no session.
        let days = Fixture.sessions("2024-03-01", "2024-03-29", except: ["2024-03-29"])
        let slots = days.map { CoverageSlot(start: Fixture.newYork($0, 0), state: .present) }
        let grid = CoverageGrid(CoverageSeries(ticker: "AAPL", timeframe: .d1, slots: slots), clock: Fixture.clock)
        #expect(grid.columns == ["Mon", "Tue", "Wed", "Thu", "Fri"])
        #expect(grid.rows.map(\.label) == ["2024-02-26", "2024-03-04", "2024-03-11", "2024-03-18", "2024-03-25"])
        #expect(grid.rows[0].cells.map(\.column) == [4])                 // Friday 1 March
        #expect(grid.rows[4].cells.map(\.column) == [0, 1, 2, 3])        // no Friday: Good Friday
        #expect(grid.rows.map(\.cells.count).reduce(0, +) == days.count)
    }

    @Test func monthlyAndWeeklyRowsAreYears() {
        let months = (1...12).map { LocalDate(year: 2023, month: $0, day: 1)! } + [LocalDate(year: 2024, month: 1, day: 2)!]
        let monthly = CoverageGrid(
            CoverageSeries(ticker: "AAPL", timeframe: .mn1,
                           slots: months.map { CoverageSlot(start: Fixture.newYork($0, 0), state: .present) }),
            clock: Fixture.clock)
        #expect(monthly.rows.map(\.label) == ["2023", "2024"])
        #expect(monthly.rows[0].cells.map(\.column) == Array(0..<12))
        #expect(monthly.rows[1].cells.map(\.column) == [0])

        // 2024 has 53 Mondays (1 January … 30 December); the 54th is 6 January 2025.
        let mondays = (0..<54).map { Fixture.date("2024-01-01").adding(days: 7 * $0) }
        let weekly = CoverageGrid(
            CoverageSeries(ticker: "AAPL", timeframe: .w1,
                           slots: mondays.map { CoverageSlot(start: Fixture.newYork($0, 0), state: .missing) }),
            clock: Fixture.clock)
        #expect(weekly.rows.map(\.label) == ["2024", "2025"])
        #expect(weekly.rows[0].cells.map(\.column) == Array(0..<53))
        #expect(weekly.rows[1].cells.map(\.column) == [0])
        #expect(weekly.columns.count == 53)
    }
}

@Suite struct CoverageClassificationTests {
    @Test func slotsAreClassifiedFromStoredBarsAndTheEmptyLedgerOnTheExchangeGrid() {
        // Thursday 28 March 2024, Good Friday (closed), Monday 1 April: 12 expected h1 slots.
        let grid = Grid(timeframe: .h1)
        let thursday = Fixture.date("2024-03-28"), friday = Fixture.date("2024-03-29"),
            monday = Fixture.date("2024-04-01")
        let from = NewYork.midnight(thursday), until = NewYork.midnight(Fixture.date("2024-04-02"))
        let expected = Fixture.h1Slots(thursday) + Fixture.h1Slots(monday)
        #expect(grid.slots(from: from, until: until).map(\.start) == expected)

        let stored = expected.filter { $0 != Fixture.newYork(thursday, 12) && $0 != Fixture.newYork(monday, 10)
            && $0 != Fixture.newYork(monday, 11) }
        let offGrid = [Fixture.newYork(thursday, 8), Fixture.newYork(friday, 11), Fixture.newYork(monday, 10, 30)]
        // The provider said there was no trade in Monday's 10:00 hour.
        let ledger = [(from: Fixture.newYork(monday, 10), to: Fixture.newYork(monday, 11))]

        let series = CoverageSeries(ticker: "AAPL", grid: grid, from: from, until: until,
                                    bars: (stored + offGrid).shuffled(), confirmedEmpty: ledger)
        #expect(series.timeframe == .h1)
        #expect(series.slots.map(\.start) == expected)
        let state = Dictionary(uniqueKeysWithValues: series.slots.map { ($0.start, $0.state) })
        #expect(state[Fixture.newYork(thursday, 12)] == .missing)
        #expect(state[Fixture.newYork(monday, 10)] == .confirmedEmpty)
        #expect(state[Fixture.newYork(monday, 11)] == .missing)    // outside the ledger's range
        #expect(series.offGrid == offGrid)
        let t = series.totals
        #expect((t.expected, t.present, t.missing, t.confirmedEmpty, t.offGrid) == (12, 9, 2, 1, 3))
    }

    @Test func barsOutsideTheWindowAreNeitherPresentNorOffGrid() {
        let grid = Grid(timeframe: .d1)
        let from = NewYork.midnight(Fixture.date("2024-03-04")), until = NewYork.midnight(Fixture.date("2024-03-09"))
        let before = Fixture.newYork(Fixture.date("2024-03-01"), 0)          // a slot key, earlier
        let after = Fixture.newYork(Fixture.date("2024-03-11"), 0)           // a slot key, later
        let misaligned = Fixture.date("2024-03-05").utcMidnight              // 00:00 UTC: off-grid
        let series = CoverageSeries(ticker: "SPY", grid: grid, from: from, until: until,
                                    bars: [before, after, misaligned], confirmedEmpty: [])
        #expect(series.slots.count == 5)
        #expect(series.slots.allSatisfy { $0.state == .missing })
        #expect(series.offGrid == [misaligned])
    }
}

@Suite struct CoverageHTMLTests {
    /// A realistic little report: two tickers, holes of every kind, off-grid bars.
    static func sampleReport() -> CoverageReport {
        let days = Fixture.sessions("2024-03-04", "2024-03-15")
        var aapl: [CoverageSlot] = []
        for (i, day) in days.enumerated() {
            for (j, start) in Fixture.h1Slots(day).enumerated() {
                let state: SlotCoverage = switch (i, j) {
                case (2, 3): .missing                 // a single slot
                case (4, 4...), (5, ...1): .missing   // across an overnight
                case (7, _): .missing                 // a whole session
                case (8, 0): .confirmedEmpty          // the provider has no trade there
                default: .present
                }
                aapl.append(CoverageSlot(start: start, state: state))
            }
        }
        let daily = Fixture.sessions("2024-03-01", "2024-03-28").map {
            CoverageSlot(start: Fixture.newYork($0, 0), state: $0.day == 12 ? .missing : .present)
        }
        return CoverageReport(
            subtitle: "XNYS clock/regular/start-inside · 2024-03-01 → 2024-03-16",
            series: [
                CoverageSeries(ticker: "MSFT", timeframe: .d1, slots: daily),
                CoverageSeries(ticker: "AAPL", timeframe: .h1, slots: aapl,
                               offGrid: [Fixture.newYork(days[0], 8), Fixture.newYork(Fixture.date("2024-03-09"), 12)]),
            ])
    }

    @Test func theReportIsWellFormedAndItsCellsMatchTheTotals() throws {
        let report = Self.sampleReport()
        let doc = try ParsedHTML(report.html())

        let heatmapRects = doc.elements.filter { $0.name == "rect" && $0.inside.contains("heatmap") }
        for state in SlotCoverage.allCases {
            let expected = report.series.flatMap(\.slots).filter { $0.state == state }.count
            #expect(heatmapRects.filter { $0.attributes["class"] == "s-\(state.rawValue)" }.count == expected,
                    "\(state)")
        }
        #expect(heatmapRects.count == report.totals.expected)
        #expect(report.totals.missing == 1 + 4 + 6 + 1)
        #expect(report.totals.confirmedEmpty == 1)

        // Each off-grid row gets one marker; the totals table counts every bar.
        let markers = doc.elements.filter { $0.name == "g" && $0.attributes["class"] == "mark-offgrid"
            && $0.inside.contains("heatmap") }
        #expect(markers.count == 2)
        #expect(doc.elements.filter { $0.name == "section" }.count == 2)
        #expect(doc.text.contains("all 2 series"))
    }

    @Test func seriesAreOrderedByTickerThenTimeframeWhateverTheInputOrder() throws {
        var report = Self.sampleReport()
        let forward = report.html()
        report.series.reverse()
        #expect(report.html() == forward)
        let doc = try ParsedHTML(forward)
        let headings = doc.elements.filter { $0.name == "h2" }.map(\.text)
        #expect(headings == ["AAPL · h1", "MSFT · d1"])
    }

    @Test func tickerTextIsEscaped() throws {
        let hostile = "A<b>&\"'</b>"
        let report = CoverageReport(series: [
            CoverageSeries(ticker: hostile, timeframe: .h1,
                           slots: Fixture.h1Slots(Fixture.date("2024-03-05")).map { .init(start: $0, state: .missing) }),
        ])
        let html = report.html()
        #expect(!html.contains("<b>"))
        #expect(html.contains("A&lt;b&gt;&amp;&quot;&#39;&lt;/b&gt;"))
        let doc = try ParsedHTML(html)
        #expect(doc.elements.filter { $0.name == "h2" }.map(\.text) == ["\(hostile) · h1"])
        #expect(doc.elements.allSatisfy { $0.name != "b" })
    }

    @Test func thePageIsSelfContained() {
        let html = Self.sampleReport().html()
        #expect(!html.contains("<script"))
        #expect(!html.contains("src="))
        #expect(!html.contains("<link"))
        #expect(!html.contains("url("))
        // The only absolute URL is the SVG namespace name, which is never fetched.
        let urls = html.components(separatedBy: "http").count - 1
        let namespaces = html.components(separatedBy: "xmlns=\"http://www.w3.org/2000/svg\"").count - 1
        #expect(urls == namespaces)
    }

    @Test func anEmptyReportSaysSo() throws {
        let doc = try ParsedHTML(CoverageReport(series: []).html())
        #expect(doc.text.contains("No series in this window."))
        #expect(doc.elements.filter { $0.name == "section" }.isEmpty)
    }

    @Test func numbersAreGroupedByThousands() {
        #expect(CoverageReport.grouped(0) == "0")
        #expect(CoverageReport.grouped(999) == "999")
        #expect(CoverageReport.grouped(1_000) == "1,000")
        #expect(CoverageReport.grouped(6_048_000) == "6,048,000")
    }
}

/// The report parsed as XML: it is written as well-formed XHTML-compatible HTML, so a strict
/// XML parser accepting it proves every element is closed and every attribute quoted and escaped.
private final class ParsedHTML: NSObject, XMLParserDelegate {
    struct Element {
        var name: String
        var attributes: [String: String]
        /// Classes of the enclosing elements, outermost first.
        var inside: [String]
        var text = ""
    }

    private(set) var elements: [Element] = []
    private(set) var text = ""
    private var open: [Int] = []
    private var failure: Error?

    init(_ html: String) throws {
        super.init()
        let parser = XMLParser(data: Data(html.utf8))
        parser.delegate = self
        if !parser.parse() {
            throw parser.parserError ?? failure ?? CocoaError(.formatting)
        }
    }

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                attributes: [String: String] = [:]) {
        let inside = open.compactMap { elements[$0].attributes["class"] }
        elements.append(Element(name: name, attributes: attributes, inside: inside))
        open.append(elements.count - 1)
    }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        open.removeLast()
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        text += string
        for index in open { elements[index].text += string }
    }

    func parser(_ parser: XMLParser, parseErrorOccurred error: Error) { failure = error }
}

@Suite struct CoverageOverviewTests {
    /// 2024-03-25 … 2024-04-05: Good Friday (03-29) is a holiday.
    static let from = NewYork.midnight(Fixture.date("2024-03-25")), until = NewYork.midnight(Fixture.date("2024-04-06"))
    static let weeks = CoverageWeeks(from: from, until: until)

    @Test func weeksAreTheMondaysOfTheWindowByNewYorkDate() {
        let weeks = CoverageWeeks(from: NewYork.midnight(Fixture.date("2024-03-27")),
                                  until: NewYork.midnight(Fixture.date("2024-04-09")))
        #expect(weeks.mondays.map(\.description) == ["2024-03-25", "2024-04-01", "2024-04-08"])
        #expect(weeks.index(of: Fixture.newYork(Fixture.date("2024-03-31"), 23)) == 0)   // Sunday night, New York
        #expect(weeks.index(of: Fixture.newYork(Fixture.date("2024-04-01"), 0)) == 1)
        #expect(weeks.index(of: Fixture.newYork(Fixture.date("2024-03-24"), 12)) == nil)
        #expect(weeks.index(of: Fixture.newYork(Fixture.date("2024-04-15"), 12)) == nil)
        #expect(CoverageWeeks(from: 100, until: 100).mondays.isEmpty)
    }

    @Test(arguments: [
        (0, 0, 0, CoverageWeekState.empty), (6, 6, 0, .complete), (6, 5, 1, .complete), (6, 0, 6, .empty),
        (6, 0, 0, .missing), (6, 3, 0, .partial), (6, 0, 2, .partial),
    ])
    func aWeekIsCompletePartlyMissingAllMissingOrEmpty(_ expected: Int, _ present: Int, _ empty: Int,
                                                       _ state: CoverageWeekState) {
        #expect(CoverageWeekCount(expected: expected, present: present, confirmedEmpty: empty).state == state)
    }

    /// AAPL: one hole on Tuesday of the holiday week, all of the second week missing bar one
    /// confirmed-empty slot, an off-grid bar.
    static func aapl() -> CoverageSeries {
        let days = Fixture.sessions("2024-03-25", "2024-04-05", except: ["2024-03-29"])
        var slots: [CoverageSlot] = []
        for day in days {
            for start in Fixture.h1Slots(day) {
                let state: SlotCoverage
                if day.description >= "2024-04-01" {
                    state = start == Fixture.newYork(Fixture.date("2024-04-02"), 10) ? .confirmedEmpty : .missing
                } else {
                    state = start == Fixture.newYork(Fixture.date("2024-03-26"), 11) ? .missing : .present
                }
                slots.append(CoverageSlot(start: start, state: state))
            }
        }
        return CoverageSeries(ticker: "AAPL", timeframe: .h1, slots: slots,
                              offGrid: [Fixture.newYork(Fixture.date("2024-03-29"), 10)])
    }

    @Test func aRowCountsEachWeeksSlotsFromTheSeries() {
        let row = CoverageOverviewRow(Self.aapl(), weeks: Self.weeks)
        #expect(row.weeks == [CoverageWeekCount(expected: 24, present: 23, confirmedEmpty: 0),
                              CoverageWeekCount(expected: 30, present: 0, confirmedEmpty: 1)])
        #expect(row.weeks.map(\.state) == [.partial, .partial])
        #expect(row.offGrid == 1)
        #expect(row.totals == Self.aapl().totals)
        #expect(row.needsAttention)
    }

    static func universe() -> CoverageReport {
        let complete = Fixture.sessions("2024-03-25", "2024-04-05", except: ["2024-03-29"])
            .flatMap { Fixture.h1Slots($0) }.map { CoverageSlot(start: $0, state: .present) }
        let msft = CoverageSeries(ticker: "MSFT", timeframe: .h1, slots: complete)
        let nvda = CoverageSeries(ticker: "NVDA", timeframe: .h1, slots: complete.map { .init(start: $0.start, state: .missing) })
        let hostile = CoverageSeries(ticker: "X</text></svg><script>alert(1)</script>&\"'", timeframe: .h1, slots: complete)
        let rows = [msft, Self.aapl(), nvda, hostile].map { CoverageOverviewRow($0, weeks: Self.weeks) }
        return CoverageReport(subtitle: "test", weeks: Self.weeks, overview: rows, series: [Self.aapl()],
                              detailNote: "No heatmap <here>.")
    }

    @Test func everyRowLinksToASectionThatExists() throws {
        let doc = try ParsedHTML(Self.universe().html())
        let ids = Set(doc.elements.compactMap { $0.attributes["id"] })
        let overviewLinks = doc.elements.filter { $0.name == "a" && $0.inside.contains("overview") }
        #expect(overviewLinks.count == 4)
        let links = doc.elements.filter { $0.name == "a" }.compactMap { $0.attributes["href"] }
        #expect(links.count == 8)   // the overview and the totals table
        for link in links {
            #expect(link.hasPrefix("#") && ids.contains(String(link.dropFirst())), "\(link)")
        }
        // Report order: AAPL, MSFT, NVDA, X…; the overview's first link is AAPL's section, drawn in full.
        #expect(overviewLinks.map { $0.attributes["href"]! } == ["#series-1", "#series-2", "#series-3", "#series-4"])
        let sections = doc.elements.filter { $0.name == "section" }
        #expect(sections.map { $0.attributes["id"]! } == ["series-1", "series-2", "series-3", "series-4"])
        #expect(doc.elements.filter { $0.name == "svg" && $0.attributes["class"] == "heatmap" }.count == 1)
        #expect(doc.text.contains("Weeks missing bars: 2024-03-25 (24 of 24), 2024-04-01 (30 of 30)"))
        #expect(doc.text.contains("No week misses a bar."))
        #expect(doc.text.contains("No heatmap <here>."))
    }

    @Test func overviewCellsShowEachWeeksState() throws {
        let report = Self.universe()
        let doc = try ParsedHTML(report.html())
        let cells = doc.elements.filter { $0.name == "rect" && $0.inside.contains("overview") }
        // AAPL: two partly missing weeks, a cell each; MSFT and the hostile ticker: one run of two
        // complete weeks; NVDA: one run of two all-missing weeks.
        #expect(cells.map { $0.attributes["class"]! } == ["o-partial", "o-partial", "o-complete", "o-allmissing", "o-complete"])
        let titles = doc.elements.filter { $0.name == "title" && $0.inside.contains("overview") }.map(\.text)
        #expect(titles.contains("week of 2024-03-25: 1 of 24 missing"))
        #expect(titles.contains("week of 2024-04-01: 29 of 30 missing"))
        #expect(titles.contains("weeks of 2024-03-25 to 2024-04-01: all missing"))
        // The legend names all four states.
        for state in CoverageWeekState.allCases {
            #expect(doc.elements.contains { $0.name == "rect" && $0.attributes["class"] == "o-\(state.rawValue)" })
        }
        #expect(doc.text.contains("all 4 series"))
    }

    @Test func hostileTickersAreEscapedInTheOverview() throws {
        let html = Self.universe().html()
        #expect(!html.contains("<script"))
        let doc = try ParsedHTML(html)
        #expect(doc.elements.allSatisfy { $0.name != "script" })
        let hostile = "X</text></svg><script>alert(1)</script>&\"'"
        let labels = doc.elements.filter { $0.name == "title" && $0.inside.contains("overview") }.map(\.text)
        #expect(labels.contains("\(hostile) h1"))
        #expect(doc.elements.filter { $0.name == "h2" }.map(\.text).contains("\(hostile) · h1"))
    }
}
