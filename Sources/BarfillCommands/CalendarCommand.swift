import ArgumentParser
import BarfillCore
import Foundation

/// `barfill calendar`: what the exchange calendar and the bar grid say, without touching a database.
struct CalendarCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calendar",
        abstract: "Print the XNYS sessions or a timeframe's expected bar starts.",
        subcommands: [Sessions.self, Slots.self])

    /// The session dates `--from` … `--until` cover: those whose 00:00 New York lies in the half-open
    /// window (`--to DATE`, the deprecated spelling, includes that date). Defaults: the whole calendar.
    static func dates(_ window: WindowOptions, legacyTo: String?, required: Bool) throws -> ClosedRange<LocalDate> {
        let calendar = MarketCalendar.xnys
        if required {
            guard window.from != nil else { throw ValidationError("--from is required: a date (YYYY-MM-DD)") }
            guard window.until != nil || legacyTo != nil else { throw ValidationError("--until is required: a date (YYYY-MM-DD, excluded)") }
        }
        let fullRange = NewYork.midnight(calendar.lastDate.adding(days: 1))
        let (from, until) = try window.resolved(defaultDays: nil, defaultUntil: fullRange, legacyTo: legacyTo,
                                                defaultFrom: NewYork.midnight(calendar.firstDate))
        var first = NewYork.localDate(of: from)
        if NewYork.midnight(first) < from { first = first.adding(days: 1) }
        var end = NewYork.localDate(of: until)
        if NewYork.midnight(end) < until { end = end.adding(days: 1) }
        let last = end.adding(days: -1)
        guard first <= last else { throw ValidationError("the window \(UTC.format(from)) … \(UTC.format(until)) holds no date") }
        return first...last
    }

    struct Sessions: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the trading sessions dated from --from until --until (excluded).")

        enum Format: String, ExpressibleByArgument, CaseIterable {
            case jsonl, table
        }

        @OptionGroup(title: "Dates (default: the calendar's, 1990-01-01 until 2041-01-01)") var window: WindowOptions

        @Option(help: ArgumentHelp("Deprecated: the last date, included (YYYY-MM-DD). Use --until.", valueName: "date"))
        var to: String?

        @Option(help: "jsonl: one JSON object per session, open and close in UTC; table: for people, with New York times.")
        var format: Format = .jsonl

        func validate() throws { _ = try CalendarCommand.dates(window, legacyTo: to, required: false) }

        func run() throws {
            let dates = try CalendarCommand.dates(window, legacyTo: to, required: false)
            let sessions = try MarketCalendar.xnys.sessions(from: dates.lowerBound, through: dates.upperBound)
            var out = Output()
            if format == .table {
                out.line("date        day  open   close  open (UTC)            close (UTC)")
            }
            for session in sessions {
                switch format {
                case .jsonl:
                    out.line(#"{"date":"\#(session.date)","open":"\#(UTC.format(session.open))","close":"\#(UTC.format(session.close))"}"#)
                case .table:
                    let day = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"][session.date.weekday]
                    let early = session.isEarlyClose ? "  early close" : ""
                    out.line("\(session.date)  \(day)  \(Self.clock(session.open))  \(Self.clock(session.close))  "
                             + "\(UTC.format(session.open))  \(UTC.format(session.close))\(early)")
                }
            }
            out.flush()
        }

        /// `HH:MM` New York time.
        static func clock(_ instant: Int64) -> String {
            let minutes = Int(instant - NewYork.midnight(NewYork.localDate(of: instant))) / 60
            func two(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
            return "\(two(minutes / 60)):\(two(minutes % 60))"
        }
    }

    struct Slots: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the expected bar starts (UTC, RFC 3339) of the sessions dated from --from until --until.",
            discussion: """
                Every slot of the sessions dated --from until --until (excluded) is printed, whether or not it \
                has ended yet. --to DATE, the old spelling, includes that date (deprecated). A w1 or mn1 slot \
                belongs to its period's first session.
                """)

        @Option(help: "Bar length.")
        var timeframe: Timeframe

        @OptionGroup(title: "Dates") var window: WindowOptions

        @Option(help: ArgumentHelp("Deprecated: the last session date, included (YYYY-MM-DD). Use --until.", valueName: "date"))
        var to: String?

        @OptionGroup(title: "Grid options") var grid: GridOptionGroup

        func validate() throws { _ = try CalendarCommand.dates(window, legacyTo: to, required: true) }

        func run() throws {
            let dates = try CalendarCommand.dates(window, legacyTo: to, required: true)
            let (from, to) = (dates.lowerBound, dates.upperBound)
            let calendar = MarketCalendar.xnys
            let grid = Grid(timeframe: timeframe, options: grid.resolved, calendar: calendar)
            let sessions = calendar.sessionIndex(onOrAfter: from)..<calendar.sessionIndex(onOrAfter: to.adding(days: 1))
            var out = Output()
            for ordinal in grid.ordinals(sessions: sessions) {
                out.line(UTC.format(grid.slot(at: ordinal).start))
            }
            out.flush()
        }
    }
}

/// Standard output in large writes: `calendar slots --timeframe m1` can print millions of lines.
struct Output {
    private var buffer = ""

    mutating func line(_ text: String) {
        buffer += text
        buffer += "\n"
        if buffer.utf8.count >= 1 << 16 { flush() }
    }

    mutating func flush() {
        FileHandle.standardOutput.write(Data(buffer.utf8))
        buffer = ""
    }
}
