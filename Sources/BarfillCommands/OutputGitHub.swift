import BarfillApply
import BarfillCore
import BarfillSQLite
import Foundation

/// GitHub Actions workflow commands and the job summary, used when the run happens in a workflow.
struct GitHubActions {
    /// True inside a workflow (`GITHUB_ACTIONS=true`): annotations go to standard output.
    let annotates: Bool
    /// `$GITHUB_STEP_SUMMARY`: a file the job's markdown summary is appended to.
    let summaryPath: String?

    init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        annotates = environment["GITHUB_ACTIONS"] == "true"
        summaryPath = environment["GITHUB_STEP_SUMMARY"].flatMap { $0.isEmpty ? nil : $0 }
    }

    func error(_ message: String, title: String? = nil) { annotate("error", message, title: title) }
    func warning(_ message: String, title: String? = nil) { annotate("warning", message, title: title) }

    private func annotate(_ level: String, _ message: String, title: String?) {
        guard annotates else { return }
        let properties = title.map { " title=\(Self.escapeProperty($0))" } ?? ""
        print("::\(level)\(properties)::\(Self.escapeData(message))")
    }

    /// Workflow-command data escaping: `%`, CR and LF would otherwise end or corrupt the command.
    static func escapeData(_ text: String) -> String {
        text.replacingOccurrences(of: "%", with: "%25")
            .replacingOccurrences(of: "\r", with: "%0D")
            .replacingOccurrences(of: "\n", with: "%0A")
    }

    static func escapeProperty(_ text: String) -> String {
        escapeData(text).replacingOccurrences(of: ":", with: "%3A").replacingOccurrences(of: ",", with: "%2C")
    }

    /// Appends `markdown` to the job summary, when the workflow provides one.
    func appendSummary(_ markdown: String) {
        guard let summaryPath else { return }
        guard let handle = FileHandle(forWritingAtPath: summaryPath) ?? {
            _ = FileManager.default.createFile(atPath: summaryPath, contents: nil)
            return FileHandle(forWritingAtPath: summaryPath)
        }() else {
            StandardError.write("warning: cannot write the job summary to \(summaryPath)\n")
            return
        }
        defer { try? handle.close() }
        _ = try? handle.seekToEnd()
        try? handle.write(contentsOf: Data(markdown.utf8))
    }
}

/// The markdown account of an apply run for `$GITHUB_STEP_SUMMARY`.
enum ApplySummaryMarkdown {
    static func render(_ report: ApplyReport) -> String {
        let totals = report.totals
        var lines: [String] = []
        lines.append("### barfill apply: \(headline(report.outcome))")
        lines.append("")
        lines.append("| chunks in plan | finished before | worked this run | requests | fetched | inserted | updated | unchanged | rejected | off-grid | confirmed empty |")
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

    static func headline(_ outcome: ApplyOutcome) -> String {
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
