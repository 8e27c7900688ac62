import Testing
@testable import BarfillCore

private func day(_ text: String) -> LocalDate { LocalDate(iso: text)! }

/// Properties every grid keeps, for every timeframe and option, checked against `GridReference`.
@Suite struct GridPropertyTests {
    /// Stretches with something to get wrong: the calendar's ends, both DST changes (before and after 2007),
    /// early closes of every kind, September 2001, and year ends.
    static let stretches: [(String, String)] = [
        ("1990-01-01", "1990-01-05"), ("2040-12-24", "2040-12-31"),
        ("2024-03-07", "2024-03-12"), ("2024-10-31", "2024-11-05"),
        ("2006-03-31", "2006-04-04"), ("2006-10-27", "2006-10-31"),
        ("1992-11-25", "1992-11-30"), ("2013-07-02", "2013-07-08"), ("2002-07-03", "2002-07-08"),
        ("2001-09-07", "2001-09-18"), ("1999-12-29", "2000-01-04"), ("2024-12-23", "2025-01-03"),
    ]

    static func sessions(_ stretch: (String, String)) -> Range<Int> {
        let xnys = MarketCalendar.xnys
        return xnys.sessionIndex(onOrAfter: day(stretch.0))..<xnys.sessionIndex(onOrAfter: day(stretch.1).adding(days: 1))
    }

    @Test(arguments: GridCase.all)
    func slotsMatchTheReferenceAroundEveryTrickyDay(_ gridCase: GridCase) {
        let grid = Grid(timeframe: gridCase.timeframe, options: gridCase.options)
        if gridCase.timeframe.isIntraday {
            for stretch in Self.stretches {
                let expected = GridReference.slots(Self.sessions(stretch), gridCase.timeframe, gridCase.options)
                let ordinals = grid.ordinals(sessions: Self.sessions(stretch))
                #expect(ordinals.map(grid.slot(at:)) == expected, "\(stretch)")
                for (ordinal, slot) in zip(ordinals, expected) {
                    #expect(grid.ordinal(of: slot.start) == ordinal)
                }
            }
        } else {
            // Few enough to compare every one.
            let expected = GridReference.periodSlots(0..<MarketCalendar.xnys.sessions.count, gridCase.timeframe, gridCase.options)
            #expect(grid.count == expected.count)
            #expect((0..<grid.count).map(grid.slot(at:)) == expected)
        }
    }

    @Test(arguments: GridCase.all)
    func ordinalsAndSlotsConvertBothWaysAndStartsStrictlyIncrease(_ gridCase: GridCase) throws {
        let grid = Grid(timeframe: gridCase.timeframe, options: gridCase.options)
        var random = SeededGenerator(seed: 0xBA2F_111)
        var sample = [0, 1, grid.count - 2]   // each is checked against the slot after it
        sample += (0..<1_500).map { _ in Int.random(in: 0..<grid.count - 1, using: &random) }
        for ordinal in sample {
            let slot = grid.slot(at: ordinal)
            let next = grid.slot(at: ordinal + 1)
            #expect(slot.start < next.start && slot.end <= next.end && slot.start < slot.end)
            #expect(grid.ordinal(of: slot.start) == ordinal)
            #expect(grid.ordinal(of: slot.start + 1) == nil)
            #expect(grid.ordinal(of: slot.start - 1) == nil)
            #expect(grid.firstOrdinal(atOrAfter: slot.start) == ordinal)
            #expect(grid.firstOrdinal(atOrAfter: slot.start + 1) == ordinal + 1)
            #expect(grid.firstOrdinal(atOrAfter: next.start - 1) == ordinal + 1)
            let session = MarketCalendar.xnys.sessions[slot.sessionIndex]
            if gridCase.timeframe.isIntraday {
                #expect(slot.end - slot.start == gridCase.timeframe.intradaySeconds)
                #expect(NewYork.localDate(of: slot.start) == session.date)
            } else if gridCase.timeframe == .d1 {
                #expect(slot.sessionIndex == ordinal)
                #expect(slot.start == NewYork.midnight(session.date) && slot.end == session.close)
            }
        }
        #expect(grid.firstOrdinal(atOrAfter: Int64.min / 2) == 0)
        #expect(grid.firstOrdinal(atOrAfter: grid.slot(at: grid.count - 1).start + 1) == grid.count)
    }

    @Test(arguments: GridCase.all)
    func windowsHoldExactlyTheSlotsStartingInsideThatHaveEnded(_ gridCase: GridCase) {
        let grid = Grid(timeframe: gridCase.timeframe, options: gridCase.options)
        var random = SeededGenerator(seed: 0x5107)
        // Intraday windows span a few days around a DST change, an early close or the calendar's start;
        // daily, weekly and monthly ones up to a year.
        let stretches = gridCase.timeframe.isIntraday
            ? [("2024-03-06", "2024-03-13"), ("2006-10-25", "2006-11-01"), ("1990-01-01", "1990-01-09"), ("2024-11-26", "2024-12-03")]
            : [("2024-01-01", "2024-12-31"), ("1990-01-01", "1990-06-30"), ("2040-07-01", "2040-12-31")]
        for stretch in stretches {
            let range = Self.sessions(stretch)
            // Every slot that could touch the stretch: the reference over a few more sessions on each side.
            let wider = max(0, range.lowerBound - 3)..<min(MarketCalendar.xnys.sessions.count, range.upperBound + 3)
            let all = gridCase.timeframe.isIntraday
                ? GridReference.slots(wider, gridCase.timeframe, gridCase.options)
                : GridReference.periodSlots(0..<MarketCalendar.xnys.sessions.count, gridCase.timeframe, gridCase.options)
            let low = MarketCalendar.xnys.sessions[range.lowerBound].open - 86_400
            let high = MarketCalendar.xnys.sessions[range.upperBound - 1].close + 86_400
            for _ in 0..<40 {
                var from = Int64.random(in: low...high, using: &random)
                var until = Int64.random(in: low...high, using: &random)
                if from > until { swap(&from, &until) }
                if Bool.random(using: &random) { from = from / 900 * 900 }   // on a quarter hour, as real windows are
                let expected = all.filter { $0.start >= from && $0.end <= until }
                #expect(grid.ordinals(from: from, until: until).map(grid.slot(at:)) == expected,
                        "\(UTC.format(from)) … \(UTC.format(until))")
            }
        }
    }

    @Test func everyDailySlotIsOneSession() {
        let grid = Grid(timeframe: .d1)
        let sessions = MarketCalendar.xnys.sessions
        #expect(grid.count == sessions.count)
        for (ordinal, session) in sessions.enumerated() {
            let slot = grid.slot(at: ordinal)
            #expect(slot.sessionIndex == ordinal)
            #expect(NewYork.localDate(of: slot.start) == session.date)
            #expect(slot.end == session.close)
        }
    }

    @Test(arguments: [Timeframe.m15, .h1, .h4])
    func slotCountsOverTheWholeRangeMatchTheReference(_ timeframe: Timeframe) {
        for gridCase in GridCase.all where gridCase.timeframe == timeframe {
            let grid = Grid(timeframe: timeframe, options: gridCase.options)
            // Counted from wall-clock minutes alone (time-zone free), session by session.
            let step = Int(timeframe.intradaySeconds! / 60)
            var expected = 0
            for session in MarketCalendar.xnys.sessions {
                let (from, to) = GridReference.hours(of: session, gridCase.options.scope)
                let starts = gridCase.options.anchor == .clock ? stride(from: 0, to: 1_440, by: step) : stride(from: from, to: 1_440, by: step)
                expected += starts.filter { minute in
                    gridCase.options.inclusion == .startInside ? (from <= minute && minute < to) : (minute < to && minute + step > from)
                }.count
            }
            #expect(grid.count == expected, "\(gridCase.testDescription)")
        }
    }
}
