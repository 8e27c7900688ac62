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

extension Plan.ChunkGap {
    /// The grid ordinals of this gap's slots: `from` is the first slot's start and `to` the end of the
    /// `bars`-th slot from there. Nil when the gap does not sit on `grid` that way (a plan made on
    /// another grid); never nil for a decoded plan and the grid of its `calendar.gridOptions`.
    public func ordinals(on grid: Grid) -> ClosedRange<Int>? {
        guard bars >= 1, let first = grid.ordinal(of: from), first + bars - 1 < grid.count,
              grid.slot(at: first + bars - 1).end == to else { return nil }
        return first...(first + bars - 1)
    }
}
