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
