/// A validated exchange ticker: what may appear in a plan, a URL path or a log line.
public struct Ticker: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let value: String

    /// Accepts 1–16 characters of upper-case letters, digits, `.` and `-` (`BRK.B`, `BF-B`),
    /// starting with a letter or digit. Anything else (slashes, spaces, `%`, `?`, control
    /// characters, lower case) is refused, so no ticker can change a host, a path or a query.
    public init?(_ text: String) {
        let bytes = Array(text.utf8)
        guard (1...16).contains(bytes.count) else { return nil }
        func alnum(_ b: UInt8) -> Bool { (b >= 65 && b <= 90) || (b >= 48 && b <= 57) }
        guard alnum(bytes[0]), bytes.allSatisfy({ alnum($0) || $0 == 46 || $0 == 45 }) else { return nil }
        value = text
    }

    public var description: String { value }
    public static func < (a: Ticker, b: Ticker) -> Bool { a.value < b.value }
}

extension Ticker {
    /// What a ticker may be, worded for messages.
    public static let rule = "1–16 of A–Z, 0–9, '.' and '-', starting with a letter or digit"
}
