extension ProviderLimits {
    /// Sessions of `calendar` whose extended hours (04:00–20:00 New York, to 17:00 after an early close)
    /// overlap [from, to): what Massive may return minute aggregates for in that window.
    public static func sessionsTouched(from: Int64, to: Int64, calendar: MarketCalendar = .xnys) -> Int {
        let opens = calendar.extendedOpens, closes = calendar.extendedCloses
        var first = 0, end = closes.count          // first session whose extended close is after `from`
        while first < end {
            let mid = (first + end) / 2
            if closes[mid] > from { end = mid } else { first = mid + 1 }
        }
        var last = first, limit = opens.count      // first session whose extended open is at or after `to`
        while last < limit {
            let mid = (last + limit) / 2
            if opens[mid] >= to { limit = mid } else { last = mid + 1 }
        }
        return last - first
    }

    /// Whether one request of `provider` serves `timeframe` bars over [from, to).
    public static func oneRequestServes(_ provider: ProviderName, _ timeframe: Timeframe, from: Int64, to: Int64,
                                        calendar: MarketCalendar = .xnys) -> Bool {
        switch span(of: provider, timeframe) {
        case let .days(days): to - from <= Int64(days) * 86_400
        case let .sessions(sessions): sessionsTouched(from: from, to: to, calendar: calendar) <= sessions
        }
    }
}
