/// What the table holds for one expected slot.
public enum SlotCoverage: String, Sendable, Hashable, CaseIterable {
    /// A bar is stored at the slot's key.
    case present
    /// No bar, and the provider has not said there is none: a gap.
    case missing
    /// No bar, and the provider answered that there is none (no trades): never planned again.
    case confirmedEmpty = "empty"
}

/// One expected slot of a series and its state.
public struct CoverageSlot: Hashable, Sendable {
    /// The slot's key (its start), Unix seconds.
    public var start: Int64
    public var state: SlotCoverage

    public init(start: Int64, state: SlotCoverage) {
        self.start = start
        self.state = state
    }
}

/// One series' coverage over a window, as plain arrays so that a database query can fill it:
/// every expected slot with its state, and the keys of the bars that are not on the grid.
public struct CoverageSeries: Sendable, Hashable {
    public var ticker: String
    public var timeframe: Timeframe
    /// Expected slots of the window, in any order (they are sorted when laid out).
    public var slots: [CoverageSlot]
    /// `ts` of the stored bars that are not slot keys (extended hours, holidays, misaligned).
    public var offGrid: [Int64]

    public init(ticker: String, timeframe: Timeframe, slots: [CoverageSlot], offGrid: [Int64] = []) {
        self.ticker = ticker
        self.timeframe = timeframe
        self.slots = slots
        self.offGrid = offGrid
    }

    public var totals: CoverageTotals {
        var t = CoverageTotals()
        for slot in slots {
            t.expected += 1
            switch slot.state {
            case .present: t.present += 1
            case .missing: t.missing += 1
            case .confirmedEmpty: t.confirmedEmpty += 1
            }
        }
        t.offGrid = offGrid.count
        return t
    }
}

extension CoverageSeries {
    /// Classifies the expected slots of `[from, until)` from what the database holds for one series:
    /// the keys of its stored bars in the window and the ranges its provider confirmed empty
    /// (half-open, like gaps). A bar in the window whose key is no slot of the grid is off-grid.
    public init(ticker: String, grid: Grid, from: Int64, until: Int64,
                bars: [Int64], confirmedEmpty: [(from: Int64, to: Int64)]) {
        let ordinals = grid.ordinals(from: from, until: until)
        var present = Set<Int64>()
        var offGrid: [Int64] = []
        for ts in bars {
            if let ordinal = grid.ordinal(of: ts) {
                // A slot key outside the window (or a slot not ended by `until`) is simply not shown.
                if ordinals.contains(ordinal) { present.insert(ts) }
            } else if from <= ts && ts < until {
                offGrid.append(ts)
            }
        }
        let ranges = confirmedEmpty.sorted { $0.from < $1.from }
        var slots: [CoverageSlot] = []
        slots.reserveCapacity(ordinals.count)
        for ordinal in ordinals {
            let slot = grid.slot(at: ordinal)
            let state: SlotCoverage
            if present.contains(slot.start) {
                state = .present
            } else if ranges.contains(where: { $0.from <= slot.start && slot.end <= $0.to }) {
                state = .confirmedEmpty
            } else {
                state = .missing
            }
            slots.append(CoverageSlot(start: slot.start, state: state))
        }
        self.init(ticker: ticker, timeframe: grid.timeframe, slots: slots, offGrid: offGrid.sorted())
    }
}

/// Counts of a series or of a whole report.
public struct CoverageTotals: Hashable, Sendable {
    public var expected = 0
    public var present = 0
    public var missing = 0
    public var confirmedEmpty = 0
    public var offGrid = 0

    public init() {}

    public static func + (a: CoverageTotals, b: CoverageTotals) -> CoverageTotals {
        var t = a
        t.expected += b.expected
        t.present += b.present
        t.missing += b.missing
        t.confirmedEmpty += b.confirmedEmpty
        t.offGrid += b.offGrid
        return t
    }

    /// Share of the expected slots that need nothing more (present or confirmed empty), in tenths
    /// of a percent, rounded down so that a series with one missing slot never shows 100.0%.
    public var coveredPermille: Int {
        expected == 0 ? 1_000 : (present + confirmedEmpty) * 1_000 / expected
    }

    /// `97.5%`.
    public var coveredText: String { "\(coveredPermille / 10).\(coveredPermille % 10)%" }
}

/// Local wall-clock time for laying slots out by session: the UTC offset in force at an instant.
/// The report passes the exchange's time zone; tests may pass a fixed offset.
public struct CoverageClock: Sendable {
    /// Seconds to add to a UTC instant to get local wall-clock time (-18000 for EST).
    public let offset: @Sendable (Int64) -> Int64

    public init(offset: @escaping @Sendable (Int64) -> Int64) {
        self.offset = offset
    }

    public static func fixed(offsetSeconds: Int64) -> CoverageClock {
        CoverageClock { _ in offsetSeconds }
    }

    /// New York wall-clock time, from the time-zone database (as the exchange calendar reads it).
    public static let newYork = CoverageClock { NewYork.offset(at: $0) }

    /// The local date and the seconds since local midnight of an instant.
    public func local(_ instant: Int64) -> (date: LocalDate, secondOfDay: Int64) {
        let wall = instant + offset(instant)
        let (days, secondOfDay) = UTC.day(of: wall)
        return (LocalDate(daysSinceEpoch: Int(days)), secondOfDay)
    }
}

/// One series laid out as rows × columns of cells, the shape the heatmap draws.
/// Intraday: a row per session date, a column per time of day. d1: a row per week, a column per
/// weekday (Monday to Friday). w1: a row per year, a column per week of the year. mn1: a row per
/// year, a column per month. Rows are in date order; off-grid bars are counted on the row of their
/// local date, which gets a row of its own when no slot falls on it (a holiday, a weekend).
public struct CoverageGrid: Sendable, Hashable {
    public struct Cell: Sendable, Hashable {
        /// Column index, 0 ..< columns.count.
        public var column: Int
        public var start: Int64
        public var state: SlotCoverage
    }

    public struct Row: Sendable, Hashable {
        /// The date that names the row: the session date, the Monday of the week, the year's 1 January.
        public var date: LocalDate
        public var label: String
        public var cells: [Cell]
        /// Keys of the off-grid bars that fall on this row, ascending.
        public var offGrid: [Int64]
    }

    public var ticker: String
    public var timeframe: Timeframe
    /// Column headers; an empty string where the column has none (intraday labels only whole hours).
    public var columns: [String]
    public var rows: [Row]
    public var totals: CoverageTotals

    public init(_ series: CoverageSeries, clock: CoverageClock) {
        ticker = series.ticker
        timeframe = series.timeframe
        totals = series.totals

        let slots = series.slots.sorted { $0.start < $1.start }
        let key = RowKey(timeframe: series.timeframe, clock: clock)

        // Column of each slot, relative to the earliest time of day seen (intraday) or fixed.
        var placed: [(row: LocalDate, column: Int, slot: CoverageSlot)] = []
        placed.reserveCapacity(slots.count)
        for slot in slots {
            let (row, column) = key.place(slot.start)
            placed.append((row, column, slot))
        }
        let firstColumn: Int
        switch key.layout {
        case .timeOfDay(let step):
            let lo = placed.map(\.column).min() ?? 0
            let hi = placed.map(\.column).max() ?? -1
            firstColumn = lo
            columns = (0..<max(hi - lo + 1, 0)).map { i in
                let second = Int64(lo + i) * step
                return second % 3_600 == 0 ? Self.clockText(second) : ""
            }
        case .weekday:
            firstColumn = 0
            columns = ["Mon", "Tue", "Wed", "Thu", "Fri"]
        case .weekOfYear:
            firstColumn = 0
            columns = (0..<53).map { $0 % 4 == 0 ? "W\($0 + 1)" : "" }
        case .month:
            firstColumn = 0
            columns = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        }

        var byRow: [LocalDate: Row] = [:]
        for p in placed {
            let cell = Cell(column: p.column - firstColumn, start: p.slot.start, state: p.slot.state)
            byRow[p.row, default: Row(date: p.row, label: key.label(p.row), cells: [], offGrid: [])].cells.append(cell)
        }
        for ts in series.offGrid.sorted() {
            let row = key.rowDate(ts)
            byRow[row, default: Row(date: row, label: key.label(row), cells: [], offGrid: [])].offGrid.append(ts)
        }
        rows = byRow.values.sorted { $0.date < $1.date }
    }

    static func clockText(_ secondOfDay: Int64) -> String {
        let h = Int(secondOfDay / 3_600), m = Int(secondOfDay / 60 % 60)
        return (h < 10 ? "0\(h)" : "\(h)") + ":" + (m < 10 ? "0\(m)" : "\(m)")
    }

    /// How a timeframe's slots map to rows and columns.
    private struct RowKey {
        enum Layout { case timeOfDay(step: Int64), weekday, weekOfYear, month }
        let layout: Layout
        let clock: CoverageClock

        init(timeframe: Timeframe, clock: CoverageClock) {
            self.clock = clock
            switch timeframe {
            case .d1: layout = .weekday
            case .w1: layout = .weekOfYear
            case .mn1: layout = .month
            default: layout = .timeOfDay(step: timeframe.intradaySeconds!)
            }
        }

        func rowDate(_ instant: Int64) -> LocalDate {
            let date = clock.local(instant).date
            switch layout {
            case .timeOfDay: return date
            case .weekday: return date.adding(days: -((date.weekday + 6) % 7))   // that week's Monday
            case .weekOfYear, .month: return LocalDate(year: date.year, month: 1, day: 1)!
            }
        }

        func place(_ instant: Int64) -> (LocalDate, Int) {
            let (date, second) = clock.local(instant)
            switch layout {
            case .timeOfDay(let step):
                return (date, Int(second.floorDivided(by: step)))
            case .weekday:
                // Weekend keys do not occur for d1 slots; clamp rather than index out of the grid.
                return (rowDate(instant), min(4, max(0, (date.weekday + 6) % 7)))
            case .weekOfYear:
                let jan1 = LocalDate(year: date.year, month: 1, day: 1)!
                return (jan1, min(52, (date.daysSinceEpoch - jan1.daysSinceEpoch) / 7))
            case .month:
                return (LocalDate(year: date.year, month: 1, day: 1)!, date.month - 1)
            }
        }

        func label(_ row: LocalDate) -> String {
            switch layout {
            case .timeOfDay, .weekday: row.description
            case .weekOfYear, .month: String(row.year)
            }
        }
    }
}
