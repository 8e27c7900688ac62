import Foundation
import Testing
@testable import BarfillCore


/// Series and gaps built from the grid, the way a scan reports them.
enum PlannerFixture {
    static let calendar = MarketCalendar.xnys
    static let grids = Dictionary(uniqueKeysWithValues: Timeframe.allCases.map { ($0, Grid(timeframe: $0)) })

    static func grid(_ timeframe: Timeframe) -> Grid { grids[timeframe]! }

    /// Extended hours of every session, worked out here from the session times (04:00–20:00 New York,
    /// to four hours after an early close) rather than read from the calendar's own table.
    static let extendedHours: [(open: Int64, close: Int64)] = calendar.sessions.map { session in
        (NewYork.instant(session.date, hour: 4, minute: 0),
         session.isEarlyClose ? session.close + 4 * 3_600 : NewYork.instant(session.date, hour: 20, minute: 0))
    }

    /// The window from the session on or after `first` up to (not including) the session `sessions` later
    /// (fewer when the calendar ends first).
    static func window(from first: LocalDate, sessions: Int) -> (from: Int64, until: Int64) {
        let start = calendar.sessionIndex(onOrAfter: first)
        let end = min(start + sessions, calendar.sessions.count - 1)
        return (NewYork.midnight(calendar.sessions[start].date), NewYork.midnight(calendar.sessions[end].date))
    }

    /// Maximal runs of `missing` (ascending ordinals inside `window`) as gaps with their kinds.
    static func gaps(missing: [Int], window: Range<Int>, grid: Grid) -> [Gap] {
        guard !missing.isEmpty else { return [] }
        if missing.count == window.count {
            return [Gap(firstOrdinal: window.lowerBound, lastOrdinal: window.upperBound - 1,
                        from: grid.slot(at: window.lowerBound).start, to: grid.slot(at: window.upperBound - 1).end, kind: .empty)]
        }
        var gaps: [Gap] = []
        var runStart = missing[0]
        for (i, ordinal) in missing.enumerated() {
            let last = i == missing.count - 1 || missing[i + 1] != ordinal + 1
            guard last else { continue }
            let kind: GapKind = runStart == window.lowerBound ? .head : ordinal == window.upperBound - 1 ? .tail : .interior
            gaps.append(Gap(firstOrdinal: runStart, lastOrdinal: ordinal, from: grid.slot(at: runStart).start,
                            to: grid.slot(at: ordinal).end, kind: kind))
            if i + 1 < missing.count { runStart = missing[i + 1] }
        }
        return gaps
    }

    static func scan(_ ticker: String, _ timeframe: Timeframe, _ provider: ProviderName, window: (from: Int64, until: Int64),
                     missing: (Range<Int>) -> [Int]) -> SeriesScan {
        let grid = grid(timeframe)
        let slots = grid.ordinals(from: window.from, until: window.until)
        let holes = missing(slots)
        return SeriesScan(ticker: ticker, timeframe: timeframe, provider: provider, from: window.from, until: window.until,
                          expected: slots.count, present: slots.count - holes.count, offGrid: 0,
                          gaps: gaps(missing: holes, window: slots, grid: grid),
                          fingerprint: SHA256.hex("\(ticker) \(timeframe) \(holes.count)"))
    }

    static func plan(_ scans: [SeriesScan], maxRequests: Int? = nil, createdAt: Int64 = 1_710_000_000) throws -> Plan {
        let from = scans.map(\.from).min() ?? Plan.earliest
        let until = scans.map(\.until).max() ?? Plan.latest
        return try Planner(maxRequests: maxRequests).plan(scans: scans, window: .init(from: from, until: until),
                                                          source: .init(host: "localhost", database: "bars"), createdAt: createdAt)
    }
}

/// The first index whose element satisfies `isAfter`, which is false then true along `elements`.
func firstIndex<T>(in elements: [T], where isAfter: (T) -> Bool) -> Int {
    var low = 0, high = elements.count
    while low < high {
        let middle = (low + high) / 2
        if isAfter(elements[middle]) { high = middle } else { low = middle + 1 }
    }
    return low
}

/// What one request serves, written out again from the provider facts rather than taken from
/// `ProviderLimits`, so the planner is checked against the rule and not against itself.
func oneRequestServes(_ provider: ProviderName, _ timeframe: Timeframe, from: Int64, to: Int64) -> Bool {
    let day: Int64 = 86_400
    switch (provider, timeframe.isIntraday) {
    case (.massive, true):
        // ≤ 50,000 minutes at 960 extended-hours minutes (04:00–20:00) for every session the window
        // touches: those that open before `to` less those that close by `from` (both ascending).
        let hours = PlannerFixture.extendedHours
        let touched = firstIndex(in: hours) { $0.open >= to } - firstIndex(in: hours) { $0.close > from }
        return touched * 960 <= 50_000
    case (.massive, false): return to - from <= 50_000 * day
    case (.finnhub, true): return to - from <= 28 * day
    case (.finnhub, false): return to - from <= 5_000 * day
    }
}

@Suite struct PlannerTests {
    /// Fewest requests covering `missing` (ascending): one window per maximal run of slots that fits,
    /// taken slot by slot from the left.
    static func greedyRequests(_ missing: [Int], grid: Grid, provider: ProviderName) -> Int {
        var count = 0, i = 0
        while i < missing.count {
            let start = grid.slot(at: missing[i]).start
            var j = i
            while j + 1 < missing.count, oneRequestServes(provider, grid.timeframe, from: start, to: grid.slot(at: missing[j + 1]).end) { j += 1 }
            count += 1
            i = j + 1
        }
        return count
    }

    /// The true minimum by dynamic programming over contiguous runs (any cover by time windows can be
    /// made one), for small cases: proves the greedy count is a lower bound, not just a count.
    static func fewestRequests(_ missing: [Int], grid: Grid, provider: ProviderName) -> Int {
        var best = [0] + Array(repeating: Int.max, count: missing.count)
        for end in 1...missing.count {
            for start in stride(from: end - 1, through: 0, by: -1) {
                guard oneRequestServes(provider, grid.timeframe, from: grid.slot(at: missing[start]).start,
                                       to: grid.slot(at: missing[end - 1]).end) else { break }
                best[end] = min(best[end], best[start] + 1)
            }
        }
        return best[missing.count]
    }

    struct Case: CustomStringConvertible {
        var seed: UInt64
        var description: String { "seed \(seed)" }
    }

    static let cases = (1...300).map { Case(seed: UInt64($0)) }

    @Test(arguments: cases)
    func coversEveryMissingSlotOnceWithTheFewestRequests(_ c: Case) throws {
        var rng = SeededGenerator(seed: c.seed)
        let timeframe = [Timeframe.m1, .m5, .m15, .m30, .h1, .h4, .d1, .w1, .mn1].randomElement(using: &rng)!
        let provider = ProviderName.allCases.randomElement(using: &rng)!
        let sessions = switch timeframe {
        case .m1: Int.random(in: 1...40, using: &rng)
        case .m5, .m15, .m30: Int.random(in: 1...250, using: &rng)
        case .h1, .h4: Int.random(in: 1...600, using: &rng)
        default: Int.random(in: 1...9_000, using: &rng)
        }
        let first = LocalDate(daysSinceEpoch: Int.random(in: 7_400...24_000, using: &rng))   // 1990s … 2035
        let meanPresent = [1, 3, 40, 2_000].randomElement(using: &rng)!
        let meanMissing = [1, 5, 60, 5_000].randomElement(using: &rng)!
        var missingFirst = Bool.random(using: &rng)
        let scan = PlannerFixture.scan("T\(c.seed)", timeframe, provider, window: PlannerFixture.window(from: first, sessions: sessions)) { slots in
            var holes: [Int] = []
            var ordinal = slots.lowerBound
            while ordinal < slots.upperBound {
                let mean = missingFirst ? meanMissing : meanPresent
                let run = 1 + Int(Double(mean) * -log(1 - Double.random(in: 0..<1, using: &rng)))
                let end = min(slots.upperBound, ordinal + run)
                if missingFirst { holes += ordinal..<end }
                ordinal = end
                missingFirst.toggle()
            }
            return holes
        }
        let plan = try PlannerFixture.plan([scan])
        let grid = PlannerFixture.grid(timeframe)

        var kindOf: [Int: GapKind] = [:]
        for gap in scan.gaps { for o in gap.firstOrdinal...gap.lastOrdinal { kindOf[o] = gap.kind } }
        // Per-slot and per-piece findings are collected and checked once: an #expect per slot (tens
        // of thousands at m1) made this the slowest test of the suite without checking anything more.
        var covered: [Int] = []
        var misplacedPieces: [String] = []
        var wrongKinds: [String] = []
        for chunk in plan.chunks {
            #expect(chunk.from == chunk.gaps.first?.from && chunk.to == chunk.gaps.last?.to)
            #expect(oneRequestServes(provider, timeframe, from: chunk.from, to: chunk.to), "chunk \(chunk.id) exceeds one request")
            #expect(ProviderLimits.default.excess(of: chunk) == nil)
            for piece in chunk.gaps {
                guard let first = grid.ordinal(of: piece.from), grid.slot(at: first + piece.bars - 1).end == piece.to,
                      piece.ordinals(on: grid) == first...(first + piece.bars - 1) else {
                    misplacedPieces.append("\(piece.from)…\(piece.to) (\(piece.bars) bars)")
                    continue
                }
                for o in first..<first + piece.bars {
                    if kindOf[o] != piece.kind { wrongKinds.append("slot \(o) planned as \(piece.kind)") }
                    covered.append(o)
                }
            }
        }
        #expect(misplacedPieces.isEmpty, "pieces off the grid or miscounted: \(misplacedPieces.prefix(5))")
        #expect(wrongKinds.isEmpty, "\(wrongKinds.count) slots of the wrong kind: \(wrongKinds.prefix(5))")
        let missing = scan.gaps.flatMap { Array($0.firstOrdinal...$0.lastOrdinal) }
        #expect(covered == missing, "every missing slot in exactly one chunk, in order")
        #expect(plan.summary.missingBars == missing.count)
        #expect(plan.chunks.count == Self.greedyRequests(missing, grid: grid, provider: provider))
        if !missing.isEmpty, missing.count <= 400 {
            #expect(plan.chunks.count == Self.fewestRequests(missing, grid: grid, provider: provider))
        }
        #expect(try Plan(decoding: plan.encoded()) == plan)
    }

    @Test func splitsAGapLongerThanOneRequestKeepingItsKind() throws {
        let window = PlannerFixture.window(from: LocalDate(year: 2023, month: 1, day: 3)!, sessions: 200)
        let empty = PlannerFixture.scan("NEW", .m15, .massive, window: window) { Array($0) }
        let plan = try PlannerFixture.plan([empty])
        #expect(plan.chunks.map(\.missingBars).reduce(0, +) == empty.expected)
        #expect(plan.chunks.count == 4)   // 52 + 52 + 52 + 44 sessions
        #expect(plan.chunks.allSatisfy { $0.gaps.count == 1 && $0.gaps[0].kind == .empty })
        #expect(plan.chunks.map { ProviderLimits.sessionsTouched(from: $0.from, to: $0.to) } == [52, 52, 52, 44])

        let tail = PlannerFixture.scan("OLD", .h1, .finnhub, window: window) { slots in Array(slots.suffix(7 * 70)) }
        let tailPlan = try PlannerFixture.plan([tail])
        #expect(tailPlan.chunks.allSatisfy { $0.gaps.map(\.kind) == [.tail] && $0.to - $0.from <= 28 * 86_400 })
        // 490 h1 slots are 82 sessions, about four months: five requests of at most 28 days, all
        // but the last filled to within a day of the limit.
        #expect(tailPlan.chunks.count == 5)
        #expect(tailPlan.chunks.dropLast().allSatisfy { $0.to - $0.from > 27 * 86_400 })
        #expect(tailPlan.chunks.map(\.missingBars).reduce(0, +) == 490)
    }

    @Test func mergesNearbyGapsIntoOneRequest() throws {
        let window = PlannerFixture.window(from: LocalDate(year: 2024, month: 3, day: 1)!, sessions: 20)
        let scan = PlannerFixture.scan("AAPL", .h1, .massive, window: window) { slots in
            [slots.lowerBound + 10, slots.lowerBound + 11, slots.lowerBound + 40, slots.lowerBound + 100]
        }
        let plan = try PlannerFixture.plan([scan])
        #expect(plan.chunks.count == 1)
        #expect(plan.chunks[0].gaps.map(\.bars) == [2, 1, 1])
        #expect(plan.chunks[0].gaps.map(\.kind) == [.interior, .interior, .interior])
    }

    @Test func sameScansGiveByteIdenticalPlansApartFromCreatedAt() throws {
        let window = PlannerFixture.window(from: LocalDate(year: 2021, month: 6, day: 1)!, sessions: 120)
        let scans = [
            PlannerFixture.scan("MSFT", .d1, .finnhub, window: window) { slots in [slots.lowerBound, slots.lowerBound + 50] },
            PlannerFixture.scan("AAPL", .m15, .massive, window: window) { slots in Array(slots.suffix(500)) },
            PlannerFixture.scan("SPY", .h1, .massive, window: window) { _ in [] },
        ]
        let a = try PlannerFixture.plan(scans, createdAt: 1_700_000_000).text.split(separator: "\n")
        let b = try PlannerFixture.plan(scans.reversed(), createdAt: 1_800_000_000).text.split(separator: "\n")
        #expect(a.count == b.count)
        #expect(zip(a, b).filter { $0 != $1 }.map { String($0.0) } == ["  \"created_at\": \"2023-11-14T22:13:20Z\","])
    }

    @Test func maxRequestsKeepsTailsThenRecentInteriorsThenHeads() throws {
        // One year of h1: head, two interiors and a tail in AAPL, an interior and a head in MSFT,
        // each far enough from the others to need its own request.
        let window = PlannerFixture.window(from: LocalDate(year: 2022, month: 1, day: 3)!, sessions: 300)
        func run(_ slots: Range<Int>, session: Int) -> [Int] { Array(slots.lowerBound + 6 * session ..< slots.lowerBound + 6 * session + 3) }
        let aapl = PlannerFixture.scan("AAPL", .h1, .massive, window: window) { slots in
            Array(slots.prefix(2)) + run(slots, session: 70) + run(slots, session: 180) + Array(slots.suffix(4))
        }
        let msft = PlannerFixture.scan("MSFT", .h1, .massive, window: window) { slots in
            Array(slots.prefix(5)) + run(slots, session: 125)
        }
        let full = try PlannerFixture.plan([aapl, msft])
        #expect(full.chunks.count == 6)
        func picked(_ n: Int) throws -> [String] {
            try PlannerFixture.plan([aapl, msft], maxRequests: n).chunks.map { "\($0.symbol) \($0.gaps[0].kind.rawValue) \($0.missingBars)" }
        }
        #expect(try picked(0) == [])
        #expect(try picked(1) == ["AAPL tail 4"])
        #expect(try picked(2) == ["AAPL interior 3", "AAPL tail 4"])                        // session 180
        #expect(try picked(3) == ["AAPL interior 3", "AAPL tail 4", "MSFT interior 3"])     // then 125
        #expect(try picked(4) == ["AAPL interior 3", "AAPL interior 3", "AAPL tail 4", "MSFT interior 3"])
        // Heads last, the one reaching furthest forward first: MSFT's five slots end after AAPL's two.
        #expect(try picked(5) == ["AAPL interior 3", "AAPL interior 3", "AAPL tail 4", "MSFT head 5", "MSFT interior 3"])
        #expect(try PlannerFixture.plan([aapl, msft], maxRequests: 5) == PlannerFixture.plan([msft, aapl], maxRequests: 5),
                "ties break the same way whatever the scan order")
        #expect(try picked(99).count == 6)
        #expect(try PlannerFixture.plan([aapl, msft], maxRequests: 3).summary.requests == [.massive: 3])
    }

    @Test func refusesWhatAPlanReaderWouldRefuse() {
        let window = PlannerFixture.window(from: LocalDate(year: 2024, month: 3, day: 1)!, sessions: 5)
        var scan = PlannerFixture.scan("AAPL", .d1, .massive, window: window) { Array($0) }
        let planWindow = Plan.Window(from: window.from, until: window.until)
        #expect(throws: PlanError.malformedText(path: "source.host", text: "u:p@db", expected: Plan.hostExpectation)) {
            try Planner().plan(scans: [scan], window: planWindow, source: .init(host: "u:p@db", database: "bars"), createdAt: 0)
        }
        #expect(throws: PlanError.self) {
            try Planner().plan(scans: [scan], window: .init(from: window.until, until: window.from),
                               source: .init(host: "db", database: "bars"), createdAt: 0)
        }
        #expect(throws: PlanError.duplicateSeries(path: "AAPL d1")) {
            try Planner().plan(scans: [scan, scan], window: planWindow, source: .init(host: "db", database: "bars"), createdAt: 0)
        }
        scan.fingerprint = "n/a"
        #expect(throws: PlanError.malformedText(path: "AAPL d1 fingerprint", text: "n/a", expected: Plan.fingerprintExpectation)) {
            try Planner().plan(scans: [scan], window: planWindow, source: .init(host: "db", database: "bars"), createdAt: 0)
        }
    }

    @Test func refusesATickerAPlanCannotCarry() {
        let window = PlannerFixture.window(from: LocalDate(year: 2024, month: 3, day: 1)!, sessions: 5)
        let scan = PlannerFixture.scan("BAD/../X", .d1, .massive, window: window) { Array($0) }
        #expect(throws: PlanError.malformedTicker(path: "symbols.ticker", text: "BAD/../X")) { try PlannerFixture.plan([scan]) }
    }
}

@Suite struct PlannedPlanFileTests {
    static let scans: [SeriesScan] = {
        let window = PlannerFixture.window(from: LocalDate(year: 2024, month: 2, day: 1)!, sessions: 60)
        return [
            PlannerFixture.scan("AAPL", .h1, .massive, window: window) { slots in [slots.lowerBound + 30] + Array(slots.suffix(8)) },
            PlannerFixture.scan("BRK.B", .m15, .finnhub, window: window) { slots in Array(slots.prefix(300)) },
            PlannerFixture.scan("MSFT", .d1, .massive, window: window) { Array($0) },
            PlannerFixture.scan("SPY", .w1, .finnhub, window: window) { _ in [] },
        ]
    }()

    @Test(.enabled(if: SchemaValidator.runs, "python3 with jsonschema is not installed; `make test` installs it (pip install jsonschema)"))
    func aPlannedPlanValidatesAgainstTheSchema() throws {
        let plan = try PlannerFixture.plan(Self.scans)
        #expect(plan.chunks.count >= 4)
        #expect(try SchemaValidator.errors(in: plan.encoded()) == nil)
    }

    @Test func recordsTheGridSoApplyCanRebuildIt() throws {
        let options = GridOptions(anchor: .open, scope: .extended, inclusion: .overlap, periodKey: .firstSession)
        let window = PlannerFixture.window(from: LocalDate(year: 2024, month: 2, day: 1)!, sessions: 10)
        let plan = try Planner().plan(scans: [], grid: options, window: .init(from: window.from, until: window.until),
                                      source: .init(host: "", database: "bars"), createdAt: window.until)
        #expect(plan.calendar.grid == "open/extended/overlap/first-session")
        let decoded = try Plan(decoding: plan.encoded())
        #expect(decoded.calendar.gridOptions == options)
        #expect(decoded.calendar.matches(.xnys))
        #expect(try Plan(decoding: PlannerFixture.plan(Self.scans).encoded()).calendar.gridOptions == .default)
    }

    @Test func deletingChunksStillDecodesWithAFreshSummary() throws {
        let plan = try PlannerFixture.plan(Self.scans)
        var json = try JSONValue(parsing: plan.encoded())
        json["chunks"]!.items.removeLast(2)
        let trimmed = try decode(json)
        #expect(trimmed.chunks == Array(plan.chunks.dropLast(2)))
        #expect(trimmed.summary == Plan.Summary(series: plan.series, chunks: trimmed.chunks))
        #expect(trimmed.summary.missingBars < plan.summary.missingBars)
    }

    @Test func aMassiveChunkOverMoreSessionsThanOneAnswerHoldsIsRefused() throws {
        let window = PlannerFixture.window(from: LocalDate(year: 2024, month: 1, day: 2)!, sessions: 120)
        let plan = try PlannerFixture.plan([PlannerFixture.scan("AAPL", .m15, .massive, window: window) { Array($0) }])
        #expect(plan.chunks.count == 3)
        var json = try JSONValue(parsing: plan.encoded())
        // Stretch the first chunk over the second one's slots too, and delete the second.
        var first = json["chunks"]![0]
        first["to"] = json["chunks"]![1]["to"]
        first["gaps"]![0]["to"] = json["chunks"]![1]["to"]
        first["gaps"]![0]["bars"] = .integer(Int64(plan.chunks[0].missingBars + plan.chunks[1].missingBars))
        first["missing_bars"] = first["gaps"]![0]["bars"]
        rehash(&first)
        json["chunks"] = .array([first, json["chunks"]![2]])
        #expect {
            try decode(json)
        } throws: { error in
            guard case let .chunkTooWide(_, reason) = error as? PlanError else { return false }
            return reason.contains("touches 104 sessions in 1 request")
        }
        // Saying it takes two requests makes it acceptable again.
        first["requests"] = .integer(2)
        rehash(&first)
        json["chunks"] = .array([first, json["chunks"]![1]])
        #expect(try decode(json).summary.requests == [.massive: 3])
    }
}

/// `plans/example.json` is what the planner writes for a small made-up universe, byte for byte:
/// a change to the canonical form shows up here first. `BARFILL_RECORD_EXAMPLE=1` rewrites it.
@Suite struct ExamplePlanTests {
    static func examplePlan() throws -> Plan {
        let window = PlannerFixture.window(from: LocalDate(year: 2024, month: 2, day: 1)!, sessions: 40)
        var spy = PlannerFixture.scan("SPY", .w1, .finnhub, window: window) { _ in [] }
        spy.offGrid = 2
        let scans = [
            // One missing hour, a run across an overnight, and the last two hours of the window.
            PlannerFixture.scan("AAPL", .h1, .massive, window: window) { slots in
                [slots.lowerBound + 9] + Array(slots.lowerBound + 65...slots.lowerBound + 68) + Array(slots.suffix(2))
            },
            // 25 sessions of m15 from the start: more than the 28 days Finnhub serves at once.
            PlannerFixture.scan("BRK.B", .m15, .finnhub, window: window) { slots in Array(slots.prefix(26 * 25)) },
            PlannerFixture.scan("MSFT", .d1, .massive, window: window) { Array($0) },
            spy,
        ]
        return try Planner().plan(scans: scans, window: .init(from: window.from, until: window.until),
                                  source: .init(host: "db.example.com", database: "postgres"),
                                  createdAt: window.until + 7 * 3_600)
    }

    @Test func theExamplePlanIsWhatThePlannerWrites() throws {
        let url = SchemaValidator.packageRoot.appendingPathComponent("plans/example.json")
        let plan = try Self.examplePlan()
        if ProcessInfo.processInfo.environment["BARFILL_RECORD_EXAMPLE"] == "1" {
            // Rewriting the fixture and comparing it with itself proves nothing: never under CI.
            if let ci = ProcessInfo.processInfo.environment["CI"], !ci.isEmpty, !["false", "0"].contains(ci.lowercased()) {
                Issue.record("BARFILL_RECORD_EXAMPLE=1 is refused under CI: record plans/example.json locally and commit it")
            } else {
                try Data(plan.encoded()).write(to: url)
            }
        }
        let written = try [UInt8](Data(contentsOf: url))
        #expect(written == plan.encoded(), "plans/example.json differs from the planner's output; if the change is intended, run the tests with BARFILL_RECORD_EXAMPLE=1")
        #expect(plan.chunks.filter { $0.symbol.value == "BRK.B" }.count == 2)
        #expect(plan.chunks.filter { $0.symbol.value == "AAPL" }.count == 1)
    }
}
