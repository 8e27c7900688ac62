import ArgumentParser
import BarfillCore
import BarfillHTTP
import Dispatch
import Foundation
import BarfillSimulator

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

    @Option(help: "Massive limits per key, e.g. 5/min (comma-separated for several). Default: unlimited.",
            transform: Self.limits)
    var massiveRate: [RateLimit]?

    @Option(help: "Finnhub limits per key, e.g. 60/min,30/s. Default: unlimited.", transform: Self.limits)
    var finnhubRate: [RateLimit]?

    @Flag(help: "Send Retry-After with 429 answers (the real Massive does not document one).")
    var retryAfter = false

    @Flag(help: "Send X-Ratelimit-Reset with 429 answers, as Finnhub does.")
    var rateLimitReset = false

    @Option(help: "Tickers whose quiet intraday slots have no bar (comma-separated).")
    var illiquid: String?

    @Option(help: "Massive bars per page, answered with next_url pagination.")
    var pageSize: Int?

    @OptionGroup var faults: SimulatedFaultOptions

    @Option(help: "On exit, write one line per request served to this file (keys only as fingerprints).")
    var requestLog: String?

    @Option(help: "Real seconds per provider second: 0.01 makes a rate-limit minute last 600 ms.")
    var timeScale: Double = 1

    func validate() throws {
        if let pageSize, pageSize < 1 { throw ValidationError("--page-size must be at least 1") }
        guard timeScale > 0 else { throw ValidationError("--time-scale must be positive") }
    }

    /// Limits such as `5/min` or `60/min,30/s`.
    static func limits(_ text: String) throws -> [RateLimit] {
        try text.split(separator: ",").map {
            guard let limit = RateLimit(parsing: $0.trimmingCharacters(in: .whitespaces)) else {
                throw ValidationError("'\(text)' is not a list of limits such as 5/min,30/s")
            }
            return limit
        }
    }

    func run() async throws {
        let policy = SimulatedProvider.KeyPolicy(massive: massiveRate ?? [], finnhub: finnhubRate ?? [])
        var keyed: [String: SimulatedProvider.KeyPolicy] = [:]
        for key in keys { keyed[key] = policy }
        for key in freeKeys { var free = policy; free.finnhubCandles = false; keyed[key] = free }
        let configuration = SimulatedProvider.Configuration(
            keys: keyed, acceptsAnyKey: keys.isEmpty, defaultPolicy: policy,
            illiquidTickers: Set((illiquid ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }),
            retryAfter: retryAfter, rateLimitReset: rateLimitReset, pageSize: pageSize, faultRules: faults.rules,
            randomFaults: faults.randomFaults,
            clock: timeScale == 1 ? .system : ProviderClock(timeScale: timeScale, anchor: ProviderClock.scaledEpoch))
        let logFile = requestLog.map(OutputFile.init)
        try logFile?.checkWritable()   // before serving: an unwritable log would otherwise surface only at exit
        // A port in use is reported by BarfillMain like every other error (exit 1).
        let provider = try SimulatedProvider(configuration: configuration, port: port)
        FileHandle.standardOutput.write(Data((provider.baseURL + "\n").utf8))   // unbuffered: scripts read it at once
        let signal = await Self.waitForTermination()
        provider.stop()
        let log = provider.log
        let byStatus = Dictionary(grouping: log, by: \.status).sorted { $0.key < $1.key }.map { "\($0.key): \($0.value.count)" }
        if let logFile {
            // Written once at exit: tab-separated nominal time, API, status, bars, fault, key fingerprint, path.
            let lines = log.map { entry in
                [String(format: "%.3f", entry.at), entry.api?.rawValue ?? "-", String(entry.status), String(entry.bars),
                 entry.fault.map { "\($0)" } ?? "-", entry.keyFingerprint ?? "-", entry.path].joined(separator: "\t")
            }
            try logFile.write(Data((lines.joined(separator: "\n") + (lines.isEmpty ? "" : "\n")).utf8))
        }
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

/// The faults `simulate-provider` injects: every Nth request, or a share of requests drawn with a seed.
/// Every count and every share is read by one parser each, so every option says a bad value the same way.
struct SimulatedFaultOptions: ParsableArguments {
    @Option(help: "Answer every Nth request with HTTP 503.", transform: Self.every)
    var failEvery: Int?

    @Option(help: "Cut every Nth answer short.", transform: Self.every)
    var truncateEvery: Int?

    @Option(help: "Answer every Nth request slowly (see --slow-seconds).", transform: Self.every)
    var slowEvery: Int?

    @Option(help: "How slow a slow answer is, in provider seconds.")
    var slowSeconds: Double = 5

    @Option(help: "Share of requests answered 500, 502 or 503, e.g. 5% or 0.05 (drawn with --fault-seed).", transform: Self.share)
    var serverErrorRate: Double?

    @Option(help: "Share of requests answered 200 with half the body and a Content-Length that matches the half.", transform: Self.share)
    var garbledRate: Double?

    @Option(help: "Share of answers cut mid-body: the whole length announced, half sent, the connection closed.", transform: Self.share)
    var cutRate: Double?

    @Option(help: "Share of requests answered slowly (see --slow-seconds).", transform: Self.share)
    var slowRate: Double?

    @Option(help: "Seed of the generator that draws the faults at the rates above.")
    var faultSeed: UInt64 = 1

    func validate() throws {
        let total = [serverErrorRate, garbledRate, cutRate, slowRate].reduce(0) { $0 + ($1 ?? 0) }
        guard total <= 1 else { throw ValidationError("the fault rates add up to more than 100%") }
    }

    /// A share given as `5%` or `0.05`, from 0 to 1.
    static func share(_ text: String) throws -> Double {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let value = trimmed.hasSuffix("%") ? Double(trimmed.dropLast()).map { $0 / 100 } : Double(trimmed)
        guard let value, value >= 0, value <= 1 else { throw ValidationError("'\(text)' is not a share such as 5% or 0.05") }
        return value
    }

    /// Every Nth request: N a whole number from 1.
    static func every(_ text: String) throws -> Int {
        guard let value = Int(text.trimmingCharacters(in: .whitespaces)), value >= 1 else {
            throw ValidationError("'\(text)' is not a whole number of at least 1")
        }
        return value
    }

    /// The every-Nth faults, in the order the simulator checks them.
    var rules: [SimulatedProvider.FaultRule] {
        var rules: [SimulatedProvider.FaultRule] = []
        if let failEvery { rules.append(.init(every: failEvery, fault: .status(503))) }
        if let truncateEvery { rules.append(.init(every: truncateEvery, fault: .truncate)) }
        if let slowEvery { rules.append(.init(every: slowEvery, fault: .slow(slowSeconds))) }
        return rules
    }

    /// The random faults the rate options ask for, or nil when none does.
    var randomFaults: SimulatedProvider.RandomFaults? {
        let rates = [serverErrorRate, garbledRate, cutRate, slowRate]
        guard rates.contains(where: { $0 != nil }) else { return nil }
        return SimulatedProvider.RandomFaults(seed: faultSeed, serverError: serverErrorRate ?? 0, garbled: garbledRate ?? 0,
                                              cut: cutRate ?? 0, slow: slowRate ?? 0, slowSeconds: slowSeconds)
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
