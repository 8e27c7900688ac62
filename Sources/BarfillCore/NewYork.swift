import Foundation

/// Wall-clock time in America/New_York, read from the time-zone database (never a fixed DST rule).
public enum NewYork {
    /// America/New_York from the tz database. Foundation's `TimeZone` is a value type and `Sendable`.
    static let zone: TimeZone = {
        guard let zone = TimeZone(identifier: "America/New_York") else {
            fatalError("the time-zone database has no America/New_York; install the tzdata package")
        }
        return zone
    }()

    /// The UTC offset in seconds in effect at `instant`.
    static func offset(at instant: Int64) -> Int64 {
        Int64(zone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(instant))))
    }

    /// The instant (Unix seconds) of `hour:minute` New York time on `date`.
    /// A wall time skipped by a spring-forward change (02:30 on the second Sunday of March)
    /// resolves with the offset in effect before the change, one that repeats in the fall to its first occurrence.
    public static func instant(_ date: LocalDate, hour: Int, minute: Int) -> Int64 {
        let wall = date.utcMidnight + Int64(hour * 3_600 + minute * 60)
        // The offset that applied a day earlier is right except within hours of a change;
        // one refinement with the offset at the first guess settles it.
        let before = offset(at: wall - 86_400)
        let guess = wall - before
        let after = offset(at: guess)
        if after == before { return guess }
        let second = wall - after
        return offset(at: second) == after ? second : guess
    }

    /// The New York calendar date that `instant` falls on.
    public static func localDate(of instant: Int64) -> LocalDate {
        let local = instant + offset(at: instant)
        return LocalDate(daysSinceEpoch: Int(UTC.day(of: local).days))
    }

    /// 00:00 New York time at the start of `date`.
    public static func midnight(_ date: LocalDate) -> Int64 { instant(date, hour: 0, minute: 0) }
}
