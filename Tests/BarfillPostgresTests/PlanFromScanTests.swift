import BarfillCore
import BarfillPostgres
import BarfillTestSupport
import Foundation
import Testing

/// From table to plan file: what `barfill gaps` writes for a reviewer.
@Suite(.serialized, .requiresPostgres)
struct PlanFromScanTests {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    /// A table with holes of every kind in two series on two providers.
    static func database() throws -> TestDatabase {
        let db = try TestDatabase.fresh(schema: .freshInstall)
        let aapl = try db.insertSymbol("AAPL", primarySource: "massive")
        let msft = try db.insertSymbol("MSFT", primarySource: "finnhub")
        for timeframe in [Timeframe.h1, .d1] {
            let fall = FallWindow(grid: Grid(timeframe: timeframe))
            for id in [aapl, msft] {
                let bars = GridFixture.everySlot(of: fall.grid, from: FallWindow.from, until: FallWindow.until, except: fall.missing)
                _ = try db.insertBars(bars + fall.offGridBars, symbolId: id, timeframe: timeframe)
            }
        }
        return db
    }

    static func plan(_ db: TestDatabase, createdAt: Int64) throws -> Plan {
        let connection = try db.connect()
        let result = try GapScanner(connection: connection).scan(
            ScanRequest(from: FallWindow.from, until: FallWindow.until, full: true))
        return try Planner().plan(scans: result.series, window: Plan.Window(from: FallWindow.from, until: FallWindow.until),
                                  source: Plan.Source(host: connection.host, database: connection.databaseName),
                                  createdAt: createdAt)
    }

    @Test func twoScansOfUnchangedDataWriteTheSamePlanApartFromCreatedAt() throws {
        let db = try Self.database()
        let first = try Self.plan(db, createdAt: 1_733_000_000)
        let second = try Self.plan(db, createdAt: 1_733_086_400)
        #expect(first.summary.missingBars > 0 && first.summary.offGrid > 0)
        let lines = { (plan: Plan) in String(decoding: plan.encoded(), as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false) }
        let (a, b) = (lines(first), lines(second))
        try #require(a.count == b.count)
        let differing = zip(a, b).filter { $0 != $1 }
        #expect(differing.count == 1)
        #expect(differing.allSatisfy { $0.0.contains("\"created_at\"") })
    }

    @Test(.enabled(if: Self.hasJSONSchema || TestRun.requiresEverything, "python3 with jsonschema is not installed; `make test` installs it"))
    func aScannedPlanValidatesAgainstThePublishedSchema() throws {
        let plan = try Self.plan(try Self.database(), createdAt: 1_733_000_000)
        try #require(!plan.chunks.isEmpty)
        let (status, output) = try Self.python(["-c", """
            import json, sys, jsonschema
            schema = json.load(open(sys.argv[1]))
            errors = [e.message for e in jsonschema.Draft202012Validator(schema).iter_errors(json.load(sys.stdin))]
            print("\\n".join(errors)); sys.exit(1 if errors else 0)
            """, Self.packageRoot.appendingPathComponent("plans/plan.schema.json").path], input: plan.encoded())
        #expect(status == 0, "\(output)")
        // And barfill itself reads back exactly what it wrote.
        #expect(try Plan(decoding: plan.encoded()) == plan)
    }

    static let hasJSONSchema: Bool = (try? python(["-c", "import jsonschema"]).status == 0) ?? false

    static func python(_ arguments: [String], input: [UInt8] = []) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3"] + arguments
        let output = Pipe(), stdin = Pipe()
        process.standardOutput = output
        process.standardError = output
        process.standardInput = stdin
        try process.run()
        stdin.fileHandleForWriting.write(Data(input))
        try stdin.fileHandleForWriting.close()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, text)
    }
}
