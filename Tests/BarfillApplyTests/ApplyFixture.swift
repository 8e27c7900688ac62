import BarfillApply
import BarfillCore
import BarfillHTTP
import BarfillPostgres
import BarfillSQLite
import BarfillTestSupport
import Foundation
import Testing
import BarfillSimulator

/// Skips a suite when no PostgreSQL server is around, saying how to get one.
extension Trait where Self == ConditionTrait {
    static var requiresPostgres: Self {
        .enabled(if: TestDatabase.runsPostgresTests, Comment(rawValue: TestDatabase.unavailableReason))
    }
}

/// A database with holes, a simulated provider and a checkpoint directory, for one apply test.
final class ApplyFixture: @unchecked Sendable {
    static let secret = "sim-key-apply-tests-0001"
    static let key = APIKey(secret)!
    /// A fixed month of history: March 2024 holds a DST change (Mar 10) and a holiday (Good Friday, Mar 29).
    static let window = (from: LocalDate(year: 2024, month: 3, day: 1)!.utcMidnight,
                         until: LocalDate(year: 2024, month: 4, day: 1)!.utcMidnight)

    let database: TestDatabase
    let simulator: SimulatedProvider
    let directory: URL
    let clock: ProviderClock

    init(simulator configuration: SimulatedProvider.Configuration = SimulatedProvider.Configuration()) throws {
        database = try TestDatabase.fresh(schema: .freshInstall)
        simulator = try SimulatedProvider(configuration: configuration)
        clock = configuration.clock
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("barfill-apply-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    deinit {
        simulator.stop()
        try? FileManager.default.removeItem(at: directory)
    }

    var checkpointPath: String { directory.appendingPathComponent("checkpoint.sqlite").path }

    static func grid(_ timeframe: Timeframe) -> Grid { Grid(timeframe: timeframe) }

    /// Every expected slot of the series in the window, as ordinals.
    static func ordinals(_ timeframe: Timeframe) -> Range<Int> {
        grid(timeframe).ordinals(from: window.from, until: window.until)
    }

    /// Inserts `ticker` and the provider's own bars for every expected slot of the window except
    /// those at `holes` (offsets into the window's slots). Returns the symbol id.
    @discardableResult
    func seed(_ ticker: String, _ timeframe: Timeframe, holes: [Range<Int>], illiquid: Bool = false) throws -> String {
        let id = try database.insertSymbol(ticker)
        let grid = Self.grid(timeframe)
        let all = Self.ordinals(timeframe)
        let missing = Set(holes.flatMap { $0.map { all.lowerBound + $0 } })
        let bars = all.filter { !missing.contains($0) }.compactMap { ordinal -> Bar? in
            SimulatedBars.bar(ticker: ticker, key: grid.slot(at: ordinal).start, illiquid: illiquid,
                              intraday: timeframe.isIntraday)?.bar
        }
        try database.insertBars(bars, symbolId: id, timeframe: timeframe)
        return id
    }

    /// A plan with one chunk per hole (offsets into the window's slots), as the planner would split them.
    func plan(_ series: [(ticker: String, timeframe: Timeframe, holes: [Range<Int>])],
              provider: ProviderName = .massive) -> Plan {
        var chunks: [Plan.Chunk] = []
        var listed: [Plan.Series] = []
        for (ticker, timeframe, holes) in series {
            let grid = Self.grid(timeframe)
            let all = Self.ordinals(timeframe)
            for hole in holes {
                let first = grid.slot(at: all.lowerBound + hole.lowerBound)
                let last = grid.slot(at: all.lowerBound + hole.upperBound - 1)
                let gap = Plan.ChunkGap(from: first.start, to: last.end, bars: hole.count, kind: .interior)
                chunks.append(Plan.Chunk(symbol: Ticker(ticker)!, timeframe: timeframe, provider: provider,
                                         from: first.start, to: last.end, requests: 1, gaps: [gap]))
            }
            listed.append(Plan.Series(symbol: Ticker(ticker)!, timeframe: timeframe, provider: provider,
                                      from: Self.window.from, until: Self.window.until, expected: all.count,
                                      present: all.count - holes.reduce(0) { $0 + $1.count }, offGrid: 0,
                                      fingerprint: String(repeating: "0", count: 64)))
        }
        return Plan(createdAt: 1_711_929_600,
                    calendar: Plan.Calendar(name: MarketCalendar.xnys.name, grid: GridOptions.default.description,
                                            version: MarketCalendar.xnys.version),
                    window: Plan.Window(from: Self.window.from, until: Self.window.until),
                    source: Plan.Source(host: "localhost", database: database.name),
                    series: listed, chunks: chunks)
    }

    /// A runner over `plan` with the simulated providers behind limiters at `limits`.
    func runner(_ plan: Plan, options: ApplyOptions = ApplyOptions(), limits: [RateLimit] = [RateLimit(requests: 10_000, per: 60)],
                checkpoint: CheckpointStore, control: ApplyControl = ApplyControl(),
                maxRateLimited: Int = 3, databaseURL: String? = nil, sharedBudget: Bool = false) async throws -> ApplyRunner {
        let simulator = self.simulator
        let budget = RequestBudget(maxRequests: options.maxRequests, deadline: nil)
        var limiters: [ProviderName: RateLimiter] = [:]
        for provider in ProviderName.allCases {
            limiters[provider] = RateLimiter(provider: provider, key: Self.key, limits: limits, budget: budget, clock: clock,
                                             maxRateLimitedResponses: maxRateLimited)
        }
        if sharedBudget {
            let budget = PostgresProviderBudget(databaseURL: databaseURL ?? database.url)
            for limiter in limiters.values { await limiter.share(budget) }
        }
        let connections = WorkerWiring(databaseURL: databaseURL ?? database.url, limiters: limiters) { provider, limiter in
            let retry = RetryPolicy(maxAttempts: 2, baseDelay: 0.01, maxDelay: 0.05)
            switch provider {
            case .massive:
                let settings = try ProviderSettings(provider: .massive, baseURL: simulator.massiveBaseURL, key: Self.key)
                return try MassiveClient(settings: settings, limiter: limiter, retry: retry)
            case .finnhub:
                let settings = try ProviderSettings(provider: .finnhub, baseURL: simulator.finnhubBaseURL, key: Self.key)
                return try FinnhubClient(settings: settings, limiter: limiter, retry: retry)
            }
        }
        return try ApplyRunner(plan: plan, checkpoint: checkpoint, connections: connections, options: options,
                               control: control)
    }

    /// Runs `plan` to its end with the fixture's checkpoint, which is closed (and unlocked) on return.
    func apply(_ plan: Plan, options: ApplyOptions = ApplyOptions(),
               limits: [RateLimit] = [RateLimit(requests: 10_000, per: 60)],
               control: ApplyControl = ApplyControl(), databaseURL: String? = nil,
               maxRateLimited: Int = 3, sharedBudget: Bool = false) async throws -> ApplyReport {
        let store = try CheckpointStore(path: checkpointPath)
        let runner = try await runner(plan, options: options, limits: limits, checkpoint: store, control: control,
                                      maxRateLimited: maxRateLimited, databaseURL: databaseURL, sharedBudget: sharedBudget)
        return try await runner.run()
    }

    /// Rows of one series, and distinct timestamps among them (equal when there are no duplicates).
    func rowCounts(_ symbolId: String, _ timeframe: Timeframe) throws -> (rows: Int, distinct: Int) {
        let result = try database.connection.query("""
            SELECT count(*), count(DISTINCT ts) FROM ohlc_bars WHERE symbol_id = $1::uuid AND timeframe::text = $2
            """, [symbolId, timeframe])
        return (try result.int(0, 0) ?? 0, try result.int(0, 1) ?? 0)
    }

    /// Requests the simulator answered (optionally only those with `status`).
    func requests(status: Int? = nil) -> [SimulatedProvider.LogEntry] {
        simulator.log.filter { status == nil || $0.status == status }
    }

    /// The barfill binary pointed at this fixture: its database, and the simulator as Massive with the test key.
    func binary() throws -> BarfillBinary {
        try BarfillBinary(environment: [
            "DATABASE_URL": database.url, "MASSIVE_API_KEY": ApplyFixture.secret,
            "MASSIVE_BASE_URL": simulator.massiveBaseURL,
        ])
    }

    /// Writes `plan` to plan.json in the fixture's directory and returns its path.
    func write(_ plan: Plan) throws -> String {
        let path = directory.appendingPathComponent("plan.json").path
        try Data(plan.encoded()).write(to: URL(fileURLWithPath: path))
        return path
    }
}
