import BarfillCore

/// `calendar`: building the XNYS calendar and grids, enumerating every h1 and m15 slot of 1990–2040,
/// and 10 million slot ↔ ordinal conversions.
enum CalendarBench {
    static func run() async throws {
        let (calendar, built) = await measure { MarketCalendar.xnys }
        print("calendar: \(calendar.sessions.count) sessions 1990-2040 built in \(format(built)) s")

        for timeframe in [Timeframe.h1, .m15] {
            let (grid, setUp) = await measure { Grid(timeframe: timeframe) }
            // Sum the starts so the loop cannot be optimised away.
            let (checksum, seconds) = await measure {
                var sum: Int64 = 0
                for ordinal in 0..<grid.count { sum &+= grid.slot(at: ordinal).start }
                return sum
            }
            precondition(checksum != 0)
            print("\(timeframe.rawValue): grid built in \(format(setUp)) s; enumerated \(grid.count) slots in "
                  + "\(format(seconds)) s (\(Int(Double(grid.count) / seconds)) slots/s)")
        }

        let (m1, m1SetUp) = await measure { Grid(timeframe: .m1, options: GridOptions(scope: .extended)) }
        print("m1 extended: grid of \(m1.count) slots built in \(format(m1SetUp)) s")

        let grid = Grid(timeframe: .m15)
        var random = SystemRandomNumberGenerator()
        let ordinals = (0..<5_000_000).map { _ in Int.random(in: 0..<grid.count, using: &random) }
        let (mismatches, seconds) = await measure {
            var mismatches = 0
            for ordinal in ordinals where grid.ordinal(of: grid.slot(at: ordinal).start) != ordinal { mismatches += 1 }
            return mismatches
        }
        precondition(mismatches == 0, "slot/ordinal round trip failed \(mismatches) times")
        let conversions = ordinals.count * 2
        print("m15: \(conversions) slot<->ordinal conversions in \(format(seconds)) s "
              + "(\(Int(Double(conversions) / seconds)) conversions/s)")
}
}

private func format(_ seconds: Double) -> String {
    let rounded = (seconds * 10_000).rounded() / 10_000
    return "\(rounded)"
}
