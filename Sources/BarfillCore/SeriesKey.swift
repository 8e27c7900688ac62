/// A series: a symbol's ticker and a timeframe, as plans, shards, apply and the status table name it.
public struct SeriesKey: Sendable, Hashable, Comparable {
    public var symbol: String
    public var timeframe: Timeframe

    public init(symbol: String, timeframe: Timeframe) {
        self.symbol = symbol
        self.timeframe = timeframe
    }

    public init(_ chunk: Plan.Chunk) {
        self.init(symbol: chunk.symbol.value, timeframe: chunk.timeframe)
    }

    /// Ticker, then the timeframe's name (not its length): the order shard assignment has always used.
    public static func < (a: SeriesKey, b: SeriesKey) -> Bool {
        (a.symbol, a.timeframe.rawValue) < (b.symbol, b.timeframe.rawValue)
    }
}
