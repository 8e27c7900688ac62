import BarfillCore

/// A Swift value bound as a statement parameter, sent in PostgreSQL's text format.
public protocol PostgresParameter {
    var postgresText: String { get }
}

extension String: PostgresParameter { public var postgresText: String { self } }
extension Int: PostgresParameter { public var postgresText: String { String(self) } }
extension Int64: PostgresParameter { public var postgresText: String { String(self) } }
extension Int32: PostgresParameter { public var postgresText: String { String(self) } }
extension Bool: PostgresParameter { public var postgresText: String { self ? "t" : "f" } }
extension Double: PostgresParameter { public var postgresText: String { String(self) } }

/// An instant (Unix seconds) bound as `timestamptz`.
public struct Timestamp: PostgresParameter, Sendable, Hashable {
    public var seconds: Int64
    public init(_ seconds: Int64) { self.seconds = seconds }
    public var postgresText: String { UTC.format(seconds) }
}

/// An array parameter (`text[]`, `bigint[]`, `uuid[]` …) in PostgreSQL's array literal form.
extension Array: PostgresParameter where Element: PostgresParameter {
    public var postgresText: String {
        "{" + map { element in
            let text = element.postgresText
            let escaped = text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            return "\"" + escaped + "\""
        }.joined(separator: ",") + "}"
    }
}

extension Timeframe: PostgresParameter { public var postgresText: String { rawValue } }
extension ProviderName: PostgresParameter { public var postgresText: String { rawValue } }
