import BarfillApply
import BarfillCore
import BarfillHTTP
import BarfillSQLite
import BarfillTestSupport
import Foundation
import Testing
import BarfillSimulator

/// `barfill apply` against a provider that misbehaves or is not there: resumable exits, never exit 1.
@Suite(.serialized, .requiresPostgres)
struct ApplyCommandFaultTests {
    /// The retries' backoff sleeps on the provider clock: at a tenth of real time the pauses (up to
    /// 1 + 2 + 4 s per chunk) stay short, and what is checked does not depend on them.
    static let fastBackoff = ["--time-scale", "0.1"]

    @Test func aProviderThatKeepsSendingGarbledAnswersExits75WithTheChunksPending() async throws {
        let setup = try ApplyCommandTests.setup(simulator: SimulatedProvider.Configuration(
            faultRules: [SimulatedProvider.FaultRule(every: 1, fault: .corrupt(.malformedJSON))]))
        let before = try setup.barCount()
        let reportPath = setup.fixture.directory.appendingPathComponent("run.json").path
        let run = try await setup.apply(["--report", reportPath] + Self.fastBackoff)
        #expect(run.status == 75, "\(run.stderr)")
        #expect(run.stderr.contains("run the same command again"))
        #expect(!run.stderr.contains(ApplyFixture.secret))
        #expect(try setup.barCount() == before)
        let report = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: reportPath))) as? [String: Any]
        #expect(report?["outcome"] as? String == "stopped")
        #expect(report?["stop"] as? String == "transient-faults")
        let store = try CheckpointStore(path: setup.fixture.checkpointPath)
        let progress = try store.progress(planKey: setup.plan.contentHash)
        #expect(progress.count == setup.plan.chunks.count)
        #expect(progress.values.allSatisfy { $0.status == .pending })
    }

    @Test func anUnreachableProviderExits75NamingTheURLAndCountsNoRequest() async throws {
        let port = try LoopbackPort.closed()
        let base = "http://127.0.0.1:\(port)/massive"
        let setup = try ApplyCommandTests.setup(environment: ["MASSIVE_BASE_URL": base])
        let before = try setup.barCount()
        let reportPath = setup.fixture.directory.appendingPathComponent("run.json").path
        let run = try await setup.apply(["--report", reportPath] + Self.fastBackoff)
        #expect(run.status == 75, "\(run.stderr)")
        #expect(run.stderr.contains(base))
        #expect(!run.stderr.contains(ApplyFixture.secret))
        #expect(try setup.barCount() == before)
        let text = try String(contentsOf: URL(fileURLWithPath: reportPath), encoding: .utf8)
        #expect(!text.contains(ApplyFixture.secret))
        let report = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
        #expect(report?["stop"] as? String == "provider-unreachable")
        #expect((report?["stop_reason"] as? String)?.contains(base) == true)
        #expect((report?["totals"] as? [String: Int])?["requests"] == 0)
        // The run stopped at the first chunk: the others were not tried against a provider that is not there.
        #expect((report?["chunks"] as? [Any])?.count == 1)
    }
}
