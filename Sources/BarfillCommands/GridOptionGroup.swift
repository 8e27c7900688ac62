import ArgumentParser
import BarfillCore

/// The grid options every command that reasons about expected bars accepts.
struct GridOptionGroup: ParsableArguments {
    @Option(help: "Where intraday bars start: clock (multiples of the step from 00:00 New York time, as Massive builds them) or open (from the session open).")
    var anchor: GridOptions.Anchor = GridOptions.default.anchor

    @Option(help: "Which hours count: regular (09:30-16:00, 13:00 on early closes) or extended (04:00-20:00, 17:00 on early closes).")
    var scope: GridOptions.Scope = GridOptions.default.scope

    @Option(help: "When an intraday bar is expected: start-inside (its start lies in the hours) or overlap (any part of it does).")
    var inclusion: GridOptions.Inclusion = GridOptions.default.inclusion

    @Option(help: "Key of a w1 or mn1 bar: period-start (00:00 New York of the Sunday or the 1st, as Massive stamps them) or first-session (00:00 New York of the period's first session).")
    var periodKey: GridOptions.PeriodKey = GridOptions.default.periodKey

    /// The options as the core library takes them.
    var resolved: GridOptions {
        GridOptions(anchor: anchor, scope: scope, inclusion: inclusion, periodKey: periodKey)
    }
}

extension GridOptions.Anchor: ExpressibleByArgument {}
extension GridOptions.Scope: ExpressibleByArgument {}
extension GridOptions.Inclusion: ExpressibleByArgument {}
extension GridOptions.PeriodKey: ExpressibleByArgument {}
extension Timeframe: ExpressibleByArgument {}
