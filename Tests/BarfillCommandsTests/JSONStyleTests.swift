import BarfillApply
import BarfillCore
import BarfillPostgres
import BarfillSQLite
import Foundation
import Testing

/// Every JSON file barfill writes looks like a plan: the canonical writer's bytes, keys as before.
struct JSONStyleTests {
    static let report = ApplyReport(
        planKey: "abc123", planPath: "plans/p.json", startedAt: 1_709_906_400, finishedAt: 1_709_906_460,
        outcome: .stopped(.rateLimited(provider: .massive, resumeAfter: 1_709_906_520)), dryRun: false,
        planChunks: 3, alreadyFinished: 1,
        chunks: [ChunkResult(id: "0123456789abcdef01234567", symbol: "AAPL", timeframe: .h1, provider: .massive,
                             from: 1_709_906_400, to: 1_709_928_000, missingBars: 6, status: .pending,
                             counts: ChunkCounts(requests: 1, offGrid: 2), message: "rate limited \"twice\"/again",
                             milliseconds: 40)],
        warnings: ["stale"])

    @Test func theRunReportIsWrittenInThePlansStyleWithTheSameKeys() throws {
        let text = Self.report.json()
        // Canonical: parsing and re-writing gives the same bytes (sorted keys, "key": value, two spaces, newline).
        #expect(try JSONValue(parsing: text).canonicalText == text)
        #expect(text.contains("\n  \"already_finished\": 1,\n"))
        #expect(text.contains("\"message\": \"rate limited \\\"twice\\\"/again\""))
        guard case let .object(top) = try JSONValue(parsing: text) else { Issue.record("not an object"); return }
        #expect(top.keys.sorted() == ["already_finished", "chunks", "dry_run", "finished_at", "format", "outcome", "plan",
                                      "plan_chunks", "plan_key", "resume_after", "started_at", "stop", "stop_reason",
                                      "totals", "version", "warnings"])
        #expect(top["started_at"] == .string("2024-03-08T14:00:00Z"))
        #expect(top["resume_after"] == .string("2024-03-08T14:02:00Z"))
        #expect(top["format"] == .string("barfill.run"))
        #expect(top["version"] == .integer(1))
        guard case let .array(chunks) = top["chunks"], case let .object(chunk) = chunks.first,
              case let .object(counts) = chunk["counts"] else { Issue.record("no chunk"); return }
        #expect(chunk.keys.sorted() == ["counts", "fetch_milliseconds", "from", "id", "message", "milliseconds", "missing_bars",
                                        "provider", "status", "symbol", "timeframe", "to", "write_milliseconds"])
        #expect(counts["off_grid"] == .integer(2))
        #expect(counts.keys.sorted() == ["confirmed_empty", "fetched", "inserted", "off_grid", "rejected", "requests",
                                         "unchanged", "updated"])
    }

    @Test func statusJSONIsWrittenInThePlansStyleAndLeavesOutWhatIsUnknown() throws {
        let known = SeriesOverview(symbol: "AAPL", timeframe: "h1", bars: 120, oldest: 1_709_906_400, newest: 1_709_928_000,
                                   lastRunAt: 1_709_928_000, lastResult: "scanned: 0 gaps", verifiedThrough: 1_709_928_000,
                                   confirmedEmptyRanges: 2)
        let bare = SeriesOverview(symbol: "MSFT", timeframe: "d1", bars: 1, oldest: nil, newest: nil, lastRunAt: nil,
                                  lastResult: nil, verifiedThrough: nil, confirmedEmptyRanges: 0)
        let text = SeriesStatusDocument.text([SeriesStatusDocument(known, progress: nil),
                                              SeriesStatusDocument(bare, progress: nil)])
        #expect(try JSONValue(parsing: text).canonicalText == text)
        guard case let .array(rows) = try JSONValue(parsing: text), case let .object(first) = rows[0],
              case let .object(second) = rows[1] else { Issue.record("not an array of objects"); return }
        #expect(first.keys.sorted() == ["bars", "confirmed_empty_ranges", "last_result", "last_run_at", "newest",
                                        "oldest", "symbol", "timeframe", "verified_through"])
        #expect(first["oldest"] == .string("2024-03-08T14:00:00Z"))
        #expect(second.keys.sorted() == ["bars", "confirmed_empty_ranges", "symbol", "timeframe"])
    }
}
