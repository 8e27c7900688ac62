/// The weeks of a report window, each named by its Monday (New York date): the overview's columns.
/// Every week the window touches is a column, whether or not the exchange has a session in it.
public struct CoverageWeeks: Sendable {
    public let mondays: [LocalDate]
    public let clock: CoverageClock

    public init(from: Int64, until: Int64, clock: CoverageClock = .newYork) {
        self.clock = clock
        guard until > from else {
            mondays = []
            return
        }
        let first = Self.monday(of: clock.local(from).date), last = Self.monday(of: clock.local(until - 1).date)
        mondays = stride(from: first.daysSinceEpoch, through: last.daysSinceEpoch, by: 7)
            .map { LocalDate(daysSinceEpoch: $0) }
    }

    /// The Monday of the week holding `date`.
    public static func monday(of date: LocalDate) -> LocalDate {
        date.adding(days: -((date.weekday + 6) % 7))
    }

    /// The column of an instant (by its New York date), nil outside the window's weeks.
    public func index(of instant: Int64) -> Int? {
        guard let first = mondays.first else { return nil }
        let days = Self.monday(of: clock.local(instant).date).daysSinceEpoch - first.daysSinceEpoch
        let index = days / 7
        return days >= 0 && index < mondays.count ? index : nil
    }
}

/// Every slot key the weekly aggregate query needs for one grid and window, as parallel arrays
/// (bound as `bigint[]`/`integer[]`): the expected slots with their week, and the keys of the grid's
/// slots that start in the window but end after it (`week` -1), which count neither as present nor
/// as off-grid, as in `CoverageSeries`.
public struct CoverageWeekSlots: Sendable {
    public private(set) var starts: [Int64] = []
    public private(set) var ends: [Int64] = []
    public private(set) var weeks: [Int] = []
    /// Expected slots per week column.
    public private(set) var expected: [Int]

    public init(grid: Grid, from: Int64, until: Int64, weeks columns: CoverageWeeks) {
        expected = Array(repeating: 0, count: columns.mondays.count)
        let ordinals = grid.ordinals(from: from, until: until)
        for ordinal in ordinals {
            let slot = grid.slot(at: ordinal)
            // A slot of the window always falls in one of its weeks; clamp rather than trap.
            let week = columns.index(of: slot.start) ?? max(0, expected.count - 1)
            starts.append(slot.start)
            ends.append(slot.end)
            weeks.append(week)
            if !expected.isEmpty { expected[week] += 1 }
        }
        var ordinal = max(ordinals.upperBound, grid.firstOrdinal(atOrAfter: from))
        while ordinal < grid.count {
            let slot = grid.slot(at: ordinal)
            guard slot.start < until else { break }
            starts.append(slot.start)
            ends.append(slot.end)
            weeks.append(-1)
            ordinal += 1
        }
    }
}

/// How one week of one series looks in the overview.
public enum CoverageWeekState: String, Sendable, Hashable, CaseIterable {
    /// Every expected bar is present (some may be confirmed empty).
    case complete
    /// Some expected bars are missing, not all.
    case partial
    /// Every expected bar is missing.
    case missing = "allmissing"
    /// Nothing to fetch and nothing stored: no session that week, or every slot confirmed empty.
    case empty
}

/// One series' counts for one week.
public struct CoverageWeekCount: Sendable, Hashable {
    public var expected: Int
    public var present: Int
    public var confirmedEmpty: Int

    public init(expected: Int = 0, present: Int = 0, confirmedEmpty: Int = 0) {
        self.expected = expected
        self.present = present
        self.confirmedEmpty = confirmedEmpty
    }

    public var missing: Int { expected - present - confirmedEmpty }

    public var state: CoverageWeekState {
        if missing == 0 { return present == 0 ? .empty : .complete }
        return missing == expected ? .missing : .partial
    }
}

/// One row of the overview: a series and its counts per week of the window.
public struct CoverageOverviewRow: Sendable, Hashable {
    public var ticker: String
    public var timeframe: Timeframe
    /// One count per week of `CoverageWeeks.mondays`.
    public var weeks: [CoverageWeekCount]
    /// Bars in the window whose key is no slot of the grid.
    public var offGrid: Int

    public init(ticker: String, timeframe: Timeframe, weeks: [CoverageWeekCount], offGrid: Int) {
        self.ticker = ticker
        self.timeframe = timeframe
        self.weeks = weeks
        self.offGrid = offGrid
    }

    /// The row computed from a series' every slot: what the database's weekly aggregate must equal.
    public init(_ series: CoverageSeries, weeks: CoverageWeeks) {
        var counts = Array(repeating: CoverageWeekCount(), count: weeks.mondays.count)
        for slot in series.slots {
            guard let week = weeks.index(of: slot.start) else { continue }
            counts[week].expected += 1
            switch slot.state {
            case .present: counts[week].present += 1
            case .confirmedEmpty: counts[week].confirmedEmpty += 1
            case .missing: break
            }
        }
        self.init(ticker: series.ticker, timeframe: series.timeframe, weeks: counts, offGrid: series.offGrid.count)
    }

    public var totals: CoverageTotals {
        var t = CoverageTotals()
        for week in weeks {
            t.expected += week.expected
            t.present += week.present
            t.confirmedEmpty += week.confirmedEmpty
            t.missing += week.missing
        }
        t.offGrid = offGrid
        return t
    }

    /// Whether the series needs a look: a missing bar or a bar off the grid.
    public var needsAttention: Bool { weeks.contains { $0.missing > 0 } || offGrid > 0 }
}
