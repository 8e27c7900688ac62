import BarfillCore

/// Fixture bars built from the grid: every expected slot of a window, minus chosen holes.
public enum GridFixture {
    /// A bar for every slot of `grid` expected in `[from, until)` whose ordinal is not in `except`.
    public static func everySlot(of grid: Grid, from: Int64, until: Int64, except: Set<Int> = []) -> [Bar] {
        grid.ordinals(from: from, until: until).filter { !except.contains($0) }.map { fixtureBar(at: grid.slot(at: $0).start) }
    }

    /// The ordinals of every slot belonging to the sessions on `dates` (a whole-session hole).
    public static func ordinals(of grid: Grid, sessionsOn dates: [LocalDate]) -> Set<Int> {
        var found = Set<Int>()
        for date in dates {
            let index = grid.calendar.sessionIndex(onOrAfter: date)
            guard index < grid.calendar.sessions.count, grid.calendar.sessions[index].date == date else { continue }
            found.formUnion(grid.ordinals(sessions: index..<(index + 1)))
        }
        return found
    }

    /// The ordinals of slots `first ..< first + count` counted from the slot at `instant`
    /// (the first slot starting at or after it).
    public static func run(of grid: Grid, startingAt instant: Int64, count: Int) -> Set<Int> {
        let first = grid.firstOrdinal(atOrAfter: instant)
        return Set(first..<(first + count))
    }

    /// The session dates from `first` through `last` (inclusive).
    public static func sessionDates(_ calendar: MarketCalendar = .xnys, from first: LocalDate, through last: LocalDate) -> [LocalDate] {
        ((try? calendar.sessions(from: first, through: last)) ?? []).map(\.date)
    }
}
