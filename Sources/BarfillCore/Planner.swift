/// Groups scanned gaps into provider requests, the fewest a provider needs, and writes them as a plan.
public struct Planner: Sendable {
    public var limits: ProviderLimits
    /// At most this many HTTP requests in the plan; nil for no bound.
    public var maxRequests: Int?

    public init(limits: ProviderLimits = .default, maxRequests: Int? = nil) {
        self.limits = limits
        self.maxRequests = maxRequests
    }

    /// The plan for `scans`: every missing slot in exactly one chunk (of the chunks within
    /// `maxRequests`), chunks and series in canonical order.
    /// Throws the `PlanError` a plan reader would raise for what cannot go into a plan: a malformed
    /// ticker, fingerprint, host or database name, a window outside 1990–2040, a series listed twice.
    public func plan(scans: [SeriesScan], grid options: GridOptions = .default, window: Plan.Window,
                     source: Plan.Source, createdAt: Int64, calendar: MarketCalendar = .xnys) throws(PlanError) -> Plan {
        // Refuse here what a plan reader would refuse, so `gaps` never writes a plan `apply` cannot read.
        try Plan.checkWindow(from: window.from, to: window.until, path: "window")
        guard Plan.isHostText(source.host) else {
            throw .malformedText(path: "source.host", text: source.host, expected: Plan.hostExpectation)
        }
        guard Plan.isDatabaseText(source.database) else {
            throw .malformedText(path: "source.database", text: source.database, expected: Plan.databaseExpectation)
        }
        var grids: [Timeframe: Grid] = [:]
        var series: [Plan.Series] = []
        var chunks: [Plan.Chunk] = []
        var seen: Set<String> = []
        for scan in scans {
            guard let symbol = Ticker(scan.ticker) else { throw .malformedTicker(path: "symbols.ticker", text: scan.ticker) }
            guard Plan.isFingerprintText(scan.fingerprint) else {
                throw .malformedText(path: "\(symbol) \(scan.timeframe.rawValue) fingerprint", text: scan.fingerprint,
                                     expected: Plan.fingerprintExpectation)
            }
            guard scan.from >= window.from, scan.until <= window.until, scan.from < scan.until else {
                throw .absurdWindow(path: "\(symbol) \(scan.timeframe.rawValue)", reason: "its scan window is empty or reaches outside the plan's window")
            }
            guard seen.insert("\(symbol) \(scan.timeframe.rawValue)").inserted else {
                throw .duplicateSeries(path: "\(symbol) \(scan.timeframe.rawValue)")
            }
            series.append(Plan.Series(symbol: symbol, timeframe: scan.timeframe, provider: scan.provider,
                                      from: scan.from, until: scan.until, expected: scan.expected,
                                      present: scan.present, offGrid: scan.offGrid, fingerprint: scan.fingerprint))
            guard !scan.gaps.isEmpty else { continue }
            let grid = grids[scan.timeframe] ?? Grid(timeframe: scan.timeframe, options: options, calendar: calendar)
            grids[scan.timeframe] = grid
            chunks += self.chunks(for: scan.gaps, of: symbol, scan.timeframe, from: scan.provider, grid: grid)
        }
        if let maxRequests { chunks = Planner.prioritized(chunks, within: maxRequests) }
        return Plan(createdAt: createdAt,
                    calendar: Plan.Calendar(name: calendar.name, grid: options.description, version: calendar.version),
                    window: window, source: source, series: series, chunks: chunks, limits: limits)
    }

    /// One series' gaps (ascending, disjoint) covered left to right by the widest windows one request
    /// serves. Greedy is optimal here: whether a window fits depends only on its two ends and only
    /// shrinks as it widens, so starting each window at the first uncovered missing slot and stretching
    /// it as far as it fits never needs more windows than any other cover. A window spanning present
    /// bars between two gaps costs nothing extra, as re-fetching bars is far cheaper than a request.
    public func chunks(for gaps: [Gap], of symbol: Ticker, _ timeframe: Timeframe, from provider: ProviderName,
                       grid: Grid) -> [Plan.Chunk] {
        let calendar = grid.calendar
        func serves(_ from: Int64, _ to: Int64) -> Bool {
            ProviderLimits.oneRequestServes(provider, timeframe, from: from, to: to, calendar: calendar)
        }
        var chunks: [Plan.Chunk] = []
        var index = 0
        var next = gaps.first?.firstOrdinal ?? 0   // first uncovered missing slot
        while index < gaps.count {
            let start = grid.slot(at: next).start
            var pieces: [Plan.ChunkGap] = []
            while index < gaps.count {
                let gap = gaps[index]
                // A single slot always fits a request of its own; a further gap only when it fits with the rest.
                guard pieces.isEmpty || serves(start, grid.slot(at: next).end) else { break }
                // The last slot of this gap the window still reaches: fitting is monotone, so bisect.
                var low = next, high = gap.lastOrdinal
                while low < high {
                    let mid = low + (high - low + 1) / 2
                    if serves(start, grid.slot(at: mid).end) { low = mid } else { high = mid - 1 }
                }
                pieces.append(Plan.ChunkGap(from: grid.slot(at: next).start, to: grid.slot(at: low).end,
                                            bars: low - next + 1, kind: gap.kind))
                if low < gap.lastOrdinal {
                    next = low + 1   // the window is full; the rest of this gap starts the next one
                    break
                }
                index += 1
                if index < gaps.count { next = gaps[index].firstOrdinal }
            }
            chunks.append(Plan.Chunk(symbol: symbol, timeframe: timeframe, provider: provider,
                                     from: start, to: pieces[pieces.count - 1].to, requests: 1, gaps: pieces))
        }
        return chunks
    }

    /// The chunks `maxRequests` allows, by priority: chunks holding a tail first (fresh bars matter
    /// most), then interior gaps, most recent first, then heads and empty series (deep history),
    /// most recent first. Ties go by symbol, timeframe, provider and start, so the choice is stable.
    static func prioritized(_ chunks: [Plan.Chunk], within maxRequests: Int) -> [Plan.Chunk] {
        func rank(_ chunk: Plan.Chunk) -> Int {
            chunk.gaps.map { gap in
                switch gap.kind {
                case .tail: 0
                case .interior: 1
                case .head, .empty: 2
                }
            }.min() ?? 2
        }
        let ordered = chunks.sorted { a, b in
            let (ra, rb) = (rank(a), rank(b))
            if ra != rb { return ra < rb }
            if a.to != b.to { return a.to > b.to }
            return Plan.Chunk.canonicalOrder(a, b)
        }
        var chosen: [Plan.Chunk] = []
        var spent = 0
        for chunk in ordered {
            guard spent + chunk.requests <= maxRequests else { break }
            spent += chunk.requests
            chosen.append(chunk)
        }
        return chosen
    }
}
