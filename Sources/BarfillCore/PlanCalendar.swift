extension Plan.Calendar {
    /// The grid the plan's slots were laid on, for `Grid(timeframe:options:)` in `apply`.
    /// Decoding accepts only text `GridOptions(description:)` reads, so this is never the fallback.
    public var gridOptions: GridOptions { GridOptions(description: grid) ?? .default }

    /// Whether the plan was made under the same calendar rules as `calendar`; when not, some of
    /// its slots may no longer be expected (or new ones may be) and the plan should be remade.
    public func matches(_ calendar: MarketCalendar) -> Bool {
        name == calendar.name && version == calendar.version
    }
}
