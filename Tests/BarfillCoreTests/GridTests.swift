import Foundation
import Testing
@testable import BarfillCore

private func day(_ text: String) -> LocalDate { LocalDate(iso: text)! }
private func utc(_ text: String) -> Int64 { UTC.parse(text)! }

/// The slots of the sessions dated `from` through `through`.
private func slots(_ grid: Grid, _ from: String, _ through: String) -> [Slot] {
    let calendar = grid.calendar
    let sessions = calendar.sessionIndex(onOrAfter: day(from))..<calendar.sessionIndex(onOrAfter: day(through).adding(days: 1))
    return grid.ordinals(sessions: sessions).map(grid.slot(at:))
}

/// Slot starts as New York `HH:MM`.
private func wallClock(_ slots: [Slot]) -> [String] {
    slots.map { slot in
        let minutes = Int(slot.start - NewYork.midnight(NewYork.localDate(of: slot.start))) / 60
        return String(format: "%02d:%02d", minutes / 60, minutes % 60)
    }
}

private func hours(_ list: ClosedRange<Int>) -> [String] { list.map { String(format: "%02d:00", $0) } }

/// The contract's examples, one option at a time.
@Suite struct GridTests {
    @Test func defaultHourlyBarsStartAtTenThroughThreeAndStopAtNoonOnAnEarlyClose() {
        let grid = Grid(timeframe: .h1)
        #expect(wallClock(slots(grid, "2024-07-02", "2024-07-02")) == hours(10...15))
        #expect(wallClock(slots(grid, "2024-07-03", "2024-07-03")) == hours(10...12))
        #expect(wallClock(slots(grid, "1992-12-24", "1992-12-24")) == hours(10...13))   // 14:00 close
        #expect(slots(grid, "2024-07-04", "2024-07-04").isEmpty)
    }

    @Test func defaultQuarterHoursRunFromTheOpenToQuarterToFour() {
        let grid = Grid(timeframe: .m15)
        let day = wallClock(slots(grid, "2024-03-12", "2024-03-12"))
        #expect(day.count == 26)
        #expect(day.first == "09:30" && day.last == "15:45")
        #expect(slots(grid, "2024-11-29", "2024-11-29").count == 14)   // 09:30 ... 12:45
    }

    @Test func bothDaylightSavingChangesKeepTheWallClock() {
        let grid = Grid(timeframe: .h1)
        let spring = slots(grid, "2024-03-08", "2024-03-11")
        #expect(spring.map(\.start).map(UTC.format) == [
            "2024-03-08T15:00:00Z", "2024-03-08T16:00:00Z", "2024-03-08T17:00:00Z",
            "2024-03-08T18:00:00Z", "2024-03-08T19:00:00Z", "2024-03-08T20:00:00Z",
            "2024-03-11T14:00:00Z", "2024-03-11T15:00:00Z", "2024-03-11T16:00:00Z",
            "2024-03-11T17:00:00Z", "2024-03-11T18:00:00Z", "2024-03-11T19:00:00Z",
        ])
        let fall = slots(grid, "2024-11-01", "2024-11-04")
        #expect(wallClock(fall) == hours(10...15) + hours(10...15))
        #expect(fall[0].start == utc("2024-11-01T14:00:00Z") && fall[6].start == utc("2024-11-04T15:00:00Z"))
    }

    @Test func dailyBarsAreKeyedAtNewYorkMidnightAndEndAtTheClose() throws {
        let grid = Grid(timeframe: .d1)
        #expect(grid.count == MarketCalendar.xnys.sessions.count)
        let july = slots(grid, "2024-07-03", "2024-07-05")
        #expect(july.map(\.start) == [utc("2024-07-03T04:00:00Z"), utc("2024-07-05T04:00:00Z")])
        #expect(july.map(\.end) == [utc("2024-07-03T17:00:00Z"), utc("2024-07-05T20:00:00Z")])
        #expect(grid.ordinal(of: utc("2024-01-02T05:00:00Z")) != nil)
        #expect(grid.ordinal(of: utc("2024-01-02T00:00:00Z")) == nil)   // Finnhub's UTC stamp is not the key
    }

    @Test func weeklyBarsAreKeyedOnSundayOrOnTheFirstSession() {
        // Week of New Year 2024: Monday the 1st is a holiday.
        let sunday = Grid(timeframe: .w1).slot(at: Grid(timeframe: .w1).firstOrdinal(atOrAfter: utc("2023-12-31T00:00:00Z")))
        #expect(sunday.start == utc("2023-12-31T05:00:00Z"))
        #expect(sunday.end == utc("2024-01-05T21:00:00Z"))
        let first = Grid(timeframe: .w1, options: GridOptions(periodKey: .firstSession))
        let slot = first.slot(at: first.firstOrdinal(atOrAfter: utc("2023-12-31T00:00:00Z")))
        #expect(slot.start == utc("2024-01-02T05:00:00Z"))
        #expect(slot.end == utc("2024-01-05T21:00:00Z"))
        #expect(MarketCalendar.xnys.sessions[slot.sessionIndex].date == day("2024-01-02"))
        // The week of September 11, 2001 still had its Monday.
        #expect(Grid(timeframe: .w1).slots(from: utc("2001-09-09T00:00:00Z"), until: utc("2001-09-16T00:00:00Z")).count == 1)
    }

    @Test func monthlyBarsAreKeyedOnTheFirstOrOnTheFirstSession() {
        let month = Grid(timeframe: .mn1).slots(from: utc("2024-01-01T00:00:00Z"), until: utc("2024-02-01T00:00:00Z"))
        #expect(month.map(\.start) == [utc("2024-01-01T05:00:00Z")])
        #expect(month.map(\.end) == [utc("2024-01-31T21:00:00Z")])
        let first = Grid(timeframe: .mn1, options: GridOptions(periodKey: .firstSession))
        #expect(first.slots(from: utc("2024-01-01T00:00:00Z"), until: utc("2024-02-01T00:00:00Z")).map(\.start)
                == [utc("2024-01-02T05:00:00Z")])
        #expect(Grid(timeframe: .mn1).count == 51 * 12)
    }

    @Test func openAnchorStartsAtTheOpen() {
        let grid = Grid(timeframe: .h1, options: GridOptions(anchor: .open))
        #expect(wallClock(slots(grid, "2024-03-12", "2024-03-12"))
                == ["09:30", "10:30", "11:30", "12:30", "13:30", "14:30", "15:30"])
        #expect(wallClock(slots(grid, "2024-07-03", "2024-07-03")) == ["09:30", "10:30", "11:30", "12:30"])
        let quarters = Grid(timeframe: .m15, options: GridOptions(anchor: .open))
        #expect(slots(quarters, "2024-03-12", "2024-03-12") == slots(Grid(timeframe: .m15), "2024-03-12", "2024-03-12"))
    }

    @Test func overlapIncludesTheBucketTheOpenFallsIn() {
        let grid = Grid(timeframe: .h1, options: GridOptions(inclusion: .overlap))
        #expect(wallClock(slots(grid, "2024-03-12", "2024-03-12")) == hours(9...15))
        let fourHours = Grid(timeframe: .h4, options: GridOptions(inclusion: .overlap))
        #expect(wallClock(slots(fourHours, "2024-03-12", "2024-03-12")) == ["08:00", "12:00"])
        #expect(wallClock(slots(Grid(timeframe: .h4), "2024-03-12", "2024-03-12")) == ["12:00"])
    }

    @Test func extendedHoursRunFromFourToEightOrToFiveAfterAnEarlyClose() {
        let grid = Grid(timeframe: .h1, options: GridOptions(scope: .extended))
        #expect(wallClock(slots(grid, "2024-03-12", "2024-03-12")) == hours(4...19))
        #expect(wallClock(slots(grid, "2024-07-03", "2024-07-03")) == hours(4...16))
    }

    @Test func ordinalsRunOnAcrossYearEndsAndHolidays() throws {
        let grid = Grid(timeframe: .h1)
        let lastOf2024 = try #require(grid.ordinal(of: utc("2024-12-31T20:00:00Z")))   // 15:00 EST
        let firstOf2025 = try #require(grid.ordinal(of: utc("2025-01-02T15:00:00Z")))  // 10:00 EST
        #expect(firstOf2025 == lastOf2024 + 1)
        #expect(grid.ordinal(of: utc("2025-01-01T15:00:00Z")) == nil)
        #expect(grid.firstOrdinal(atOrAfter: utc("2024-12-31T20:00:01Z")) == firstOf2025)
        #expect(grid.ordinal(of: utc("2024-12-31T20:30:00Z")) == nil)
    }

    @Test func aWindowHoldsTheSlotsThatHaveEndedByItsEnd() {
        let grid = Grid(timeframe: .h1)
        // 10:00-11:00 ET has ended at 11:00 ET; 11:00-12:00 has not.
        let window = grid.ordinals(from: utc("2024-03-12T14:00:00Z"), until: utc("2024-03-12T15:30:00Z"))
        #expect(window.count == 1)
        #expect(grid.slot(at: window.lowerBound).start == utc("2024-03-12T14:00:00Z"))
        #expect(grid.ordinals(from: utc("2024-03-12T14:00:00Z"), until: utc("2024-03-12T14:59:59Z")).isEmpty)
        // A daily bar is expected once the session has closed.
        let daily = Grid(timeframe: .d1)
        #expect(daily.ordinals(from: utc("2024-03-12T00:00:00Z"), until: utc("2024-03-12T20:00:00Z")).count == 1)
        #expect(daily.ordinals(from: utc("2024-03-12T00:00:00Z"), until: utc("2024-03-12T19:59:59Z")).isEmpty)
        // Before the calendar and after it.
        #expect(grid.ordinals(from: 0, until: utc("1990-01-02T00:00:00Z")) == 0..<0)
        #expect(grid.firstOrdinal(atOrAfter: utc("2041-01-01T00:00:00Z")) == grid.count)
        #expect(grid.ordinals(from: 0, until: utc("2041-01-01T00:00:00Z")) == 0..<grid.count)
    }

    @Test func optionsReadBackFromTheirDescription() {
        #expect(GridOptions.default.description == "clock/regular/start-inside")
        for anchor in GridOptions.Anchor.allCases {
            for scope in GridOptions.Scope.allCases {
                for inclusion in GridOptions.Inclusion.allCases {
                    for key in GridOptions.PeriodKey.allCases {
                        let options = GridOptions(anchor: anchor, scope: scope, inclusion: inclusion, periodKey: key)
                        #expect(GridOptions(description: options.description) == options)
                    }
                }
            }
        }
        #expect(GridOptions(description: "clock/regular") == nil)
        #expect(GridOptions(description: "clock/regular/inside") == nil)
    }
}
