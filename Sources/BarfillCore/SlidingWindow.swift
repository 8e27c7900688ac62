/// "At most `requests` in any `window` seconds", checked against a log of the instants requests
/// counted from: the arithmetic the rate limiter paces by and the simulated provider admits by.
public enum SlidingWindow {
    /// The earliest instant, not before `now`, at which one more request fits every limit, given the
    /// instants already counted (any order; those older than a window no longer count in it).
    public static func earliestStart(counted times: [Double], limits: [(requests: Int, window: Double)],
                                     now: Double) -> Double {
        var earliest = now
        for limit in limits {
            let inWindow = times.filter { $0 > now - limit.window }.sorted()
            if inWindow.count >= limit.requests {
                // The request that must leave the window before another may enter.
                earliest = max(earliest, inWindow[inWindow.count - limit.requests] + limit.window)
            }
        }
        return earliest
    }
}
