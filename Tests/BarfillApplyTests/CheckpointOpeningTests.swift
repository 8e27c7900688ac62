import BarfillSQLite
import Foundation
import Testing
@testable import BarfillApply

@Suite struct CheckpointOpeningTests {
    /// The integrity check reads every page of the file: it runs on a dispatch thread, where no
    /// task is current, not on one of the cooperative pool's threads.
    @Test func blockingWorkRunsOutsideTheCooperativePool() async throws {
        let onPool = withUnsafeCurrentTask { $0 != nil }
        let offPoolHasTask = try await offPool { withUnsafeCurrentTask { $0 != nil } }
        #expect(onPool)
        #expect(!offPoolHasTask)
    }

    @Test func anOpenedCheckpointKeepsItsProgressAndItsLock() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("barfill-open-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("checkpoint.sqlite").path
        do {
            let store = try await CheckpointStore.open(path: path)
            try store.begin(planKey: "p1", chunks: [ChunkKey(id: "c0", symbol: "AAPL", timeframe: .h1)], at: 100)
            try store.markFinished(planKey: "p1", chunkID: "c0", status: .done, counts: ChunkCounts(), at: 101,
                                   durationMilliseconds: 1)
            await #expect(throws: CheckpointError.self) { _ = try await CheckpointStore.open(path: path) }
        }
        let reopened = try await CheckpointStore.open(path: path)
        #expect(try reopened.finishedChunkIDs(planKey: "p1") == ["c0"])
    }

    @Test func aDamagedCheckpointIsCorruptThroughTheOpenerToo() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("barfill-open-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("checkpoint.sqlite").path
        try Data("not a database but a pasted plan".utf8).write(to: URL(fileURLWithPath: path))
        await #expect {
            _ = try await CheckpointStore.open(path: path)
        } throws: { error in
            if case .corrupt = error as? CheckpointError { return true }
            return false
        }
    }
}
