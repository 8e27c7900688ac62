import Foundation
import Testing
@testable import BarfillCore

/// Checks plans against `plans/plan.schema.json` with Python's jsonschema (which `make test` installs).
enum SchemaValidator {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
    static let schema = packageRoot.appendingPathComponent("plans/plan.schema.json")

    /// Nil when python3 with jsonschema is not installed.
    static let available: Bool = (try? run(["-c", "import jsonschema"]).status == 0) ?? false
    /// The schema tests run when jsonschema is there, and also when it is not but every test must
    /// run (CI, `make test`): then they fail, since a skip would count as a pass.
    static var runs: Bool { available || requiresEverything }

    static func run(_ arguments: [String], input: [UInt8]? = nil) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3"] + arguments
        let output = Pipe(), stdin = Pipe()
        process.standardOutput = output
        process.standardError = output
        process.standardInput = stdin
        try process.run()
        if let input { stdin.fileHandleForWriting.write(Data(input)) }
        try stdin.fileHandleForWriting.close()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, text)
    }

    /// Validates one plan text read from standard input; returns the validator's complaint, or nil when valid.
    static func errors(in text: [UInt8]) throws -> String? {
        let script = """
        import json, sys, jsonschema
        schema = json.load(open(sys.argv[1]))
        jsonschema.Draft202012Validator.check_schema(schema)
        errors = [e.message for e in jsonschema.Draft202012Validator(schema).iter_errors(json.load(sys.stdin))]
        print("\\n".join(errors)); sys.exit(1 if errors else 0)
        """
        let result = try run(["-c", script, schema.path], input: text)
        return result.status == 0 ? nil : result.output
    }

    /// `errors(in:)` for several texts in one Python process (starting one and importing jsonschema
    /// costs about a second on a loaded machine): one answer per text, in order.
    static func errors(in texts: [[UInt8]]) throws -> [String?] {
        let script = """
        import json, sys, jsonschema
        schema = json.load(open(sys.argv[1]))
        jsonschema.Draft202012Validator.check_schema(schema)
        validator = jsonschema.Draft202012Validator(schema)
        for document in json.load(sys.stdin):
            errors = [e.message for e in validator.iter_errors(document)]
            print(json.dumps("\\n".join(errors) if errors else None))
        """
        // One JSON array of the texts; each answer is one line (json.dumps writes no raw newline).
        var input: [UInt8] = Array("[".utf8)
        for (index, text) in texts.enumerated() { input += (index == 0 ? [] : Array(",".utf8)) + text }
        input += Array("]".utf8)
        let result = try run(["-c", script, schema.path], input: input)
        let lines = result.output.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        guard result.status == 0, lines.count == texts.count else {
            throw CocoaError(.coderReadCorrupt, userInfo: [NSDebugDescriptionErrorKey: "the validator failed: \(result.output)"])
        }
        return try lines.map { try JSONDecoder().decode(String?.self, from: Data($0.utf8)) }
    }
}

@Suite(.enabled(if: SchemaValidator.runs, "python3 with jsonschema is not installed; `make test` installs it (pip install jsonschema)"))
struct PlanSchemaTests {
    @Test func theFixturePlanValidates() throws {
        #expect(try SchemaValidator.errors(in: PlanFixture.plan().encoded()) == nil)
    }

    @Test func anEmptyPlanValidates() throws {
        let plan = PlanFixture.plan()
        let empty = Plan(createdAt: plan.createdAt, calendar: plan.calendar, window: plan.window, source: plan.source,
                         series: [], chunks: [])
        #expect(try SchemaValidator.errors(in: empty.encoded()) == nil)
    }

    @Test func theExamplePlanValidatesAndDecodes() throws {
        let bytes = try [UInt8](Data(contentsOf: SchemaValidator.packageRoot.appendingPathComponent("plans/example.json")))
        #expect(try SchemaValidator.errors(in: bytes) == nil)
        let plan = try Plan(decoding: bytes)
        #expect(plan.encoded() == bytes, "the example is in canonical form")
    }

    @Test func theSchemaRefusesWhatTheDecoderRefuses() throws {
        let edits: [(String, (inout JSONValue) -> Void)] = [
            ("extra field", { $0["url"] = .string("https://evil.example") }),
            ("bad ticker", { $0["chunks"]![0]["symbol"] = .string("aapl") }),
            ("bad timeframe", { $0["chunks"]![0]["timeframe"] = .string("m2") }),
            ("bad time", { $0["window"]!["from"] = .string("2024-03-01T05:00:00+00:00") }),
            ("before 1990", { $0["window"]!["from"] = .string("1989-12-31T00:00:00Z") }),
            ("fraction", { $0["summary"]!["chunks"] = .number("2.5") }),
            ("short id", { $0["chunks"]![0]["id"] = .string("abc") }),
            ("host with credentials", { $0["source"]!["host"] = .string("user:pw@db") }),
            ("unknown kind", { $0["chunks"]![0]["gaps"]![0]["kind"] = .string("middle") }),
            ("wrong version", { $0["version"] = .integer(2) }),
        ]
        var texts: [[UInt8]] = []
        for (name, edit) in edits {
            var json = planJSON()
            edit(&json)
            texts.append(Array(json.canonicalText.utf8))
            #expect(throws: PlanError.self, "decoder accepted: \(name)") { try decode(json) }
        }
        // The unedited plan first: the batch must tell a valid text from the invalid ones.
        let verdicts = try SchemaValidator.errors(in: [Array(planJSON().canonicalText.utf8)] + texts)
        #expect(verdicts.first == .some(nil), "the unedited plan: \(String(describing: verdicts.first))")
        for (verdict, (name, _)) in zip(verdicts.dropFirst(), edits) {
            #expect(verdict != nil, "schema accepted: \(name)")
        }
    }
}

/// True under CI and in `make test` (`BARFILL_REQUIRE_ALL=1`): a missing resource fails a test there
/// instead of skipping it. (BarfillTestSupport's `TestRun` says the same for the database suites.)
var requiresEverything: Bool { mustRunEverything(in: ProcessInfo.processInfo.environment) }

func mustRunEverything(in environment: [String: String]) -> Bool {
    if environment["BARFILL_REQUIRE_ALL"] == "1" { return true }
    guard let ci = environment["CI"], !ci.isEmpty else { return false }
    return !["false", "0"].contains(ci.lowercased())
}

@Suite struct SkipPolicyTests {
    @Test func everyTestMustRunUnderCIAndMakeTest() {
        #expect(mustRunEverything(in: ["CI": "true"]))
        #expect(mustRunEverything(in: ["CI": "1"]))
        #expect(mustRunEverything(in: ["BARFILL_REQUIRE_ALL": "1"]))
        #expect(!mustRunEverything(in: [:]))
        #expect(!mustRunEverything(in: ["CI": "false"]))
        #expect(!mustRunEverything(in: ["CI": ""]))
    }
}
