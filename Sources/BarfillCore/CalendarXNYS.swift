extension MarketCalendar {
    /// The New York Stock Exchange, 1990-01-01 through 2040-12-31, from the exchange's rules.
    /// Built on first use and shared.
    public static let xnys: MarketCalendar = XNYSRules.calendar()
}

/// The NYSE's holiday, observance and early-close rules as they stood in each year of 1990–2040.
/// Checked against exchange_calendars' XNYS for every day of 2000–2030 (Tests/Fixtures).
enum XNYSRules {
    static let firstDate = LocalDate(year: 1990, month: 1, day: 1)!
    static let lastDate = LocalDate(year: 2040, month: 12, day: 31)!
    /// Bump whenever a rule or a one-off date changes.
    static let version = "xnys-1"

    /// Closures the exchange announced for single days: national days of mourning (Nixon 1994,
    /// Reagan 2004, Ford 2007, G. H. W. Bush 2018, Carter 2025), the September 11 attacks,
    /// and Hurricane Sandy.
    static let closures: Set<LocalDate> = [
        d(1994, 4, 27),
        d(2001, 9, 11), d(2001, 9, 12), d(2001, 9, 13), d(2001, 9, 14),
        d(2004, 6, 11),
        d(2007, 1, 2),
        d(2012, 10, 29), d(2012, 10, 30),
        d(2018, 12, 5),
        d(2025, 1, 9),
    ]

    /// One-off 13:00 closes: the Fridays after Christmas 1997 and 2003, and New Year's Eve 1999.
    static let oneOffEarlyCloses: Set<LocalDate> = [d(1997, 12, 26), d(1999, 12, 31), d(2003, 12, 26)]

    static func calendar() -> MarketCalendar {
        var sessions: [Session] = []
        sessions.reserveCapacity(12_900)
        var holidays: Set<LocalDate> = []
        var year = 0
        var day = firstDate
        while day <= lastDate {
            if day.year != year {
                year = day.year
                holidays = self.holidays(in: year)
            }
            let weekday = day.weekday
            if weekday != 0, weekday != 6, !holidays.contains(day), !closures.contains(day) {
                let open = NewYork.instant(day, hour: 9, minute: 30)
                let close = earlyCloseHour(day).map { NewYork.instant(day, hour: $0, minute: 0) }
                    ?? NewYork.instant(day, hour: 16, minute: 0)
                sessions.append(Session(date: day, open: open, close: close))
            }
            day = day.adding(days: 1)
        }
        return MarketCalendar(name: "XNYS", version: version, firstDate: firstDate, lastDate: lastDate,
                              sessions: sessions)
    }

    /// Full-day holidays falling in `year` (as observed).
    static func holidays(in year: Int) -> Set<LocalDate> {
        var days: Set<LocalDate> = []
        // New Year's Day: a Sunday moves to Monday; a Saturday one is not observed on the Friday before,
        // because that Friday closes the previous fiscal year.
        let newYear = d(year, 1, 1)
        switch newYear.weekday {
        case 0: days.insert(newYear.adding(days: 1))
        case 6: break
        default: days.insert(newYear)
        }
        if year >= 1998 { days.insert(nth(3, .monday, month: 1, year)) } // Martin Luther King Jr. Day, observed from 1998
        days.insert(nth(3, .monday, month: 2, year))                    // Washington's Birthday (Presidents' Day)
        days.insert(easter(year).adding(days: -2))                      // Good Friday
        days.insert(last(.monday, month: 5, year))                      // Memorial Day
        if year >= 2022 { days.insert(nearestWeekday(d(year, 6, 19))) } // Juneteenth, from 2022
        days.insert(nearestWeekday(d(year, 7, 4)))                      // Independence Day
        days.insert(nth(1, .monday, month: 9, year))                    // Labor Day
        days.insert(nth(4, .thursday, month: 11, year))                 // Thanksgiving
        days.insert(nearestWeekday(d(year, 12, 25)))                    // Christmas
        return days
    }

    /// The hour (New York time) of an early close on `day`, or nil for a full session.
    /// Early closes were at 14:00 until 1992 and at 13:00 from 1993.
    static func earlyCloseHour(_ day: LocalDate) -> Int? {
        let hour = day.year < 1993 ? 14 : 13
        if oneOffEarlyCloses.contains(day) { return 13 }
        let (year, month, date, weekday) = (day.year, day.month, day.day, day.weekday)
        // Christmas Eve on a weekday before a Christmas holiday (a Friday 24th is itself the observed holiday).
        if month == 12, date == 24, (1...4).contains(weekday) { return hour }
        // The day after Thanksgiving, from 1992.
        if month == 11, year >= 1992, day == nth(4, .thursday, month: 11, year).adding(days: 1) { return hour }
        // Around Independence Day, from 1995: July 3 on a Monday, Tuesday or Thursday; when the 4th is a
        // Thursday, the Friday after until 2012 and the Wednesday before from 2013.
        if month == 7, year >= 1995 {
            if date == 3, [1, 2, 4].contains(weekday) { return hour }
            if date == 5, weekday == 5, year < 2013 { return hour }
            if date == 3, weekday == 3, year >= 2013 { return hour }
        }
        return nil
    }

    // MARK: Date arithmetic

    static func d(_ year: Int, _ month: Int, _ day: Int) -> LocalDate { LocalDate(year: year, month: month, day: day)! }

    /// `LocalDate.weekday` numbers.
    enum Weekday: Int { case monday = 1, thursday = 4 }

    /// The `n`-th `weekday` of `month`.
    static func nth(_ n: Int, _ weekday: Weekday, month: Int, _ year: Int) -> LocalDate {
        let first = d(year, month, 1)
        return first.adding(days: (weekday.rawValue - first.weekday + 7) % 7 + 7 * (n - 1))
    }

    /// The last `weekday` of `month`.
    static func last(_ weekday: Weekday, month: Int, _ year: Int) -> LocalDate {
        let end = d(year, month, LocalDate.daysIn(month: month, year: year))
        return end.adding(days: -((end.weekday - weekday.rawValue + 7) % 7))
    }

    /// A Saturday holiday is observed on the Friday before, a Sunday one on the Monday after.
    static func nearestWeekday(_ day: LocalDate) -> LocalDate {
        switch day.weekday {
        case 6: day.adding(days: -1)
        case 0: day.adding(days: 1)
        default: day
        }
    }

    /// Western (Gregorian) Easter Sunday: the anonymous Gregorian algorithm (Meeus/Jones/Butcher).
    static func easter(_ year: Int) -> LocalDate {
        let a = year % 19, b = year / 100, c = year % 100
        let dd = b / 4, e = b % 4, f = (b + 8) / 25, g = (b - f + 1) / 3
        let h = (19 * a + b - dd - g + 15) % 30
        let i = c / 4, k = c % 4
        let l = (32 + 2 * e + 2 * i - h - k) % 7
        let m = (a + 11 * h + 22 * l) / 451
        let month = (h + l - 7 * m + 114) / 31
        let day = (h + l - 7 * m + 114) % 31 + 1
        return d(year, month, day)
    }
}
