import BarfillCore
import Foundation
import Logging

/// Where a provider lives and the key to use, usually read from the environment.
public struct ProviderSettings: Sendable {
    public var provider: ProviderName
    public var baseURL: String
    public var key: APIKey

    public init(provider: ProviderName, baseURL: String, key: APIKey) throws(ProviderError) {
        let trimmed = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        guard let c = URLComponents(string: trimmed), let scheme = c.scheme?.lowercased(),
              scheme == "http" || scheme == "https", let host = c.host, !host.isEmpty,
              c.query == nil, c.user == nil, c.password == nil else { throw .invalidBaseURL(provider, baseURL) }
        self.provider = provider
        self.baseURL = trimmed
        self.key = key
    }

    public static func defaultBaseURL(_ provider: ProviderName) -> String {
        switch provider {
        case .massive: "https://api.massive.com"
        case .finnhub: "https://finnhub.io/api/v1"
        }
    }

    /// `MASSIVE_API_KEY` (fallback `POLYGON_API_KEY`) and `MASSIVE_BASE_URL`; `FINNHUB_API_KEY` and `FINNHUB_BASE_URL`.
    public static func fromEnvironment(_ provider: ProviderName,
                                       _ environment: [String: String] = ProcessInfo.processInfo.environment) throws(ProviderError) -> ProviderSettings {
        let keyVariables: [String]
        let urlVariable: String
        switch provider {
        case .massive: keyVariables = ["MASSIVE_API_KEY", "POLYGON_API_KEY"]; urlVariable = "MASSIVE_BASE_URL"
        case .finnhub: keyVariables = ["FINNHUB_API_KEY"]; urlVariable = "FINNHUB_BASE_URL"
        }
        guard let key = keyVariables.lazy.compactMap({ environment[$0].flatMap(APIKey.init) }).first else {
            throw .missingKey(provider, variables: keyVariables)
        }
        let base = environment[urlVariable].flatMap { $0.isEmpty ? nil : $0 } ?? defaultBaseURL(provider)
        return try ProviderSettings(provider: provider, baseURL: base, key: key)
    }

    /// Scheme, host and port of the base URL: the only place the key may be sent.
    var origin: String { Self.origin(of: baseURL) ?? baseURL }

    static func origin(of url: String) -> String? {
        guard let c = URLComponents(string: url), let scheme = c.scheme?.lowercased(), let host = c.host?.lowercased() else { return nil }
        let port = c.port ?? (scheme == "https" ? 443 : 80)
        return "\(scheme)://\(host):\(port)"
    }
}

/// How transient failures (5xx, timeouts, cut bodies) are retried: exponential backoff with
/// full jitter (a random pause between 0 and min(cap, base·2^attempt)), a fixed number of attempts.
public struct RetryPolicy: Sendable, Hashable {
    public var maxAttempts: Int
    public var baseDelay: Double
    public var maxDelay: Double

    public init(maxAttempts: Int = 4, baseDelay: Double = 1, maxDelay: Double = 30) {
        self.maxAttempts = max(1, maxAttempts)
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
    }

    public static let `default` = RetryPolicy()

    /// The pause before attempt `attempt + 1` (attempt counts from 1).
    func delay(after attempt: Int) -> Double {
        let ceiling = min(maxDelay, baseDelay * pow(2, Double(attempt - 1)))
        return Double.random(in: 0...max(ceiling, 0))
    }
}

/// Sends one provider request with pacing, 429 handling and retries. Shared by both clients.
struct ProviderTransport: Sendable {
    let settings: ProviderSettings
    let http: HTTPClient
    let limiter: RateLimiter
    let retry: RetryPolicy
    let logger: Logger

    enum Outcome<Answer> {
        case answer(Answer)
        case stopped(StopReason)
    }

    var provider: ProviderName { settings.provider }

    func redact(_ text: String) -> String { Redaction.redact(text, keys: [settings.key]) }

    /// A fetch's answer: the validated bars in time order and the rejections, logged once.
    func finish(_ result: FetchResult, _ validator: BarValidator, ticker: Ticker, timeframe: Timeframe) -> FetchResult {
        var result = result
        result.bars = validator.sortedBars()
        result.rejections = validator.rejections
        logger.debug("fetched", metadata: [
            "provider": "\(provider.rawValue)", "ticker": "\(ticker)", "timeframe": "\(timeframe.rawValue)",
            "bars": "\(result.bars.count)", "rejected": "\(result.rejections.count)", "requests": "\(result.requests)",
            "pages": "\(result.pages)", "stop": "\(result.stop.map(\.description) ?? "none")",
        ])
        return result
    }

    /// GETs `url` (which must be on the base URL's origin) until `decode` accepts a 2xx answer,
    /// a stop comes, or an error is final. Counts every request sent in `requests`; a request that
    /// never left (refused, no DNS answer) is handed back to the limiter and not counted.
    ///
    /// Retried with backoff: 5xx, timeouts, cut bodies, refused connections, and a 2xx whose body
    /// `decode` finds garbled (`ProviderError.undecodable`). See `ProviderError.fault` for the table.
    func get<Answer>(_ url: String, headers: [(String, String)], requests: inout Int,
                     decode: (HTTPResponse) throws(ProviderError) -> Answer) async throws(ProviderError) -> Outcome<Answer> {
        var attempt = 0
        while true {
            attempt += 1
            let permit: RateLimiter.Permit
            do { permit = try await limiter.acquire() } catch { return .stopped(error) }
            requests += 1
            logger.trace("request", metadata: [
                "provider": "\(provider.rawValue)", "url": "\(redact(url))", "attempt": "\(attempt)",
                "headers": "\(redact(headers.map { "\($0.0): \($0.1)" }.joined(separator: ", ")))",
            ])
            let started = limiter.clock.now()
            let response: HTTPResponse
            do {
                response = try await http.get(url, headers: headers)
            } catch {
                if error.neverSent {
                    await limiter.neverSent(permit)
                    requests -= 1
                } else {
                    await limiter.finish(permit)
                }
                if error == .aborted { return .stopped(.cancelled) }
                logger.debug("transfer failed", metadata: ["provider": "\(provider.rawValue)", "error": "\(redact(error.localizedDescription))", "attempt": "\(attempt)"])
                guard error.isTransient, attempt < retry.maxAttempts else {
                    if error.neverSent { throw .unreachable(provider, baseURL: redact(settings.baseURL), error) }
                    throw .transport(provider, error)
                }
                if let stop = await backoff(after: attempt) { return .stopped(stop) }
                continue
            }
            await limiter.finish(permit)
            logger.trace("response", metadata: [
                "provider": "\(provider.rawValue)", "status": "\(response.status)", "bytes": "\(response.body.count)",
                "seconds": "\(String(format: "%.3f", limiter.clock.now() - started))",
            ])
            switch response.status {
            case 200..<300:
                do {
                    return .answer(try decode(response))
                } catch {
                    guard case .undecodable = error, attempt < retry.maxAttempts else { throw error }
                    logger.debug("garbled answer", metadata: ["provider": "\(provider.rawValue)", "bytes": "\(response.body.count)", "attempt": "\(attempt)"])
                    if let stop = await backoff(after: attempt) { return .stopped(stop) }
                }
            case 429:
                let hint = retryAfter(response)
                logger.notice("rate limited (429)", metadata: ["provider": "\(provider.rawValue)", "retry-after": "\(hint.map { String($0) } ?? "none")"])
                if let stop = await limiter.rateLimited(permit, retryAfter: hint) { return .stopped(stop) }
                attempt -= 1   // a 429 is paced by the limiter, not counted as a failed attempt
            case 401:
                throw .unauthorized(provider, message: message(in: response))
            case 403:
                throw .notEntitled(provider, message: message(in: response))
            case 500..<600:
                logger.debug("server error", metadata: ["provider": "\(provider.rawValue)", "status": "\(response.status)", "attempt": "\(attempt)"])
                guard attempt < retry.maxAttempts else {
                    throw .httpStatus(provider, status: response.status, message: message(in: response))
                }
                if let stop = await backoff(after: attempt) { return .stopped(stop) }
            default:
                throw .httpStatus(provider, status: response.status, message: message(in: response))
            }
        }
    }

    /// Sleeps the jittered backoff; a stop when the deadline would pass or the task is cancelled.
    private func backoff(after attempt: Int) async -> StopReason? {
        let pause = retry.delay(after: attempt)
        if let deadline = limiter.budget.deadline, limiter.clock.now() + pause > deadline { return .deadlineReached }
        do { try await limiter.clock.sleep(pause) } catch { return .cancelled }
        return nil
    }

    /// Seconds to wait from `Retry-After` (seconds or an HTTP date) or `X-Ratelimit-Reset` (Unix seconds).
    func retryAfter(_ response: HTTPResponse) -> Double? {
        if let value = response.headers["Retry-After"]?.trimmingCharacters(in: .whitespaces) {
            if let seconds = Double(value), seconds.isFinite, seconds >= 0 { return seconds }
            let f = DateFormatter()
            f.locale = Locale(identifier: "en_US_POSIX")
            f.timeZone = TimeZone(identifier: "GMT")
            f.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
            if let date = f.date(from: value) { return max(0, date.timeIntervalSince1970 - limiter.clock.now()) }
        }
        if let value = response.headers["X-Ratelimit-Reset"], let reset = Double(value.trimmingCharacters(in: .whitespaces)),
           reset.isFinite {
            return max(0, reset - limiter.clock.now())
        }
        return nil
    }

    /// The provider's own words about a failed request (`error` or `message`), redacted and short.
    func message(in response: HTTPResponse) -> String {
        var text = String(decoding: response.body.prefix(2_000), as: UTF8.self)
        if let object = try? JSONSerialization.jsonObject(with: response.body) as? [String: Any] {
            text = (object["error"] as? String) ?? (object["message"] as? String) ?? text
        }
        text = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if text.count > 300 { text = String(text.prefix(300)) + "…" }
        return redact(text)
    }

    /// Percent-encodes `ticker` for a path segment (tickers are validated already; this makes it impossible
    /// for any character to change the host or the path).
    static func pathSegment(_ ticker: Ticker) -> String {
        var allowed = CharacterSet()
        allowed.insert(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
        return ticker.value.addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
    }
}

/// The given client, or a new one.
func makeClient(_ given: HTTPClient?, _ provider: ProviderName) throws(ProviderError) -> HTTPClient {
    if let given { return given }
    do { return try HTTPClient() } catch { throw .transport(provider, error) }
}
