import BarfillCore
import BarfillHTTP
import Foundation
import Synchronization

/// A stand-in for Massive and Finnhub on 127.0.0.1: both APIs' JSON, deterministic bars on the
/// exchange calendar, per-key rate limits answering the real 429 bodies, 401/403, injected faults,
/// and a request log tests can assert on (keys appear in it only as fingerprints).
public final class SimulatedProvider: Sendable {
    /// What one key may do.
    public struct KeyPolicy: Sendable, Hashable {
        /// Limits on Massive requests (none: unlimited).
        public var massive: [RateLimit]
        /// Limits on Finnhub requests (none: unlimited).
        public var finnhub: [RateLimit]
        /// A free Finnhub key gets 403 on candles, as the real one does since candles became paid.
        public var finnhubCandles: Bool

        public init(massive: [RateLimit] = [], finnhub: [RateLimit] = [], finnhubCandles: Bool = true) {
            self.massive = massive
            self.finnhub = finnhub
            self.finnhubCandles = finnhubCandles
        }
    }

    /// A way to spoil a response's bars or body.
    public enum Corruption: String, Sendable, Hashable, CaseIterable {
        case duplicateTimestamp = "duplicate-timestamp"
        case outsideWindow = "outside-window"
        case lowAboveBody = "low-above-body"
        case highBelowBody = "high-below-body"
        case negativeVolume = "negative-volume"
        case nullValue = "null-value"
        /// `1e999`: valid-looking, but not a finite JSON number.
        case nonFiniteNumber = "non-finite-number"
        /// Massive only: the `ticker` field names another ticker.
        case wrongTicker = "wrong-ticker"
        /// The body is cut in half, with a `Content-Length` that matches the cut.
        case malformedJSON = "malformed-json"
        /// Finnhub only: the `t` array is one longer than the others.
        case mismatchedArrays = "mismatched-arrays"
        /// A proxy's HTML error page in place of the JSON, still with status 200.
        case htmlPage = "html-page"
        /// Status 200 with no body at all.
        case emptyBody = "empty-body"
    }

    /// Something to do to one response instead of answering normally.
    public enum Fault: Sendable, Hashable {
        /// Answer with this HTTP status (5xx with the provider's error body).
        case status(Int)
        /// Announce the whole body, send half, close the connection.
        case truncate
        /// Answer after this many nominal seconds.
        case slow(Double)
        case corrupt(Corruption)
        /// Massive: a `next_url` on another host.
        case foreignNextURL
    }

    /// A fault applied to every `every`-th request (counting from 1).
    public struct FaultRule: Sendable, Hashable {
        public var every: Int
        public var fault: Fault
        public init(every: Int, fault: Fault) {
            self.every = max(1, every)
            self.fault = fault
        }
    }

    /// Faults drawn at random, each at its own rate, from a seeded generator: the same seed and the
    /// same sequence of admitted requests give the same faults, so a failing trial can be rerun.
    public struct RandomFaults: Sendable, Hashable {
        public var seed: UInt64
        /// Share of admitted requests (0…1) answered 500, 502 or 503 with the provider's error body.
        public var serverError: Double
        /// Share answered 200 with half the body and a `Content-Length` that matches the half.
        public var garbled: Double
        /// Share whose whole length is announced, half the body sent, then the connection closed.
        public var cut: Double
        /// Share answered after `slowSeconds` nominal seconds.
        public var slow: Double
        public var slowSeconds: Double

        public init(seed: UInt64 = 1, serverError: Double = 0, garbled: Double = 0, cut: Double = 0, slow: Double = 0,
                    slowSeconds: Double = 5) {
            precondition([serverError, garbled, cut, slow].allSatisfy { $0 >= 0 } && serverError + garbled + cut + slow <= 1,
                         "fault rates are shares of requests that add up to at most 1")
            self.seed = seed
            self.serverError = serverError
            self.garbled = garbled
            self.cut = cut
            self.slow = slow
            self.slowSeconds = slowSeconds
        }

        /// The fault for the `request`-th admitted request (from 1), or nil to answer normally.
        /// One uniform draw per request picks at most one fault, so the rates are exact shares.
        public func fault(forRequest request: Int) -> Fault? {
            let draw = SimulatedBars.mix(seed ^ SimulatedBars.mix(UInt64(request)))
            let u = Double(draw >> 11) / Double(1 << 53)
            var bound = serverError
            if u < bound { return .status([500, 502, 503][Int(draw % 3)]) }
            bound += garbled
            if u < bound { return .corrupt(.malformedJSON) }
            bound += cut
            if u < bound { return .truncate }
            bound += slow
            if u < bound { return .slow(slowSeconds) }
            return nil
        }
    }

    public struct Configuration: Sendable {
        /// Keys the provider knows and what each may do.
        public var keys: [String: KeyPolicy]
        /// Any other non-empty key is accepted with `defaultPolicy` (else it gets 401). On by default.
        public var acceptsAnyKey: Bool
        public var defaultPolicy: KeyPolicy
        /// Tickers whose quiet intraday slots have no bar.
        public var illiquidTickers: Set<String>
        /// Send `Retry-After` (seconds) with 429s. Massive does not document one.
        public var retryAfter: Bool
        /// Send `X-Ratelimit-Reset` (Unix seconds) with 429s, as Finnhub does.
        public var rateLimitReset: Bool
        /// Massive: at most this many bars per page, with `next_url` to the rest.
        public var pageSize: Int?
        public var faultRules: [FaultRule]
        /// Faults at random rates, for requests no injected fault or rule claimed.
        public var randomFaults: RandomFaults?
        /// Rate-limit windows and slow answers run on this clock.
        public var clock: ProviderClock
        /// Every answer is sent this many nominal seconds after the request came in (network and
        /// server time of a real provider); the request counts against the limit on arrival.
        public var latency: Double = 0

        public init(keys: [String: KeyPolicy] = [:], acceptsAnyKey: Bool = true, defaultPolicy: KeyPolicy = KeyPolicy(),
                    illiquidTickers: Set<String> = [], retryAfter: Bool = false, rateLimitReset: Bool = false,
                    pageSize: Int? = nil, faultRules: [FaultRule] = [], randomFaults: RandomFaults? = nil,
                    clock: ProviderClock = .system) {
            self.keys = keys
            self.acceptsAnyKey = acceptsAnyKey
            self.defaultPolicy = defaultPolicy
            self.illiquidTickers = illiquidTickers
            self.retryAfter = retryAfter
            self.rateLimitReset = rateLimitReset
            self.pageSize = pageSize
            self.faultRules = faultRules
            self.randomFaults = randomFaults
            self.clock = clock
        }
    }

    /// One request as the provider saw it.
    public struct LogEntry: Sendable, Hashable {
        /// Nominal Unix seconds on the configured clock.
        public var at: Double
        public var api: ProviderName?
        /// Path and query, with any credential parameter redacted.
        public var path: String
        /// Fingerprint of the key presented (`APIKey.fingerprint`), nil when none was.
        public var keyFingerprint: String?
        public var status: Int
        /// Bars in the answer.
        public var bars: Int
        public var fault: Fault?
    }

    public let configuration: Configuration
    private let server: LoopbackServer
    private let state = Mutex<State>(State())

    private struct State {
        var log: [LogEntry] = []
        var injected: [Fault] = []
        var requestCount = 0
        var windows: [String: [Double]] = [:]
    }

    public init(configuration: Configuration = Configuration(), port: UInt16 = 0) throws(SimulatedProviderError) {
        self.configuration = configuration
        let box = HandlerBox()
        server = try LoopbackServer(port: port) { request in box.handle(request) }
        box.provider.withLock { $0.value = self }
    }

    private struct Weak: Sendable { weak var value: SimulatedProvider? }

    /// Lets the server's handler reach the provider without keeping it alive (the provider owns the server).
    private final class HandlerBox: Sendable {
        let provider = Mutex(Weak())
        func handle(_ request: LoopbackServer.Request) -> LoopbackServer.Response {
            guard let provider = provider.withLock({ $0.value }) else { return .init(status: 503, body: Data()) }
            return provider.respond(to: request)
        }
    }

    deinit { server.stop() }

    public var port: UInt16 { server.port }
    /// `http://127.0.0.1:PORT`: Massive's base URL.
    public var baseURL: String { "http://127.0.0.1:\(server.port)" }
    public var massiveBaseURL: String { baseURL }
    /// Finnhub's base URL (its path prefix is `/api/v1`, like the real one).
    public var finnhubBaseURL: String { baseURL + "/api/v1" }

    /// Applies `faults` to the next requests, one each, in order (before any rule).
    public func inject(_ faults: [Fault]) { state.withLock { $0.injected.append(contentsOf: faults) } }

    public var log: [LogEntry] { state.withLock { $0.log } }
    public func clearLog() { state.withLock { $0.log.removeAll() } }

    public func stop() { server.stop() }

    /// TCP connections accepted so far.
    public var connectionsAccepted: Int { server.connectionsAccepted }

    // MARK: Answering

    private func respond(to request: LoopbackServer.Request) -> LoopbackServer.Response {
        let now = configuration.clock.now()
        let components = URLComponents(string: "http://localhost" + request.target)
        let path = components?.path ?? request.target
        var query: [String: String] = [:]
        for item in components?.queryItems ?? [] { query[item.name] = item.value ?? "" }
        let loggedPath = Redaction.redact(request.target)

        let api: ProviderName?
        let key: String?
        if path.hasPrefix("/v2/aggs/ticker/") {
            api = .massive
            let bearer = request.headers["Authorization"].flatMap { $0.hasPrefix("Bearer ") ? String($0.dropFirst(7)) : nil }
            key = bearer ?? query["apiKey"]
        } else if path == "/api/v1/stock/candle" || path == "/stock/candle" {
            api = .finnhub
            key = request.headers["X-Finnhub-Token"] ?? query["token"]
        } else {
            api = nil
            key = nil
        }
        let fingerprint = key.flatMap(APIKey.init)?.fingerprint

        func finish(_ response: LoopbackServer.Response, bars: Int = 0, fault: Fault? = nil) -> LoopbackServer.Response {
            state.withLock {
                $0.log.append(LogEntry(at: now, api: api, path: loggedPath, keyFingerprint: fingerprint,
                                       status: response.status, bars: bars, fault: fault))
            }
            return response
        }

        guard request.method == "GET" else { return finish(.init(status: 400, body: Data("{\"error\":\"GET only\"}".utf8))) }
        guard let api else { return finish(.init(status: 404, body: Data("{\"error\":\"Not found\"}".utf8))) }
        let requestID = String(SHA256.hex("\(now)\(request.target)").prefix(32))

        // Authentication, then entitlement, then the rate limit, as the real services order them.
        guard let key, !key.isEmpty, let policy = configuration.keys[key] ?? (configuration.acceptsAnyKey ? configuration.defaultPolicy : nil) else {
            let body = api == .massive
                ? #"{"status":"ERROR","request_id":"\#(requestID)","error":"\#(key?.isEmpty == false ? "Unknown API Key" : "API Key was not provided")"}"#
                : #"{"error":"Invalid API key"}"#
            return finish(.init(status: 401, body: Data(body.utf8)))
        }
        if api == .finnhub, !policy.finnhubCandles {
            return finish(.init(status: 403, body: Data(#"{"error":"You don't have access to this resource."}"#.utf8)))
        }
        if let wait = admit(api: api, key: key, limits: api == .massive ? policy.massive : policy.finnhub, now: now) {
            var headers = [("Content-Type", "application/json")]
            if configuration.retryAfter { headers.append(("Retry-After", String(Int(wait.rounded(.up))))) }
            if configuration.rateLimitReset { headers.append(("X-Ratelimit-Reset", String(Int((now + wait).rounded(.up))))) }
            let body = api == .massive
                ? #"{"status":"ERROR","request_id":"\#(requestID)","error":"You've exceeded the maximum requests per minute, please wait or upgrade your subscription to continue. https://massive.com/pricing"}"#
                : #"{"error":"API limit reached. Please try again later. Remaining Limit: 0"}"#
            return finish(.init(status: 429, headers: headers, body: Data(body.utf8)))
        }

        let fault: Fault? = state.withLock { s in
            s.requestCount += 1
            if !s.injected.isEmpty { return s.injected.removeFirst() }
            if let rule = configuration.faultRules.first(where: { s.requestCount % $0.every == 0 }) { return rule.fault }
            return configuration.randomFaults?.fault(forRequest: s.requestCount)
        }
        if case let .status(code) = fault {
            let body = api == .massive
                ? #"{"status":"ERROR","request_id":"\#(requestID)","error":"Internal server error"}"#
                : #"{"error":"Internal server error"}"#
            return finish(.init(status: code, body: Data(body.utf8)), fault: fault)
        }
        var corruption: Corruption? = nil
        if case let .corrupt(c) = fault { corruption = c }

        let answer: (status: Int, body: Data, bars: Int)
        switch api {
        case .massive:
            answer = massive(path: path, query: query, host: request.headers["Host"] ?? "127.0.0.1:\(port)",
                             requestID: requestID, corruption: corruption, foreignNext: fault == .foreignNextURL)
        case .finnhub:
            answer = finnhub(query: query, corruption: corruption)
        }
        var response = LoopbackServer.Response(status: answer.status, body: answer.body)
        if fault == .truncate { response.truncateAt = answer.body.count / 2 }
        if case let .slow(seconds) = fault { response.delay = seconds * configuration.clock.timeScale }
        response.delay += configuration.latency * configuration.clock.timeScale
        return finish(response, bars: answer.bars, fault: fault)
    }

    /// Counts the request against the key's limits, or returns the seconds until it would fit.
    private func admit(api: ProviderName, key: String, limits: [RateLimit], now: Double) -> Double? {
        guard !limits.isEmpty else { return nil }
        let name = "\(api.rawValue)/\(key)"
        return state.withLock { s in
            let longest = limits.map(\.window).max()!
            var times = (s.windows[name] ?? []).filter { $0 > now - longest }
            var wait: Double? = nil
            for limit in limits {
                let inWindow = times.filter { $0 > now - limit.window }
                if inWindow.count >= limit.requests {
                    let until = inWindow[inWindow.count - limit.requests] + limit.window
                    wait = max(wait ?? 0, until - now)
                }
            }
            if wait == nil { times.append(now) }
            s.windows[name] = times
            return wait
        }
    }

    private func isIlliquid(_ ticker: String) -> Bool { configuration.illiquidTickers.contains(ticker) }

    /// `/v2/aggs/ticker/{T}/range/{mult}/{timespan}/{from}/{to}`; from/to as ms or `YYYY-MM-DD`, both inclusive.
    private func massive(path: String, query: [String: String], host: String, requestID: String,
                         corruption: Corruption?, foreignNext: Bool) -> (status: Int, body: Data, bars: Int) {
        // ["v2", "aggs", "ticker", T, "range", mult, timespan, from, to]
        let parts = path.split(separator: "/").map(String.init)
        func bad(_ message: String) -> (Int, Data, Int) {
            (400, Data(#"{"status":"ERROR","request_id":"\#(requestID)","error":"\#(message)"}"#.utf8), 0)
        }
        guard parts.count == 9, let multiplier = Int(parts[5]),
              let timeframe = MassiveClient.timeframe(multiplier: multiplier, timespan: parts[6]) else {
            return bad("Could not parse the aggregates request")
        }
        let ticker = parts[3].removingPercentEncoding ?? parts[3]
        func instant(_ text: String, end: Bool) -> Int64? {
            if let ms = Int64(text) { return ms >= 0 ? (end ? ms / 1000 : (ms + 999) / 1000) : nil }
            guard let date = LocalDate(iso: text) else { return nil }
            return end ? NewYork.midnight(date.adding(days: 1)) - 1 : NewYork.midnight(date)
        }
        guard let from = instant(parts[7], end: false), let through = instant(parts[8], end: true) else {
            return bad("Could not parse the from or to parameter")
        }
        let limit = min(50_000, max(1, Int(query["limit"] ?? "") ?? 5_000))
        // `limit` counts base aggregates: minutes for intraday bars.
        let perPage = configuration.pageSize ?? max(1, timeframe.intradaySeconds.map { limit / Int($0 / 60) } ?? limit)
        var raws = SimulatedBars.bars(ticker: ticker, timeframe: timeframe, from: from, through: through,
                                      extendedHours: true, illiquid: isIlliquid(ticker))
        var next: String? = nil
        if raws.count > perPage {
            let rest = raws[perPage].key * 1000
            raws.removeSubrange(perPage...)
            next = "http://\(host)/v2/aggs/ticker/\(parts[3])/range/\(parts[5])/\(parts[6])/\(rest)/\(parts[8])?adjusted=true&sort=asc&limit=\(limit)"
        }
        if foreignNext {
            next = "http://elsewhere.invalid/v2/aggs/ticker/\(parts[3])/range/\(parts[5])/\(parts[6])/\(through * 1000)/\(parts[8])?adjusted=true&sort=asc&limit=\(limit)"
        }
        var overrides: [String: String] = [:]
        spoil(&raws, corruption, overrides: &overrides, step: timeframe.intradaySeconds ?? 86_400 * 7, from: from)
        let answeredTicker = corruption == .wrongTicker ? ticker + "X" : ticker
        var body = SimulatedProvider.massiveBody(ticker: answeredTicker, raws: raws, requestID: requestID, nextURL: next,
                                                 overrides: overrides)
        body = Self.garble(body, corruption)
        return (200, body, raws.count)
    }

    /// `stock/candle?symbol&resolution&from&to`, from/to Unix seconds inclusive.
    private func finnhub(query: [String: String], corruption: Corruption?) -> (status: Int, body: Data, bars: Int) {
        guard let ticker = query["symbol"], !ticker.isEmpty, let resolution = query["resolution"],
              let timeframe = FinnhubClient.timeframe(resolution: resolution),
              let from = query["from"].flatMap(Int64.init), let to = query["to"].flatMap(Int64.init) else {
            return (422, Data(#"{"error":"Wrong resolution or missing parameters."}"#.utf8), 0)
        }
        var raws: [SimulatedBars.Raw]
        if timeframe.isIntraday {
            raws = SimulatedBars.bars(ticker: ticker, timeframe: timeframe, from: from, through: to,
                                      extendedHours: false, illiquid: isIlliquid(ticker))
        } else {
            // Finnhub stamps daily and longer candles at 00:00 UTC of the date.
            raws = SimulatedBars.bars(ticker: ticker, timeframe: timeframe, from: from - 86_400, through: to + 86_400,
                                      extendedHours: false, illiquid: isIlliquid(ticker))
                .map { var r = $0; r.key = NewYork.localDate(of: r.key).utcMidnight; return r }
                .filter { $0.key >= from && $0.key <= to }
        }
        var overrides: [String: String] = [:]
        spoil(&raws, corruption, overrides: &overrides, step: timeframe.intradaySeconds ?? 86_400 * 7, from: from)
        guard !raws.isEmpty else { return (200, Data(#"{"s":"no_data"}"#.utf8), 0) }
        var body = SimulatedProvider.finnhubBody(raws: raws, overrides: overrides, extraTime: corruption == .mismatchedArrays)
        body = Self.garble(body, corruption)
        return (200, body, raws.count)
    }

    /// Applies a body-level corruption: cut in half, an HTML page, nothing.
    private static func garble(_ body: Data, _ corruption: Corruption?) -> Data {
        switch corruption {
        case .malformedJSON: body.prefix(body.count / 2)
        case .htmlPage: Data("<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>\n".utf8)
        case .emptyBody: Data()
        default: body
        }
    }

    /// Applies a bar-level corruption to the first bar (or adds one). `overrides` replaces a field's
    /// JSON text in the first bar, for values no `Int` can hold (`null`, `1e999`).
    private func spoil(_ raws: inout [SimulatedBars.Raw], _ corruption: Corruption?, overrides: inout [String: String],
                       step: Int64, from: Int64) {
        guard let corruption, !raws.isEmpty else { return }
        switch corruption {
        case .duplicateTimestamp: raws.insert(raws[0], at: 1)
        case .outsideWindow:
            var early = raws[0]
            early.key = from - step
            raws.insert(early, at: 0)
        case .lowAboveBody: raws[0].low = max(raws[0].open, raws[0].close) + 1
        case .highBelowBody: raws[0].high = max(raws[0].open, raws[0].close) - 1; raws[0].low = min(raws[0].low, raws[0].high - 1)
        case .negativeVolume: raws[0].volume = -raws[0].volume
        case .nullValue: overrides["o"] = "null"
        case .nonFiniteNumber: overrides["o"] = "1e999"
        case .wrongTicker, .malformedJSON, .mismatchedArrays, .htmlPage, .emptyBody: break
        }
    }

    // MARK: Wire formats

    static func price(_ cents: Int) -> String {
        let sign = cents < 0 ? "-" : ""
        let c = abs(cents)
        let fraction = c % 100
        return "\(sign)\(c / 100).\(fraction < 10 ? "0" : "")\(fraction)"
    }

    /// A Massive aggregates answer, exactly as the service shapes it.
    public static func massiveBody(ticker: String, raws: [SimulatedBars.Raw], requestID: String = "sim",
                                   nextURL: String? = nil, overrides: [String: String] = [:]) -> Data {
        var out = #"{"ticker":"\#(ticker)","queryCount":\#(raws.count),"resultsCount":\#(raws.count),"adjusted":true,"#
        if !raws.isEmpty {
            out += #""results":["#
            out.reserveCapacity(raws.count * 110)
            for (i, r) in raws.enumerated() {
                let field = { (name: String, value: String) in i == 0 ? (overrides[name] ?? value) : value }
                if i > 0 { out += "," }
                let vw = (r.high + r.low + r.close) / 3
                out += #"{"v":\#(field("v", String(r.volume))),"vw":\#(price(vw)),"o":\#(field("o", price(r.open))),"c":\#(field("c", price(r.close))),"h":\#(field("h", price(r.high))),"l":\#(field("l", price(r.low))),"t":\#(r.key * 1000),"n":\#(r.trades)}"#
            }
            out += "],"
        }
        out += #""status":"OK","request_id":"\#(requestID)","count":\#(raws.count)"#
        if let nextURL { out += #","next_url":"\#(nextURL)""# }
        out += "}"
        return Data(out.utf8)
    }

    /// A Finnhub candle answer: parallel arrays, `"s":"ok"`.
    public static func finnhubBody(raws: [SimulatedBars.Raw], overrides: [String: String] = [:], extraTime: Bool = false) -> Data {
        func column(_ name: String, _ value: (SimulatedBars.Raw) -> String) -> String {
            raws.enumerated().map { $0.offset == 0 ? (overrides[name] ?? value($0.element)) : value($0.element) }
                .joined(separator: ",")
        }
        var times = raws.map { String($0.key) }
        if extraTime, let last = raws.last { times.append(String(last.key + 60)) }
        let out = #"{"c":[\#(column("c") { price($0.close) })],"h":[\#(column("h") { price($0.high) })],"l":[\#(column("l") { price($0.low) })],"o":[\#(column("o") { price($0.open) })],"s":"ok","t":[\#(times.joined(separator: ","))],"v":[\#(column("v") { String($0.volume) })]}"#
        return Data(out.utf8)
    }
}
