/// How a timeframe's expected bars are laid over the sessions (README.md, "The bar grid: which bars should exist").
public struct GridOptions: Hashable, Sendable, Codable, CustomStringConvertible {
    /// Where intraday buckets start.
    public enum Anchor: String, Hashable, Sendable, Codable, CaseIterable {
        /// At multiples of the step from 00:00 New York time, as Massive builds its aggregates.
        case clock
        /// At multiples of the step from the start of the scope (the open, or 04:00 for extended hours),
        /// as exchange_calendars' trading_index does.
        case open
    }

    /// Which hours of a session count.
    public enum Scope: String, Hashable, Sendable, Codable, CaseIterable {
        /// 09:30 to the close (16:00, or 13:00 on an early-close day).
        case regular
        /// 04:00 to 20:00, or to 17:00 on an early-close day, when the late session ends four hours after
        /// the regular close.
        case extended
    }

    /// When an intraday bucket counts as expected.
    public enum Inclusion: String, Hashable, Sendable, Codable, CaseIterable {
        /// Its start lies inside the scope's hours.
        case startInside = "start-inside"
        /// Any part of it overlaps the scope's hours.
        case overlap
    }

    /// The key (start) of a w1 or mn1 bar.
    public enum PeriodKey: String, Hashable, Sendable, Codable, CaseIterable {
        /// 00:00 New York time of the period's first calendar day (the Sunday of a week, the 1st of a month),
        /// as Massive stamps weekly and monthly aggregates.
        case periodStart = "period-start"
        /// 00:00 New York time of the period's first session date.
        case firstSession = "first-session"
    }

    public var anchor: Anchor
    public var scope: Scope
    public var inclusion: Inclusion
    public var periodKey: PeriodKey

    public init(anchor: Anchor = .clock, scope: Scope = .regular, inclusion: Inclusion = .startInside,
                periodKey: PeriodKey = .periodStart) {
        self.anchor = anchor
        self.scope = scope
        self.inclusion = inclusion
        self.periodKey = periodKey
    }

    /// clock / regular / start-inside / period-start.
    public static let `default` = GridOptions()

    /// `clock/regular/start-inside`, with `/first-session` appended when weekly and monthly bars are keyed
    /// on their first session. This is the `grid` recorded in plans.
    public var description: String {
        let base = "\(anchor.rawValue)/\(scope.rawValue)/\(inclusion.rawValue)"
        return periodKey == .periodStart ? base : "\(base)/\(periodKey.rawValue)"
    }

    /// Reads `description` back.
    public init?(description: String) {
        let parts = description.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 3 || parts.count == 4,
              let anchor = Anchor(rawValue: parts[0]), let scope = Scope(rawValue: parts[1]),
              let inclusion = Inclusion(rawValue: parts[2]) else { return nil }
        var key = PeriodKey.periodStart
        if parts.count == 4 {
            guard let parsed = PeriodKey(rawValue: parts[3]) else { return nil }
            key = parsed
        }
        self.init(anchor: anchor, scope: scope, inclusion: inclusion, periodKey: key)
    }
}
