import Foundation
import Testing
@testable import BarfillCore

private func day(_ text: String) -> LocalDate { LocalDate(iso: text)! }
private func utc(_ text: String) -> Int64 { UTC.parse(text)! }

@Suite struct NewYorkTests {
    @Test func wallTimesFollowBothDaylightSavingChanges() {
        // 2024: EDT from Sunday March 10, EST again from Sunday November 3.
        #expect(NewYork.instant(day("2024-03-08"), hour: 9, minute: 30) == utc("2024-03-08T14:30:00Z"))
        #expect(NewYork.instant(day("2024-03-11"), hour: 9, minute: 30) == utc("2024-03-11T13:30:00Z"))
        #expect(NewYork.instant(day("2024-11-01"), hour: 16, minute: 0) == utc("2024-11-01T20:00:00Z"))
        #expect(NewYork.instant(day("2024-11-04"), hour: 16, minute: 0) == utc("2024-11-04T21:00:00Z"))
        // Before 2007 the changes came on the first Sunday of April and the last of October.
        #expect(NewYork.instant(day("2006-03-13"), hour: 9, minute: 30) == utc("2006-03-13T14:30:00Z"))
        #expect(NewYork.instant(day("2006-04-03"), hour: 9, minute: 30) == utc("2006-04-03T13:30:00Z"))
        #expect(NewYork.instant(day("2006-10-30"), hour: 9, minute: 30) == utc("2006-10-30T14:30:00Z"))
        // Midnight on the change days themselves still has the old offset.
        #expect(NewYork.midnight(day("2024-03-10")) == utc("2024-03-10T05:00:00Z"))
        #expect(NewYork.midnight(day("2024-11-03")) == utc("2024-11-03T04:00:00Z"))
        #expect(NewYork.midnight(day("2024-11-04")) == utc("2024-11-04T05:00:00Z"))
    }

    @Test func skippedAndRepeatedWallTimesResolveOneWay() {
        // 02:30 does not exist on 2024-03-10: read with the offset before the change (EST), it is 03:30 EDT.
        #expect(NewYork.instant(day("2024-03-10"), hour: 2, minute: 30) == utc("2024-03-10T07:30:00Z"))
        // 01:30 happens twice on 2024-11-03: the first (EDT) is taken.
        #expect(NewYork.instant(day("2024-11-03"), hour: 1, minute: 30) == utc("2024-11-03T05:30:00Z"))
    }

    @Test func localDateTurnsAtNewYorkMidnight() {
        #expect(NewYork.localDate(of: utc("2024-03-09T04:59:59Z")) == day("2024-03-08"))
        #expect(NewYork.localDate(of: utc("2024-03-09T05:00:00Z")) == day("2024-03-09"))
        #expect(NewYork.localDate(of: utc("2024-07-04T03:59:59Z")) == day("2024-07-03"))
        #expect(NewYork.localDate(of: utc("2024-07-04T04:00:00Z")) == day("2024-07-04"))
        for date in stride(from: 7_300, to: 25_500, by: 37).map(LocalDate.init(daysSinceEpoch:)) {
            #expect(NewYork.localDate(of: NewYork.midnight(date)) == date)
            #expect(NewYork.localDate(of: NewYork.midnight(date) - 1) == date.adding(days: -1))
        }
    }
}

@Suite struct CalendarTests {
    let xnys = MarketCalendar.xnys

    @Test func coversNineteenNinetyThroughTwentyForty() {
        #expect(xnys.name == "XNYS")
        #expect(!xnys.version.isEmpty)
        #expect(xnys.sessions.first?.date == day("1990-01-02"))
        #expect(xnys.sessions.last?.date == day("2040-12-31"))
        // exchange_calendars 4.13.2 gives 12,833 XNYS sessions and 108 early closes for 1990-2040
        // (checked when the fixture was made; the fixture itself covers 2000-2030).
        #expect(xnys.sessions.count == 12_833)
        #expect(xnys.sessions.filter(\.isEarlyClose).count == 108)
    }

    @Test func everySessionOpensAt0930NewYorkTimeAndClosesAt1600Or1300Or1400() {
        for session in xnys.sessions {
            let midnight = NewYork.midnight(session.date)
            #expect(session.open - midnight == 34_200)
            let closeHour = (session.close - midnight) / 3_600
            #expect((session.close - midnight) % 3_600 == 0)
            if session.isEarlyClose {
                #expect(closeHour == (session.date.year < 1993 ? 14 : 13), "\(session.date)")
            } else {
                #expect(closeHour == 16, "\(session.date)")
            }
            #expect(session.date.weekday != 0 && session.date.weekday != 6)
        }
        #expect(zip(xnys.sessions, xnys.sessions.dropFirst()).allSatisfy { $0.date < $1.date && $0.close < $1.open })
    }

    @Test(arguments: [
        "2022-12-26",  // Christmas on a Sunday, observed Monday
        "2021-12-24",  // Christmas on a Saturday, observed Friday
        "2023-01-02",  // New Year's Day on a Sunday, observed Monday
        "2015-07-03",  // Independence Day on a Saturday, observed Friday
        "2024-03-29",  // Good Friday
        "2022-06-20",  // Juneteenth on a Sunday, observed Monday (first year)
        "2027-06-18",  // Juneteenth on a Saturday, observed Friday
        "1998-01-19",  // Martin Luther King Jr. Day, first year
        "2024-02-19", "2024-05-27", "2024-09-02", "2024-11-28",
        "1994-04-27", "2001-09-11", "2001-09-14", "2004-06-11", "2007-01-02",
        "2012-10-29", "2012-10-30", "2018-12-05", "2025-01-09",
    ])
    func isClosedOn(_ date: String) {
        #expect(xnys.session(on: day(date)) == nil)
    }

    @Test(arguments: [
        "2021-12-31",  // New Year's Day 2022 is a Saturday: not observed on the Friday before
        "2011-12-30",
        "1997-01-20",  // Martin Luther King Jr. Day before 1998
        "2021-06-18",  // Juneteenth before 2022
        "2001-09-17",
    ])
    func isOpenOn(_ date: String) {
        #expect(xnys.session(on: day(date)) != nil)
    }

    @Test(arguments: [
        ("1990-12-24", 14), ("1992-11-27", 14),     // 14:00 before 1993
        ("1993-11-26", 13), ("2024-11-29", 13),     // the day after Thanksgiving
        ("2024-12-24", 13), ("2018-12-24", 13),     // Christmas Eve on a weekday
        ("1995-07-03", 13), ("2024-07-03", 13),     // July 3 on a Monday; on a Wednesday from 2013
        ("2002-07-05", 13), ("1996-07-05", 13),     // the Friday after a Thursday July 4th, before 2013
        ("1997-12-26", 13), ("1999-12-31", 13), ("2003-12-26", 13),  // one-off
    ])
    func closesEarlyOn(_ date: String, hour: Int) throws {
        let session = try #require(xnys.session(on: day(date)))
        #expect(session.isEarlyClose)
        #expect(session.close == NewYork.instant(day(date), hour: hour, minute: 0))
    }

    @Test(arguments: ["1994-07-01", "2019-07-05", "2008-12-26", "2009-07-02", "1991-11-29"])
    func closesAtFourOn(_ date: String) throws {
        let session = try #require(xnys.session(on: day(date)))
        #expect(!session.isEarlyClose)
    }

    @Test func sessionIndexFindsTheNextSession() {
        let saturday = day("2024-03-09")
        let monday = xnys.sessionIndex(onOrAfter: day("2024-03-11"))
        #expect(xnys.sessionIndex(onOrAfter: saturday) == monday)
        #expect(xnys.sessions[monday].date == day("2024-03-11"))
        #expect(xnys.sessionIndex(onOrAfter: day("1980-01-01")) == 0)
        #expect(xnys.sessionIndex(onOrAfter: day("2041-01-01")) == xnys.sessions.count)
        #expect(xnys.session(on: saturday) == nil)
        #expect(xnys.session(on: day("1989-12-29")) == nil)
    }

    @Test func sessionsBetweenTwoDatesIncludeBoth() throws {
        let march = try xnys.sessions(from: day("2024-03-01"), through: day("2024-03-29"))
        #expect(march.first?.date == day("2024-03-01"))
        #expect(march.last?.date == day("2024-03-28"))   // Good Friday closed
        #expect(march.count == 20)
        #expect(try xnys.sessions(from: day("2024-03-09"), through: day("2024-03-10")).isEmpty)
    }

    @Test func datesOutsideTheRangeAreAnErrorNotAGuess() {
        #expect(throws: CalendarError.outOfRange(date: day("1989-12-29"), first: day("1990-01-01"),
                                                 last: day("2040-12-31"), calendar: "XNYS")) {
            try xnys.sessions(from: day("1989-12-29"), through: day("1990-01-05"))
        }
        #expect(throws: CalendarError.self) { try xnys.sessions(from: day("2040-12-01"), through: day("2041-01-02")) }
        #expect(throws: CalendarError.reversedRange(from: day("2024-03-02"), through: day("2024-03-01"))) {
            try xnys.sessions(from: day("2024-03-02"), through: day("2024-03-01"))
        }
        let message = CalendarError.outOfRange(date: day("2041-01-02"), first: day("1990-01-01"),
                                               last: day("2040-12-31"), calendar: "XNYS").localizedDescription
        #expect(message.contains("2041-01-02") && message.contains("1990-01-01 through 2040-12-31"))
    }

    @Test func easterFollowsTheGregorianComputus() {
        let known = ["1990-04-15", "2000-04-23", "2008-03-23", "2011-04-24", "2019-04-21", "2024-03-31", "2038-04-25"]
        for date in known.map(day) { #expect(XNYSRules.easter(date.year) == date) }
    }
}
