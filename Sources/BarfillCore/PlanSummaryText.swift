/// What a plan fills in one series, for the per-series lines of a summary.
public struct PlanSeriesWork: Sendable, Hashable {
    public var symbol: Ticker
    public var timeframe: Timeframe
    public var provider: ProviderName
    public var missingBars: Int
    public var gaps: Int
    public var requests: Int
    public var from: Int64
    public var to: Int64
}

extension Plan {
    /// The series with chunks, most missing bars first (ties by symbol, timeframe).
    public var seriesWork: [PlanSeriesWork] {
        var work: [String: PlanSeriesWork] = [:]
        for chunk in chunks {
            let key = "\(chunk.symbol.value) \(chunk.timeframe.rawValue) \(chunk.provider.rawValue)"
            var entry = work[key] ?? PlanSeriesWork(symbol: chunk.symbol, timeframe: chunk.timeframe, provider: chunk.provider,
                                                    missingBars: 0, gaps: 0, requests: 0, from: chunk.from, to: chunk.to)
            entry.missingBars += chunk.missingBars
            entry.gaps += chunk.gaps.count
            entry.requests += chunk.requests
            entry.from = min(entry.from, chunk.from)
            entry.to = max(entry.to, chunk.to)
            work[key] = entry
        }
        return work.values.sorted {
            if $0.missingBars != $1.missingBars { return $0.missingBars > $1.missingBars }
            return ($0.symbol, $0.timeframe, $0.provider) < ($1.symbol, $1.timeframe, $1.provider)
        }
    }

    /// Gap entries and missing bars per kind, in the order head, interior, tail, empty.
    public var kindCounts: [(kind: GapKind, gaps: Int, bars: Int)] {
        GapKind.allCases.map { kind in
            var gaps = 0, bars = 0
            for chunk in chunks {
                for gap in chunk.gaps where gap.kind == kind {
                    gaps += 1
                    bars += gap.bars
                }
            }
            return (kind, gaps, bars)
        }
    }

    /// A few lines for a terminal (standard error): totals, requests per provider, the duration
    /// estimate and the series with the most missing bars.
    public func textSummary(topSeries: Int = 5, limits: ProviderLimits = .default) -> String {
        var lines: [String] = []
        let span = "\(UTC.format(window.from)) – \(UTC.format(window.until))"
        if chunks.isEmpty {
            lines.append("no missing bars in \(Plan.count(summary.series, "series", "series")), \(span)")
        } else {
            lines.append("\(Plan.count(summary.missingBars, "missing bar")) in \(Plan.count(summary.gaps, "gap")) over \(seriesWork.count) of \(Plan.count(summary.series, "series", "series")), \(span)")
            lines.append("\(Plan.count(summary.chunks, "chunk")) for \(calendar.name) grid \(calendar.grid)")
            let perProvider = ProviderName.allCases.compactMap { provider -> String? in
                guard let n = summary.requests[provider], n > 0 else { return nil }
                let rate = limits.requestsPerMinute[provider].map { " at \($0)/min" } ?? ""
                return "\(provider.rawValue) \(n)\(rate)"
            }
            lines.append("requests: \(perProvider.joined(separator: ", ")); estimated \(Plan.duration(summary.estimatedSeconds))")
        }
        if summary.offGrid > 0 { lines.append("off-grid bars (reported, not gaps): \(summary.offGrid)") }
        let top = seriesWork.prefix(topSeries)
        if !top.isEmpty {
            lines.append("most missing:")
            for work in top {
                lines.append("  \(work.symbol) \(work.timeframe.rawValue) (\(work.provider.rawValue)): \(Plan.count(work.missingBars, "bar")), \(Plan.count(work.gaps, "gap")), \(Plan.count(work.requests, "request"))")
            }
            let rest = seriesWork.count - top.count
            if rest > 0 { lines.append("  and \(rest) more series") }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Markdown for a pull request body or `$GITHUB_STEP_SUMMARY`: a summary table, gap kinds and a
    /// per-series table capped at `maxSeries` rows.
    public func markdownSummary(maxSeries: Int = 25) -> String {
        var out: [String] = ["### barfill plan", ""]
        let requests = ProviderName.allCases.compactMap { provider -> String? in
            guard let n = summary.requests[provider], n > 0 else { return nil }
            return "\(provider.rawValue) \(n)"
        }
        out += [
            "| | |",
            "| --- | --- |",
            "| window | \(UTC.format(window.from)) – \(UTC.format(window.until)) |",
            "| calendar | \(calendar.name) \(calendar.version), grid `\(calendar.grid)` |",
            "| source | `\(source.database)` on `\(source.host.isEmpty ? "local socket" : source.host)` |",
            "| series scanned | \(summary.series) |",
            "| missing bars | \(summary.missingBars) |",
            "| gaps | \(summary.gaps) |",
            "| chunks | \(summary.chunks) |",
            "| requests | \(requests.isEmpty ? "none" : requests.joined(separator: ", ")) |",
            "| estimated duration | \(Plan.duration(summary.estimatedSeconds)) |",
            "| off-grid bars | \(summary.offGrid) |",
            "| created | \(UTC.format(createdAt)) |",
        ]
        guard !chunks.isEmpty else {
            out += ["", "No missing bars."]
            return out.joined(separator: "\n") + "\n"
        }
        out += ["", "| kind | gaps | missing bars |", "| --- | ---: | ---: |"]
        for count in kindCounts where count.gaps > 0 {
            out.append("| \(count.kind.rawValue) | \(count.gaps) | \(count.bars) |")
        }
        out += ["", "| symbol | timeframe | provider | missing bars | gaps | requests | from | to |",
                "| --- | --- | --- | ---: | ---: | ---: | --- | --- |"]
        let work = seriesWork
        for entry in work.prefix(maxSeries) {
            out.append("| \(entry.symbol) | \(entry.timeframe.rawValue) | \(entry.provider.rawValue) | \(entry.missingBars) | \(entry.gaps) | \(entry.requests) | \(UTC.format(entry.from)) | \(UTC.format(entry.to)) |")
        }
        if work.count > maxSeries {
            out += ["", "and \(work.count - maxSeries) more series."]
        }
        return out.joined(separator: "\n") + "\n"
    }

    /// `1 bar`, `2 bars`.
    static func count(_ n: Int, _ one: String, _ many: String? = nil) -> String {
        "\(n) \(n == 1 ? one : many ?? one + "s")"
    }

    /// `45s`, `4m 05s`, `2h 03m`, `3d 04h`.
    public static func duration(_ seconds: Int) -> String {
        func two(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
        switch seconds {
        case ..<60: return "\(seconds)s"
        case ..<3_600: return "\(seconds / 60)m \(two(seconds % 60))s"
        case ..<86_400: return "\(seconds / 3_600)h \(two(seconds / 60 % 60))m"
        default: return "\(seconds / 86_400)d \(two(seconds / 3_600 % 24))h"
        }
    }
}
