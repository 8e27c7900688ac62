import BarfillCore
import BarfillPostgres

/// Tells whether the database changed since a plan was made: each series is scanned again over the
/// window the plan recorded for it, and its fingerprint compared with the plan's.
enum StalenessCheck {
    /// "TICKER timeframe" of every listed series whose fingerprint no longer matches, and any scan
    /// that could not be made (as a note rather than a verdict).
    static func staleSeries(of plan: Plan, among wanted: Set<SeriesKey>, options: GridOptions,
                            connection: PostgresConnection) throws -> (stale: [String], notes: [String]) {
        let series = plan.series.filter { wanted.contains(SeriesKey(symbol: $0.symbol.value, timeframe: $0.timeframe)) }
        // One scan per window the plan used (incremental scans give series their own start).
        let groups = Dictionary(grouping: series) { WindowKey(from: $0.from, until: $0.until) }
        var stale: [String] = []
        var notes: [String] = []
        for (window, members) in groups.sorted(by: { ($0.key.from, $0.key.until) < ($1.key.from, $1.key.until) }) {
            let request = ScanRequest(symbols: Array(Set(members.map(\.symbol.value))).sorted(),
                                      timeframes: Array(Set(members.map(\.timeframe))).sorted(),
                                      from: window.from, until: window.until, options: options, full: true)
            let result: ScanResult
            do {
                result = try GapScanner(connection: connection).scan(request)
            } catch let error as PostgresError {
                if case .connectionLost = error { throw error }
                notes.append("could not check the plan for staleness: \(error.localizedDescription)")
                continue
            }
            var now: [SeriesKey: String] = [:]
            for scan in result.series { now[SeriesKey(symbol: scan.ticker, timeframe: scan.timeframe)] = scan.fingerprint }
            for member in members where now[SeriesKey(symbol: member.symbol.value, timeframe: member.timeframe)] != member.fingerprint {
                stale.append("\(member.symbol.value) \(member.timeframe.rawValue)")
            }
        }
        return (stale.sorted(), notes)
    }

    private struct WindowKey: Hashable {
        var from: Int64
        var until: Int64
    }
}
