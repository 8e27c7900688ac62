import BarfillApply
import BarfillCore
import BarfillHTTP
import BarfillPostgres
import BarfillTestSupport
import Foundation
import Testing
import BarfillSimulator

/// The README's least-privilege roles, created by its GRANT script as written, then `gaps` as the
/// reader and `apply` as the writer through the real binary; and what a failing run leaves behind
/// (checkpoint with its WAL, run report, step summary, stderr) never holds a key or a password.
/// scripts/with-postgres makes both roles log in with their passwords (scram-sha-256).
@Suite(.serialized, .requiresPostgres)
struct LeastPrivilegeAndRedactionTests {
    static let holes: [Range<Int>] = [3..<4, 10..<14]

    /// The README's `sql` block under "Least-privilege roles", and the passwords it sets.
    static func grantScript() throws -> (sql: String, reader: String, writer: String) {
        let readme = try String(contentsOf: repositoryRoot.appendingPathComponent("README.md"), encoding: .utf8)
        let section = try #require(readme.range(of: "### Least-privilege roles"))
        let rest = readme[section.upperBound...]
        let open = try #require(rest.range(of: "```sql\n"))
        let close = try #require(rest[open.upperBound...].range(of: "```"))
        let sql = String(rest[open.upperBound..<close.lowerBound])
        func password(_ role: String) throws -> String {
            let line = try #require(sql.split(separator: "\n").first { $0.hasPrefix("CREATE ROLE \(role) ") })
            let quoted = line.split(separator: "'")
            return String(try #require(quoted.count >= 2 ? quoted[1] : nil))
        }
        return (sql, try password("barfill_reader"), try password("barfill_writer"))
    }

    /// Runs the README's script in `database` (the script grants on database `postgres`: the test's
    /// database has its own name) and returns the two roles' URLs; `drop` removes the roles again.
    static func createRoles(in database: TestDatabase) throws -> (reader: String, writer: String, drop: () -> Void) {
        let script = try grantScript()
        let sql = script.sql.replacingOccurrences(of: "ON DATABASE postgres TO", with: "ON DATABASE \(database.name) TO")
        #expect(sql != script.sql, "the README's script no longer grants on database postgres")
        try database.connection.execute(script: sql)
        func url(_ role: String, _ password: String) throws -> String {
            var components = try #require(URLComponents(string: database.url))
            components.user = role
            components.password = password
            return try #require(components.string)
        }
        let connection = database.connection
        return (try url("barfill_reader", script.reader), try url("barfill_writer", script.writer), {
            _ = try? connection.execute(script: "DROP OWNED BY barfill_reader, barfill_writer; DROP ROLE barfill_reader, barfill_writer")
        })
    }

    /// Every byte of every file in `directory` (the checkpoint, its -wal and -shm, reports…), as text.
    static func everything(in directory: URL) throws -> [(name: String, text: String)] {
        try FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil).map {
            ($0.lastPathComponent, String(decoding: try Data(contentsOf: $0), as: UTF8.self))
        }
    }

    @Test func theReadmesRolesAreEnoughForGapsAsTheReaderAndApplyAsTheWriter() async throws {
        let fixture = try ApplyFixture()
        let id = try fixture.seed("AAPL", .h1, holes: Self.holes)
        let roles = try Self.createRoles(in: fixture.database)
        defer { roles.drop() }
        let window = ["--from", UTC.format(ApplyFixture.window.from), "--until", UTC.format(ApplyFixture.window.until)]
        let planPath = fixture.directory.appendingPathComponent("plan.json").path

        let reader = try BarfillBinary(environment: ["DATABASE_URL": roles.reader])
        let gaps = try await reader.run(["gaps", "--symbols", "AAPL", "--timeframes", "h1", "--detailed-exitcode",
                                         "--output", planPath] + window, directory: fixture.directory)
        #expect(gaps.status == 2, "gaps as barfill_reader: \(gaps.stderr)")
        let plan = try Plan(decoding: [UInt8](Data(contentsOf: URL(fileURLWithPath: planPath))))
        #expect(plan.chunks.reduce(0) { $0 + $1.gaps.reduce(0) { $0 + $1.bars } } == 5)

        let before = try fixture.rowCounts(id, .h1).rows
        let writer = try BarfillBinary(environment: [
            "DATABASE_URL": roles.writer, "MASSIVE_API_KEY": ApplyFixture.secret,
            "MASSIVE_BASE_URL": fixture.simulator.massiveBaseURL,
        ])
        let apply = try await writer.run(["apply", planPath, "--checkpoint", fixture.checkpointPath, "--rate", "massive=6000/min"],
                                         directory: fixture.directory)
        #expect(apply.status == 0, "apply as barfill_writer: \(apply.stderr)")
        #expect(try fixture.rowCounts(id, .h1).rows == before + 5)

        // The reader cannot write bars: the roles are what the README says they are.
        let readerConnection = try PostgresConnection(url: roles.reader)
        #expect(throws: PostgresError.self) {
            try readerConnection.query("DELETE FROM ohlc_bars WHERE symbol_id = $1::uuid", [id])
        }
    }

    /// A key and a database password go into runs whose fetches fail (a 401 for the key, connections
    /// cut mid-body until the retries give up); neither may show up anywhere the run leaves text.
    @Test(arguments: ["unauthorized", "truncated"])
    func aFailingRunLeavesNoKeyOrPasswordAnywhere(_ failure: String) async throws {
        let key = "sk-live-REDACT-ME-\(UUID().uuidString.prefix(8))"
        var simulator = SimulatedProvider.Configuration()
        if failure == "unauthorized" {
            simulator.acceptsAnyKey = false
        } else {
            simulator.faultRules = [.init(every: 1, fault: .truncate)]
        }
        let fixture = try ApplyFixture(simulator: simulator)
        _ = try fixture.seed("AAPL", .h1, holes: Self.holes)
        let roles = try Self.createRoles(in: fixture.database)
        defer { roles.drop() }
        let password = try Self.grantScript().writer
        let planPath = fixture.directory.appendingPathComponent("plan.json").path
        try Data(fixture.plan([("AAPL", .h1, Self.holes)]).encoded()).write(to: URL(fileURLWithPath: planPath))
        let summary = fixture.directory.appendingPathComponent("step-summary.md")
        let binary = try BarfillBinary(environment: [
            "DATABASE_URL": roles.writer, "MASSIVE_API_KEY": key, "MASSIVE_BASE_URL": fixture.simulator.massiveBaseURL,
            "GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": summary.path,
        ])
        // The cut answers are retried with backoff on the provider clock, kept short as in the fault tests.
        let run = try await binary.run(["apply", planPath, "--checkpoint", fixture.checkpointPath, "--rate", "massive=6000/min",
                                        "--report", fixture.directory.appendingPathComponent("run.json").path]
                                           + ApplyCommandFaultTests.fastBackoff,
                                       directory: fixture.directory)
        // A bad key fails its chunks for good (1). Cut answers should stop resumably (75, the team's
        // rule for transient faults after retries), but apply reports them as failed chunks (1) today:
        // any failure status will do here, this test is about what the run leaves behind.
        #expect(failure == "unauthorized" ? run.status == 1 : [1, 75].contains(run.status), "\(run.stderr)")
        #expect(!fixture.requests().isEmpty, "the key never went out: nothing was tested")
        let files = try Self.everything(in: fixture.directory)
        let names = Set(files.map(\.name))
        #expect(names.contains("checkpoint.sqlite") && names.contains("run.json") && names.contains("step-summary.md"), "\(names)")
        // The checkpoint holds the chunk's error: the thing most likely to quote a URL with the key.
        #expect(files.first { $0.name == "checkpoint.sqlite" }.map { $0.text.contains("unfinished") || $0.text.contains("failed") || $0.text.contains("pending") } == true)
        let encodedKey = key.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
        for (name, text) in files + [("stdout", run.stdout), ("stderr", run.stderr)] {
            #expect(!text.contains(key) && !text.contains(encodedKey), "the API key is in \(name)")
            #expect(!text.contains(password), "the database password is in \(name)")
        }
    }

    @Test func aDatabaseURLWithAWrongPasswordFailsAtStartWithoutShowingIt() async throws {
        let fixture = try ApplyFixture()
        let roles = try Self.createRoles(in: fixture.database)
        defer { roles.drop() }
        let secret = "not-the-writers-password-\(UUID().uuidString.prefix(6))"
        var components = try #require(URLComponents(string: roles.writer))
        components.password = secret
        let planPath = fixture.directory.appendingPathComponent("plan.json").path
        try Data(fixture.plan([("AAPL", .h1, Self.holes)]).encoded()).write(to: URL(fileURLWithPath: planPath))
        let binary = try BarfillBinary(environment: ["DATABASE_URL": try #require(components.string),
                                                     "MASSIVE_API_KEY": ApplyFixture.secret,
                                                     "MASSIVE_BASE_URL": fixture.simulator.massiveBaseURL])
        for arguments in [["gaps", "--symbols", "AAPL"], ["apply", planPath, "--checkpoint", fixture.checkpointPath]] {
            let run = try await binary.run(arguments, directory: fixture.directory)
            #expect(run.status == 1, "\(arguments[0]): \(run.stderr)")
            #expect(run.stderr.contains("barfill \(arguments[0]): error:"), "\(run.stderr)")
            #expect(!run.stderr.contains(secret) && !run.stdout.contains(secret))
        }
        #expect(fixture.requests().isEmpty)
    }
}

/// The repository's root, found from this file's path.
private let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
