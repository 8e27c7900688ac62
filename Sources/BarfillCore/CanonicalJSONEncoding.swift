import Foundation

extension JSONValue {
    /// `value` as barfill writes every JSON file (plans, run reports, `status --format json`):
    /// through the plan's canonical writer, so sorted keys, two-space indent, `"key": value` and a
    /// trailing newline. Times are `UTCTime`, so UTC RFC 3339 with `Z`.
    public static func canonicalText(of value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try JSONValue(parsing: encoder.encode(value)).canonicalText
    }
}

/// An instant (Unix seconds) that encodes as `YYYY-MM-DDTHH:MM:SSZ`, as plans write times.
public struct UTCTime: Encodable, Hashable, Sendable {
    public var seconds: Int64

    public init(_ seconds: Int64) { self.seconds = seconds }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(UTC.format(seconds))
    }
}
