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

    /// The report as JSON in the plan's style (sorted keys, two-space indent, UTC times), for `--report`.
    public func json() -> String {
        // Only strings, integers and booleans: encoding cannot fail.
        (try? JSONValue.canonicalText(of: RunReportDocument(self))) ?? "{}\n"
    }
}

/// The run report's JSON shape (`format` "barfill.run", version 1); keys as users' scripts read them.
struct RunReportDocument: Encodable {
    struct Counts: Encodable {
        var requests, fetched, inserted, updated, unchanged, rejected, offGrid, confirmedEmpty: Int

        init(_ c: ChunkCounts) {
            (requests, fetched, inserted, updated, unchanged, rejected, offGrid, confirmedEmpty) =
                (c.requests, c.fetched, c.inserted, c.updated, c.unchanged, c.rejected, c.offGrid, c.confirmedEmpty)
        }

        enum CodingKeys: String, CodingKey {
            case requests, fetched, inserted, updated, unchanged, rejected
            case offGrid = "off_grid", confirmedEmpty = "confirmed_empty"
        }
    }

    struct Chunk: Encodable {
        var id, symbol, timeframe, provider: String
        var from, to: UTCTime
        var missingBars: Int
        var status: String
        var counts: Counts
        var milliseconds, fetchMilliseconds, writeMilliseconds: Int64
        var message: String?

        enum CodingKeys: String, CodingKey {
            case id, symbol, timeframe, provider, from, to, status, counts, milliseconds, message
            case missingBars = "missing_bars", fetchMilliseconds = "fetch_milliseconds", writeMilliseconds = "write_milliseconds"
        }
    }

    var format = "barfill.run"
    var version = 1
    var planKey: String
    var plan: String?
    var startedAt, finishedAt: UTCTime
    var dryRun: Bool
    var planChunks, alreadyFinished: Int
    var totals: Counts
    var chunks: [Chunk]
    var warnings: [String]
    var outcome: String
    /// Only when stopped.
    var stop, stopReason: String?
    var resumeAfter: UTCTime?
    /// Only when failed.
    var failedChunks: Int?

    enum CodingKeys: String, CodingKey {
        case format, version, plan, totals, chunks, warnings, outcome, stop
        case planKey = "plan_key", startedAt = "started_at", finishedAt = "finished_at", dryRun = "dry_run"
        case planChunks = "plan_chunks", alreadyFinished = "already_finished", stopReason = "stop_reason"
        case resumeAfter = "resume_after", failedChunks = "failed_chunks"
    }

    init(_ report: ApplyReport) {
        planKey = report.planKey
        plan = report.planPath
        startedAt = UTCTime(report.startedAt)
        finishedAt = UTCTime(report.finishedAt)
        dryRun = report.dryRun
        planChunks = report.planChunks
        alreadyFinished = report.alreadyFinished
        totals = Counts(report.totals)
        chunks = report.chunks.map { chunk in
            Chunk(id: chunk.id, symbol: chunk.symbol, timeframe: chunk.timeframe.rawValue, provider: chunk.provider.rawValue,
                  from: UTCTime(chunk.from), to: UTCTime(chunk.to), missingBars: chunk.missingBars,
                  status: chunk.status.rawValue, counts: Counts(chunk.counts), milliseconds: chunk.milliseconds,
                  fetchMilliseconds: chunk.fetchMilliseconds, writeMilliseconds: chunk.writeMilliseconds,
                  message: chunk.message)
        }
        warnings = report.warnings
        switch report.outcome {
        case .complete:
            outcome = "complete"
        case let .stopped(stop):
            outcome = "stopped"
            self.stop = stop.code
            stopReason = stop.description
            if case let .rateLimited(_, at) = stop { resumeAfter = UTCTime(at) }
        case let .failed(count):
            outcome = "failed"
            failedChunks = count
        }
    }
}
