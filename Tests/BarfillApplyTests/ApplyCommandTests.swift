import BarfillApply
import BarfillCore
import BarfillHTTP
import BarfillSQLite
import BarfillTestSupport
import Foundation
import Testing
import BarfillSimulator

/// `barfill apply` and `barfill status` as a user runs them: the real binary, real files, exit codes.
@Suite(.serialized, .requiresPostgres)
struct ApplyCommandTests {
    static let holes: [Range<Int>] = [3..<4, 10..<14, 24..<30]

    struct Setup {
        let fixture: ApplyFixture
        let binary: BarfillBinary
        let plan: Plan
        let planPath: String
        let symbolId: String

        func apply(_ extra: [String] = [], plan path: String? = nil) async throws -> BarfillBinary.Run {
            try await binary.run(["apply", path ?? planPath, "--checkpoint", fixture.checkpointPath,
                                  "--rate", "massive=6000/min"] + extra,
                                 directory: fixture.directory)
        }

        func writePlan(_ text: String, name: String) throws -> String {
            let path = fixture.directory.appendingPathComponent(name).path
            try Data(text.utf8).write(to: URL(fileURLWithPath: path))
            return path
        }

        /// The plan's JSON with `edit` applied to its first chunk.
        func editedFirstChunk(_ edit: (inout [String: Any]) -> Void) throws -> String {
            var json = try JSONSerialization.jsonObject(with: Data(plan.encoded())) as! [String: Any]
            var chunks = json["chunks"] as! [[String: Any]]
            edit(&chunks[0])
            json["chunks"] = chunks
            let data = try JSONSerialization.data(withJSONObject: json, options: [.sortedKeys, .prettyPrinted])
            return String(decoding: data, as: UTF8.self)
        }

        func barCount() throws -> Int { try fixture.rowCounts(symbolId, .h1).rows }
    }

    static func setup(environment extra: [String: String] = [:],
                      simulator: SimulatedProvider.Configuration = SimulatedProvider.Configuration()) throws -> Setup {
        let fixture = try ApplyFixture(simulator: simulator)
        let id = try fixture.seed("AAPL", .h1, holes: holes)
        let plan = fixture.plan([("AAPL", .h1, holes)])
        let planPath = fixture.directory.appendingPathComponent("plan.json").path
        try Data(plan.encoded()).write(to: URL(fileURLWithPath: planPath))
        var environment = ["DATABASE_URL": fixture.database.url, "MASSIVE_API_KEY": ApplyFixture.secret,
                           "MASSIVE_BASE_URL": fixture.simulator.massiveBaseURL]
        environment.merge(extra) { $1 }
        return Setup(fixture: fixture, binary: try BarfillBinary(environment: environment), plan: plan,
                     planPath: planPath, symbolId: id)
    }

    @Test func aDatabaseWithoutBarfillsTablesIsToldToMigrateBeforeAnyFetch() async throws {
        let setup = try Self.setup()
        // As if `barfill migrate` had never run: the app's own tables only.
        try setup.fixture.database.connection.execute(script: "DROP SCHEMA barfill CASCADE")
        let before = try setup.barCount()
        let run = try await setup.apply()
        #expect(run.status == 1, "\(run.stderr)")
        #expect(run.stderr.contains("barfill migrate"))
        #expect(setup.fixture.requests().isEmpty)
        #expect(try setup.barCount() == before)
    }

    @Test func appliesAPlanWritesTheReportAndTheJobSummaryAndExitsZero() async throws {
        let summary = FileManager.default.temporaryDirectory.appendingPathComponent("summary-\(UUID().uuidString).md")
        defer { try? FileManager.default.removeItem(at: summary) }
        let setup = try Self.setup(environment: ["GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": summary.path])
        let before = try setup.barCount()
        let reportPath = setup.fixture.directory.appendingPathComponent("run.json").path
        let run = try await setup.apply(["--report", reportPath])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(try setup.barCount() == before + 11)
        // Standard error is a file here: plain lines, no terminal escapes.
        #expect(!run.stderr.contains("\u{1B}"))
        // The simulator answers extended hours too: said as what they are, not as "off-grid" next to the plan's count.
        #expect(run.stderr.contains("provider bars lay outside the grid (e.g. extended hours) and were not stored"), "\(run.stderr)")
        #expect(!run.stderr.contains(" off-grid"))
        let report = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: reportPath))) as? [String: Any]
        #expect(report?["outcome"] as? String == "complete")
        #expect((report?["totals"] as? [String: Int])?["inserted"] == 11)
        #expect((report?["chunks"] as? [Any])?.count == 3)
        let markdown = try String(contentsOf: summary, encoding: .utf8)
        #expect(markdown.contains("### barfill apply: complete"))
        #expect(!run.stderr.contains(ApplyFixture.secret))

        // Again: every chunk already done, no request, exit 0.
        let requests = setup.fixture.requests().count
        let again = try await setup.apply()
        #expect(again.status == 0)
        #expect(setup.fixture.requests().count == requests)

        // status shows the series with its checkpoint progress.
        let status = try await setup.binary.run(["status", "--symbols", "AAPL", "--timeframes", "h1",
                                                 "--checkpoint", setup.fixture.checkpointPath],
                                                directory: setup.fixture.directory)
        #expect(status.status == 0, "\(status.stderr)")
        #expect(status.stdout.contains("AAPL"))
        #expect(status.stdout.contains("\(before + 11)"))
        #expect(status.stdout.contains("3/3 chunks"))
        let json = try await setup.binary.run(["status", "--symbols", "AAPL", "--format", "json",
                                               "--checkpoint", setup.fixture.checkpointPath],
                                              directory: setup.fixture.directory)
        #expect(json.status == 0, "\(json.stderr)")
        let rows = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]]
        let h1 = rows?.first { $0["timeframe"] as? String == "h1" }
        #expect(h1?["bars"] as? Int == before + 11)
        #expect(h1?["last_result"] as? String == "apply: 6 inserted, 0 updated, 0 confirmed empty")   // the last chunk, 24..<30
        #expect((h1?["checkpoint"] as? [String: Int])?["finished"] == 3)
    }

    @Test func aFailedChunkIsAnnotatedListedInTheSummaryAndExits1() async throws {
        let summary = FileManager.default.temporaryDirectory.appendingPathComponent("summary-\(UUID().uuidString).md")
        defer { try? FileManager.default.removeItem(at: summary) }
        let setup = try Self.setup(environment: ["GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": summary.path])
        let plan = setup.fixture.plan([("AAPL", .h1, Self.holes), ("GONE", .h1, [1..<2])])
        let path = try setup.writePlan(plan.text, name: "with-unknown.json")
        let run = try await setup.apply(plan: path)
        #expect(run.status == 1, "\(run.stderr)")
        #expect(run.stdout.contains("::error title=barfill apply::chunk"))
        #expect(run.stdout.contains("GONE"))
        #expect(run.stderr.contains("failed: "))
        let markdown = try String(contentsOf: summary, encoding: .utf8)
        #expect(markdown.contains("**Failed chunks**"))
        #expect(markdown.contains("not in the symbols table"))
        #expect(try setup.barCount() == ApplyFixture.ordinals(.h1).count)
    }

    @Test func dryRunListsTheChunksAndTouchesNothing() async throws {
        let setup = try Self.setup()
        let before = try setup.barCount()
        let run = try await setup.apply(["--dry-run"])
        #expect(run.status == 0, "\(run.stderr)")
        for chunk in setup.plan.chunks { #expect(run.stdout.contains(chunk.id)) }
        #expect(setup.fixture.requests().isEmpty)
        #expect(try setup.barCount() == before)
    }

    @Test func aSpentRequestBudgetExits75AndTheNextRunFinishes() async throws {
        let setup = try Self.setup(environment: ["GITHUB_ACTIONS": "true"])
        let first = try await setup.apply(["--max-requests", "1"])
        #expect(first.status == 75, "\(first.stderr)")
        #expect(first.stdout.contains("::warning"))
        #expect(first.stderr.contains("resume"))
        let second = try await setup.apply()
        #expect(second.status == 0, "\(second.stderr)")
        let counts = try setup.fixture.rowCounts(setup.symbolId, .h1)
        #expect(counts.rows == ApplyFixture.ordinals(.h1).count)
        #expect(counts.rows == counts.distinct)
    }

    @Test func aBudgetSpentByTheLastChunkIsAFinishedRunNotAResumableOne() async throws {
        let setup = try Self.setup()
        let planned = setup.plan.chunks.reduce(0) { $0 + $1.requests }
        let run = try await setup.apply(["--max-requests", String(planned)])
        #expect(run.status == 0, "\(run.stderr)")
        let counts = try setup.fixture.rowCounts(setup.symbolId, .h1)
        #expect(counts.rows == ApplyFixture.ordinals(.h1).count)
    }

    @Test func aSignalEndsAWaitForTheRateLimiterWithoutSendingTheRequest() async throws {
        let setup = try Self.setup()
        // One request a (real) minute: the first chunk goes at once, the second waits for the window.
        let (process, _, err) = try setup.binary.start(
            ["apply", setup.planPath, "--checkpoint", setup.fixture.checkpointPath, "--rate", "massive=1/min"],
            directory: setup.fixture.directory)
        let secondsToStop = try await CrashSafetyTests.onOwnThread { () -> Double in
            let giveUp = Date().addingTimeInterval(30)
            while setup.fixture.requests().isEmpty, Date() < giveUp { usleep(20_000) }
            usleep(500_000)   // the first chunk's write, then the second chunk's wait begins
            let signalled = Date()
            process.terminate()
            process.waitUntilExit()
            return Date().timeIntervalSince(signalled)
        }
        let stderr = (try? String(contentsOf: err, encoding: .utf8)) ?? ""
        #expect(process.terminationStatus == 75, "\(stderr)")
        // Stopped within seconds, not after the rest of the minute; the waiting request never went out.
        #expect(secondsToStop < 15, "\(stderr)")
        #expect(setup.fixture.requests().count == 1)

        let resumed = try await setup.apply()
        #expect(resumed.status == 0, "\(resumed.stderr)")
        let counts = try setup.fixture.rowCounts(setup.symbolId, .h1)
        #expect(counts.rows == ApplyFixture.ordinals(.h1).count && counts.rows == counts.distinct)
    }

    /// SIGINT (Ctrl-C) and SIGTERM (a runner cancelling the job) stop a run the same way.
    @Test(arguments: [SIGINT, SIGTERM])
    func aStopSignalFinishesTheChunkInFlightThenExits75(_ signal: Int32) async throws {
        let setup = try Self.setup()
        setup.fixture.simulator.inject([.slow(1.5)])   // the first answer only: the resumed run is quick
        let reportPath = setup.fixture.directory.appendingPathComponent("run.json").path
        let (process, _, err) = try setup.binary.start(
            ["apply", setup.planPath, "--checkpoint", setup.fixture.checkpointPath, "--rate", "massive=6000/min",
             "--report", reportPath], directory: setup.fixture.directory)
        // The simulator logs the first request when it arrives and answers 1.5 s later: signal on that
        // event, so the signal surely lands while the answer is on its way, however slow the machine.
        try await waitFor("the first request to reach the simulator") { !setup.fixture.requests().isEmpty || !process.isRunning }
        #expect(process.isRunning)
        kill(process.processIdentifier, signal)
        while process.isRunning { try await Task.sleep(nanoseconds: 10_000_000) }
        let stderr = (try? String(contentsOf: err, encoding: .utf8)) ?? ""
        #expect(process.terminationStatus == 75, "\(stderr)")
        #expect(stderr.contains("signal"))
        let report = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: reportPath))) as? [String: Any]
        #expect(report?["stop"] as? String == "signal")
        // The chunk in flight was finished, and no other was started.
        let chunks = report?["chunks"] as? [[String: Any]] ?? []
        #expect(chunks.count == 1)
        #expect(chunks.first?["status"] as? String == "done")
        #expect(setup.fixture.requests().count == 1)

        let resumed = try await setup.apply()
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(setup.fixture.requests().count == 3)
    }

    @Test func aDeadlineStopsStartingChunksAndExits75() async throws {
        let setup = try Self.setup(simulator: SimulatedProvider.Configuration(
            faultRules: [SimulatedProvider.FaultRule(every: 1, fault: .slow(3))]))
        let run = try await setup.apply(["--deadline", "1s"])
        #expect(run.status == 75, "\(run.stderr)")
        #expect(run.stderr.contains("deadline"))
        // Every answer takes 3 s, so any chunk after the first would start past the 1 s deadline. (On a
        // machine slow enough that the binary needs over 1 s to start, none starts: also right.)
        #expect(setup.fixture.requests().count <= 1)
    }

    @Test(arguments: [
        ("truncated", "not valid json"),
        ("unknown version", "version"),
        ("bad timeframe", "timeframe"),
        ("bad ticker", "ticker"),
        ("id mismatch", "changed"),
    ])
    func invalidPlansExit65BeforeAnythingRuns(_ kind: String, _ expected: String) async throws {
        let setup = try Self.setup()
        let before = try setup.barCount()
        let text: String
        switch kind {
        case "truncated":
            let full = setup.plan.text
            text = String(full.prefix(full.count / 2))
        case "unknown version":
            text = setup.plan.text.replacingOccurrences(of: "\"version\": 1,", with: "\"version\": 2,")
        case "bad timeframe":
            text = try setup.editedFirstChunk { $0["timeframe"] = "h2" }
        case "bad ticker":
            text = try setup.editedFirstChunk { $0["symbol"] = "AAPL/../../etc" }
        default:
            text = try setup.editedFirstChunk { $0["requests"] = 2 }
        }
        let path = try setup.writePlan(text, name: "bad.json")
        let run = try await setup.apply(plan: path)
        #expect(run.status == 65, "\(kind): \(run.stderr)")
        #expect(run.stderr.lowercased().contains(expected), "\(kind): \(run.stderr)")
        #expect(setup.fixture.requests().isEmpty)
        #expect(try setup.barCount() == before)
    }

    @Test func aCorruptedCheckpointExits65AndSaysWhatToDo() async throws {
        let setup = try Self.setup()
        try Data(repeating: 0x5A, count: 10_000).write(to: URL(fileURLWithPath: setup.fixture.checkpointPath))
        let before = try setup.barCount()
        let run = try await setup.apply()
        #expect(run.status == 65)
        #expect(run.stderr.contains("damaged"))
        #expect(run.stderr.contains("move it aside"))
        #expect(setup.fixture.requests().isEmpty)
        #expect(try setup.barCount() == before)
    }

    @Test func aCheckpointInUseExits75() async throws {
        let setup = try Self.setup()
        let holder = try CheckpointStore(path: setup.fixture.checkpointPath)
        let run = try await setup.apply()
        #expect(run.status == 75)
        #expect(run.stderr.contains("in use by another barfill apply"))
        withExtendedLifetime(holder) {}
    }

    @Test func usageErrorsExit64() async throws {
        let setup = try Self.setup()
        #expect(try await setup.apply(["--concurrency", "0"]).status == 64)
        #expect(try await setup.apply(["--deadline", "soon"]).status == 64)
        #expect(try await setup.apply(["--rate", "massive=fast"]).status == 64)
    }

    @Test func aMissingKeyIsAUsageErrorThatNamesTheVariable() async throws {
        let setup = try Self.setup(environment: ["MASSIVE_API_KEY": ""])
        let run = try await setup.apply()
        #expect(run.status == 64)
        #expect(run.stderr.contains("MASSIVE_API_KEY"))
    }
}
