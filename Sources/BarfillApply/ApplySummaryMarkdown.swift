import BarfillCore

/// The markdown account of an apply run for `$GITHUB_STEP_SUMMARY` (beside the plan's, `Plan.markdownSummary`).
public enum ApplySummaryMarkdown {
    public static func render(_ report: ApplyReport) -> String {
        let totals = report.totals
        var lines: [String] = []
        lines.append("### barfill apply: \(headline(report.outcome))")
        lines.append("")
        lines.append("| chunks in plan | finished before | worked this run | requests | fetched | inserted | updated | unchanged | rejected | outside the grid, not stored | confirmed empty |")
        lines.append("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        lines.append("| \(report.planChunks) | \(report.alreadyFinished) | \(report.chunks.count) | \(totals.requests) | \(totals.fetched) | \(totals.inserted) | \(totals.updated) | \(totals.unchanged) | \(totals.rejected) | \(totals.offGrid) | \(totals.confirmedEmpty) |")
        let failed = report.failed
        if !failed.isEmpty {
            lines.append("")
            lines.append("**Failed chunks**")
            lines.append("")
            lines.append("| chunk | series | window | reason |")
            lines.append("| --- | --- | --- | --- |")
            for chunk in failed {
                lines.append("| `\(chunk.id)` | \(chunk.symbol) \(chunk.timeframe.rawValue) | \(UTC.format(chunk.from)) … \(UTC.format(chunk.to)) | \(cell(chunk.message ?? "")) |")
            }
        }
        if !report.warnings.isEmpty {
            lines.append("")
            lines.append("**Warnings**")
            lines.append("")
            for warning in report.warnings { lines.append("- \(cell(warning))") }
        }
        return lines.joined(separator: "\n") + "\n\n"
    }

    /// The outcome in a few words, for the summary's title and apply's last line.
    public static func headline(_ outcome: ApplyOutcome) -> String {
        switch outcome {
        case .complete: "complete"
        case let .stopped(stop): "stopped, resumable (\(stop))"
        case let .failed(count): "\(count) chunk(s) failed"
        }
    }

    /// Keeps a table cell on one line and its pipes literal.
    private static func cell(_ text: String) -> String {
        text.replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "\n", with: " ")
    }
}
