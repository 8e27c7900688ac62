import BarfillCore
import BarfillHTTP
import Foundation

// The simulated provider's per-key rate limits, counted on request arrival as a provider would.
extension SimulatedProvider {
    /// Counts the request against the key's limits, or returns the seconds until it would fit.
    func admit(api: ProviderName, key: String, limits: [RateLimit], now: Double) -> Double? {
        guard !limits.isEmpty else { return nil }
        let name = "\(api.rawValue)/\(key)"
        return state.withLock { s in
            let longest = limits.map(\.window).max()!
            var times = (s.windows[name] ?? []).filter { $0 > now - longest }
            var wait: Double? = nil
            for limit in limits {
                let inWindow = times.filter { $0 > now - limit.window }
                if inWindow.count >= limit.requests {
                    let until = inWindow[inWindow.count - limit.requests] + limit.window
                    wait = max(wait ?? 0, until - now)
                }
            }
            if wait == nil { times.append(now) }
            s.windows[name] = times
            return wait
        }
    }
}
