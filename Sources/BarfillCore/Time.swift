/// A calendar date with no time zone (a session date, a `--from` day).
public struct LocalDate: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    public var year: Int
    public var month: Int
    public var day: Int

    /// Builds a date, or nil when the day does not exist (2023-02-29).
    public init?(year: Int, month: Int, day: Int) {
        guard (1...12).contains(month), day >= 1, day <= LocalDate.daysIn(month: month, year: year) else { return nil }
        self.year = year
        self.month = month
        self.day = day
    }

    /// Parses `YYYY-MM-DD`.
    public init?(iso text: some StringProtocol) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
              let y = Int(parts[0]), let m = Int(parts[1]), let d = Int(parts[2]) else { return nil }
        self.init(year: y, month: m, day: d)
    }

    /// The date `days` after 1970-01-01.
    public init(daysSinceEpoch days: Int) {
        // Howard Hinnant's civil_from_days.
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        self.year = yoe + era * 400 + (m <= 2 ? 1 : 0)
        self.month = m
        self.day = d
    }

    /// Days since 1970-01-01 (negative before).
    public var daysSinceEpoch: Int {
        // Howard Hinnant's days_from_civil.
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = month > 2 ? month - 3 : month + 9
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// 0 = Sunday … 6 = Saturday.
    public var weekday: Int {
        let w = (daysSinceEpoch + 4) % 7   // 1970-01-01 was a Thursday
        return w < 0 ? w + 7 : w
    }

    public func adding(days: Int) -> LocalDate { LocalDate(daysSinceEpoch: daysSinceEpoch + days) }

    /// 00:00 UTC of this date, in Unix seconds.
    public var utcMidnight: Int64 { Int64(daysSinceEpoch) * 86_400 }

    public var description: String {
        func pad(_ v: Int, _ width: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, width - s.count)) + s
        }
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))"
    }

    public static func < (a: LocalDate, b: LocalDate) -> Bool {
        (a.year, a.month, a.day) < (b.year, b.month, b.day)
    }

    public static func isLeap(_ year: Int) -> Bool { (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 }

    public static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    public init(from decoder: Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let date = LocalDate(iso: text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                                                    debugDescription: "not a YYYY-MM-DD date: \(text)"))
        }
        self = date
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}

/// UTC instants as Unix seconds, written as RFC 3339 with `Z`, read as RFC 3339 with any offset.
public enum UTC {
    /// `2024-03-08T15:00:00Z`.
    public static func format(_ seconds: Int64) -> String {
        var text: [UInt8] = []
        text.reserveCapacity(20)
        guard write(seconds, to: &text) else {
            let (days, secondOfDay) = day(of: seconds)
            let rest = Int(secondOfDay)
            let date = LocalDate(daysSinceEpoch: Int(days))
            func two(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
            return "\(date)T\(two(rest / 3_600)):\(two(rest / 60 % 60)):\(two(rest % 60))Z"
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// Appends what `format` returns for instants in years 0–9999, byte by byte (a big plan formats
    /// a few hundred thousand instants on write and on read); false, with nothing appended, for others.
    static func write(_ seconds: Int64, to text: inout [UInt8]) -> Bool {
        let (days, secondOfDay) = day(of: seconds)
        let rest = Int(secondOfDay)
        let date = LocalDate(daysSinceEpoch: Int(days))
        guard (0...9_999).contains(date.year) else { return false }
        func digits(_ v: Int, _ count: Int) {
            var divisor = 1
            for _ in 1..<count { divisor *= 10 }
            for _ in 0..<count {
                text.append(UInt8(ascii: "0") + UInt8(v / divisor % 10))
                divisor /= 10
            }
        }
        digits(date.year, 4); text.append(UInt8(ascii: "-")); digits(date.month, 2); text.append(UInt8(ascii: "-"))
        digits(date.day, 2); text.append(UInt8(ascii: "T"))
        digits(rest / 3_600, 2); text.append(UInt8(ascii: ":")); digits(rest / 60 % 60, 2); text.append(UInt8(ascii: ":"))
        digits(rest % 60, 2); text.append(UInt8(ascii: "Z"))
        return true
    }

    /// Parses an RFC 3339 instant, `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)` (`T`/`Z` in either
    /// case), or a bare `YYYY-MM-DD` as its 00:00 UTC. A fraction of a second is dropped (rounded
    /// down): barfill's instants are whole seconds, and a slot ends on a whole second.
    public static func parse(_ text: String) -> Int64? {
        if let date = LocalDate(iso: text) { return date.utcMidnight }
        guard text.allSatisfy(\.isASCII) else { return nil }
        var body = Substring(text)
        let offset: Int64
        if body.hasSuffix("Z") || body.hasSuffix("z") {
            body = body.dropLast()
            offset = 0
        } else {
            // ±HH:MM east of UTC: local time minus the offset is UTC.
            let zone = body.suffix(6)
            let parts = zone.dropFirst().split(separator: ":", omittingEmptySubsequences: false)
            guard zone.count == 6, let sign = zone.first, sign == "+" || sign == "-", parts.count == 2,
                  parts.allSatisfy({ $0.count == 2 && $0.allSatisfy(\.isNumber) }),
                  let hours = Int64(parts[0]), let minutes = Int64(parts[1]),
                  hours < 24, minutes < 60 else { return nil }
            offset = (sign == "+" ? 1 : -1) * (hours * 3_600 + minutes * 60)
            body = body.dropLast(6)
        }
        let halves = body.split(omittingEmptySubsequences: false) { $0 == "T" || $0 == "t" }
        guard halves.count == 2, let date = LocalDate(iso: halves[0]) else { return nil }
        var clock = halves[1]
        if let dot = clock.firstIndex(of: ".") {
            let fraction = clock[clock.index(after: dot)...]
            guard !fraction.isEmpty, fraction.allSatisfy(\.isNumber) else { return nil }
            clock = clock[..<dot]
        }
        let hms = clock.split(separator: ":", omittingEmptySubsequences: false)
        guard hms.count == 3, hms.allSatisfy({ $0.count == 2 && $0.allSatisfy(\.isNumber) }),
              let h = Int(hms[0]), let m = Int(hms[1]), let s = Int(hms[2]),
              (0..<24).contains(h), (0..<60).contains(m), (0..<60).contains(s) else { return nil }
        return date.utcMidnight + Int64(h * 3_600 + m * 60 + s) - offset
    }
}

extension Int64 {
    /// Division rounded toward negative infinity (Swift's `/` rounds toward zero), so an instant
    /// before 1970 falls in its own day, not the next one. `divisor` must be positive.
    @inlinable public func floorDivided(by divisor: Int64) -> Int64 {
        self >= 0 ? self / divisor : -((-self + divisor - 1) / divisor)
    }

    /// Division rounded toward positive infinity. `divisor` must be positive.
    @inlinable public func ceilingDivided(by divisor: Int64) -> Int64 { -(-self).floorDivided(by: divisor) }
}

extension UTC {
    /// The UTC day holding `seconds` (days since 1970-01-01) and the seconds since that day's midnight.
    @inlinable public static func day(of seconds: Int64) -> (days: Int64, secondOfDay: Int64) {
        let days = seconds.floorDivided(by: 86_400)
        return (days, seconds - days * 86_400)
    }
}
