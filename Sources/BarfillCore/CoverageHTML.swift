/// A coverage report: one self-contained HTML page (inline CSS and SVG, no script, no external
/// asset). An overview first — a row per series, a cell per week coloured by coverage, each row
/// linking to the series' section — then the totals table, then a section per series: a heatmap of
/// sessions × slots for the series given in full (`series`), the weeks that miss bars for the others.
/// The output depends only on the input: the same series give the same bytes.
public struct CoverageReport: Sendable {
    public var title: String
    /// One line under the title, e.g. the calendar, the grid and the window. Plain text.
    public var subtitle: String
    /// Series given slot by slot: each gets a heatmap in its section.
    public var series: [CoverageSeries]
    /// Every series of the report, as weekly counts; their order is the report's.
    public var overview: [CoverageOverviewRow]
    public var weeks: CoverageWeeks
    /// Why the series without a heatmap have none: said once in each such section. Plain text.
    public var detailNote: String
    public var clock: CoverageClock

    /// Every series in full: the overview is computed from their slots, each gets a heatmap.
    public init(title: String = "barfill coverage", subtitle: String = "", series: [CoverageSeries],
                clock: CoverageClock = .newYork) {
        let starts = series.flatMap { $0.slots.map(\.start) }
        let weeks = CoverageWeeks(from: starts.min() ?? 0, until: (starts.max() ?? -1) + 1, clock: clock)
        let ordered = series.sorted { ($0.ticker, $0.timeframe) < ($1.ticker, $1.timeframe) }
        self.init(title: title, subtitle: subtitle, weeks: weeks,
                  overview: ordered.map { CoverageOverviewRow($0, weeks: weeks) }, series: series, clock: clock)
    }

    /// An overview of every series, heatmaps for those in `series` (a ticker and timeframe of the
    /// overview each), and the weekly summary with `detailNote` for the rest.
    public init(title: String = "barfill coverage", subtitle: String = "", weeks: CoverageWeeks,
                overview: [CoverageOverviewRow], series: [CoverageSeries], detailNote: String = "",
                clock: CoverageClock = .newYork) {
        self.title = title
        self.subtitle = subtitle
        self.weeks = weeks
        self.overview = overview.sorted { ($0.ticker, $0.timeframe) < ($1.ticker, $1.timeframe) }
        self.series = series
        self.detailNote = detailNote
        self.clock = clock
    }

    /// Series in report order: by ticker, then timeframe.
    public var orderedSeries: [CoverageSeries] {
        series.sorted { ($0.ticker, $0.timeframe) < ($1.ticker, $1.timeframe) }
    }

    public var totals: CoverageTotals {
        overview.reduce(CoverageTotals()) { $0 + $1.totals }
    }

    /// The id of the section of the `index`-th overview row (0-based), the target of its links.
    public static func sectionID(_ index: Int) -> String { "series-\(index + 1)" }

    public func html() -> String {
        var out = HTMLText()
        out.line("<!DOCTYPE html>")
        out.line("<html lang=\"en\">")
        out.line("<head>")
        out.line("<meta charset=\"utf-8\" />")
        out.line("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\" />")
        out.line("<title>\(Self.escape(title))</title>")
        out.line("<style>\(Self.css)</style>")
        out.line("</head>")
        out.line("<body>")
        out.line("<h1>\(Self.escape(title))</h1>")
        if !subtitle.isEmpty { out.line("<p class=\"subtitle\">\(Self.escape(subtitle))</p>") }
        if overview.isEmpty {
            out.line(legend())
            out.line("<p class=\"none\">No series in this window.</p>")
        } else {
            out.line("<p class=\"counts\">Overview: \(Self.grouped(overview.count)) series × "
                + "\(weeks.mondays.count) weeks; a row links to its series.</p>")
            out.line(overviewLegend())
            out.line(overviewMap())
            out.line(totalsTable())
            out.line(legend())
            var full: [PageKey: CoverageSeries] = [:]
            for item in series { full[PageKey(item.ticker, item.timeframe)] = item }
            for (index, row) in overview.enumerated() {
                let id = Self.sectionID(index)
                if let item = full[PageKey(row.ticker, row.timeframe)] {
                    out.line(section(CoverageGrid(item, clock: clock), id: id))
                } else {
                    out.line(summarySection(row, id: id))
                }
            }
        }
        out.line("</body>")
        out.line("</html>")
        return out.text
    }

    /// A series' identity inside the page.
    private struct PageKey: Hashable {
        let ticker: String, timeframe: Timeframe
        init(_ ticker: String, _ timeframe: Timeframe) {
            self.ticker = ticker
            self.timeframe = timeframe
        }
    }

    // MARK: - Pieces

    static let css = """
        body{font-family:system-ui,-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;color:#1f2328;\
        background:#ffffff;margin:24px;}\
        h1{font-size:22px;margin:0 0 4px;}h2{font-size:17px;margin:28px 0 4px;}\
        .subtitle,.counts{color:#57606a;margin:0 0 8px;font-size:13px;}\
        table.totals{border-collapse:collapse;font-size:13px;margin:12px 0;}\
        table.totals th,table.totals td{border-bottom:1px solid #d0d7de;padding:3px 10px;text-align:right;}\
        table.totals th:first-child,table.totals td:first-child{text-align:left;}\
        table.totals tfoot td{font-weight:600;}\
        svg text{font-size:9px;fill:#57606a;}\
        .s-present{fill:#2da44e;}.s-missing{fill:#cf222e;}.s-empty{fill:#afb8c1;}\
        .mark-offgrid path{fill:#8250df;}.mark-offgrid text{fill:#8250df;}\
        .legend text{font-size:12px;fill:#1f2328;}\
        .o-complete{fill:#2da44e;}.o-partial{fill:#e16f24;}.o-allmissing{fill:#cf222e;}.o-empty{fill:#afb8c1;}\
        svg.overview{display:block;margin:4px 0 8px;}svg.overview a text{fill:#0969da;}svg.overview .pct{fill:#57606a;}\
        .weeks{font-size:13px;margin:0 0 8px;}
        """

    private func legend() -> String {
        var s = "<svg class=\"legend\" xmlns=\"http://www.w3.org/2000/svg\" width=\"520\" height=\"22\" "
        s += "viewBox=\"0 0 520 22\" role=\"img\" aria-label=\"legend\">"
        let items: [(String, String)] = [("s-present", "present"), ("s-missing", "missing"),
                                         ("s-empty", "confirmed empty")]
        var x = 0
        for (cls, text) in items {
            s += "<rect class=\"\(cls)\" x=\"\(x)\" y=\"5\" width=\"12\" height=\"12\" />"
            s += "<text x=\"\(x + 17)\" y=\"15\">\(text)</text>"
            x += 17 + text.count * 7 + 20
        }
        s += "<g class=\"mark-offgrid\">\(diamond(x: x + 5, y: 11))"
        s += "<text x=\"\(x + 15)\" y=\"15\">off-grid bars (count per row)</text></g>"
        s += "</svg>"
        return s
    }

    private func totalsTable() -> String {
        var s = "<table class=\"totals\"><thead><tr><th>series</th><th>expected</th><th>present</th>"
        s += "<th>missing</th><th>confirmed empty</th><th>off-grid</th><th>covered</th></tr></thead><tbody>"
        func row(_ name: String, _ t: CoverageTotals) -> String {
            "<td>\(name)</td><td>\(Self.grouped(t.expected))</td><td>\(Self.grouped(t.present))</td>"
                + "<td>\(Self.grouped(t.missing))</td><td>\(Self.grouped(t.confirmedEmpty))</td>"
                + "<td>\(Self.grouped(t.offGrid))</td><td>\(t.coveredText)</td>"
        }
        for (index, item) in overview.enumerated() {
            let name = "<a href=\"#\(Self.sectionID(index))\">\(Self.escape(item.ticker)) \(item.timeframe.rawValue)</a>"
            s += "<tr>\(row(name, item.totals))</tr>"
        }
        s += "</tbody><tfoot><tr>\(row("all \(overview.count) series", totals))</tr></tfoot></table>"
        return s
    }

    private func overviewLegend() -> String {
        var s = "<svg class=\"legend\" xmlns=\"http://www.w3.org/2000/svg\" width=\"720\" height=\"22\" "
        s += "viewBox=\"0 0 720 22\" role=\"img\" aria-label=\"overview legend\">"
        var x = 0
        for state in CoverageWeekState.allCases {
            let text = Self.weekStateText(state)
            s += "<rect class=\"o-\(state.rawValue)\" x=\"\(x)\" y=\"5\" width=\"12\" height=\"12\" />"
            s += "<text x=\"\(x + 17)\" y=\"15\">\(text)</text>"
            x += 17 + text.count * 7 + 20
        }
        s += "</svg>"
        return s
    }

    static func weekStateText(_ state: CoverageWeekState) -> String {
        switch state {
        case .complete: "complete"
        case .partial: "partly missing"
        case .missing: "all missing"
        case .empty: "confirmed empty or no session"
        }
    }

    /// A row per series, a cell per week. Runs of equal weeks are drawn as one rectangle (partly
    /// missing weeks each get their own, for their counts), which keeps a universe's page small.
    private func overviewMap() -> String {
        let m = OverviewMetrics(weeks: weeks.mondays.count, rows: overview.count)
        var s = "<svg class=\"overview\" xmlns=\"http://www.w3.org/2000/svg\" "
        s += "width=\"\(m.width)\" height=\"\(m.height)\" "
        s += "viewBox=\"0 0 \(m.width) \(m.height)\" role=\"img\" aria-label=\"coverage by series and week\">"
        // Month labels where a week starts a new month, skipped where the previous one still covers the place.
        var free = 0, month = 0
        for (i, monday) in weeks.mondays.enumerated() where monday.month != month {
            month = monday.month
            let label = monday.month == 1 || i == 0 ? "\(monday.year)-\(monday.month < 10 ? "0" : "")\(monday.month)"
                : Self.monthNames[monday.month - 1]
            guard m.cellX(i) >= free else { continue }
            s += "<text x=\"\(m.cellX(i))\" y=\"\(m.header - 5)\">\(label)</text>"
            free = m.cellX(i) + label.count * 5 + 4
        }
        for (r, row) in overview.enumerated() {
            let y = m.cellY(r)
            let name = "\(row.ticker) \(row.timeframe.rawValue)"
            let shown = name.count > 20 ? String(name.prefix(19)) + "…" : name
            s += "<a href=\"#\(Self.sectionID(r))\"><text x=\"0\" y=\"\(y + m.cellHeight - 1)\">"
            s += "\(Self.escape(shown))<title>\(Self.escape(name))</title></text></a>"
            var i = 0
            while i < row.weeks.count {
                let state = row.weeks[i].state
                var j = i + 1
                if state != .partial {
                    while j < row.weeks.count && row.weeks[j].state == state { j += 1 }
                }
                let width = (j - i) * (m.cellWidth + 1) - 1
                s += "<rect class=\"o-\(state.rawValue)\" x=\"\(m.cellX(i))\" y=\"\(y)\" width=\"\(width)\" "
                s += "height=\"\(m.cellHeight)\"><title>\(weekTitle(row.weeks[i..<j], from: i))</title></rect>"
                i = j
            }
            s += "<text class=\"pct\" x=\"\(m.cellX(row.weeks.count) + 4)\" y=\"\(y + m.cellHeight - 1)\">"
            s += "\(row.totals.coveredText)</text>"
        }
        s += "</svg>"
        return s
    }

    private func weekTitle(_ run: ArraySlice<CoverageWeekCount>, from index: Int) -> String {
        let first = weeks.mondays[index]
        if run.count == 1, let week = run.first {
            let counts = week.state == .partial || week.state == .missing
                ? "\(week.missing) of \(week.expected) missing"
                : week.expected == 0 ? "no session" : week.state == .empty ? "confirmed empty"
                : "\(Self.grouped(week.present)) present" + (week.confirmedEmpty > 0 ? ", \(week.confirmedEmpty) confirmed empty" : "")
            return "week of \(first): \(counts)"
        }
        let last = weeks.mondays[index + run.count - 1]
        let state = run.first!.state
        let text = state == .empty && run.allSatisfy({ $0.expected == 0 }) ? "no session" : Self.weekStateText(state)
        return "weeks of \(first) to \(last): \(text)"
    }

    static let monthNames = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// Sizes of the overview: cells narrow as the window's weeks multiply, so years still fit a screen.
    private struct OverviewMetrics {
        let cellWidth: Int, cellHeight = 10, labelWidth = 124, header = 16, weeks: Int, rows: Int

        init(weeks: Int, rows: Int) {
            self.weeks = weeks
            self.rows = rows
            cellWidth = max(2, min(14, 960 / max(weeks, 1) - 1))
        }

        func cellX(_ week: Int) -> Int { labelWidth + week * (cellWidth + 1) }
        func cellY(_ row: Int) -> Int { header + row * (cellHeight + 1) }
        var width: Int { cellX(weeks) + 48 }
        var height: Int { cellY(rows) + 4 }
    }

    /// The section of a series drawn without a heatmap: its counts and the weeks that miss bars.
    private func summarySection(_ row: CoverageOverviewRow, id: String) -> String {
        var s = "<section class=\"series\" id=\"\(id)\">"
        s += "<h2>\(Self.escape(row.ticker)) · \(row.timeframe.rawValue)</h2>"
        s += counts(row.totals)
        let short = row.weeks.indices.filter { row.weeks[$0].missing > 0 }
        if short.isEmpty {
            s += "<p class=\"weeks\">No week misses a bar.</p>"
        } else {
            s += "<p class=\"weeks\">Weeks missing bars: "
            s += short.map { "\(weeks.mondays[$0]) (\(row.weeks[$0].missing) of \(row.weeks[$0].expected))" }
                .joined(separator: ", ")
            s += "</p>"
        }
        if !detailNote.isEmpty { s += "<p class=\"counts\">\(Self.escape(detailNote))</p>" }
        s += "</section>"
        return s
    }

    private func counts(_ t: CoverageTotals) -> String {
        var s = "<p class=\"counts\">\(Self.grouped(t.expected)) expected · \(Self.grouped(t.present)) present · "
        s += "\(Self.grouped(t.missing)) missing · \(Self.grouped(t.confirmedEmpty)) confirmed empty · "
        s += "\(Self.grouped(t.offGrid)) off-grid · \(t.coveredText) covered</p>"
        return s
    }

    private func section(_ grid: CoverageGrid, id: String) -> String {
        let t = grid.totals
        var s = "<section class=\"series\" id=\"\(id)\">"
        s += "<h2>\(Self.escape(grid.ticker)) · \(grid.timeframe.rawValue)</h2>"
        s += counts(t)
        s += heatmap(grid)
        s += "</section>"
        return s
    }

    private func heatmap(_ grid: CoverageGrid) -> String {
        let m = Metrics(grid)
        var s = "<svg class=\"heatmap\" xmlns=\"http://www.w3.org/2000/svg\" width=\"\(m.width)\" "
        s += "height=\"\(m.height)\" viewBox=\"0 0 \(m.width) \(m.height)\" role=\"img\" "
        s += "aria-label=\"\(Self.escape(grid.ticker)) \(grid.timeframe.rawValue) coverage\">"
        // Column labels never overlap: one is skipped when the previous one still covers its place
        // (about 5 px a character at 9 px).
        var free = 0
        for (i, label) in grid.columns.enumerated() where !label.isEmpty && m.cellX(i) >= free {
            s += "<text x=\"\(m.cellX(i))\" y=\"\(m.header - 5)\">\(label)</text>"
            free = m.cellX(i) + label.count * 5 + 4
        }
        for (r, row) in grid.rows.enumerated() {
            let y = m.cellY(r)
            s += "<text x=\"0\" y=\"\(y + m.cellHeight - 1)\">\(Self.escape(row.label))</text>"
            for cell in row.cells {
                s += "<rect class=\"s-\(cell.state.rawValue)\" x=\"\(m.cellX(cell.column))\" y=\"\(y)\" "
                s += "width=\"\(m.cellWidth)\" height=\"\(m.cellHeight)\">"
                s += "<title>\(cellTitle(cell, grid.timeframe)) \(Self.stateText(cell.state))</title></rect>"
            }
            if !row.offGrid.isEmpty {
                let x = m.markerX
                let shown = row.offGrid.prefix(12).map { localText($0, withTime: true) }.joined(separator: ", ")
                let more = row.offGrid.count > 12 ? ", …" : ""
                s += "<g class=\"mark-offgrid\">\(diamond(x: x + 5, y: y + m.cellHeight / 2))"
                s += "<text x=\"\(x + 13)\" y=\"\(y + m.cellHeight - 1)\">\(row.offGrid.count)</text>"
                s += "<title>\(row.offGrid.count) off-grid: \(shown)\(more)</title></g>"
            }
        }
        s += "</svg>"
        return s
    }

    private func diamond(x: Int, y: Int) -> String {
        "<path d=\"M\(x) \(y - 5)L\(x + 5) \(y)L\(x) \(y + 5)L\(x - 5) \(y)Z\" />"
    }

    private func cellTitle(_ cell: CoverageGrid.Cell, _ timeframe: Timeframe) -> String {
        localText(cell.start, withTime: timeframe.isIntraday)
    }

    private func localText(_ instant: Int64, withTime: Bool) -> String {
        let (date, second) = clock.local(instant)
        return withTime ? "\(date) \(CoverageGrid.clockText(second))" : date.description
    }

    static func stateText(_ state: SlotCoverage) -> String {
        switch state {
        case .present: "present"
        case .missing: "missing"
        case .confirmedEmpty: "confirmed empty"
        }
    }

    /// Sizes of one heatmap: cells shrink as columns multiply, so a day of m1 still fits a screen.
    private struct Metrics {
        let cellWidth: Int, cellHeight: Int, labelWidth = 76, header = 16, markerWidth = 48
        let columns: Int, rows: Int

        init(_ grid: CoverageGrid) {
            columns = max(grid.columns.count, 1)
            rows = grid.rows.count
            switch grid.timeframe {
            case .d1: (cellWidth, cellHeight) = (22, 12)
            case .w1: (cellWidth, cellHeight) = (10, 12)
            case .mn1: (cellWidth, cellHeight) = (20, 12)
            default: (cellWidth, cellHeight) = (max(3, min(28, 640 / columns - 1)), 10)
            }
        }

        func cellX(_ column: Int) -> Int { labelWidth + column * (cellWidth + 1) }
        func cellY(_ row: Int) -> Int { header + row * (cellHeight + 1) }
        var markerX: Int { cellX(columns) + 6 }
        var width: Int { markerX + markerWidth }
        var height: Int { cellY(rows) + 4 }
    }
}

extension CoverageReport {
    /// Escapes text for HTML and XML element content and attribute values.
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for c in text.unicodeScalars {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default:
                // Control characters other than tab and newline are not allowed in XML 1.0 text.
                if c.value < 0x20 && c != "\t" && c != "\n" { out += "\u{FFFD}" } else { out.unicodeScalars.append(c) }
            }
        }
        return out
    }

    /// `12,345`.
    static func grouped(_ n: Int) -> String {
        let digits = String(n.magnitude)
        var out = ""
        for (i, ch) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(ch)
        }
        return n < 0 ? "-" + out : out
    }
}

private struct HTMLText {
    var text = ""
    mutating func line(_ s: String) {
        text += s
        text += "\n"
    }
}
