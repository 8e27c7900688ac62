import Foundation

/// The time rate limits, backoff and deadlines are measured in, in seconds.
/// `timeScale` makes the clock run faster than the wall: at 0.01 a provider "minute" lasts 600 ms,
/// so tests exercise real windows quickly. Nominal time starts at the wall-clock instant `anchor`.
public struct ProviderClock: Sendable, Hashable {
    /// Real seconds per nominal second (1 in production).
    public let timeScale: Double
    /// Wall-clock Unix seconds at which nominal and real time coincide.
    public let anchor: Double

    public init(timeScale: Double = 1, anchor: Double = Date().timeIntervalSince1970) {
        precondition(timeScale > 0, "timeScale must be positive")
        self.timeScale = timeScale
        self.anchor = anchor
    }

    /// The anchor scaled clocks in different processes use, so they agree on nominal time (2026-01-01).
    public static let scaledEpoch: Double = 1_767_225_600

    /// The real wall clock.
    public static let system = ProviderClock(timeScale: 1, anchor: 0)

    /// Nominal Unix seconds now.
    public func now() -> Double {
        let real = Date().timeIntervalSince1970
        return anchor + (real - anchor) / timeScale
    }

    /// Waits `seconds` of nominal time. Throws `CancellationError` when the task is cancelled.
    public func sleep(_ seconds: Double) async throws {
        guard seconds > 0 else { return }
        try await Task.sleep(nanoseconds: UInt64(seconds * timeScale * 1e9))
    }
}
