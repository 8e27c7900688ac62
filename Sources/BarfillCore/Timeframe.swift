/// A bar length. Raw values are the names used on the command line, in plans and
/// (for m15, h1, h4, d1, w1) in SwiftBolt's `timeframe` enum.
public enum Timeframe: String, CaseIterable, Sendable, Codable, Comparable {
    case m1, m5, m15, m30, h1, h4, d1, w1, mn1

    /// The step of an intraday timeframe in seconds; nil for d1, w1 and mn1,
    /// whose slots follow sessions rather than the clock.
    public var intradaySeconds: Int64? {
        switch self {
        case .m1: 60
        case .m5: 300
        case .m15: 900
        case .m30: 1_800
        case .h1: 3_600
        case .h4: 14_400
        case .d1, .w1, .mn1: nil
        }
    }

    public var isIntraday: Bool { intradaySeconds != nil }

    private var order: Int { Self.allCases.firstIndex(of: self)! }
    public static func < (lhs: Timeframe, rhs: Timeframe) -> Bool { lhs.order < rhs.order }
}

/// One OHLC bar as barfill handles it: `ts` is the bar's start in Unix seconds (UTC),
/// already mapped onto the grid's key.
public struct Bar: Sendable, Equatable, Hashable {
    public var ts: Int64
    public var open: Double
    public var high: Double
    public var low: Double
    public var close: Double
    public var volume: Double

    public init(ts: Int64, open: Double, high: Double, low: Double, close: Double, volume: Double) {
        self.ts = ts
        self.open = open
        self.high = high
        self.low = low
        self.close = close
        self.volume = volume
    }
}
