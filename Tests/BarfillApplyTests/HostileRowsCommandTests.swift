import BarfillCore
import BarfillTestSupport
import Foundation
import Testing

/// `gaps` and `status` over a symbols table with rows that are not tickers.
@Suite(.serialized, .requiresPostgres)
struct HostileRowsCommandTests {
    static let hostile = ["'; DROP TABLE ohlc_bars; --", "EVIL\u{1B}[2J\u{07}", String(repeating: "W", count: 500)]

    static func setup() throws -> (ApplyFixture, BarfillBinary) {
        let fixture = try ApplyFixture()
        try fixture.seed("AAPL", .h1, holes: [3..<5])
        for ticker in hostile { try fixture.seed(ticker, .h1, holes: []) }
        let binary = try BarfillBinary(environment: ["DATABASE_URL": fixture.database.url])
        return (fixture, binary)
    }

    @Test func theDefaultScanSkipsRowsThatAreNotTickersWithOneWarning() async throws {
        let (fixture, binary) = try Self.setup()
        let output = fixture.directory.appendingPathComponent("plan.json").path
        let run = try await binary.run(["gaps", "--from", "2024-03-01", "--until", "2024-04-01", "--output", output,
                                        "--detailed-exitcode"], directory: fixture.directory)
        #expect(run.status == 2, "gaps found for AAPL: \(run.stderr)")
        let warnings = run.stderr.split(separator: "\n").filter { $0.contains("warning") }
        #expect(warnings.count == 1, "\(run.stderr)")
        let warning = String(warnings.first ?? "")
        #expect(warning.contains("3 symbols.ticker value(s) are not tickers"))
        #expect(warning.contains(#""EVIL\u{1B}[2J\u{7}""#))
        #expect(warning.contains("\"'; DROP TABLE ohlc_bars…\""), "cut at 24 characters")
        #expect(warning.contains("\"" + String(repeating: "W", count: 23) + "…\""))
        #expect(!run.stderr.contains("\u{1B}") && !run.stderr.contains(String(repeating: "W", count: 25)))
        let plan = try Plan(decoding: Data(contentsOf: URL(fileURLWithPath: output)))
        #expect(plan.chunks.map(\.symbol.value) == ["AAPL"])
        #expect(try fixture.database.connection.query("SELECT count(*) FROM barfill.backfill_status").int(0, 0) == 1)
    }

    @Test func explicitMalformedSymbolsAreStillAUsageError() async throws {
        let (fixture, binary) = try Self.setup()
        let run = try await binary.run(["gaps", "--symbols", "AAPL,A;B", "--from", "2024-03-01", "--until", "2024-04-01"],
                                       directory: fixture.directory)
        #expect(run.status == 64, "\(run.stderr)")
    }

    @Test func statusEscapesAndCutsTickers() async throws {
        let (fixture, binary) = try Self.setup()
        let run = try await binary.run(["status"], directory: fixture.directory)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(!run.stdout.contains("\u{1B}") && !run.stdout.contains("\u{07}"))
        #expect(run.stdout.contains(#"EVIL\u{1B}[2J\u{7}"#))
        let lines = run.stdout.split(separator: "\n")
        #expect(lines.count == 5, "\(run.stdout)")
        // One long ticker does not widen the table: each line is as wide as its content needs.
        #expect(lines.allSatisfy { $0.count < 200 }, "\(lines.map(\.count))")
        #expect(!run.stdout.contains(String(repeating: "W", count: 41)))
    }
}
