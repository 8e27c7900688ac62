import ArgumentParser
import BarfillCore
import Foundation

/// `--symbols AAPL,MSFT --timeframes h1,d1`: which series a command looks at. One parser for every
/// command: items are trimmed, tickers upper-cased, empty items dropped; nil means "all".
struct SeriesOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Only these tickers, comma-separated (default: every series in scope).", valueName: "AAPL,MSFT"))
    var symbols: String?

    @Option(help: ArgumentHelp("Only these timeframes, comma-separated: m15,h1,h4,d1,w1 … (default: every timeframe with bars).",
                               valueName: "h1,d1"))
    var timeframes: String?

    func validate() throws {
        _ = try tickers()
        _ = try timeframeList()
    }

    /// The tickers given, in the order given; nil without `--symbols`.
    func tickers() throws -> [Ticker]? {
        guard let symbols else { return nil }
        let tickers = try Self.items(symbols).map { try Self.ticker($0, option: "--symbols") }
        guard !tickers.isEmpty else { throw ValidationError("--symbols is empty; leave it out to mean every symbol") }
        return tickers
    }

    /// The timeframes given; nil without `--timeframes`.
    func timeframeList() throws -> [Timeframe]? {
        guard let timeframes else { return nil }
        let list = try Self.items(timeframes).map { try Self.timeframe($0, option: "--timeframes") }
        guard !list.isEmpty else { throw ValidationError("--timeframes is empty; leave it out to mean every timeframe") }
        return list
    }

    static func items(_ text: String) -> [String] {
        text.split(separator: ",", omittingEmptySubsequences: false)
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// One ticker as typed on a command line: trimmed and upper-cased, then checked.
    static func ticker(_ text: String, option: String) throws -> Ticker {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard let ticker = Ticker(trimmed.uppercased()) else {
            // Quoted with escapes: the text may hold control characters.
            throw ValidationError("\(option): \(String(reflecting: trimmed)) is not a ticker (\(Ticker.rule))")
        }
        return ticker
    }

    /// One timeframe as typed on a command line: trimmed and lower-cased, then checked.
    static func timeframe(_ text: String, option: String) throws -> Timeframe {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard let timeframe = Timeframe(rawValue: trimmed.lowercased()) else {
            throw ValidationError("\(option): \(String(reflecting: trimmed)) is not one of "
                + Timeframe.allCases.map(\.rawValue).joined(separator: ", "))
        }
        return timeframe
    }
}

/// `--from`/`--until`: a half-open window. A date means 00:00 America/New_York; anything else must be
/// an RFC 3339 instant. Dates and instants outside the calendar's years are usage errors (exit 64).
struct WindowOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Start of the window, included: a date (00:00 New York) or an RFC 3339 instant.",
                               valueName: "date|instant"))
    var from: String?

    @Option(help: ArgumentHelp("End of the window, excluded: a date (00:00 New York) or an RFC 3339 instant.",
                               valueName: "date|instant"))
    var until: String?

    /// The window in Unix seconds. Without `--until`, `defaultUntil`; without `--from`, `defaultDays`
    /// before the end (nil: `--from` is required). `legacyTo` is the deprecated inclusive `--to DATE`.
    func resolved(defaultDays: Int64?, defaultUntil: Int64 = Int64(Date().timeIntervalSince1970),
                  legacyTo: String? = nil, defaultFrom: Int64? = nil) throws -> (from: Int64, until: Int64) {
        if until != nil, legacyTo != nil {
            throw ValidationError("--until and --to say the same thing; give only --until (--to is the old, inclusive spelling)")
        }
        // --from is read first, so a bad start is the one reported when both are bad.
        let given = try from.map { try Self.instant($0, option: "--from") }
        let end: Int64
        if let until {
            end = try Self.instant(until, option: "--until")
        } else if let legacyTo {
            end = try Self.instant(legacyTo, option: "--to", dateIsInclusiveEnd: true)
        } else {
            end = defaultUntil
        }
        let start: Int64
        if let given {
            start = given
        } else if let defaultFrom {
            start = defaultFrom
        } else if let defaultDays {
            start = end - defaultDays * 86_400
        } else {
            throw ValidationError("--from is required: a date (2024-03-01) or an RFC 3339 instant")
        }
        guard start < end else {
            throw ValidationError("--from \(UTC.format(start)) is not before the end of the window \(UTC.format(end)); put the earlier time first")
        }
        return (start, end)
    }

    /// A date (00:00 New York; of the next day when it ends an inclusive range) or an RFC 3339 instant.
    static func instant(_ text: String, option: String, dateIsInclusiveEnd: Bool = false) throws -> Int64 {
        let calendar = MarketCalendar.xnys
        do {
            if let date = LocalDate(iso: text) {
                try calendar.checkInRange(date)
                return NewYork.midnight(dateIsInclusiveEnd ? date.adding(days: 1) : date)
            }
            guard let instant = UTC.parse(text) else {
                throw ValidationError("\(option): \(String(reflecting: text)) is neither a date (2024-03-08) nor an RFC 3339 instant (2024-03-08T15:00:00Z)")
            }
            try calendar.checkInRange(NewYork.localDate(of: instant))
            return instant
        } catch let error as CalendarError {
            throw ValidationError("\(option): \(error.localizedDescription)")
        }
    }
}
