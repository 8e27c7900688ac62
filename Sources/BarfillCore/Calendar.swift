import Foundation

/// One trading day: its date and regular-hours open and close (Unix seconds, UTC).
public struct Session: Hashable, Sendable {
    public let date: LocalDate
    public let open: Int64
    public let close: Int64

    public init(date: LocalDate, open: Int64, close: Int64) {
        self.date = date
        self.open = open
        self.close = close
    }

    /// Regular hours shorter than the usual 6 h 30 min (13:00 or, before 1993, 14:00 closes).
    public var isEarlyClose: Bool { close - open < 23_400 }
}

/// What went wrong asking the calendar about dates.
public enum CalendarError: LocalizedError, Equatable, Sendable {
    /// The date lies outside the range the calendar's rules cover.
    case outOfRange(date: LocalDate, first: LocalDate, last: LocalDate, calendar: String)
    /// `from` comes after `through`.
    case reversedRange(from: LocalDate, through: LocalDate)

    public var errorDescription: String? {
        switch self {
        case let .outOfRange(date, first, last, calendar):
            "\(date) is outside the \(calendar) calendar, which covers \(first) through \(last); choose dates in that range"
        case let .reversedRange(from, through):
            "the range \(from) … \(through) ends before it starts; put the earlier date first"
        }
    }
}

/// An exchange's trading sessions over a fixed range of dates, computed once from its rules.
public struct MarketCalendar: Sendable {
    /// Exchange code ("XNYS").
    public let name: String
    /// Version of the rules; changes whenever any session could differ. Plans record it.
    public let version: String
    /// First and last date the rules cover (not necessarily sessions).
    public let firstDate: LocalDate
    public let lastDate: LocalDate

    private let table: SessionTable

    /// Every session in the range, ascending.
    public var sessions: [Session] { table.sessions }

    init(name: String, version: String, firstDate: LocalDate, lastDate: LocalDate, sessions: [Session]) {
        self.name = name
        self.version = version
        self.firstDate = firstDate
        self.lastDate = lastDate
        self.table = SessionTable(firstDate: firstDate, lastDate: lastDate, sessions: sessions)
    }

    /// The session on `date`, or nil on a weekend, holiday or a date outside the range.
    public func session(on date: LocalDate) -> Session? {
        let index = sessionIndex(onOrAfter: date)
        guard index < table.sessions.count, table.sessions[index].date == date else { return nil }
        return table.sessions[index]
    }

    /// Sessions dated `from` through `through`, both inclusive.
    public func sessions(from: LocalDate, through: LocalDate) throws(CalendarError) -> ArraySlice<Session> {
        try checkInRange(from)
        try checkInRange(through)
        guard from <= through else { throw .reversedRange(from: from, through: through) }
        return table.sessions[sessionIndex(onOrAfter: from)..<sessionIndex(onOrAfter: through.adding(days: 1))]
    }

    /// Index in `sessions` of the first session dated `date` or later; `sessions.count` when none.
    public func sessionIndex(onOrAfter date: LocalDate) -> Int {
        let day = date.daysSinceEpoch - table.firstDay
        if day < 0 { return 0 }
        if day >= table.firstSessionOnOrAfter.count { return table.sessions.count }
        return Int(table.firstSessionOnOrAfter[day])
    }

    /// Throws when `date` is outside the range the rules cover.
    public func checkInRange(_ date: LocalDate) throws(CalendarError) {
        guard date >= firstDate, date <= lastDate else {
            throw .outOfRange(date: date, first: firstDate, last: lastDate, calendar: name)
        }
    }

    /// 00:00 New York time of each session's date, by session index (built once with the calendar).
    var midnights: [Int64] { table.midnights }

    /// Extended hours of each session, by session index: 04:00 to 20:00 New York time, or to four hours
    /// after an early close (17:00 after 13:00), when the exchanges' late trading sessions end early too.
    var extendedOpens: [Int64] { table.extendedOpens }
    var extendedCloses: [Int64] { table.extendedCloses }
}

/// The sessions and a per-day index into them, so `session(on:)` costs one array read.
private final class SessionTable: Sendable {
    let sessions: [Session]
    let midnights: [Int64]
    let extendedOpens: [Int64]
    let extendedCloses: [Int64]
    let firstDay: Int
    /// For each day from `firstDay`, the index of the first session on or after it.
    let firstSessionOnOrAfter: [Int32]

    init(firstDate: LocalDate, lastDate: LocalDate, sessions: [Session]) {
        self.sessions = sessions
        self.midnights = sessions.map { NewYork.midnight($0.date) }
        self.extendedOpens = sessions.map { NewYork.instant($0.date, hour: 4, minute: 0) }
        self.extendedCloses = sessions.map {
            $0.isEarlyClose ? $0.close + 4 * 3_600 : NewYork.instant($0.date, hour: 20, minute: 0)
        }
        self.firstDay = firstDate.daysSinceEpoch
        let days = lastDate.daysSinceEpoch - firstDay + 1
        var index = [Int32](repeating: 0, count: days)
        var next = sessions.count
        for day in stride(from: days - 1, through: 0, by: -1) {
            if next > 0, sessions[next - 1].date.daysSinceEpoch - firstDay == day { next -= 1 }
            index[day] = Int32(next)
        }
        self.firstSessionOnOrAfter = index
    }
}
