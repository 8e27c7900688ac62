import BarfillCore
import Foundation
import Synchronization

/// The bars the simulated provider serves: on the XNYS calendar, prices a pure function of
/// (ticker, bar key), so every run, both wire formats and every test see the same numbers.
public enum SimulatedBars {
    /// One bar in the provider's units: prices in cents, volume in shares, `key` on the grid.
    public struct Raw: Sendable, Hashable {
        public var key: Int64
        public var open: Int
        public var high: Int
        public var low: Int
        public var close: Int
        public var volume: Int
        public var trades: Int

        public var bar: Bar {
            Bar(ts: key, open: Double(open) / 100, high: Double(high) / 100, low: Double(low) / 100,
                close: Double(close) / 100, volume: Double(volume))
        }
    }

    /// Share of an illiquid ticker's intraday slots that have no trade, hence no bar.
    public static let quietShare = 35

    /// The bar of `ticker` keyed at `key`, or nil when an illiquid ticker had no trade then.
    public static func bar(ticker: String, key: Int64, illiquid: Bool, intraday: Bool) -> Raw? {
        let seed = hash(ticker)
        var h = mix(seed ^ UInt64(bitPattern: key))
        if illiquid, intraday, Int(h % 100) < quietShare { return nil }
        func next() -> Int { h = mix(h); return Int(h >> 33) }
        let base = 2_000 + Int(seed % 40_000)
        let open = base + next() % 400 - 200
        let close = base + next() % 400 - 200
        let high = max(open, close) + next() % 60
        let low = max(1, min(open, close) - next() % 60)
        let volume = (illiquid ? 1 : 100) * (1 + next() % 5_000)
        return Raw(key: key, open: open, high: high, low: low, close: close, volume: volume, trades: 1 + next() % 900)
    }

    /// Bars whose keys lie in `[from, through]`, for Massive (extended hours intraday, as the real
    /// one returns them) or Finnhub (regular hours). Keys: clock-anchored buckets intraday, 00:00
    /// New York of the session date for d1, of the period's first day for w1 and mn1.
    public static func bars(ticker: String, timeframe: Timeframe, from: Int64, through: Int64,
                            extendedHours: Bool, illiquid: Bool) -> [Raw] {
        guard from <= through else { return [] }
        let grid = self.grid(timeframe, extended: extendedHours && timeframe.isIntraday)
        var out: [Raw] = []
        var ordinal = grid.firstOrdinal(atOrAfter: from)
        while ordinal < grid.count {
            let slot = grid.slot(at: ordinal)
            if slot.start > through { break }
            if let raw = bar(ticker: ticker, key: slot.start, illiquid: illiquid, intraday: timeframe.isIntraday) { out.append(raw) }
            ordinal += 1
        }
        return out
    }

    private static let grids = Mutex<[String: Grid]>([:])

    static func grid(_ timeframe: Timeframe, extended: Bool) -> Grid {
        let name = "\(timeframe.rawValue)/\(extended)"
        if let grid = grids.withLock({ $0[name] }) { return grid }
        let grid = Grid(timeframe: timeframe, options: GridOptions(anchor: .clock, scope: extended ? .extended : .regular,
                                                                    inclusion: .startInside, periodKey: .periodStart))
        grids.withLock { $0[name] = grid }
        return grid
    }

    static func hash(_ text: String) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 { h = (h ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return h
    }

    static func mix(_ x: UInt64) -> UInt64 {
        var z = x &+ 0x9e37_79b9_7f4a_7c15
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}
