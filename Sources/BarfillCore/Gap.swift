/// Where a gap sits in its series' scan window.
public enum GapKind: String, Sendable, Codable, CaseIterable {
    /// From the window's first slot up to the series' first bar.
    case head
    /// Between two bars.
    case interior
    /// After the series' last bar, up to the last slot that has ended by `until`.
    case tail
    /// The series has no bar on the grid in the whole window.
    case empty
}

/// A maximal run of consecutive missing expected slots of one series.
/// Ordinals are the grid's (see `Grid`); `from`/`to` are Unix seconds, `to` exclusive
/// (the end of the last missing slot).
public struct Gap: Sendable, Hashable, Codable {
    public var firstOrdinal: Int
    public var lastOrdinal: Int
    public var from: Int64
    public var to: Int64
    public var kind: GapKind

    /// Number of missing slots.
    public var bars: Int { lastOrdinal - firstOrdinal + 1 }

    public init(firstOrdinal: Int, lastOrdinal: Int, from: Int64, to: Int64, kind: GapKind) {
        self.firstOrdinal = firstOrdinal
        self.lastOrdinal = lastOrdinal
        self.from = from
        self.to = to
        self.kind = kind
    }
}

/// Which market-data provider serves a series. Raw values are SwiftBolt's `data_provider` enum labels.
public enum ProviderName: String, Sendable, Codable, CaseIterable, Comparable {
    case massive
    case finnhub

    public static func < (lhs: ProviderName, rhs: ProviderName) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// One (symbol, timeframe) series as a gap scan saw it.
public struct SeriesScan: Sendable, Hashable {
    public var ticker: String
    public var timeframe: Timeframe
    /// The series' provider: `--provider`, else the symbol's `primary_source`.
    public var provider: ProviderName
    /// Scan window actually used for this series (incremental scans start later than `--from`).
    public var from: Int64
    public var until: Int64
    /// Expected slots in the window, bars present on the grid, and bars present off the grid.
    public var expected: Int
    public var present: Int
    public var offGrid: Int
    public var gaps: [Gap]
    /// A digest of the series' state in the window (count, min/max ts of on-grid bars, gaps),
    /// so `apply` can tell that the table changed since the plan was made.
    public var fingerprint: String

    public init(ticker: String, timeframe: Timeframe, provider: ProviderName, from: Int64, until: Int64,
                expected: Int, present: Int, offGrid: Int, gaps: [Gap], fingerprint: String) {
        self.ticker = ticker
        self.timeframe = timeframe
        self.provider = provider
        self.from = from
        self.until = until
        self.expected = expected
        self.present = present
        self.offGrid = offGrid
        self.gaps = gaps
        self.fingerprint = fingerprint
    }
}
