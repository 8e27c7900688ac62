import ArgumentParser
import Foundation

/// What bounds one run of `apply` or `work`: parallel chunks, requests, and a deadline.
struct RunLimitOptions: ParsableArguments {
    @Option(help: "Chunks worked on at once (paid tiers); all share each provider's rate limit.")
    var concurrency: Int = 1

    @Option(help: "Make at most this many provider requests in this run, then stop (exit 75).")
    var maxRequests: Int?

    @Option(help: "Stop after this long, e.g. 25m or 1h30m, as a signal does: no chunk is started and a running statement is cancelled (exit 75 when work is left).")
    var deadline: String?

    func validate() throws {
        guard concurrency >= 1 else { throw ValidationError("--concurrency must be at least 1") }
        if let maxRequests, maxRequests < 1 { throw ValidationError("--max-requests must be at least 1") }
        if let deadline, DurationText.seconds(deadline) == nil {
            throw ValidationError("--deadline \(deadline) is not a duration like 25m, 1h30m or 90s")
        }
    }

    /// The deadline from now in seconds, and as a wall-clock Unix instant.
    var deadlineSeconds: Int64? { deadline.flatMap(DurationText.seconds) }
    var wallDeadline: Double? { deadlineSeconds.map { Date().timeIntervalSince1970 + Double($0) } }
}
