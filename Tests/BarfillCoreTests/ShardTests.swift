import BarfillCore
import Testing

/// `apply --shard I/N`: a deterministic partition of a plan's chunks by series.
struct ShardTests {
    static let tickers = ["AAPL", "MSFT", "IBM", "KO", "PEP", "XOM", "BRK.B", "T", "Z"]
    static let timeframes: [Timeframe] = [.m15, .h1, .d1]

    /// Chunks of up to `series` random series, each with 1…6 chunks of 1…5 requests.
    static func randomChunks(_ generator: inout SeededGenerator) -> [Plan.Chunk] {
        var chunks: [Plan.Chunk] = []
        let seriesCount = Int.random(in: 0...12, using: &generator)
        var seen = Set<String>()
        for _ in 0..<seriesCount {
            let ticker = tickers.randomElement(using: &generator)!
            let timeframe = timeframes.randomElement(using: &generator)!
            guard seen.insert("\(ticker) \(timeframe)").inserted else { continue }
            var from: Int64 = 1_700_000_000 + Int64.random(in: 0...86_400, using: &generator)
            for _ in 0..<Int.random(in: 1...6, using: &generator) {
                let to = from + 3_600
                chunks.append(Plan.Chunk(symbol: Ticker(ticker)!, timeframe: timeframe, provider: .massive, from: from, to: to,
                                         requests: Int.random(in: 1...5, using: &generator),
                                         gaps: [Plan.ChunkGap(from: from, to: to, bars: 1, kind: .interior)]))
                from = to + 86_400
            }
        }
        return chunks
    }

    @Test func everyChunkIsInExactlyOneShardAndEverySeriesInOne() {
        var generator = SeededGenerator(seed: 13)
        for _ in 0..<300 {
            let chunks = Self.randomChunks(&generator)
            for count in 1...4 {
                let parts = (1...count).map { Shard(index: $0, count: count)!.chunks(of: chunks) }
                let ids = parts.flatMap { $0.map(\.id) }
                #expect(ids.sorted() == chunks.map(\.id).sorted(), "N=\(count): a chunk missing or in two shards")
                var owner: [SeriesKey: Int] = [:]
                for (index, part) in parts.enumerated() {
                    for chunk in part {
                        let previous = owner.updateValue(index, forKey: SeriesKey(chunk))
                        #expect(previous == nil || previous == index, "N=\(count): series \(chunk.symbol.value) \(chunk.timeframe) split")
                    }
                }
            }
        }
    }

    @Test func thePartitionDependsOnTheChunksNotOnTheirOrder() {
        var generator = SeededGenerator(seed: 7)
        for _ in 0..<200 {
            let chunks = Self.randomChunks(&generator)
            let shuffled = chunks.shuffled(using: &generator)
            for count in 1...4 {
                #expect(Shard.assignment(of: chunks, count: count) == Shard.assignment(of: shuffled, count: count))
                #expect(Shard.assignment(of: chunks, count: count) == Shard.assignment(of: chunks, count: count))
            }
        }
    }

    /// Longest processing time first: no shard carries more than the lightest plus one series' requests.
    @Test func shardsAreBalancedByRequests() {
        var generator = SeededGenerator(seed: 99)
        for _ in 0..<200 {
            let chunks = Self.randomChunks(&generator)
            var perSeries: [SeriesKey: Int] = [:]
            for chunk in chunks { perSeries[SeriesKey(chunk), default: 0] += chunk.requests }
            let heaviest = perSeries.values.max() ?? 0
            for count in 2...4 {
                let loads = (1...count).map { Shard(index: $0, count: count)!.chunks(of: chunks).reduce(0) { $0 + $1.requests } }
                #expect(loads.max()! - loads.min()! <= heaviest, "N=\(count): loads \(loads)")
            }
        }
    }

    @Test func aPlanRestrictedToAShardKeepsItsSeriesAndSummary() {
        var generator = SeededGenerator(seed: 3)
        let chunks = Self.randomChunks(&generator) + Self.randomChunks(&generator).filter { $0.symbol.value == "Z" }
        let series = Set(chunks.map(SeriesKey.init)).map { key in
            Plan.Series(symbol: Ticker(key.symbol)!, timeframe: key.timeframe, provider: .massive,
                        from: 0, until: 1, expected: 1, present: 0, offGrid: 0, fingerprint: String(repeating: "0", count: 64))
        }
        let plan = Plan(createdAt: 0, calendar: Plan.Calendar(name: "XNYS", grid: "clock/regular/start-inside", version: "1"),
                        window: Plan.Window(from: 0, until: 1), source: Plan.Source(host: "h", database: "d"),
                        series: series, chunks: chunks)
        let parts = (1...3).map { plan.restricted(to: Shard(index: $0, count: 3)!) }
        #expect(parts.reduce(0) { $0 + $1.summary.chunks } == plan.summary.chunks)
        #expect(parts.reduce(0) { $0 + $1.summary.missingBars } == plan.summary.missingBars)
        #expect(parts.reduce(0) { $0 + $1.series.count } == Set(chunks.map(SeriesKey.init)).count)
        for part in parts {
            #expect(Set(part.series.map { "\($0.symbol.value) \($0.timeframe.rawValue)" })
                == Set(part.chunks.map { "\($0.symbol.value) \($0.timeframe.rawValue)" }))
        }
    }

    @Test(arguments: ["1/1", "2/4", "4/4", "10/12"])
    func parsesIOverN(_ text: String) throws {
        let shard = try #require(Shard(parsing: text))
        #expect(shard.description == text)
    }

    @Test(arguments: ["0/4", "5/4", "1/0", "-1/4", "+1/4", "1/", "/4", "1/4/2", "a/b", "1 /4", "", "1", "١/٤", "9999999/9999999"])
    func refusesWhatIsNotIOverN(_ text: String) {
        #expect(Shard(parsing: text) == nil)
    }
}
