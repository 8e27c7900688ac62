import Testing
@testable import BarfillCore

/// The expected slots computed the slow, obvious way, from New York wall-clock minutes, to check `Grid` against.
enum GridReference {
    /// The slots of one session, in order.
    static func slots(of index: Int, _ timeframe: Timeframe, _ options: GridOptions,
                      calendar: MarketCalendar = .xnys) -> [Slot] {
        let session = calendar.sessions[index]
        guard let step = timeframe.intradaySeconds else { preconditionFailure("intraday only") }
        let minutes = Int(step / 60)
        let (from, to) = hours(of: session, options.scope)
        var starts: [Int] = []
        switch options.anchor {
        case .clock: starts = Array(stride(from: 0, to: 1_440, by: minutes))
        case .open: starts = Array(stride(from: from, to: 1_440, by: minutes))
        }
        return starts.filter { minute in
            switch options.inclusion {
            case .startInside: from <= minute && minute < to
            case .overlap: minute < to && minute + minutes > from
            }
        }.map { minute in
            let start = NewYork.instant(session.date, hour: minute / 60, minute: minute % 60)
            return Slot(start: start, end: start + step, sessionIndex: index)
        }
    }

    /// The scope's hours on `session` as minutes after New York midnight.
    static func hours(of session: Session, _ scope: GridOptions.Scope) -> (Int, Int) {
        let close = Int(session.close - NewYork.midnight(session.date)) / 60
        switch scope {
        case .regular: return (570, close)
        case .extended: return (240, session.isEarlyClose ? close + 240 : 1_200)
        }
    }

    /// The slots of d1, w1 or mn1 over a range of session indices (periods cut at the range's ends are whole
    /// only when the range covers them).
    static func periodSlots(_ sessions: Range<Int>, _ timeframe: Timeframe, _ options: GridOptions,
                            calendar: MarketCalendar = .xnys) -> [Slot] {
        let all = calendar.sessions
        func period(_ date: LocalDate) -> LocalDate {
            switch timeframe {
            case .d1: date
            case .w1: date.adding(days: -date.weekday)
            case .mn1: LocalDate(year: date.year, month: date.month, day: 1)!
            default: preconditionFailure("d1, w1, mn1 only")
            }
        }
        var slots: [Slot] = []
        var index = sessions.lowerBound
        while index < sessions.upperBound {
            let key = period(all[index].date)
            var last = index
            while last + 1 < all.count, period(all[last + 1].date) == key { last += 1 }
            let start = timeframe == .d1 || options.periodKey == .firstSession
                ? NewYork.midnight(all[index].date) : NewYork.midnight(key)
            slots.append(Slot(start: start, end: all[last].close, sessionIndex: index))
            index = last + 1
        }
        return slots
    }

    /// The reference slots of the sessions in `range`.
    static func slots(_ range: Range<Int>, _ timeframe: Timeframe, _ options: GridOptions) -> [Slot] {
        timeframe.isIntraday ? range.flatMap { slots(of: $0, timeframe, options) }
                             : periodSlots(range, timeframe, options)
    }
}

/// Every option combination that changes a timeframe's grid.
struct GridCase: CustomTestStringConvertible, Sendable {
    let timeframe: Timeframe
    let options: GridOptions
    var testDescription: String { "\(timeframe.rawValue) \(options)" }

    static let all: [GridCase] = Timeframe.allCases.flatMap { timeframe -> [GridCase] in
        switch timeframe {
        case .d1:
            return [GridCase(timeframe: timeframe, options: .default)]
        case .w1, .mn1:
            return GridOptions.PeriodKey.allCases.map { GridCase(timeframe: timeframe, options: GridOptions(periodKey: $0)) }
        default:
            return GridOptions.Anchor.allCases.flatMap { anchor in
                GridOptions.Scope.allCases.flatMap { scope in
                    GridOptions.Inclusion.allCases.map { inclusion in
                        GridCase(timeframe: timeframe, options: GridOptions(anchor: anchor, scope: scope, inclusion: inclusion))
                    }
                }
            }
        }
    }
}

