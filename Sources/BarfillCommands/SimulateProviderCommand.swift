import ArgumentParser
import BarfillCore
import BarfillHTTP
import BarfillSimulator
import Dispatch
import Foundation

/// `barfill simulate-provider`: a local stand-in for Massive and Finnhub, for demos and tests.
struct SimulateProvider: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate-provider",
        abstract: "Serve simulated Massive and Finnhub APIs on 127.0.0.1 until interrupted.",
        discussion: """
            Prints the base URL on standard output. Use it as MASSIVE_BASE_URL, and with /api/v1 appended \
            as FINNHUB_BASE_URL. Bars are deterministic, on the XNYS calendar. Stops on SIGINT or SIGTERM \
            and prints a summary of the requests it served on standard error.
            """)

    @Option(help: "TCP port; 0 picks a free one.")
    var port: UInt16 = 0

    @Option(name: .customLong("key"), help: "An accepted API key (repeatable). Without any, every non-empty key is accepted.")
    var keys: [String] = []

    @Option(name: .customLong("free-key"), help: "A key whose Finnhub plan lacks candles: it gets 403 (repeatable).")
    var freeKeys: [String] = []

    @Option(help: "Massive limits per key, e.g. 5/min (comma-separated for several). Default: unlimited.")
    var massiveRate: String?

    @Option(help: "Finnhub limits per key, e.g. 60/min,30/s. Default: unlimited.")
    var finnhubRate: String?

    @Flag(help: "Send Retry-After with 429 answers (the real Massive does not document one).")
    var retryAfter = false

    @Flag(help: "Send X-Ratelimit-Reset with 429 answers, as Finnhub does.")
    var rateLimitReset = false

    @Option(help: "Tickers whose quiet intraday slots have no bar (comma-separated).")
    var illiquid: String?

    @Option(help: "Massive bars per page, answered with next_url pagination.")
    var pageSize: Int?

    @Option(help: "Answer every Nth request with HTTP 503.")
    var failEvery: Int?

    @Option(help: "Cut every Nth answer short.")
    var truncateEvery: Int?

    @Option(help: "Answer every Nth request slowly (see --slow-seconds).")
    var slowEvery: Int?

    @Option(help: "How slow a slow answer is, in provider seconds.")
    var slowSeconds: Double = 5

    @Option(help: "Real seconds per provider second: 0.01 makes a rate-limit minute last 600 ms.")
    var timeScale: Double = 1

    func validate() throws {
        for (name, text) in [("--massive-rate", massiveRate), ("--finnhub-rate", finnhubRate)] {
            if let text, (try? Self.limits(text)) == nil { throw ValidationError("\(name): '\(text)' is not a list of limits such as 5/min,30/s") }
        }
        for (name, every) in [("--fail-every", failEvery), ("--truncate-every", truncateEvery), ("--slow-every", slowEvery), ("--page-size", pageSize)] {
            if let every, every < 1 { throw ValidationError("\(name) must be at least 1") }
        }
        guard timeScale > 0 else { throw ValidationError("--time-scale must be positive") }
    }

    static func limits(_ text: String?) throws -> [RateLimit] {
        guard let text else { return [] }
        return try text.split(separator: ",").map {
            guard let limit = RateLimit(parsing: $0.trimmingCharacters(in: .whitespaces)) else { throw ValidationError("bad limit") }
            return limit
        }
    }

    func run() async throws {
        let policy = SimulatedProvider.KeyPolicy(massive: try Self.limits(massiveRate), finnhub: try Self.limits(finnhubRate))
        var keyed: [String: SimulatedProvider.KeyPolicy] = [:]
        for key in keys { keyed[key] = policy }
        for key in freeKeys { var free = policy; free.finnhubCandles = false; keyed[key] = free }
        var rules: [SimulatedProvider.FaultRule] = []
        if let failEvery { rules.append(.init(every: failEvery, fault: .status(503))) }
        if let truncateEvery { rules.append(.init(every: truncateEvery, fault: .truncate)) }
        if let slowEvery { rules.append(.init(every: slowEvery, fault: .slow(slowSeconds))) }
        let configuration = SimulatedProvider.Configuration(
            keys: keyed, acceptsAnyKey: keys.isEmpty, defaultPolicy: policy,
            illiquidTickers: Set((illiquid ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }),
            retryAfter: retryAfter, rateLimitReset: rateLimitReset, pageSize: pageSize, faultRules: rules,
            clock: timeScale == 1 ? .system : ProviderClock(timeScale: timeScale, anchor: ProviderClock.scaledEpoch))
        // A port in use is reported by BarfillMain like every other error (exit 1).
        let provider = try SimulatedProvider(configuration: configuration, port: port)
        FileHandle.standardOutput.write(Data((provider.baseURL + "\n").utf8))   // unbuffered: scripts read it at once
        let signal = await Self.waitForTermination()
        provider.stop()
        let log = provider.log
        let byStatus = Dictionary(grouping: log, by: \.status).sorted { $0.key < $1.key }.map { "\($0.key): \($0.value.count)" }
        printError("simulate-provider: stopped by \(signal); served \(log.count) request(s) (\(byStatus.joined(separator: ", ")))")
    }

    /// Waits for SIGINT or SIGTERM; returns its name.
    static func waitForTermination() async -> String {
        await withCheckedContinuation { (continuation: CheckedContinuation<String, Never>) in
            let queue = DispatchQueue(label: "barfill.signals")
            let once = SignalOnce(continuation)
            for (number, name) in [(SIGINT, "SIGINT"), (SIGTERM, "SIGTERM")] {
                signal(number, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
                source.setEventHandler { once.fire(name) }
                source.resume()
                once.keep(source)
            }
        }
    }
}

/// Resumes the waiting task for the first signal only; keeps the signal sources alive until then.
private final class SignalOnce: @unchecked Sendable {
    // Touched only on the signal queue (and once before the sources start).
    private var continuation: CheckedContinuation<String, Never>?
    private var sources: [any DispatchSourceSignal] = []

    init(_ continuation: CheckedContinuation<String, Never>) { self.continuation = continuation }
    func keep(_ source: any DispatchSourceSignal) { sources.append(source) }
    func fire(_ name: String) {
        continuation?.resume(returning: name)
        continuation = nil
    }
}
