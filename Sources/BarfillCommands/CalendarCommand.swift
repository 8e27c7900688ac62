import ArgumentParser
import BarfillCore
import Foundation

/// `barfill calendar`: what the exchange calendar and the bar grid say, without touching a database.
struct CalendarCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calendar",
        abstract: "Print the XNYS sessions or a timeframe's expected bar starts.",
        subcommands: [Sessions.self, Slots.self])

    /// Parses a `YYYY-MM-DD` option inside the calendar's range.
    static func date(_ text: String) throws -> LocalDate {
        guard let date = LocalDate(iso: text) else {
            throw ValidationError("'\(text)' is not a date; write it as YYYY-MM-DD")
        }
        do { try MarketCalendar.xnys.checkInRange(date) } catch {
            throw ValidationError(error.localizedDescription)
        }
        return date
    }

    static func checkOrder(_ from: LocalDate, _ to: LocalDate) throws {
        guard from <= to else { throw ValidationError("--from \(from) is after --to \(to); put the earlier date first") }
    }

    struct Sessions: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the trading sessions dated --from through --to (both inclusive).")

        enum Format: String, ExpressibleByArgument, CaseIterable {
            case jsonl, table
        }

        @Option(help: "First date, YYYY-MM-DD (default: the calendar's first, 1990-01-01).",
                transform: CalendarCommand.date)
        var from: LocalDate = MarketCalendar.xnys.firstDate

        @Option(help: "Last date, inclusive, YYYY-MM-DD (default: the calendar's last, 2040-12-31).",
                transform: CalendarCommand.date)
        var to: LocalDate = MarketCalendar.xnys.lastDate

        @Option(help: "jsonl: one JSON object per session, open and close in UTC; table: for people, with New York times.")
        var format: Format = .jsonl

        func validate() throws { try CalendarCommand.checkOrder(from, to) }

        func run() throws {
            let sessions = try MarketCalendar.xnys.sessions(from: from, through: to)
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
            abstract: "Print the expected bar starts (UTC, RFC 3339) of the sessions dated --from through --to.",
            discussion: """
                --to is an inclusive date: every slot of the sessions dated --from through --to is printed, \
                whether or not it has ended yet. A w1 or mn1 slot belongs to its period's first session.
                """)

        @Option(help: "Bar length.")
        var timeframe: Timeframe

        @Option(help: "First session date, YYYY-MM-DD.", transform: CalendarCommand.date)
        var from: LocalDate

        @Option(help: "Last session date, inclusive, YYYY-MM-DD.", transform: CalendarCommand.date)
        var to: LocalDate

        @OptionGroup(title: "Grid options") var grid: GridOptionGroup

        func validate() throws { try CalendarCommand.checkOrder(from, to) }

        func run() throws {
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
