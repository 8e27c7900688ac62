import Foundation
import Testing
@testable import BarfillSQLite

@Suite struct CheckpointStoreTests {
    let chunks = (0..<3).map { ChunkKey(id: "c\($0)", symbol: "AAPL", timeframe: .h1) }

    @Test func createsItsDirectoryAndStartsEveryChunkPending() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("nested/.barfill/checkpoint.sqlite").path
        let store = try CheckpointStore(path: path)
        try store.begin(planKey: "p1", chunks: chunks, at: 100)
        let progress = try store.progress(planKey: "p1")
        #expect(progress.count == 3)
        #expect(progress.values.allSatisfy { $0.status == .pending && $0.attempts == 0 })
        #expect(FileManager.default.fileExists(atPath: path))
    }

    @Test func finishedChunkIDsAreTheDoneAndSkippedChunksOfThatPlanOnly() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try CheckpointStore(path: dir.appendingPathComponent("checkpoint.sqlite").path)
        let many = (0..<5).map { ChunkKey(id: "c\($0)", symbol: "AAPL", timeframe: .h1) }
        try store.begin(planKey: "p1", chunks: many.reversed(), at: 100)
        try store.begin(planKey: "p2", chunks: many, at: 100)
        #expect(try store.finishedChunkIDs(planKey: "p1").isEmpty)
        try store.markFinished(planKey: "p1", chunkID: "c1", status: .done, counts: ChunkCounts(), at: 101, durationMilliseconds: 1)
        try store.markFinished(planKey: "p1", chunkID: "c3", status: .skipped, counts: ChunkCounts(), at: 101, durationMilliseconds: 1)
        try store.markUnfinished(planKey: "p1", chunkID: "c4", permanent: true, message: "no", nextAttemptAt: nil,
                                 requests: 1, at: 102)
        try store.markRunning(planKey: "p1", chunkID: "c0", at: 103)
        try store.markFinished(planKey: "p2", chunkID: "c2", status: .done, counts: ChunkCounts(), at: 101, durationMilliseconds: 1)
        #expect(try store.finishedChunkIDs(planKey: "p1") == ["c1", "c3"])
        #expect(try store.finishedChunkIDs(planKey: "p2") == ["c2"])
        #expect(try store.progress(planKey: "p1").count == 5)
    }

    @Test func markingAChunkRunningLeavesCommitsFullySynchronous() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try CheckpointStore(path: dir.appendingPathComponent("checkpoint.sqlite").path)
        try store.begin(planKey: "p1", chunks: chunks, at: 100)
        #expect(try store.synchronousLevel() == 2)
        try store.markRunning(planKey: "p1", chunkID: "c0", at: 101)
        #expect(try store.synchronousLevel() == 2)
        #expect(throws: CheckpointError.self) { try store.markRunning(planKey: "p1", chunkID: "nope", at: 102) }
        #expect(try store.synchronousLevel() == 2)
    }

    @Test func progressSurvivesReopeningAndAPlanWithChunksDeleted() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("checkpoint.sqlite").path
        do {
            let store = try CheckpointStore(path: path)
            try store.begin(planKey: "p1", chunks: chunks, at: 100)
            try store.markRunning(planKey: "p1", chunkID: "c0", at: 101)
            let counts = ChunkCounts(requests: 2, fetched: 10, inserted: 7, updated: 1, unchanged: 2, rejected: 1,
                                     offGrid: 3, confirmedEmpty: 4)
            try store.markFinished(planKey: "p1", chunkID: "c0", status: .done, counts: counts, at: 105,
                                   durationMilliseconds: 4_000)
            try store.markRunning(planKey: "p1", chunkID: "c1", at: 106)   // then the process dies
        }
        let store = try CheckpointStore(path: path)
        // The reviewed plan lost chunk c2; known chunks keep their progress.
        try store.begin(planKey: "p1", chunks: Array(chunks.prefix(2)), at: 200)
        let progress = try store.progress(planKey: "p1")
        #expect(progress["c0"]?.status == .done)
        #expect(progress["c0"]?.counts == ChunkCounts(requests: 2, fetched: 10, inserted: 7, updated: 1, unchanged: 2,
                                                      rejected: 1, offGrid: 3, confirmedEmpty: 4))
        #expect(progress["c0"]?.startedAt == 101)
        #expect(progress["c0"]?.finishedAt == 105)
        #expect(progress["c0"]?.durationMilliseconds == 4_000)
        #expect(progress["c1"]?.status == .running)
        #expect(progress["c1"]?.attempts == 1)
        #expect(try store.plans().first?.lastRunAt == 200)
    }

    @Test func aResumedRunKeepsEveryChunksProgressAndRecordsItsTime() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try CheckpointStore(path: dir.appendingPathComponent("checkpoint.sqlite").path)
        try store.begin(planKey: "p1", chunks: chunks, at: 100)
        try store.markFinished(planKey: "p1", chunkID: "c1", status: .done, counts: ChunkCounts(requests: 1), at: 101,
                               durationMilliseconds: 1)
        try store.begin(planKey: "p1", chunks: chunks.reversed(), at: 200)
        let progress = try store.progress(planKey: "p1")
        #expect(progress.count == 3)
        #expect(progress["c1"]?.status == .done && progress["c1"]?.counts.requests == 1)
        #expect(try store.plans().first?.lastRunAt == 200)
        #expect(try store.plans().first?.firstRunAt == 100)
        // A list the checkpoint has not seen in full under that key still gets its new rows.
        let more = chunks + [ChunkKey(id: "c3", symbol: "MSFT", timeframe: .d1)]
        try store.begin(planKey: "p1", chunks: more, at: 300)
        #expect(try store.progress(planKey: "p1")["c3"]?.status == .pending)
        #expect(try store.progress(planKey: "p1")["c1"]?.status == .done)
    }

    @Test func chunksAreRegisteredInTheByteOrderOfTheirIds() {
        var generator = SystemRandomNumberGenerator()
        let hex = Array("0123456789abcdef")
        func randomID(_ length: Int) -> String { String((0..<length).map { _ in hex[Int(generator.next() % 16)] }) }
        let shared = randomID(16)
        var ids = (0..<2_000).map { _ in randomID(24) }
        ids += (0..<50).map { _ in shared + randomID(8) } + [shared, shared + "0", "0000000000000000", "ffffffffffffffffffffffff"]
        let keys = ids.map { ChunkKey(id: $0, symbol: "AAPL", timeframe: .h1) }
        let byBytes = { (list: [ChunkKey]) in list.map(\.id).sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) } }
        #expect(CheckpointStore.inKeyOrder(keys).map(\.id) == byBytes(keys))
        // Ids that are not hex digits fall back to sorting by their bytes.
        let other = keys + ["c0", "Z9", "zz", "é1", "A"].map { ChunkKey(id: $0, symbol: "AAPL", timeframe: .h1) }
        #expect(CheckpointStore.inKeyOrder(other).map(\.id) == byBytes(other))
    }

    @Test func unfinishedChunksKeepTheirRedactedErrorAndRetryTime() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try CheckpointStore(path: dir.appendingPathComponent("checkpoint.sqlite").path)
        try store.begin(planKey: "p1", chunks: chunks, at: 100)
        try store.markRunning(planKey: "p1", chunkID: "c1", at: 101)
        try store.markUnfinished(planKey: "p1", chunkID: "c1", permanent: false, message: "HTTP 503",
                                 nextAttemptAt: 160, requests: 3, at: 102)
        try store.markRunning(planKey: "p1", chunkID: "c2", at: 103)
        try store.markUnfinished(planKey: "p1", chunkID: "c2", permanent: true, message: "HTTP 403: not entitled",
                                 nextAttemptAt: nil, requests: 1, at: 104)
        let progress = try store.progress(planKey: "p1")
        #expect(progress["c1"]?.status == .pending)
        #expect(progress["c1"]?.nextAttemptAt == 160)
        #expect(progress["c1"]?.lastError == "HTTP 503")
        #expect(progress["c1"]?.counts.requests == 3)
        #expect(progress["c2"]?.status == .failed)
        #expect(progress["c2"]?.lastError == "HTTP 403: not entitled")
        let plan = try #require(try store.plans().first)
        #expect(plan.byStatus == [.pending: 2, .failed: 1])
        let series = try store.seriesProgress()
        #expect(series == [SeriesProgress(symbol: "AAPL", timeframe: "h1", chunks: 3, finished: 0, failed: 1,
                                          lastFinishedAt: 104)])
    }

    @Test func anUnknownChunkCannotBeMarked() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try CheckpointStore(path: dir.appendingPathComponent("checkpoint.sqlite").path)
        try store.begin(planKey: "p1", chunks: chunks, at: 100)
        #expect(throws: CheckpointError.self) {
            try store.markRunning(planKey: "p2", chunkID: "c0", at: 101)
        }
    }

    @Test func rateLimitStateRoundTripsPerProvider() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("checkpoint.sqlite").path
        let blob = Data(#"{"tokens":0,"window_ends_at":1700000060}"#.utf8)
        do {
            let store = try CheckpointStore(path: path)
            #expect(try store.rateLimitState(provider: "massive") == nil)
            try store.saveRateLimitState(Data("old".utf8), provider: "massive", at: 1)
            try store.saveRateLimitState(blob, provider: "massive", at: 2)
            try store.saveRateLimitState(Data("f".utf8), provider: "finnhub", at: 2)
        }
        let store = try CheckpointStore(path: path)
        #expect(try store.rateLimitState(provider: "massive") == blob)
        #expect(try store.rateLimitState(provider: "finnhub") == Data("f".utf8))
    }

    @Test func finishingAChunkSavesTheRateLimitsInTheSameTransaction() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try CheckpointStore(path: dir.appendingPathComponent("checkpoint.sqlite").path)
        try store.begin(planKey: "p1", chunks: chunks, at: 100)
        try store.markRunning(planKey: "p1", chunkID: "c0", at: 101)
        try store.markFinished(planKey: "p1", chunkID: "c0", status: .done, counts: ChunkCounts(), at: 102,
                               durationMilliseconds: 1, rateLimits: ["massive": Data("after c0".utf8)])
        #expect(try store.rateLimitState(provider: "massive") == Data("after c0".utf8))
        // A mark that fails (unknown chunk) leaves the saved state as it was.
        #expect(throws: CheckpointError.self) {
            try store.markUnfinished(planKey: "p1", chunkID: "nope", permanent: false, message: nil, nextAttemptAt: nil,
                                     requests: 1, at: 103, rateLimits: ["massive": Data("lost".utf8)])
        }
        #expect(try store.rateLimitState(provider: "massive") == Data("after c0".utf8))
    }

    @Test func aReaderOpensBesideTheRunThatHoldsTheLock() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("checkpoint.sqlite").path
        let writer = try CheckpointStore(path: path)
        try writer.begin(planKey: "p1", chunks: chunks, at: 100)
        let reader = try CheckpointStore(path: path, exclusive: false)
        #expect(try reader.seriesProgress().first?.chunks == 3)
    }

    @Test func aSecondStoreOnTheSameFileIsRefusedUntilTheFirstCloses() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("checkpoint.sqlite").path
        var first: CheckpointStore? = try CheckpointStore(path: path)
        #expect(throws: CheckpointError.locked(path: path + ".lock")) {
            _ = try CheckpointStore(path: path)
        }
        #expect(first != nil)
        first = nil
        _ = try CheckpointStore(path: path)
    }

    @Test func garbageInPlaceOfTheFileIsCorrupt() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("checkpoint.sqlite").path
        try Data("this is not a database, it is a plan someone pasted here".utf8).write(to: URL(fileURLWithPath: path))
        #expect { _ = try CheckpointStore(path: path) } throws: { isCorrupt($0) }
    }

    @Test func overwrittenPagesAreFoundWhenTheCheckpointOpens() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("checkpoint.sqlite").path
        do {
            let store = try CheckpointStore(path: path)
            let many = (0..<2_000).map { ChunkKey(id: String(repeating: "\($0 % 10)", count: 64) + "\($0)",
                                                  symbol: "SYM\($0)", timeframe: .h1) }
            try store.begin(planKey: "p1", chunks: many, at: 100)
        }   // closing the last connection folds the WAL into the main file
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect(bytes.count > 16 * 4096)
        // Scribble over the middle pages, leaving the header page intact.
        for offset in stride(from: 4096 * 2, to: bytes.count - 4096, by: 4096) {
            bytes.replaceSubrange(offset..<(offset + 64), with: Data(repeating: 0xA5, count: 64))
        }
        try bytes.write(to: URL(fileURLWithPath: path))
        #expect { _ = try CheckpointStore(path: path) } throws: { isCorrupt($0) }
    }

    @Test func aTruncatedFileIsCorrupt() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("checkpoint.sqlite").path
        do {
            let store = try CheckpointStore(path: path)
            try store.begin(planKey: "p1", chunks: (0..<2_000).map {
                ChunkKey(id: "chunk-\($0)-" + String(repeating: "x", count: 60), symbol: "S", timeframe: .d1)
            }, at: 1)
        }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.truncate(atOffset: 4096 * 3)
        try handle.close()
        #expect { _ = try CheckpointStore(path: path) } throws: { isCorrupt($0) }
    }

    @Test func someOtherSQLiteFileIsNotTakenForACheckpoint() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("other.sqlite").path
        do {
            let db = try SQLiteDatabase(path: path)
            try db.execute("CREATE TABLE recipes (name TEXT)")
        }
        #expect { _ = try CheckpointStore(path: path) } throws: { isCorrupt($0) }
    }

    @Test func aCheckpointFromANewerBarfillIsRefused() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("checkpoint.sqlite").path
        do {
            _ = try CheckpointStore(path: path)
            try SQLiteDatabase(path: path).setUserVersion(CheckpointStore.schemaVersion + 1)
        }
        #expect(throws: CheckpointError.newerSchema(path: path, version: CheckpointStore.schemaVersion + 1,
                                                    supported: CheckpointStore.schemaVersion)) {
            _ = try CheckpointStore(path: path)
        }
    }

    @Test func errorMessagesSayWhatToDo() {
        let corrupt = CheckpointError.corrupt(path: "x.sqlite", reason: "file is not a database")
        #expect(corrupt.errorDescription?.contains("move it aside") == true)
        #expect(CheckpointError.locked(path: "x.lock").errorDescription?.contains("--checkpoint") == true)
    }
}

private func isCorrupt(_ error: any Error) -> Bool {
    if case .corrupt = error as? CheckpointError { return true }
    return false
}
