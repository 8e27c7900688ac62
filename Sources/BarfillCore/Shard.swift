/// One of N disjoint parts of a plan (`apply --shard I/N`, I counted from 1), for N runners
/// (a CI matrix) applying one reviewed plan side by side, each with its own checkpoint.
///
/// The partition is by series (every chunk of a symbol and timeframe in one shard, so no two
/// runners ever write the same series) and balanced by requests: series in descending order of
/// their requests (ties by symbol, then timeframe), each given to the shard with the fewest
/// requests so far (ties: the lowest index), the longest-processing-time rule. It depends only
/// on the plan's chunks, so every runner given the same plan computes the same partition.
public struct Shard: Sendable, Hashable, CustomStringConvertible {
    /// 1…count.
    public let index: Int
    public let count: Int

    public init?(index: Int, count: Int) {
        guard count >= 1, (1...count).contains(index) else { return nil }
        self.index = index
        self.count = count
    }

    /// Parses `I/N` (decimal digits only), 1 ≤ I ≤ N.
    public init?(parsing text: some StringProtocol) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, parts.allSatisfy({ !$0.isEmpty && $0.count <= 6 && $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }),
              let index = Int(parts[0]), let count = Int(parts[1]) else { return nil }
        self.init(index: index, count: count)
    }

    public var description: String { "\(index)/\(count)" }

    /// The shard (1…count) of every series that has chunks in `chunks`, keyed by "SYMBOL timeframe".
    public static func assignment(of chunks: [Plan.Chunk], count: Int) -> [SeriesKey: Int] {
        var requests: [SeriesKey: Int] = [:]
        for chunk in chunks { requests[SeriesKey(chunk), default: 0] += chunk.requests }
        let ordered = requests.sorted { a, b in a.value != b.value ? a.value > b.value : a.key < b.key }
        var load = Array(repeating: 0, count: max(count, 1))
        var assignment: [SeriesKey: Int] = [:]
        for (series, cost) in ordered {
            var lightest = 0
            for shard in load.indices where load[shard] < load[lightest] { lightest = shard }
            load[lightest] += cost
            assignment[series] = lightest + 1
        }
        return assignment
    }

    /// The chunks of `chunks` that belong to this shard, in their given order.
    public func chunks(of chunks: [Plan.Chunk]) -> [Plan.Chunk] {
        let assignment = Self.assignment(of: chunks, count: count)
        return chunks.filter { assignment[SeriesKey($0)] == index }
    }
}

extension Plan {
    /// The part of this plan `shard` applies: its chunks, and the listed series they belong to.
    public func restricted(to shard: Shard) -> Plan {
        let kept = shard.chunks(of: chunks)
        let series = Set(kept.map(SeriesKey.init))
        var part = self
        part.chunks = kept
        part.series = self.series.filter { series.contains(SeriesKey(symbol: $0.symbol.value, timeframe: $0.timeframe)) }
        part.summary = Summary(series: part.series, chunks: part.chunks)
        return part
    }
}
