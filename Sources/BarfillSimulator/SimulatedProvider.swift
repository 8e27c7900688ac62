import BarfillCore
import BarfillHTTP
import Foundation
import Synchronization

/// A stand-in for Massive and Finnhub on 127.0.0.1: both APIs' JSON, deterministic bars on the
/// exchange calendar, per-key rate limits answering the real 429 bodies, 401/403, injected faults,
/// and a request log tests can assert on (keys appear in it only as fingerprints).
public final class SimulatedProvider: Sendable {
    public let configuration: Configuration
    private let server: LoopbackServer
    let state = Mutex<State>(State())

    struct State {
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

    // MARK: Answering (authentication, entitlement, rate admission, faults, then the API's answer)

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

    func isIlliquid(_ ticker: String) -> Bool { configuration.illiquidTickers.contains(ticker) }
}
