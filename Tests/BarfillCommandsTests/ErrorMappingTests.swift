import ArgumentParser
import BarfillApply
@testable import BarfillCommands
import BarfillCore
import BarfillHTTP
import BarfillPostgres
import BarfillSQLite
import Foundation
import Testing

/// Errors to exit codes, and ArgumentParser's own errors in barfill's format, without spawning anything.
struct ErrorMappingTests {
    static let table: [(any Error & Sendable, Int32)] = [
        (ValidationError("--concurrency must be at least 1"), 64),
        (CalendarError.outOfRange(date: LocalDate(iso: "1980-01-02")!, first: LocalDate(iso: "1990-01-01")!,
                                  last: LocalDate(iso: "2040-12-31")!, calendar: "XNYS"), 64),
        (ProviderError.missingKey(.massive, variables: ["MASSIVE_API_KEY"]), 64),
        (PlanError.notJSON(reason: "unexpected end"), 65),
        (CheckpointError.corrupt(path: "c.sqlite", reason: "malformed"), 65),
        (CheckpointError.locked(path: "c.sqlite"), 75),
        (ApplyError.stalePlan(series: ["AAPL h1"]), 65),
        (ApplyError.notMigrated(pending: ["0002_barfill.sql"]), 1),
        (PostgresError.cannotConnect(reason: "connection refused"), 1),
        (PostgresError.connectionLost(reason: "server closed the connection unexpectedly"), 75),
        (ProviderError.unreachable(.massive, baseURL: "http://127.0.0.1:9", HTTPError.connect(host: "127.0.0.1", reason: "refused")), 75),
        (ProviderError.unreachable(.massive, baseURL: "http://barfill-test.invalid", HTTPError.dns(host: "barfill-test.invalid")), 75),
        (ProviderError.undecodable(.finnhub, reason: "half a body"), 75),
        (ProviderError.httpStatus(.finnhub, status: 403, message: "no entitlement"), 1),
        (OutputFileError(path: "/missing/dir/r.html", error: CocoaError(.fileNoSuchFile)), 1),
        (ExitCode(75), 75),
    ]

    @Test(arguments: table.indices)
    func everyErrorTypeMapsToItsDocumentedExitCode(_ index: Int) {
        let (error, code) = Self.table[index]
        #expect(ExitCodes.code(for: error) == code, "\(error)")
    }

    @Test func theCommandIsNamedFromTheArguments() {
        #expect(BarfillMain.commandName(["plan", "show", "plan.json"]) == "plan show")
        #expect(BarfillMain.commandName(["gaps", "--symbols", "AAPL"]) == "gaps")
        #expect(BarfillMain.commandName(["calendar", "slots", "--from", "2024-03-08"]) == "calendar slots")
        #expect(BarfillMain.commandName(["frobnicate"]) == "")
        #expect(BarfillMain.commandName([]) == "")
    }

    @Test(arguments: [
        ["gaps", "--no-such-option"],
        ["apply"],
        ["apply", "plan.json", "--concurrency", "0"],
        ["status", "--format", "yaml"],
        ["frobnicate"],
        ["calendar", "slots", "--timeframe", "h1", "--from", "2024-03-08"],
    ])
    func usageErrorsExit64(_ arguments: [String]) async {
        #expect(await BarfillMain.run(arguments) == 64)
    }

    @Test func versionAndHelpExitZero() async {
        #expect(await BarfillMain.run(["--version"]) == 0)
        #expect(await BarfillMain.run(["--help"]) == 0)
        #expect(await BarfillMain.run(["gaps", "--help"]) == 0)
        #expect(await BarfillMain.run(["help", "apply"]) == 0)
    }

    @Test func theVersionIsTheOneConstant() {
        #expect(Barfill.configuration.version == "barfill \(BarfillVersion.current)")
    }

    @Test func anInvalidPlanExits65() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("barfill-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let plan = directory.appendingPathComponent("plan.json")
        try Data("{\"format\": \"barfill.plan\"".utf8).write(to: plan)
        #expect(await BarfillMain.run(["plan", "show", plan.path]) == 65)
    }

    @Test func aFileErrorIsToldByItsReasonNotByFoundationsDump() throws {
        let path = "/nonexistent-\(UUID().uuidString)/report.html"
        do {
            try Data("x".utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
            Issue.record("writing into a missing directory succeeded")
        } catch {
            let message = ExitCodes.message(for: OutputFileError(path: path, error: error))
            #expect(message.hasPrefix("cannot write \(path): "))
            #expect(message.lowercased().contains("no such file or directory"), "\(message)")
            #expect(!message.contains("NSCocoaErrorDomain"))
            #expect(!message.contains("Error Domain"))
        }
    }

    @Test func aNonLocalizedFoundationErrorIsNotDumped() {
        let message = ExitCodes.message(for: CocoaError(.fileNoSuchFile))
        #expect(message == "No such file or directory", "\(message)")
    }
}
