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
            let earliest = SlidingWindow.earliestStart(counted: times, limits: limits.map { ($0.requests, $0.window) }, now: now)
            guard earliest <= now else {
                s.windows[name] = times
                return earliest - now
            }
            times.append(now)
            s.windows[name] = times
            return nil
        }
    }
}
