/// What a gap scan's statement returns for one series: runs of missing expected ordinals and the
/// count of bars off the grid. Classifying the runs into gaps is pure, so it lives here.
public struct SeriesAnswer: Sendable, Hashable {
    /// Maximal runs of consecutive missing ordinals.
    public var missing: [ClosedRange<Int>]
    public var offGrid: Int

    public init(missing: [ClosedRange<Int>] = [], offGrid: Int = 0) {
        self.missing = missing
        self.offGrid = offGrid
    }

    /// The series' gaps in its expected window: head, interior, tail, or one empty gap.
    /// `incremental`: verified bars precede the window, so a hole at its start is interior and a
    /// window without bars is a tail.
    public func gaps(expected: Range<Int>, incremental: Bool, grid: Grid) -> [Gap] {
        let runs = missing.sorted { $0.lowerBound < $1.lowerBound }
        let missingSlots = runs.reduce(0) { $0 + $1.count }
        let empty = missingSlots == expected.count
        return runs.map { run in
            let kind: GapKind
            if empty { kind = incremental ? .tail : .empty }
            else if run.upperBound == expected.upperBound - 1 { kind = .tail }
            else if run.lowerBound == expected.lowerBound { kind = incremental ? .interior : .head }
            else { kind = .interior }
            return Gap(ordinals: run.lowerBound...run.upperBound, kind: kind, grid: grid)
        }
    }

    /// Expected slots that hold a bar.
    public func present(expected: Range<Int>) -> Int { expected.count - missing.reduce(0) { $0 + $1.count } }
}

extension Gap {
    /// The gap over the slots `ordinals` of `grid`: from the first slot's start to the last one's end.
    public init(ordinals: ClosedRange<Int>, kind: GapKind, grid: Grid) {
        self.init(firstOrdinal: ordinals.lowerBound, lastOrdinal: ordinals.upperBound,
                  from: grid.slot(at: ordinals.lowerBound).start, to: grid.slot(at: ordinals.upperBound).end, kind: kind)
    }
}

extension Array where Element == Gap {
    /// The gaps without the slots the provider confirmed empty (the ledger): slots starting in any
    /// `[from, to)` of `confirmedEmpty` are removed; the pieces keep their kind.
    public func subtracting(confirmedEmpty ranges: [(from: Int64, to: Int64)], grid: Grid) -> [Gap] {
        guard !ranges.isEmpty else { return self }
        let covered = ranges.map { grid.firstOrdinal(atOrAfter: $0.from)..<grid.firstOrdinal(atOrAfter: $0.to) }
            .filter { !$0.isEmpty }.sorted { $0.lowerBound < $1.lowerBound }
        var result: [Gap] = []
        for gap in self {
            var next = gap.firstOrdinal
            for range in covered where range.upperBound > next && range.lowerBound <= gap.lastOrdinal {
                if range.lowerBound > next { result.append(Gap(ordinals: next...(range.lowerBound - 1), kind: gap.kind, grid: grid)) }
                next = Swift.max(next, range.upperBound)
            }
            if next <= gap.lastOrdinal { result.append(Gap(ordinals: next...gap.lastOrdinal, kind: gap.kind, grid: grid)) }
        }
        return result
    }
}

extension SeriesScan {
    /// The series' fingerprint: a hash of everything a scan saw of it under one grid and window, so
    /// `apply` can tell a plan whose database has changed since (a stale plan).
    public static func fingerprint(ticker: String, timeframe: Timeframe, grid: GridOptions, from: Int64, until: Int64,
                                   expected: Int, present: Int, offGrid: Int, gaps: [Gap]) -> String {
        var canonical = "barfill.series/1|\(ticker)|\(timeframe.rawValue)|\(grid.description)"
        canonical += "|\(from)|\(until)|\(expected)|\(present)|\(offGrid)|"
        canonical += gaps.map { "\($0.firstOrdinal)-\($0.lastOrdinal)" }.joined(separator: ",")
        return SHA256.hex(canonical)
    }
}
