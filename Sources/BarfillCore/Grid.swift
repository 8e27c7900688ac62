/// One expected bar: `start` is its key (the `ts` stored for it), `end` when it is complete
/// (Unix seconds, UTC), and the index in the calendar's `sessions` of the session it belongs to
/// (for w1 and mn1, the period's first session).
public struct Slot: Hashable, Sendable {
    public let start: Int64
    public let end: Int64
    public let sessionIndex: Int

    public init(start: Int64, end: Int64, sessionIndex: Int) {
        self.start = start
        self.end = end
        self.sessionIndex = sessionIndex
    }
}

/// Every expected slot of one timeframe over the calendar's whole range, numbered by a global ordinal
/// (stable across scan windows), with slot ↔ ordinal conversions in O(log sessions).
///
/// Slots are kept as runs: each run is one session (intraday, d1) or one period (w1, mn1) and holds
/// `count` slots `step` seconds apart, so m1 over 50 years costs a few arrays of 13,000 entries.
public struct Grid: Sendable {
    public let timeframe: Timeframe
    public let options: GridOptions
    public let calendar: MarketCalendar

    /// Start of each run's first slot, ascending.
    private let runStart: [Int64]
    /// Ordinal of each run's first slot; one extra entry holds the total.
    private let runOrdinal: [Int]
    /// Session index of each run.
    private let runSession: [Int]
    /// End of the run's slot for d1, w1, mn1 (one slot per run); empty for intraday.
    private let runEnd: [Int64]
    /// Seconds between slots of a run; 0 for d1, w1, mn1.
    private let step: Int64

    public init(timeframe: Timeframe, options: GridOptions = .default, calendar: MarketCalendar = .xnys) {
        self.timeframe = timeframe
        self.options = options
        self.calendar = calendar
        let sessions = calendar.sessions
        let midnights = calendar.midnights
        let (extendedOpens, extendedCloses) = (calendar.extendedOpens, calendar.extendedCloses)
        var starts: [Int64] = [], ordinals: [Int] = [], owners: [Int] = [], ends: [Int64] = []
        starts.reserveCapacity(sessions.count)
        ordinals.reserveCapacity(sessions.count + 1)
        owners.reserveCapacity(sessions.count)
        var total = 0

        if let step = timeframe.intradaySeconds {
            self.step = step
            for (index, session) in sessions.enumerated() {
                let (from, to) = options.scope == .regular
                    ? (session.open, session.close) : (extendedOpens[index], extendedCloses[index])
                let base = options.anchor == .clock ? midnights[index] : from
                // Buckets base + k·step. Start inside [from, to): ceil((from - base)/step) ≤ k.
                // Overlapping [from, to): the bucket ends after `from`, floor((from - base)/step) ≤ k.
                // Both: the bucket starts before `to`, k < ceil((to - base)/step).
                let low = options.inclusion == .startInside
                    ? (from - base).ceilingDivided(by: step) : (from - base).floorDivided(by: step)
                let high = (to - base).ceilingDivided(by: step)
                guard high > low else { continue }
                starts.append(base + low * step)
                ordinals.append(total)
                owners.append(index)
                total += Int(high - low)
            }
        } else {
            self.step = 0
            var index = 0
            while index < sessions.count {
                // The run of sessions sharing this slot: one session for d1, a week or a month otherwise.
                var last = index
                while last + 1 < sessions.count,
                      Grid.samePeriod(sessions[index].date, sessions[last + 1].date, timeframe) { last += 1 }
                let key: Int64
                switch (timeframe, options.periodKey) {
                case (.d1, _), (_, .firstSession): key = midnights[index]
                case (_, .periodStart): key = NewYork.midnight(Grid.periodStart(of: sessions[index].date, timeframe))
                }
                starts.append(key)
                ends.append(sessions[last].close)
                ordinals.append(total)
                owners.append(index)
                total += 1
                index = last + 1
            }
        }
        ordinals.append(total)
        self.runStart = starts
        self.runOrdinal = ordinals
        self.runSession = owners
        self.runEnd = ends
    }

    /// Number of slots over the calendar's whole range.
    public var count: Int { runOrdinal[runOrdinal.count - 1] }

    /// The slot numbered `ordinal` (0 ..< count).
    public func slot(at ordinal: Int) -> Slot {
        precondition(ordinal >= 0 && ordinal < count, "slot ordinal \(ordinal) outside 0..<\(count)")
        let run = lastRun(withOrdinalAtMost: ordinal)
        if step == 0 {
            return Slot(start: runStart[run], end: runEnd[run], sessionIndex: runSession[run])
        }
        let start = runStart[run] + Int64(ordinal - runOrdinal[run]) * step
        return Slot(start: start, end: start + step, sessionIndex: runSession[run])
    }

    /// The ordinal of the slot starting at `start`, or nil when no slot starts there.
    public func ordinal(of start: Int64) -> Int? {
        let run = lastRun(withStartAtMost: start)
        guard run >= 0 else { return nil }
        let offset = start - runStart[run]
        if step == 0 { return offset == 0 ? runOrdinal[run] : nil }
        guard offset % step == 0 else { return nil }
        let within = Int(offset / step)
        return within < runOrdinal[run + 1] - runOrdinal[run] ? runOrdinal[run] + within : nil
    }

    /// The ordinal of the first slot starting at or after `instant`; `count` when there is none.
    public func firstOrdinal(atOrAfter instant: Int64) -> Int {
        let run = lastRun(withStartAtMost: instant)
        guard run >= 0 else { return 0 }
        let offset = instant - runStart[run]
        let within = step == 0 ? (offset == 0 ? 0 : 1) : Int(offset.ceilingDivided(by: step))
        return min(runOrdinal[run] + within, runOrdinal[run + 1])
    }

    /// The slots expected in a window: those starting at or after `from` that have ended by `until`.
    public func ordinals(from: Int64, until: Int64) -> Range<Int> {
        let lower = firstOrdinal(atOrAfter: from)
        let upper: Int
        if step > 0 {
            // Ends are start + step, so "ended by until" is "starts at or before until - step".
            upper = firstOrdinal(atOrAfter: until - step + 1)
        } else {
            // One slot per run, ends ascending: the first run ending after `until`.
            var low = 0, high = runEnd.count
            while low < high {
                let mid = (low + high) / 2
                if runEnd[mid] <= until { low = mid + 1 } else { high = mid }
            }
            upper = low
        }
        return lower..<max(lower, upper)
    }

    /// The slots belonging to a range of session indices (a w1 or mn1 slot belongs to its period's
    /// first session), whether or not they have ended.
    public func ordinals(sessions: Range<Int>) -> Range<Int> {
        func firstRun(withSessionAtLeast index: Int) -> Int {
            var low = 0, high = runSession.count
            while low < high {
                let mid = (low + high) / 2
                if runSession[mid] < index { low = mid + 1 } else { high = mid }
            }
            return low
        }
        return runOrdinal[firstRun(withSessionAtLeast: sessions.lowerBound)]..<runOrdinal[firstRun(withSessionAtLeast: sessions.upperBound)]
    }

    /// The expected slots of a window, in order.
    public func slots(from: Int64, until: Int64) -> [Slot] {
        ordinals(from: from, until: until).map(slot(at:))
    }

    // MARK: Runs

    /// Index of the last run whose first slot starts at or before `instant`; -1 when none does.
    private func lastRun(withStartAtMost instant: Int64) -> Int {
        var low = 0, high = runStart.count
        while low < high {
            let mid = (low + high) / 2
            if runStart[mid] <= instant { low = mid + 1 } else { high = mid }
        }
        return low - 1
    }

    /// Index of the run holding `ordinal`.
    private func lastRun(withOrdinalAtMost ordinal: Int) -> Int {
        if step == 0 { return ordinal }   // one slot per run
        var low = 0, high = runStart.count
        while low < high {
            let mid = (low + high) / 2
            if runOrdinal[mid] <= ordinal { low = mid + 1 } else { high = mid }
        }
        return low - 1
    }

    /// Whether two session dates fall in the same week (Sunday to Saturday) or month.
    static func samePeriod(_ a: LocalDate, _ b: LocalDate, _ timeframe: Timeframe) -> Bool {
        switch timeframe {
        case .w1: periodStart(of: a, .w1) == periodStart(of: b, .w1)
        case .mn1: a.year == b.year && a.month == b.month
        default: false
        }
    }

    /// The first calendar day of the week (its Sunday) or month holding `date`.
    static func periodStart(of date: LocalDate, _ timeframe: Timeframe) -> LocalDate {
        switch timeframe {
        case .w1: date.adding(days: -date.weekday)
        case .mn1: LocalDate(year: date.year, month: date.month, day: 1)!
        default: date
        }
    }
}
