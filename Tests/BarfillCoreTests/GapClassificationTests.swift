import Testing
@testable import BarfillCore

/// Classifying a scan's missing runs and subtracting the ledger: pure functions over one week of h1 slots.
@Suite struct GapClassificationTests {
    let grid = Grid(timeframe: .h1)
    /// The 30 h1 slots of the week of 2024-03-11 (five full sessions of six bars).
    var week: Range<Int> { grid.ordinals(from: NewYork.midnight(LocalDate(iso: "2024-03-11")!),
                                         until: NewYork.midnight(LocalDate(iso: "2024-03-16")!)) }

    func run(_ offsets: ClosedRange<Int>) -> ClosedRange<Int> {
        (week.lowerBound + offsets.lowerBound)...(week.lowerBound + offsets.upperBound)
    }

    @Test func holesAtTheStartMiddleAndEndAreHeadInteriorAndTail() {
        #expect(week.count == 30)
        let answer = SeriesAnswer(missing: [run(27...29), run(0...1), run(10...12)])
        let gaps = answer.gaps(expected: week, incremental: false, grid: grid)
        #expect(gaps.map(\.kind) == [.head, .interior, .tail])
        #expect(gaps.map(\.bars) == [2, 3, 3])
        #expect(gaps[0].from == grid.slot(at: week.lowerBound).start)
        #expect(gaps[2].to == grid.slot(at: week.upperBound - 1).end)
        #expect(answer.present(expected: week) == 22)
    }

    @Test func afterVerifiedHistoryAHoleAtTheStartIsInteriorAndAnEmptyWindowIsATail() {
        let start = SeriesAnswer(missing: [run(0...1)])
        #expect(start.gaps(expected: week, incremental: true, grid: grid).map(\.kind) == [.interior])
        let all = SeriesAnswer(missing: [run(0...29)])
        #expect(all.gaps(expected: week, incremental: true, grid: grid).map(\.kind) == [.tail])
        #expect(all.gaps(expected: week, incremental: false, grid: grid).map(\.kind) == [.empty])
    }

    @Test func confirmedEmptySlotsAreCutOutOfGapsAndThePiecesKeepTheirKind() {
        let gap = Gap(ordinals: run(2...9), kind: .interior, grid: grid)
        // The ledger covers slots 4 and 5 (a range is slot starts in [from, to)).
        let ledger = [(from: grid.slot(at: week.lowerBound + 4).start, to: grid.slot(at: week.lowerBound + 5).end)]
        let pieces = [gap].subtracting(confirmedEmpty: ledger, grid: grid)
        #expect(pieces == [Gap(ordinals: run(2...3), kind: .interior, grid: grid),
                           Gap(ordinals: run(6...9), kind: .interior, grid: grid)])
        #expect([gap].subtracting(confirmedEmpty: [], grid: grid) == [gap])
        let whole = [(from: gap.from, to: gap.to)]
        #expect([gap].subtracting(confirmedEmpty: whole, grid: grid).isEmpty)
    }

    @Test func theFingerprintChangesWithWhatTheScanSawAndNothingElse() {
        func print(present: Int = 22, gaps: [Gap] = []) -> String {
            SeriesScan.fingerprint(ticker: "AAPL", timeframe: .h1, grid: .default, from: 0, until: 1,
                                   expected: 30, present: present, offGrid: 0, gaps: gaps)
        }
        #expect(print() == print())
        #expect(print() != print(present: 23))
        #expect(print() != print(gaps: [Gap(ordinals: run(0...1), kind: .head, grid: grid)]))
        #expect(print().count == 64)
    }
}
