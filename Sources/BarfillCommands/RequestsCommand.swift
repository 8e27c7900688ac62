import ArgumentParser
import BarfillCore
import BarfillPostgres
import Foundation

/// `barfill requests`: the backfill request queue at a glance.
struct Requests: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the backfill request queue: requests by state and reason, and the oldest waiting one.")

    @OptionGroup var database: DatabaseOptions

    @Option(help: "Output format: text, markdown (for $GITHUB_STEP_SUMMARY) or json.")
    var format: Format = .text

    enum Format: String, ExpressibleByArgument, CaseIterable { case text, markdown, json }

    func run() async throws {
        try await reportingErrors("requests") {
            let summary = try await database.database().run { connection in
                guard try connection.query("SELECT to_regclass('barfill.requests') IS NOT NULL").scalar() == "t" else {
                    throw PostgresError.invalidInput("barfill.requests does not exist; run `barfill migrate`")
                }
                return try RequestQueue(connection: connection).summary()
            }
            switch format {
            case .json: print(Self.json(summary).canonicalText, terminator: "")
            case .text: print(Self.text(summary), terminator: "")
            case .markdown: print(Self.markdown(summary), terminator: "")
            }
        }
    }

    static let states = ["queued", "running", "done", "failed"]
    static let reasons = ["watchlist", "chart", "manual", "schedule"]

    static func json(_ summary: QueueSummary) -> JSONValue {
        var byState: [String: JSONValue] = [:]
        for state in states {
            var byReason: [String: JSONValue] = [:]
            for reason in reasons {
                byReason[reason] = .integer(Int64(summary.count(state, reason)))
            }
            byState[state] = .object(["total": .integer(Int64(summary.total(state))), "by_reason": .object(byReason)])
        }
        return .object([
            "states": .object(byState),
            "runnable": .integer(Int64(summary.runnable)),
            "oldest_queued_at": summary.oldestQueuedAt.map { .string(UTC.format($0)) } ?? .null,
            "oldest_wait_seconds": summary.oldestQueuedAt.map { .integer(max(0, summary.now - $0)) } ?? .null,
        ])
    }

    /// The same table for a pull request or a job summary.
    static func markdown(_ summary: QueueSummary) -> String {
        var text = "### Backfill requests\n\n| state | total | " + reasons.joined(separator: " | ") + " |\n"
        text += "| --- | ---: |" + String(repeating: " ---: |", count: reasons.count) + "\n"
        for state in states {
            let cells = reasons.map { String(summary.count(state, $0)) }
            text += "| \(state) | \(summary.total(state)) | " + cells.joined(separator: " | ") + " |\n"
        }
        text += "\nRunnable now: \(summary.runnable). "
        if let oldest = summary.oldestQueuedAt {
            text += "Oldest queued: \(UTC.format(oldest)) (waiting \(max(0, summary.now - oldest)) s).\n"
        } else {
            text += "Nothing is waiting.\n"
        }
        return text
    }

    static func text(_ summary: QueueSummary) -> String {
        var text = "state     total  " + reasons.map { $0.padding(toLength: 10, withPad: " ", startingAt: 0) }.joined() + "\n"
        for state in states {
            text += state.padding(toLength: 10, withPad: " ", startingAt: 0)
            text += String(summary.total(state)).padding(toLength: 7, withPad: " ", startingAt: 0)
            for reason in reasons {
                text += String(summary.count(state, reason)).padding(toLength: 10, withPad: " ", startingAt: 0)
            }
            text += "\n"
        }
        text += "runnable now: \(summary.runnable)\n"
        if let oldest = summary.oldestQueuedAt {
            text += "oldest queued: \(UTC.format(oldest)) (waiting \(max(0, summary.now - oldest))s)\n"
        } else {
            text += "oldest queued: none\n"
        }
        return text
    }
}

extension QueueSummary {
    /// Requests in `state` for `reason` (0 when there are none): one lookup for every format.
    func count(_ state: String, _ reason: String) -> Int {
        counts.first { $0.state == state && $0.reason == reason }?.count ?? 0
    }

    /// Requests in `state`, whatever their reason.
    func total(_ state: String) -> Int { counts.filter { $0.state == state }.reduce(0) { $0 + $1.count } }
}
