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
        // Built in one buffer: scans bind arrays of thousands of elements.
        var literal = "{"
        literal.reserveCapacity(count * 28 + 2)
        for (index, element) in enumerated() {
            if index > 0 { literal.append(",") }
            literal.append("\"")
            let text = element.postgresText
            if text.utf8.contains(where: { $0 == 0x5C || $0 == 0x22 }) {   // \ or "
                for scalar in text.unicodeScalars {
                    if scalar == "\\" || scalar == "\"" { literal.append("\\") }
                    literal.unicodeScalars.append(scalar)
                }
            } else {
                literal.append(text)
            }
            literal.append("\"")
        }
        literal.append("}")
        return literal
    }
}

extension Timeframe: PostgresParameter { public var postgresText: String { rawValue } }
extension ProviderName: PostgresParameter { public var postgresText: String { rawValue } }

/// One statement as barfill sends it: a name that errors carry, the SQL, and its positional parameters.
/// A value the SQL uses twice is bound once and referred to by the same `$n`.
public struct PostgresQuery {
    public let name: String
    public let sql: String
    public var parameters: [(any PostgresParameter)?]

    public init(_ name: String, _ sql: String, _ parameters: [(any PostgresParameter)?] = []) {
        self.name = name
        self.sql = sql
        self.parameters = parameters
    }
}
