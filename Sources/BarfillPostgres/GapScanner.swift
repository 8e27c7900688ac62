import BarfillCore
import Logging

/// What a gap scan looks at.
public struct ScanRequest: Sendable {
    /// Where the series come from when `symbols` is not given.
    public enum Universe: String, Sendable, CaseIterable {
        /// Every (symbol, timeframe) that has bars.
        case all
        /// The symbols on SwiftBolt's watchlists (`watchlist_items`).
        case watchlist
    }

    public var universe: Universe
    /// Tickers to scan (`--symbols`); nil scans the universe.
    public var symbols: [String]?
    /// Timeframes to scan (`--timeframes`); nil scans every timeframe that has bars.
    /// With explicit symbols (or a watchlist) and timeframes, series without any bar are scanned too
    /// and come back as one `empty` gap.
    public var timeframes: [Timeframe]?
    /// The window: slots starting at or after `from` that have ended by `until`.
    public var from: Int64
    public var until: Int64
    public var options: GridOptions
    /// Rescan the whole window even where `backfill_status` says the series is verified.
    public var full: Bool
    /// Provider for every series (`--provider`); nil uses each symbol's `primary_source`.
    public var provider: ProviderName?
    /// Provider for symbols whose `primary_source` is one barfill cannot fetch from (alpaca, yfinance …).
    public var fallbackProvider: ProviderName
    /// Sessions re-scanned before a series' verified point in an incremental scan.
    public var lookbackSessions: Int
    /// Series per scan statement.
    public var seriesPerStatement: Int

    public init(universe: Universe = .all, symbols: [String]? = nil, timeframes: [Timeframe]? = nil,
                from: Int64, until: Int64, options: GridOptions = .default, full: Bool = false,
                provider: ProviderName? = nil, fallbackProvider: ProviderName = .massive,
                lookbackSessions: Int = 5, seriesPerStatement: Int = 1_000) {
        self.universe = universe
        self.symbols = symbols
        self.timeframes = timeframes
        self.from = from
        self.until = until
        self.options = options
        self.full = full
        self.provider = provider
        self.fallbackProvider = fallbackProvider
        self.lookbackSessions = lookbackSessions
        self.seriesPerStatement = seriesPerStatement
    }
}

/// The answer of a gap scan.
public struct ScanResult: Sendable {
    /// One entry per scanned series, ordered by (ticker, timeframe).
    public var series: [SeriesScan]
    /// Series whose `backfill_status.verified_through` this scan recorded.
    public var recorded: Int
    /// Why nothing was recorded, when nothing could be (a read-only role, no `barfill migrate` yet).
    public var notRecordedBecause: String?
    /// What the scan verified; with `scan(_:recordingProgress: false)` not yet written, for
    /// `GapScanner.record(_:)` once the plan made from it is safely written.
    public var progress = ScanProgress()
    /// `symbols.ticker` values that are not tickers (control characters, SQL-looking text, too
    /// long): their series were left out of the scan, sorted.
    public var skippedTickers: [String] = []
}

/// Finds missing bars: sends the grid's slots for the window to the server and lets one
/// window-function statement per batch of series return only the rows around holes.
///
/// Synchronous and blocking (a whole scan is one REPEATABLE READ transaction on `connection`);
/// async callers run it through `PostgresDatabase.run`. Needs only SELECT on the app's tables and TEMP
/// on the database: recording progress in `backfill_status` is skipped when the role cannot write.
public struct GapScanner {
    public let connection: PostgresConnection
    public let calendar: MarketCalendar
    private let logger: Logger?

    /// Series sharing a start that make a batch of their own.
    static let sharedStartBatch = 32

    public init(connection: PostgresConnection, calendar: MarketCalendar = .xnys, logger: Logger? = nil) {
        self.connection = connection
        self.calendar = calendar
        self.logger = logger
    }

    /// One series being scanned.
    struct Target {
        var symbolId: String
        var ticker: String
        var timeframe: Timeframe
        var provider: ProviderName
        var from: Int64 = 0
        /// Bars at or after this instant are not looked at (the first slot not ended by `until`).
        var barsUntil: Int64 = 0
        var expected: Range<Int> = 0..<0
        /// Verified history lies before `from`: missing slots at the start are not a head.
        var incremental = false
        var verifiedFrom: Int64 = 0
    }

    /// Scans, and records in `backfill_status` what it verified when `recordingProgress` (in the
    /// scan's transaction). A caller that must first write the plan passes false and calls
    /// `record(result.progress)` afterwards, so a scan whose plan was never written records nothing.
    public func scan(_ request: ScanRequest, recordingProgress: Bool = true) throws -> ScanResult {
        guard request.from < request.until else {
            throw PostgresError.invalidInput("the scan window is empty: --from \(UTC.format(request.from)) is not before --until \(UTC.format(request.until))")
        }
        return try connection.transaction(isolation: .repeatableRead) { connection in
            let store = try BarStore(connection: connection)
            for timeframe in request.timeframes ?? [] { try store.checkSupported(timeframe) }
            // Grouped by timeframe: each scan statement covers series of one timeframe.
            var targets = try resolve(request, store: store).sorted { ($0.timeframe, $0.ticker) < ($1.timeframe, $1.ticker) }
            // One malformed symbols row must not stop every other series from being scanned; it
            // could never be planned (a plan holds tickers only) nor fetched.
            let skippedTickers = Set(targets.filter { Ticker($0.ticker) == nil }.map(\.ticker)).sorted()
            if !skippedTickers.isEmpty { targets.removeAll { Ticker($0.ticker) == nil } }
            var grids: [Timeframe: Grid] = [:]
            for timeframe in Set(targets.map(\.timeframe)) {
                grids[timeframe] = Grid(timeframe: timeframe, options: request.options, calendar: calendar)
            }
            let access = try barfillAccess()
            let points = (!request.full && access.canReadStatus)
                ? try verifiedPoints(timeframes: Array(Set(targets.map(\.timeframe)))) : [:]
            for index in targets.indices {
                setWindow(of: &targets[index], request: request, grid: grids[targets[index].timeframe]!,
                          point: points[VerifiedKey(symbolId: targets[index].symbolId, timeframe: targets[index].timeframe.rawValue)])
            }
            // Batches share a timeframe, and where they can a start.
            targets.sort { ($0.timeframe, $0.from, $0.ticker) < ($1.timeframe, $1.from, $1.ticker) }
            try send(targets, grids: grids)

            var answers = Array(repeating: SeriesAnswer(), count: targets.count)
            // Hashing one series' bars must not spill to disk; local to this transaction, so a
            // pooler's next client does not inherit it. Compiling the statement (JIT) costs
            // more than the little per-row work it would save.
            try connection.query("SET LOCAL work_mem = '64MB'")
            try connection.query("SET LOCAL jit = off")
            var start = 0
            while start < targets.count {
                // A batch: series of one timeframe. When a run of series shares its start (a full
                // scan; series verified through the same point) the start is a constant of the
                // statement; short runs go together, each series with its own start.
                let timeframe = targets[start].timeframe
                let limit = max(1, request.seriesPerStatement)
                var end = start
                while end < targets.count, end - start < limit, targets[end].timeframe == timeframe,
                      targets[end].from == targets[start].from { end += 1 }
                let sharedFrom = end - start >= min(limit, Self.sharedStartBatch) || end == targets.count
                    || targets[end].timeframe != timeframe
                if !sharedFrom {
                    while end < targets.count, end - start < limit, targets[end].timeframe == timeframe { end += 1 }
                }
                var parameters: [any PostgresParameter] = [start, end, Timestamp(targets[start].barsUntil)]
                if sharedFrom { parameters.append(Timestamp(targets[start].from)) }
                let rows = try connection.query(GapScanQuery.scanBatch(timeframe, sharedFrom: sharedFrom), parameters)
                let series = try rows.column("series", as: Int.self), count = try rows.column("slots", as: Int.self)
                let first = try rows.column("first", as: Int?.self), last = try rows.column("last", as: Int?.self)
                for row in rows.rows {
                    let (index, first, last, count) = try row.decode(series, first, last, count)
                    if let first, let last {
                        answers[index].missing.append(first...last)
                    } else {
                        answers[index].offGrid += count
                    }
                }
                start = end
            }
            let ledger = access.canReadLedger ? try ledgerRanges() : [:]

            var scans: [SeriesScan] = []
            var verified: [(series: Int, from: Int64, through: Int64, result: String)] = []
            for (index, target) in targets.enumerated() {
                let grid = grids[target.timeframe]!
                let gaps = answers[index].gaps(expected: target.expected, incremental: target.incremental, grid: grid)
                    .subtracting(confirmedEmpty: ledger[index] ?? [], grid: grid)
                let scan = seriesScan(target, answer: answers[index], gaps: gaps, grid: grid, request: request)
                scans.append(scan)
                let through = gaps.first.map(\.from) ?? target.barsUntil
                verified.append((index, target.incremental ? target.verifiedFrom : request.from, through,
                                 "scanned: \(gaps.count) gaps, \(gaps.reduce(0) { $0 + $1.bars }) missing bars"))
            }
            let progress = ScanProgress(
                series: verified.map { entry in
                    let target = targets[entry.series]
                    return ScanProgress.Series(symbolId: target.symbolId, timeframe: target.timeframe, verifiedFrom: entry.from,
                                               verifiedThrough: entry.through, result: entry.result)
                },
                grid: request.options.description, cannotRecordBecause: access.cannotWriteStatusBecause)
            guard recordingProgress else {
                scans.sort { ($0.ticker, $0.timeframe) < ($1.ticker, $1.timeframe) }
                return ScanResult(series: scans, recorded: 0, notRecordedBecause: nil, progress: progress,
                                  skippedTickers: skippedTickers)
            }
            var recorded = 0
            var reason: String? = access.cannotWriteStatusBecause
            if reason == nil, !verified.isEmpty {
                do {
                    recorded = try record(verified, grid: request.options.description)
                } catch let error as PostgresError where error.isInsufficientPrivilege || error.isReadOnlyTransaction {
                    reason = "the database role cannot write barfill.backfill_status (\(error.sqlState ?? ""))"
                }
            }
            if let reason { logger?.notice("verified progress not recorded: \(reason); the next scan rescans the whole window") }
            scans.sort { ($0.ticker, $0.timeframe) < ($1.ticker, $1.timeframe) }
            return ScanResult(series: scans, recorded: recorded, notRecordedBecause: reason, progress: progress,
                              skippedTickers: skippedTickers)
        }
    }

    // MARK: Universe

    private func resolve(_ request: ScanRequest, store: BarStore) throws -> [Target] {
        let wantedTimeframes = request.timeframes.map(Set.init)
        func provider(_ primarySource: String) -> ProviderName {
            if let provider = request.provider { return provider }
            switch primarySource {
            case "massive", "polygon": return .massive
            case "finnhub": return .finnhub
            default: return request.fallbackProvider
            }
        }

        // The symbols in scope, when the request narrows them.
        var symbols: [SymbolRecord]? = nil
        if let tickers = request.symbols {
            let found = try store.symbols(tickers: tickers)
            let missing = Set(tickers).subtracting(found.keys)
            guard missing.isEmpty else {
                throw PostgresError.invalidInput("no symbol \(missing.sorted().joined(separator: ", ")) in the symbols table")
            }
            symbols = found.values.sorted { $0.ticker < $1.ticker }
        } else if request.universe == .watchlist {
            guard try connection.query("SELECT to_regclass('watchlist_items') IS NOT NULL").scalar() == "t" else {
                throw PostgresError.invalidInput("--universe watchlist needs SwiftBolt's watchlist_items table, which this database does not have")
            }
            let rows = try connection.query(GapScanQuery.watchlistSymbols)
            let id = try rows.column("id", as: String.self), ticker = try rows.column("ticker", as: String.self)
            let primarySource = try rows.column("primary_source", as: String?.self)
            symbols = try rows.rows.map {
                SymbolRecord(id: try $0.decode(id), ticker: try $0.decode(ticker), primarySource: try $0.decode(primarySource) ?? "")
            }
        }

        if let symbols, let timeframes = request.timeframes {
            // Explicit series: scanned whether or not they have bars.
            return symbols.flatMap { symbol in
                Set(timeframes).sorted().map {
                    Target(symbolId: symbol.id, ticker: symbol.ticker, timeframe: $0, provider: provider(symbol.primarySource))
                }
            }
        }
        // Series with bars: per requested timeframe one index probe per symbol, else a skip scan
        // over every (symbol, timeframe) of the index.
        let results = try request.timeframes.map { timeframes in
            try Set(timeframes).sorted().map { try connection.query(GapScanQuery.symbolsWithBars, [$0, $0]) }
        } ?? [try connection.query(GapScanQuery.seriesWithBars)]
        let inScope = symbols.map { Set($0.map(\.id)) }
        var targets: [Target] = []
        for rows in results {
            let id = try rows.column("id", as: String.self), ticker = try rows.column("ticker", as: String.self)
            let timeframe = try rows.column("timeframe", as: String.self)
            let primarySource = try rows.column("primary_source", as: String?.self)
            for row in rows.rows {
                let id = try row.decode(id)
                // Timeframes barfill does not model (none today) are left alone.
                guard let timeframe = Timeframe(rawValue: try row.decode(timeframe)) else { continue }
                if let inScope, !inScope.contains(id) { continue }
                if let wantedTimeframes, !wantedTimeframes.contains(timeframe) { continue }
                targets.append(Target(symbolId: id, ticker: try row.decode(ticker), timeframe: timeframe,
                                      provider: provider(try row.decode(primarySource) ?? "")))
            }
        }
        return targets
    }

    /// Sets a series' window: the request's, or from shortly before its verified point when that
    /// point was found under the same grid, from at or before `--from`, and lies inside the window
    /// (a look back at history, ending before the verified point, is scanned whole).
    private func setWindow(of target: inout Target, request: ScanRequest, grid: Grid, point: VerifiedPoint?) {
        target.from = request.from
        if let point, point.grid == request.options.description, point.from <= request.from,
           point.through > request.from, point.through <= request.until {
            let resume = max(request.from, lookbackStart(before: point.through, sessions: request.lookbackSessions))
            if resume > request.from {
                target.from = resume
                target.incremental = true
                target.verifiedFrom = point.from
            }
        }
        target.expected = grid.ordinals(from: target.from, until: request.until)
        let next = target.expected.upperBound
        target.barsUntil = next < grid.count ? min(request.until, grid.slot(at: next).start) : request.until
    }

    /// 00:00 New York of the session `sessions` sessions before the one holding `instant`.
    private func lookbackStart(before instant: Int64, sessions count: Int) -> Int64 {
        let all = calendar.sessions
        guard !all.isEmpty else { return instant }
        let index = min(calendar.sessionIndex(onOrAfter: NewYork.localDate(of: instant)), all.count - 1)
        return NewYork.midnight(all[max(0, index - count)].date)
    }

    // MARK: Server side

    /// A series' row of `backfill_status`, by symbol id (no ticker lookup).
    private struct VerifiedKey: Hashable {
        var symbolId: String
        var timeframe: String
    }
    private struct VerifiedPoint {
        var from: Int64
        var through: Int64
        var grid: String?
    }

    /// Where the series of `timeframes` are verified: the only part of `backfill_status` an
    /// incremental scan needs, read in one statement.
    private func verifiedPoints(timeframes: [Timeframe]) throws -> [VerifiedKey: VerifiedPoint] {
        guard !timeframes.isEmpty else { return [:] }
        let rows = try connection.query(PostgresQuery("verified points", GapScanQuery.verifiedPoints, [timeframes]))
        let symbolId = try rows.column("symbol_id", as: String.self), timeframe = try rows.column("timeframe", as: String.self)
        let from = try rows.column("verified_from", as: Int64.self), through = try rows.column("verified_through", as: Int64.self)
        let grid = try rows.column("grid", as: String?.self)
        var points: [VerifiedKey: VerifiedPoint] = [:]
        points.reserveCapacity(rows.rowCount)
        for row in rows.rows {
            let (symbolId, timeframe, from, through, grid) = try row.decode(symbolId, timeframe, from, through, grid)
            points[VerifiedKey(symbolId: symbolId, timeframe: timeframe)] = VerifiedPoint(from: from, through: through, grid: grid)
        }
        return points
    }

    private struct Access {
        var canReadStatus = false
        var canReadLedger = false
        var cannotWriteStatusBecause: String?
    }

    /// What barfill's own tables allow this role (checked up front: a failed statement would
    /// abort the scan's transaction).
    private func barfillAccess() throws -> Access {
        // CASE evaluates a privilege check only for a table that exists (the check would fail).
        let row = try connection.query(PostgresQuery("barfill privileges", """
            SELECT to_regclass('barfill.backfill_status') IS NOT NULL AS migrated,
                   CASE WHEN to_regclass('barfill.backfill_status') IS NOT NULL
                        THEN has_table_privilege('barfill.backfill_status', 'SELECT') END AS can_read_status,
                   CASE WHEN to_regclass('barfill.backfill_status') IS NOT NULL
                        THEN has_table_privilege('barfill.backfill_status', 'INSERT')
                             AND has_table_privilege('barfill.backfill_status', 'UPDATE') END AS can_write_status,
                   CASE WHEN to_regclass('barfill.empty_ranges') IS NOT NULL
                        THEN has_table_privilege('barfill.empty_ranges', 'SELECT') END AS can_read_ledger
            """)).onlyRow()
        var access = Access()
        access.canReadStatus = try row.decode("can_read_status", as: Bool?.self) == true
        access.canReadLedger = try row.decode("can_read_ledger", as: Bool?.self) == true
        if try row.decode("migrated", as: Bool.self) != true {
            access.cannotWriteStatusBecause = "barfill's tables do not exist yet (run `barfill migrate`)"
        } else if try row.decode("can_write_status", as: Bool?.self) != true {
            access.cannotWriteStatusBecause = "the database role cannot write barfill.backfill_status"
        }
        return access
    }

    /// COPYs the series and the expected slots of their windows into the transaction's temp tables.
    private func send(_ targets: [Target], grids: [Timeframe: Grid]) throws {
        try connection.query(GapScanQuery.createSeries)
        try connection.copy(GapScanQuery.copySeries) { writer in
            for (index, target) in targets.enumerated() {
                writer.append(index)
                writer.append(target.symbolId)
                writer.append(target.timeframe.rawValue)
                writer.appendTimestamp(target.from)
                try writer.endRow()
            }
        }
        for (timeframe, grid) in grids.sorted(by: { $0.key < $1.key }) {
            try connection.query(GapScanQuery.createSlots(timeframe))
            let windows = targets.filter { $0.timeframe == timeframe && !$0.expected.isEmpty }.map(\.expected)
            guard let low = windows.map(\.lowerBound).min(), let high = windows.map(\.upperBound).max() else { continue }
            try connection.copy(GapScanQuery.copySlots(timeframe)) { writer in
                for ordinal in low..<high {
                    writer.appendTimestamp(grid.slot(at: ordinal).start)
                    writer.append(ordinal)
                    try writer.endRow()
                }
            }
        }
        // Temp tables have no statistics until analysed; the planner needs their sizes to hash them.
        try connection.query("ANALYZE barfill_series")
        for timeframe in grids.keys.sorted() { try connection.query("ANALYZE \(GapScanQuery.slotsTable(timeframe))") }
    }

    /// The provider-confirmed-empty ranges of the scanned series, by series index.
    private func ledgerRanges() throws -> [Int: [(from: Int64, to: Int64)]] {
        let rows = try connection.query(GapScanQuery.ledger)
        let series = try rows.column("series", as: Int.self)
        let from = try rows.column("from_ts", as: Int64.self), to = try rows.column("to_ts", as: Int64.self)
        var ranges: [Int: [(from: Int64, to: Int64)]] = [:]
        for row in rows.rows {
            let (series, from, to) = try row.decode(series, from, to)
            ranges[series, default: []].append((from, to))
        }
        return ranges
    }

    /// Writes verified points inside a savepoint, so a refused write leaves the scan intact.
    private func record(_ verified: [(series: Int, from: Int64, through: Int64, result: String)], grid: String) throws -> Int {
        try connection.query("SAVEPOINT barfill_status")
        do {
            let count = try connection.query(PostgresQuery("record verified", GapScanQuery.recordVerified, [
                verified.map(\.series), verified.map { Timestamp($0.from) }, grid,
                verified.map { Timestamp($0.through) }, verified.map(\.result),
            ])).scalar(as: Int.self)
            try connection.query("RELEASE SAVEPOINT barfill_status")
            return count
        } catch {
            if connection.isHealthy { try connection.query("ROLLBACK TO SAVEPOINT barfill_status") }
            throw error
        }
    }

    // MARK: Client side

    private func seriesScan(_ target: Target, answer: SeriesAnswer, gaps: [Gap], grid: Grid, request: ScanRequest) -> SeriesScan {
        let present = answer.present(expected: target.expected)
        let fingerprint = SeriesScan.fingerprint(
            ticker: target.ticker, timeframe: target.timeframe, grid: request.options, from: target.from,
            until: request.until, expected: target.expected.count, present: present, offGrid: answer.offGrid, gaps: gaps)
        return SeriesScan(ticker: target.ticker, timeframe: target.timeframe, provider: target.provider,
                          from: target.from, until: request.until, expected: target.expected.count,
                          present: present, offGrid: answer.offGrid, gaps: gaps, fingerprint: fingerprint)
    }
}
