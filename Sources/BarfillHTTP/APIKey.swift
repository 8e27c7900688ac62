import BarfillCore
import Foundation

/// A provider API key. It prints, logs and reflects as its fingerprint only, so string
/// interpolation, `dump` or an error message can never reveal it.
public struct APIKey: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// The secret itself: only request headers ever read it.
    let secret: String
    /// First 12 hex digits of the key's SHA-256: tells keys apart in rate-limit state and logs.
    public let fingerprint: String

    public init?(_ secret: String) {
        let trimmed = secret.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { return nil }
        self.secret = trimmed
        self.fingerprint = String(SHA256.hex(trimmed).prefix(12))
    }

    public var description: String { "key#\(fingerprint)" }
    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: ["fingerprint": fingerprint]) }
}

/// Removes credentials from text bound for a log, an error or a terminal.
public enum Redaction {
    public static let placeholder = "<redacted>"

    /// `text` with every occurrence of each secret replaced, and the values of credential-bearing
    /// query parameters (`apiKey`, `token`, …) and headers (`Authorization`, `X-Finnhub-Token`) masked
    /// even when the secret is not known here.
    public static func redact(_ text: String, secrets: [String] = []) -> String {
        var out = text
        for secret in secrets where !secret.isEmpty { out = out.replacingOccurrences(of: secret, with: placeholder) }
        out = maskQueryParameters(out)
        out = maskHeaders(out)
        return out
    }

    public static func redact(_ text: String, keys: [APIKey]) -> String { redact(text, secrets: keys.map(\.secret)) }

    private static let sensitiveParameters = ["apikey", "api_key", "token", "access_token", "key"]

    private static func maskQueryParameters(_ text: String) -> String {
        var result = ""
        var rest = Substring(text)
        while let mark = rest.firstIndex(where: { $0 == "?" || $0 == "&" }) {
            result += rest[...mark]
            rest = rest[rest.index(after: mark)...]
            guard let eq = rest.firstIndex(of: "="), !rest[..<eq].contains(where: { " &?/\n".contains($0) }) else { continue }
            let name = rest[..<eq].lowercased()
            guard sensitiveParameters.contains(name) else { continue }
            result += rest[...eq] + placeholder
            rest = rest[rest.index(after: eq)...]
            let end = rest.firstIndex(where: { "& \n\"'#".contains($0) }) ?? rest.endIndex
            rest = rest[end...]
        }
        return result + rest
    }

    private static let sensitiveHeaders = ["authorization", "x-finnhub-token", "x-api-key"]

    private static func maskHeaders(_ text: String) -> String {
        var out = text
        for header in sensitiveHeaders {
            var searchFrom = out.startIndex
            while let range = out.range(of: header + ":", options: .caseInsensitive, range: searchFrom..<out.endIndex) {
                var valueStart = range.upperBound
                while valueStart < out.endIndex, out[valueStart] == " " { valueStart = out.index(after: valueStart) }
                // Keep a scheme word such as "Bearer" so the line still says what kind of credential it was.
                if let space = out[valueStart...].firstIndex(of: " "),
                   out[valueStart..<space].lowercased() == "bearer" || out[valueStart..<space].lowercased() == "basic" {
                    valueStart = out.index(after: space)
                }
                let valueEnd = out[valueStart...].firstIndex(where: { "\r\n,\"'".contains($0) }) ?? out.endIndex
                out.replaceSubrange(valueStart..<valueEnd, with: placeholder)
                searchFrom = out.index(valueStart, offsetBy: placeholder.count, limitedBy: out.endIndex) ?? out.endIndex
            }
        }
        return out
    }
}
