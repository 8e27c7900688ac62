import BarfillCore
import Foundation

/// A market-data source of OHLC bars for one ticker and timeframe over a window.
public protocol BarProvider: Sendable {
    var name: ProviderName { get }
    /// Bars whose start lies in `[from, to)` (Unix seconds), validated and keyed on the grid's key
    /// (daily and longer bars at 00:00 America/New_York). A rate limit, budget or deadline that
    /// stops the fetch is not an error: the result says `stop` and can be resumed later.
    func fetch(ticker: Ticker, timeframe: Timeframe, from: Int64, to: Int64) async throws(ProviderError) -> FetchResult
}

/// Why a bar in a provider's answer was not accepted.
public enum RejectionReason: String, Sendable, Hashable, Codable, CaseIterable, CustomStringConvertible {
    /// The bar starts before `from` or at/after `to`.
    case outsideWindow = "outside-window"
    /// A second bar with a timestamp already seen in this fetch.
    case duplicateTimestamp = "duplicate-timestamp"
    /// A price or the volume is NaN or infinite.
    case nonFiniteNumber = "non-finite-number"
    /// A price or the volume is missing (null or absent).
    case missingValue = "missing-value"
    /// low > min(open, close).
    case lowAboveBody = "low-above-open-or-close"
    /// high < max(open, close).
    case highBelowBody = "high-below-open-or-close"
    /// volume < 0.
    case negativeVolume = "negative-volume"

    public var description: String { rawValue }
}

/// One bar left out of a result, and why.
public struct Rejection: Sendable, Hashable {
    /// The provider's timestamp mapped to Unix seconds, when there was one.
    public var ts: Int64?
    public var reason: RejectionReason

    public init(ts: Int64?, reason: RejectionReason) {
        self.ts = ts
        self.reason = reason
    }
}

/// What one fetch produced.
public struct FetchResult: Sendable {
    /// Valid bars, ascending by `ts`, no duplicates, all inside the window.
    public var bars: [Bar]
    public var rejections: [Rejection]
    /// HTTP requests sent, including retries, 429s and every page.
    public var requests: Int
    /// Pages of data received (Massive `next_url` pages, Finnhub month slices).
    public var pages: Int
    /// Set when the fetch stopped before covering the whole window. `bars` then holds what the
    /// completed pages gave (valid, but not the whole window); fetching the window again later is safe.
    public var stop: StopReason?

    public init(bars: [Bar] = [], rejections: [Rejection] = [], requests: Int = 0, pages: Int = 0, stop: StopReason? = nil) {
        self.bars = bars
        self.rejections = rejections
        self.requests = requests
        self.pages = pages
        self.stop = stop
    }

    /// The whole window was covered.
    public var isComplete: Bool { stop == nil }

    /// Rejections counted by reason.
    public var rejectionCounts: [RejectionReason: Int] {
        rejections.reduce(into: [:]) { $0[$1.reason, default: 0] += 1 }
    }
}

/// Everything that makes a fetch fail (as opposed to stop). Messages never contain keys.
public enum ProviderError: LocalizedError, Sendable, Equatable {
    /// No key in the environment.
    case missingKey(ProviderName, variables: [String])
    /// The base URL is not an absolute http(s) URL.
    case invalidBaseURL(ProviderName, String)
    /// The provider cannot serve this timeframe.
    case unsupportedTimeframe(ProviderName, Timeframe)
    /// The window is empty or reversed.
    case invalidWindow(from: Int64, to: Int64)
    /// 401: the key was refused.
    case unauthorized(ProviderName, message: String)
    /// 403: the key's plan does not include this data. Retrying cannot help.
    case notEntitled(ProviderName, message: String)
    /// Any other HTTP status that is not worth retrying, or a 5xx that outlasted the retries.
    case httpStatus(ProviderName, status: Int, message: String)
    /// The transfer failed (after retries where that made sense).
    case transport(ProviderName, HTTPError)
    /// The body is JSON, but not of the shape the provider documents (a field missing, arrays of
    /// different lengths, a bar time off the second).
    case malformedResponse(ProviderName, reason: String)
    /// The body is not JSON at all: cut short (with a matching Content-Length), an HTML error page
    /// from a proxy, empty. A garbled answer, retried like a 5xx.
    case undecodable(ProviderName, reason: String)
    /// Nothing at the base URL accepted the connection (refused, no DNS answer, connect timeout),
    /// after the retries. `baseURL` has no query and no key.
    case unreachable(ProviderName, baseURL: String, HTTPError)
    /// The answer is about another ticker than the one asked for.
    case wrongTicker(ProviderName, expected: String, received: String)
    /// A `next_url` pointed at another host than the configured base URL; it was not followed,
    /// so the key was not sent there.
    case untrustedNextURL(ProviderName, host: String)
    /// The provider said the request failed (a non-OK `status`).
    case providerStatus(ProviderName, status: String, message: String)

    public var errorDescription: String? {
        switch self {
        case let .missingKey(p, variables):
            "no \(p.rawValue) API key: set \(variables.joined(separator: " or "))"
        case let .invalidBaseURL(p, url):
            "the \(p.rawValue) base URL \(Redaction.redact(url)) is not an absolute http(s) URL"
        case let .unsupportedTimeframe(p, tf):
            "\(p.rawValue) has no \(tf.rawValue) bars; use another timeframe or provider"
        case let .invalidWindow(from, to):
            "the window \(UTC.format(from)) … \(UTC.format(to)) is empty"
        case let .unauthorized(p, message):
            "\(p.rawValue) refused the API key (401: \(message)); check the key in the environment"
        case let .notEntitled(p, message):
            "\(p.rawValue) says the key's plan does not include this data (403: \(message)); upgrade the plan or use another provider"
        case let .httpStatus(p, status, message):
            "\(p.rawValue) answered HTTP \(status)\(message.isEmpty ? "" : ": \(message)")"
        case let .transport(p, error):
            "request to \(p.rawValue) failed: \(error.localizedDescription)"
        case let .malformedResponse(p, reason):
            "\(p.rawValue) sent an answer that is not valid: \(reason)"
        case let .undecodable(p, reason):
            "\(p.rawValue) sent an answer that cannot be read: \(reason)"
        case let .unreachable(p, baseURL, error):
            "cannot reach \(p.rawValue) at \(baseURL): \(error.localizedDescription)"
        case let .wrongTicker(p, expected, received):
            "\(p.rawValue) answered for \(received) when asked for \(expected); nothing was kept"
        case let .untrustedNextURL(p, host):
            "\(p.rawValue) sent a next page on another host (\(host)); not followed, so the key stays with the configured host"
        case let .providerStatus(p, status, message):
            "\(p.rawValue) reported \(status)\(message.isEmpty ? "" : ": \(message)")"
        }
    }
}

/// What a failed fetch means for its chunk.
public enum ProviderFault: Sendable, Hashable {
    /// The provider's clear "no": retrying cannot help, the chunk fails for good (a person is needed).
    case permanent
    /// Worth another try later: the chunk stays pending and the next run fetches it again.
    case transient
    /// The provider cannot be reached at all: the chunk stays pending and the run stops (resumable).
    case unreachable
}

extension ProviderError {
    /// Which errors are permanent and which are retried. This table is the one place that decides
    /// (the README's "Which errors are permanent and which are retried" repeats it):
    ///
    /// | Error                                             | Retried in the fetch      | Chunk       | Run        |
    /// |---------------------------------------------------|---------------------------|-------------|------------|
    /// | 5xx, 408                                          | yes, with backoff         | pending     | exit 75    |
    /// | timeout, connection cut mid-body                  | yes, with backoff         | pending     | exit 75    |
    /// | garbled 200 (truncated JSON, HTML page, empty)    | yes, with backoff         | pending     | exit 75    |
    /// | connection refused, DNS failure, connect timeout  | refused/timeout: yes      | pending     | stops, 75  |
    /// | 429                                               | paced by the rate limiter | pending     | stops, 75  |
    /// | 401 bad key, 403 no entitlement                   | no                        | failed      | exit 1     |
    /// | other 4xx (unknown ticker, bad request)           | no                        | failed      | exit 1     |
    /// | provider status not OK, answer for another ticker | no                        | failed      | exit 1     |
    /// | JSON of the wrong shape, next page on another host| no                        | failed      | exit 1     |
    /// | TLS failure, invalid URL, other libcurl errors    | no                        | failed      | exit 1     |
    ///
    /// Bars that fail validation inside a well-formed answer (OHLC invariants, duplicates, outside the
    /// window) are rejected one by one and counted; they do not fail the chunk.
    public var fault: ProviderFault {
        switch self {
        case let .httpStatus(_, status, _):
            status >= 500 || status == 408 ? .transient : .permanent
        case let .transport(_, error):
            error.neverSent ? .unreachable : error.isTransient ? .transient : .permanent
        case .unreachable:
            .unreachable
        case .undecodable:
            .transient
        case .missingKey, .invalidBaseURL, .unsupportedTimeframe, .invalidWindow, .unauthorized, .notEntitled,
             .malformedResponse, .wrongTicker, .untrustedNextURL, .providerStatus:
            .permanent
        }
    }
}

/// Checks bars one at a time against the window and the OHLC invariants, remembering timestamps seen.
struct BarValidator {
    let from: Int64
    let to: Int64
    private(set) var bars: [Bar] = []
    private(set) var rejections: [Rejection] = []
    private var seen = Set<Int64>()

    init(from: Int64, to: Int64, expectedCount: Int = 0) {
        self.from = from
        self.to = to
        bars.reserveCapacity(expectedCount)
        seen.reserveCapacity(expectedCount)
    }

    mutating func check(ts: Int64, open: Double?, high: Double?, low: Double?, close: Double?, volume: Double?) {
        guard let open, let high, let low, let close, let volume else { return reject(ts, .missingValue) }
        guard open.isFinite, high.isFinite, low.isFinite, close.isFinite, volume.isFinite else { return reject(ts, .nonFiniteNumber) }
        guard ts >= from, ts < to else { return reject(ts, .outsideWindow) }
        guard low <= min(open, close) else { return reject(ts, .lowAboveBody) }
        guard high >= max(open, close) else { return reject(ts, .highBelowBody) }
        guard volume >= 0 else { return reject(ts, .negativeVolume) }
        guard seen.insert(ts).inserted else { return reject(ts, .duplicateTimestamp) }
        bars.append(Bar(ts: ts, open: open, high: high, low: low, close: close, volume: volume))
    }

    private mutating func reject(_ ts: Int64, _ reason: RejectionReason) {
        rejections.append(Rejection(ts: ts, reason: reason))
    }

    /// The accepted bars in ascending order.
    func sortedBars() -> [Bar] {
        var out = bars
        if !out.isSorted(by: { $0.ts < $1.ts }) { out.sort { $0.ts < $1.ts } }
        return out
    }
}

extension Array {
    func isSorted(by less: (Element, Element) -> Bool) -> Bool {
        guard count > 1 else { return true }
        for i in 1..<count where less(self[i], self[i - 1]) { return false }
        return true
    }
}
