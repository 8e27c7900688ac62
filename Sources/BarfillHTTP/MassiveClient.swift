import BarfillCore
import Foundation
import Logging

/// Massive (formerly Polygon.io) aggregates: `GET /v2/aggs/ticker/{T}/range/{mult}/{timespan}/{from}/{to}`.
public struct MassiveClient: BarProvider {
    public var name: ProviderName { .massive }
    let transport: ProviderTransport

    /// One client per worker: it owns `http` (one connection). Workers sharing a key share `limiter`.
    public init(settings: ProviderSettings, limiter: RateLimiter, http: HTTPClient? = nil,
                retry: RetryPolicy = .default, logger: Logger = Logger(label: "barfill.massive")) throws(ProviderError) {
        transport = ProviderTransport(settings: settings, http: try makeClient(http, .massive), limiter: limiter, retry: retry, logger: logger)
    }

    /// Massive's (multiplier, timespan) for a timeframe.
    public static func range(of timeframe: Timeframe) -> (multiplier: Int, timespan: String) {
        switch timeframe {
        case .m1: (1, "minute")
        case .m5: (5, "minute")
        case .m15: (15, "minute")
        case .m30: (30, "minute")
        case .h1: (1, "hour")
        case .h4: (4, "hour")
        case .d1: (1, "day")
        case .w1: (1, "week")
        case .mn1: (1, "month")
        }
    }

    /// The timeframe a (multiplier, timespan) pair stands for, if barfill has one.
    public static func timeframe(multiplier: Int, timespan: String) -> Timeframe? {
        Timeframe.allCases.first { range(of: $0) == (multiplier, timespan) }
    }

    /// The first page's URL. `from`/`to` go as millisecond timestamps, `to` inclusive.
    func firstPageURL(ticker: Ticker, timeframe: Timeframe, from: Int64, to: Int64) -> String {
        let (multiplier, timespan) = Self.range(of: timeframe)
        return "\(transport.settings.baseURL)/v2/aggs/ticker/\(ProviderTransport.pathSegment(ticker))/range/\(multiplier)/\(timespan)/\(from * 1000)/\(to * 1000 - 1)?adjusted=true&sort=asc&limit=50000"
    }

    public func fetch(ticker: Ticker, timeframe: Timeframe, from: Int64, to: Int64) async throws(ProviderError) -> FetchResult {
        guard from < to else { throw .invalidWindow(from: from, to: to) }
        var result = FetchResult()
        var validator = BarValidator(from: from, to: to)
        var url = firstPageURL(ticker: ticker, timeframe: timeframe, from: from, to: to)
        let headers = [("Authorization", "Bearer \(transport.settings.key.secret)"), ("Accept", "application/json")]
        while true {
            // A page is decoded into a copy, so a garbled answer retried adds none of its bars twice.
            let before = validator
            let outcome = try await transport.get(url, headers: headers, requests: &result.requests) {
                (response) throws(ProviderError) -> (BarValidator, String?) in
                var page = before
                let next = try Self.decodePage(response.body, ticker: ticker, into: &page)
                return (page, next)
            }
            guard case let .answer((decoded, next)) = outcome else {
                if case let .stopped(reason) = outcome { result.stop = reason }
                break
            }
            result.pages += 1
            validator = decoded
            guard let next else { break }
            guard ProviderSettings.origin(of: next) == transport.settings.origin else {
                throw .untrustedNextURL(.massive, host: URLComponents(string: next)?.host ?? "an unparseable URL")
            }
            url = next
        }
        return transport.finish(result, validator, ticker: ticker, timeframe: timeframe)
    }

    /// One aggregates page, decoded and validated.
    public struct DecodedPage: Sendable {
        public var bars: [Bar]
        public var rejections: [Rejection]
        public var nextURL: String?
    }

    /// Decodes and validates one aggregates page for `ticker` and the window `[from, to)`.
    public static func decode(page body: Data, ticker: Ticker, from: Int64, to: Int64) throws(ProviderError) -> DecodedPage {
        var validator = BarValidator(from: from, to: to, expectedCount: body.count / 100)
        let next = try decodePage(body, ticker: ticker, into: &validator)
        return DecodedPage(bars: validator.sortedBars(), rejections: validator.rejections, nextURL: next)
    }

    /// Decodes and validates one page into `validator`; returns its `next_url`, if any.
    /// Daily and longer bars already carry 00:00 America/New_York, the grid's key.
    static func decodePage(_ body: Data, ticker: Ticker, into validator: inout BarValidator) throws(ProviderError) -> String? {
        var offWholeSecond: Int64? = nil
        var missingTime = false
        let page: MassivePageScanner.Envelope
        do {
            page = try MassivePageScanner.scan(body) { (a: MassivePageScanner.Aggregate) throws(MassivePageScanner.Failure) in
                guard let t = a.t else {
                    missingTime = true
                    throw MassivePageScanner.Failure(offset: 0, reason: "a bar without its time `t`")
                }
                let (ts, remainder) = t.quotientAndRemainder(dividingBy: 1000)
                guard remainder == 0 else { offWholeSecond = t; return }
                validator.check(ts: ts, open: a.o, high: a.h, low: a.l, close: a.c, volume: a.v)
            }
        } catch {
            // Well-formed JSON of the wrong shape is the provider's answer; anything else is garbled on the way.
            if missingTime { throw .malformedResponse(.massive, reason: error.reason) }
            throw .undecodable(.massive, reason: "not valid JSON at byte \(error.offset) of \(body.count): \(error.reason)")
        }
        if let t = offWholeSecond { throw .malformedResponse(.massive, reason: "a bar time \(t) ms is not on a whole second") }
        let status = page.status ?? ""
        guard status == "OK" || status == "DELAYED" else {
            throw .providerStatus(.massive, status: status.isEmpty ? "no status" : status,
                                  message: Redaction.redact(page.error ?? page.message ?? ""))
        }
        if let answered = page.ticker, answered != ticker.value {
            throw .wrongTicker(.massive, expected: ticker.value, received: String(answered.prefix(32)))
        }
        return page.nextURL.flatMap { $0.isEmpty ? nil : $0 }
    }
}

/// A decoding error in a sentence, without echoing the body (it could be anything).
func describe(_ error: any Error, bytes: Int) -> String {
    switch error {
    case let DecodingError.dataCorrupted(context):
        "not valid JSON (\(bytes) bytes; truncated or corrupted)\(context.codingPath.isEmpty ? "" : " at \(path(context.codingPath))")"
    case let DecodingError.keyNotFound(key, context):
        "missing field \(path(context.codingPath + [key]))"
    case let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context):
        "unexpected value at \(path(context.codingPath))"
    default:
        "cannot decode (\(bytes) bytes)"
    }
}

private func path(_ keys: [any CodingKey]) -> String {
    keys.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
}
