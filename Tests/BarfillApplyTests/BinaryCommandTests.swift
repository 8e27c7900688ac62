import BarfillCore
import BarfillHTTP
import BarfillTestSupport
import Foundation
import Testing
import BarfillSimulator

/// Every command through the real binary, as a user runs it: exit code, where the output goes, and
/// barfill's one error format (`barfill <command>: error: …`, a usage hint on 64).
@Suite(.serialized)
struct BinaryCommandTests {
    /// One command line and what it must do. `$DIR` is a fresh directory, `$PLAN` a valid plan,
    /// `$BAD_PLAN` a plan that is not JSON.
    struct Case: Sendable, CustomTestStringConvertible {
        var arguments: [String]
        var status: Int32
        /// Text standard output must contain (empty: anything).
        var stdout: String = ""
        /// Text standard error must start with (empty: anything).
        var stderrPrefix: String = ""
        var needsDatabase = false
        /// Variables set for this case over the common ones.
        var environment: [String: String] = [:]

        var testDescription: String { "barfill " + arguments.joined(separator: " ") + " → \(status)" }
    }

    static let cases: [Case] = [
        Case(arguments: ["--version"], status: 0, stdout: "barfill \(versionFromSource)\n"),
        Case(arguments: ["--help"], status: 0, stdout: "USAGE: barfill <subcommand>"),
        Case(arguments: ["gaps", "--help"], status: 0, stdout: "--from <date|instant>"),
        Case(arguments: ["--generate-completion-script", "bash"], status: 0, stdout: "_barfill()"),
        Case(arguments: ["gaps", "--no-such-option"], status: 64,
             stderrPrefix: "barfill gaps: error: Unknown option '--no-such-option'\nSee 'barfill gaps --help'.\n"),
        Case(arguments: ["frobnicate"], status: 64, stderrPrefix: "barfill: error: "),
        Case(arguments: ["gaps", "--symbols", "AAPL,a b$", "--from", "2024-03-01"], status: 64,
             stderrPrefix: "barfill gaps: error: --symbols: \"a b$\" is not a ticker"),
        Case(arguments: ["gaps", "--from", "1980-01-02", "--until", "1980-02-01"], status: 64,
             stderrPrefix: "barfill gaps: error: --from: 1980-01-02 is outside the XNYS calendar"),
        Case(arguments: ["report", "--html", "$DIR/r.html", "--until", "2099-01-01"], status: 64,
             stderrPrefix: "barfill report: error: --until: 2099-01-01 is outside the XNYS calendar"),
        Case(arguments: ["calendar", "sessions", "--from", "1980-01-02"], status: 64,
             stderrPrefix: "barfill calendar sessions: error: --from: 1980-01-02 is outside"),
        Case(arguments: ["calendar", "sessions", "--from", "2024-03-08", "--until", "2024-03-12"], status: 0,
             stdout: #"{"date":"2024-03-08","open":"2024-03-08T14:30:00Z","close":"2024-03-08T21:00:00Z"}"# + "\n"
                 + #"{"date":"2024-03-11","open":"2024-03-11T13:30:00Z","close":"2024-03-11T20:00:00Z"}"# + "\n"),
        // The old, inclusive spelling still works.
        Case(arguments: ["calendar", "sessions", "--from", "2024-03-08", "--to", "2024-03-11"], status: 0,
             stdout: #"{"date":"2024-03-11","open":"2024-03-11T13:30:00Z","close":"2024-03-11T20:00:00Z"}"# + "\n"),
        Case(arguments: ["calendar", "slots", "--timeframe", "h1", "--from", "2024-07-03", "--until", "2024-07-04"], status: 0,
             stdout: "2024-07-03T14:00:00Z\n2024-07-03T15:00:00Z\n2024-07-03T16:00:00Z\n"),
        Case(arguments: ["plan", "show", "$PLAN"], status: 0, stdout: "chunks"),
        Case(arguments: ["plan", "show", "$BAD_PLAN"], status: 65, stderrPrefix: "barfill plan show: error: "),
        Case(arguments: ["plan", "show", "$DIR/none.json"], status: 1,
             stderrPrefix: "barfill plan show: error: cannot read plan $DIR/none.json: No such file or directory"),
        Case(arguments: ["fetch", "--provider", "massive", "--symbol", "aapl", "--timeframe", "h1",
                         "--from", "2024-03-08", "--until", "2024-03-09"], status: 0,
             stdout: #"{"ts":"2024-03-08T15:00:00Z","#),
        Case(arguments: ["fetch", "--provider", "finnhub", "--symbol", "AAPL", "--timeframe", "h1",
                         "--from", "2024-03-08", "--until", "2024-03-09"], status: 64,
             stderrPrefix: "barfill fetch: error: "),
        Case(arguments: ["fetch", "--provider", "massive", "--symbol", "AAPL", "--timeframe", "h1",
                         "--from", "2024-03-08", "--until", "2024-03-09", "--to", "2024-03-09"], status: 64,
             stderrPrefix: "barfill fetch: error: --until and --to"),
        // A host under `.invalid` (RFC 6761) fails to resolve without asking any resolver: the DNS
        // failure, provider unreachable, exit 75 (resumable), whatever network the test runs on.
        Case(arguments: ["fetch", "--provider", "massive", "--symbol", "AAPL", "--timeframe", "h1",
                         "--from", "2024-03-08", "--until", "2024-03-09"], status: 75,
             stderrPrefix: "barfill fetch: error: cannot reach massive at http://barfill-test.invalid:8080: "
                 + "cannot resolve barfill-test.invalid",
             environment: ["MASSIVE_BASE_URL": "http://barfill-test.invalid:8080"]),
        // The port of the test's own simulator is taken.
        Case(arguments: ["simulate-provider", "--port", "$SIM_PORT"], status: 1,
             stderrPrefix: "barfill simulate-provider: error: cannot serve on 127.0.0.1: bind failed"),
    ]

    /// Commands that read or write PostgreSQL.
    static let databaseCases: [Case] = [
        Case(arguments: ["migrate"], status: 0, stderrPrefix: "barfill migrate: applied", needsDatabase: true),
        Case(arguments: ["report", "--html", "$DIR/r.html", "--from", "2024-03-01", "--until", "2024-04-01"], status: 0,
             stderrPrefix: "barfill report: ", needsDatabase: true),
        Case(arguments: ["report", "--html", "$DIR/missing/r.html", "--from", "2024-03-01", "--until", "2024-04-01"], status: 1,
             stderrPrefix: "barfill report: error: cannot write $DIR/missing/r.html: No such file or directory", needsDatabase: true),
    ]

    /// The version as the source writes it, so the test follows a release without editing.
    static let versionFromSource: String = {
        let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Sources/BarfillCommands/Barfill.swift")
        let text = (try? String(contentsOf: source, encoding: .utf8)) ?? ""
        let line = text.split(separator: "\n").first { $0.contains("public static let current") } ?? ""
        return line.split(separator: "\"").dropFirst().first.map(String.init) ?? "?"
    }()

    @Test(arguments: cases)
    func commandExitsWithItsCodeAndFormat(_ test: Case) async throws {
        try await check(test)
    }

    @Test(.requiresPostgres, arguments: databaseCases)
    func databaseCommandExitsWithItsCodeAndFormat(_ test: Case) async throws {
        try await check(test)
    }

    func check(_ test: Case) async throws {
        let database = test.needsDatabase ? try TestDatabase.fresh(schema: .swiftBolt) : nil
        let simulator = try SimulatedProvider()
        defer { simulator.stop() }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("barfill-binary-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let examplePlan = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("plans/example.json")
        let badPlan = directory.appendingPathComponent("bad.json")
        try Data("{\"format\": \"barfill.plan\",".utf8).write(to: badPlan)

        var environment = ["MASSIVE_API_KEY": "sim-key-binary-tests", "MASSIVE_BASE_URL": simulator.massiveBaseURL]
        if let database { environment["DATABASE_URL"] = database.url }
        environment.merge(test.environment) { _, override in override }
        let binary = try BarfillBinary(environment: environment)
        func substitute(_ text: String) -> String {
            text.replacingOccurrences(of: "$SIM_PORT", with: String(simulator.massiveBaseURL.split(separator: ":").last ?? ""))
                .replacingOccurrences(of: "$DIR", with: directory.path)
                .replacingOccurrences(of: "$BAD_PLAN", with: badPlan.path)
                .replacingOccurrences(of: "$PLAN", with: examplePlan.path)
        }
        let run = try await binary.run(test.arguments.map(substitute), directory: directory)
        #expect(run.status == test.status, "\(run.stderr)")
        #expect(test.stdout.isEmpty || run.stdout.contains(test.stdout), "\(run.stdout.prefix(400))")
        #expect(run.stderr.hasPrefix(substitute(test.stderrPrefix)), "\(run.stderr)")
        // One format: never ArgumentParser's "Error:", never Foundation's raw error text, no escapes off a terminal.
        #expect(!run.stderr.contains("Error:") && !run.stderr.contains("NSCocoaErrorDomain"), "\(run.stderr)")
        #expect(!run.stderr.contains("\u{1B}") && !run.stdout.contains("\u{1B}"))
        if test.status == 64 { #expect(run.stderr.contains("--help'.\n"), "\(run.stderr)") }
    }

    @Test func simulateProviderPrintsItsURLAnswersAndStopsOnSIGTERM() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("barfill-binary-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let server = try BarfillBinary(environment: [:])
        let (process, out, err) = try server.start(["simulate-provider"], directory: directory)
        defer { if process.isRunning { process.terminate() } }
        var baseURL = ""
        for _ in 0..<500 where baseURL.isEmpty {
            baseURL = ((try? String(contentsOf: out, encoding: .utf8)) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
            if baseURL.isEmpty { try await Task.sleep(nanoseconds: 10_000_000) }
        }
        #expect(baseURL.hasPrefix("http://127.0.0.1:"), "\(baseURL)")
        let port = Int(baseURL.split(separator: ":").last ?? "") ?? 0
        #expect(port > 0)

        let client = try BarfillBinary(environment: ["MASSIVE_API_KEY": "any-key", "MASSIVE_BASE_URL": baseURL])
        let fetch = try await client.run(["fetch", "--provider", "massive", "--symbol", "MSFT", "--timeframe", "d1",
                                          "--from", "2024-03-04", "--until", "2024-03-09"], directory: directory)
        #expect(fetch.status == 0, "\(fetch.stderr)")
        #expect(fetch.stdout.split(separator: "\n").count == 5)

        process.terminate()   // SIGTERM
        while process.isRunning { try await Task.sleep(nanoseconds: 10_000_000) }
        #expect(process.terminationStatus == 0)
        let log = (try? String(contentsOf: err, encoding: .utf8)) ?? ""
        #expect(log.contains("stopped by SIGTERM; served 1 request(s) (200: 1)"), "\(log)")
    }
}
