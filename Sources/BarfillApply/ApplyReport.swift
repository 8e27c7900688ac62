import BarfillCore
import BarfillSQLite
import Foundation

/// Why a run stopped before every chunk was finished, in a state the next run resumes from.
public enum ApplyStop: Sendable, Hashable, CustomStringConvertible {
    /// The provider kept answering 429; the next run should start after `resumeAfter` (Unix seconds).
    case rateLimited(provider: ProviderName, resumeAfter: Int64)
    /// `--max-requests` is spent.
    case requestBudget
    /// `--deadline` came.
    case deadline
    /// SIGINT or SIGTERM: the chunk in flight was finished first.
    case signal
    /// Nothing at the provider's base URL accepted a connection (refused, no DNS answer, connect timeout).
    case providerUnreachable(provider: ProviderName, baseURL: String)
    /// The database went away mid-run and did not come back within a few reconnection attempts.
    case databaseLost
    /// Chunks were left pending by transient faults (5xx, timeouts, garbled answers) that outlasted the retries.
    case transientFaults(chunks: Int)

    public var description: String {
        switch self {
        case let .rateLimited(provider, at):
            "\(provider.rawValue) rate limit reached; resume after \(UTC.format(at))"
        case .requestBudget: "the request budget (--max-requests) is spent"
        case .deadline: "the deadline (--deadline) came"
        case .signal: "interrupted by a signal after finishing the chunk in flight"
        case let .providerUnreachable(provider, baseURL):
            "\(provider.rawValue) cannot be reached at \(baseURL); its chunks are left pending: check the network or the base URL, then run the same command again"
        case .databaseLost:
            "the database connection was lost and did not come back; nothing of the chunk in flight was written: run the same command again"
        case let .transientFaults(chunks):
            "\(chunks) chunk(s) met provider faults (server errors, timeouts, garbled answers) that outlasted the retries and are left pending; run the same command again"
        }
    }

    var code: String {
        switch self {
        case .rateLimited: "rate-limited"
        case .requestBudget: "request-budget"
        case .deadline: "deadline"
        case .signal: "signal"
        case .providerUnreachable: "provider-unreachable"
        case .databaseLost: "database-lost"
        case .transientFaults: "transient-faults"
        }
    }
}

/// How a whole run ended; decides the exit code.
public enum ApplyOutcome: Sendable, Hashable {
    /// Every chunk of the plan is done or skipped.
    case complete
    /// Stopped early; the next run resumes.
    case stopped(ApplyStop)
    /// Some chunks failed (listed in the report); the others are done.
    case failed(chunks: Int)
}

/// What happened to one chunk in this run.
public struct ChunkResult: Sendable, Equatable {
    public var id: String
    public var symbol: String
    public var timeframe: Timeframe
    public var provider: ProviderName
    public var from: Int64
    public var to: Int64
    public var missingBars: Int
    /// done, skipped, failed, or pending when the run stopped in the middle of it.
    public var status: ChunkStatus
    public var counts: ChunkCounts
    /// Why it was skipped or failed; already redacted.
    public var message: String?
    public var milliseconds: Int64
    /// Of `milliseconds`: waiting for and decoding the provider's answer, and the database transaction.
    public var fetchMilliseconds: Int64 = 0
    public var writeMilliseconds: Int64 = 0

    public init(id: String, symbol: String, timeframe: Timeframe, provider: ProviderName, from: Int64, to: Int64,
                missingBars: Int, status: ChunkStatus, counts: ChunkCounts, message: String?, milliseconds: Int64) {
        self.id = id
        self.symbol = symbol
        self.timeframe = timeframe
        self.provider = provider
        self.from = from
        self.to = to
        self.missingBars = missingBars
        self.status = status
        self.counts = counts
        self.message = message
        self.milliseconds = milliseconds
    }
}

/// Something the run reports as it goes, for progress output.
public enum ApplyEvent: Sendable {
    /// The run begins: chunks in the plan, already finished by earlier runs, and the requests left.
    case began(chunks: Int, alreadyFinished: Int, requests: Int, missingBars: Int)
    case chunkStarted(id: String, symbol: String, timeframe: Timeframe)
    case chunkFinished(ChunkResult)
    /// Something a person should look at that does not stop the run (a stale plan, off-grid bars).
    case warning(String)
    case stopping(ApplyStop)
}

/// The machine-readable account of a run (`--report run.json`).
public struct ApplyReport: Sendable {
    public var planKey: String
    public var planPath: String?
    public var startedAt: Int64
    public var finishedAt: Int64
    public var outcome: ApplyOutcome
    public var dryRun: Bool
    /// Chunks in the plan, and those already finished before this run.
    public var planChunks: Int
    public var alreadyFinished: Int
    /// Chunks this run worked on, in the order they finished.
    public var chunks: [ChunkResult]
    public var warnings: [String]

    public init(planKey: String, planPath: String?, startedAt: Int64, finishedAt: Int64, outcome: ApplyOutcome,
                dryRun: Bool, planChunks: Int, alreadyFinished: Int, chunks: [ChunkResult], warnings: [String]) {
        self.planKey = planKey
        self.planPath = planPath
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.outcome = outcome
        self.dryRun = dryRun
        self.planChunks = planChunks
        self.alreadyFinished = alreadyFinished
        self.chunks = chunks
        self.warnings = warnings
    }

    public var totals: ChunkCounts { chunks.reduce(ChunkCounts()) { $0 + $1.counts } }
    /// Chunks that failed for good (those left for the next run are `pending`).
    public var failed: [ChunkResult] { chunks.filter { $0.status == .failed } }

    /// The report as canonical JSON (sorted keys), for `--report`.
    public func json() -> String {
        var object: [String: Any] = [
            "format": "barfill.run",
            "version": 1,
            "plan_key": planKey,
            "started_at": UTC.format(startedAt),
            "finished_at": UTC.format(finishedAt),
            "dry_run": dryRun,
            "plan_chunks": planChunks,
            "already_finished": alreadyFinished,
            "totals": Self.countsObject(totals),
            "chunks": chunks.map { chunk -> [String: Any] in
                var c: [String: Any] = [
                    "id": chunk.id, "symbol": chunk.symbol, "timeframe": chunk.timeframe.rawValue,
                    "provider": chunk.provider.rawValue, "from": UTC.format(chunk.from), "to": UTC.format(chunk.to),
                    "missing_bars": chunk.missingBars, "status": chunk.status.rawValue,
                    "counts": Self.countsObject(chunk.counts), "milliseconds": chunk.milliseconds,
                    "fetch_milliseconds": chunk.fetchMilliseconds, "write_milliseconds": chunk.writeMilliseconds,
                ]
                if let message = chunk.message { c["message"] = message }
                return c
            },
            "warnings": warnings,
        ]
        if let planPath { object["plan"] = planPath }
        switch outcome {
        case .complete:
            object["outcome"] = "complete"
        case let .stopped(stop):
            object["outcome"] = "stopped"
            object["stop"] = stop.code
            object["stop_reason"] = stop.description
            if case let .rateLimited(_, at) = stop { object["resume_after"] = UTC.format(at) }
        case let .failed(count):
            object["outcome"] = "failed"
            object["failed_chunks"] = count
        }
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys,
                                                                                   .withoutEscapingSlashes])) ?? Data()
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    private static func countsObject(_ c: ChunkCounts) -> [String: Int] {
        ["requests": c.requests, "fetched": c.fetched, "inserted": c.inserted, "updated": c.updated,
         "unchanged": c.unchanged, "rejected": c.rejected, "off_grid": c.offGrid, "confirmed_empty": c.confirmedEmpty]
    }
}
