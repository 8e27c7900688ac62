import ArgumentParser
import BarfillApply
import BarfillCore
import Foundation

/// `barfill plan …`: look at plan files.
struct PlanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Inspect plan files written by `barfill gaps`.",
        subcommands: [Show.self])

    /// `barfill plan show PLAN`: validate a plan and summarise it.
    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Validate a plan file and summarise it.",
            discussion: "An invalid or edited plan is refused with the reason (exit 65).")

        enum Format: String, ExpressibleByArgument, CaseIterable {
            case text, markdown, json
        }

        @Argument(help: "The plan file (JSON).")
        var plan: String

        @Option(help: "text (for a terminal), markdown (for a pull request or $GITHUB_STEP_SUMMARY) or json (the canonical plan).")
        var format: Format = .text

        @Option(help: "Rows in the per-series table of the markdown summary.")
        var maxSeries: Int = 25

        func run() async throws {
            try await reportingErrors("plan show") { try show() }
        }

        private func show() throws {
            let bytes: Data
            do {
                bytes = try Data(contentsOf: URL(fileURLWithPath: plan))
            } catch {
                throw ApplyError.unreadablePlan(path: plan, reason: OutputFileError.reason(error))
            }
            let decoded = try Plan(decoding: bytes)
            let output = switch format {
            case .text: decoded.textSummary()
            case .markdown: decoded.markdownSummary(maxSeries: maxSeries)
            case .json: decoded.text
            }
            FileHandle.standardOutput.write(Data(output.utf8))
        }
    }
}
