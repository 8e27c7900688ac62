import BarfillCore
import Foundation
import Logging

/// Finnhub stock candles: `GET /stock/candle?symbol&resolution&from&to`.
public struct FinnhubClient: BarProvider {
    public var name: ProviderName { .finnhub }
    let transport: ProviderTransport

    /// Finnhub serves at most one month of intraday candles per call; longer windows are sliced into
    /// 28 days, within a month under any reading (the planner's chunks are no longer than that).
    public static let intradaySliceSeconds: Int64 = 28 * 86_400

    /// One client per worker: it owns `http` (one connection). Workers sharing a key share `limiter`.
    public init(settings: ProviderSettings, limiter: RateLimiter, http: HTTPClient? = nil,
                retry: RetryPolicy = .default, logger: Logger = Logger(label: "barfill.finnhub")) throws(ProviderError) {
        transport = ProviderTransport(settings: settings, http: try makeClient(http, .finnhub), limiter: limiter,
                                      retry: retry, logger: logger)
    }

    /// Finnhub's `resolution` for a timeframe; nil for h4, which Finnhub does not serve.
    public static func resolution(of timeframe: Timeframe) -> String? {
        switch timeframe {
        case .m1: "1"
        case .m5: "5"
        case .m15: "15"
        case .m30: "30"
        case .h1: "60"
        case .h4: nil
        case .d1: "D"
        case .w1: "W"
        case .mn1: "M"
        }
    }

    /// The timeframe a `resolution` stands for.
    public static func timeframe(resolution: String) -> Timeframe? {
        Timeframe.allCases.first { Self.resolution(of: $0) == resolution }
    }

    /// The `[from, to]` (inclusive, Unix seconds) to ask Finnhub for, in slices. Daily and longer
    /// candles are stamped 00:00 UTC of their date, hours before the grid's 00:00 New York key, so
    /// those requests cover the UTC midnights of the dates whose New York midnight lies in the window.
    static func requestRanges(timeframe: Timeframe, from: Int64, to: Int64) -> [(Int64, Int64)] {
        if timeframe.isIntraday {
            var ranges: [(Int64, Int64)] = []
            var start = from
            while start < to {
                let end = min(to, start + intradaySliceSeconds)
                ranges.append((start, end - 1))
                start = end
            }
            return ranges
        }
        var first = NewYork.localDate(of: from)
        if NewYork.midnight(first) < from { first = first.adding(days: 1) }
        let last = NewYork.localDate(of: to - 1)
        guard first <= last else { return [] }
        return [(first.utcMidnight, last.utcMidnight + 86_399)]
    }

    /// A candle's timestamp on the grid's key: intraday as is; daily and longer 00:00 UTC of the
    /// date → 00:00 America/New_York of that date (what Massive stamps), so both agree on a day's key.
    static func gridKey(of t: Int64, timeframe: Timeframe) -> Int64 {
        guard !timeframe.isIntraday else { return t }
        return NewYork.midnight(LocalDate(daysSinceEpoch: Int(UTC.day(of: t).days)))
    }

    func url(ticker: Ticker, resolution: String, from: Int64, to: Int64) -> String {
        "\(transport.settings.baseURL)/stock/candle?symbol=\(ProviderTransport.pathSegment(ticker))&resolution=\(resolution)&from=\(from)&to=\(to)"
    }

    public func fetch(ticker: Ticker, timeframe: Timeframe, from: Int64, to: Int64) async throws(ProviderError) -> FetchResult {
        guard from < to else { throw .invalidWindow(from: from, to: to) }
        guard let resolution = Self.resolution(of: timeframe) else { throw .unsupportedTimeframe(.finnhub, timeframe) }
        var result = FetchResult()
        var validator = BarValidator(from: from, to: to)
        let headers = [("X-Finnhub-Token", transport.settings.key.secret), ("Accept", "application/json")]
        for (start, end) in Self.requestRanges(timeframe: timeframe, from: from, to: to) {
            // Each slice is decoded into a copy, so a garbled answer retried adds none of its bars twice.
            let before = validator
            let outcome = try await transport.get(url(ticker: ticker, resolution: resolution, from: start, to: end),
                                                  headers: headers, requests: &result.requests) {
                (response) throws(ProviderError) -> BarValidator in
                var slice = before
                try Self.decodeCandles(response.body, timeframe: timeframe, into: &slice)
                return slice
            }
            guard case let .answer(decoded) = outcome else {
                if case let .stopped(reason) = outcome { result.stop = reason }
                break
            }
            result.pages += 1
            validator = decoded
        }
        return transport.finish(result, validator, ticker: ticker, timeframe: timeframe)
    }

    struct Candles: Decodable {
        var s: String
        var t: [Int64]?
        var o: [Double?]?
        var h: [Double?]?
        var l: [Double?]?
        var c: [Double?]?
        var v: [Double?]?
        var error: String?
    }

    /// Decodes one candle answer into `validator`. `{"s":"no_data"}` is no bars.
    static func decodeCandles(_ body: Data, timeframe: Timeframe, into validator: inout BarValidator) throws(ProviderError) {
        let candles: Candles
        do { candles = try JSONDecoder().decode(Candles.self, from: body) } catch {
            // Not JSON at all (cut short, an HTML page, empty) is garbled on the way; JSON of another
            // shape is the provider's answer.
            if case DecodingError.dataCorrupted = error { throw .undecodable(.finnhub, reason: describe(error, bytes: body.count)) }
            throw .malformedResponse(.finnhub, reason: describe(error, bytes: body.count))
        }
        switch candles.s {
        case "no_data": return
        case "ok": break
        default: throw .providerStatus(.finnhub, status: candles.s, message: Redaction.redact(candles.error ?? ""))
        }
        let t = candles.t ?? []
        let columns = [candles.o, candles.h, candles.l, candles.c, candles.v]
        guard columns.allSatisfy({ ($0?.count ?? -1) == t.count }) else {
            throw .malformedResponse(.finnhub, reason: "the c/h/l/o/t/v arrays differ in length")
        }
        let (o, h, l, c, v) = (candles.o!, candles.h!, candles.l!, candles.c!, candles.v!)
        for i in t.indices {
            validator.check(ts: gridKey(of: t[i], timeframe: timeframe), open: o[i], high: h[i], low: l[i], close: c[i], volume: v[i])
        }
    }
}
