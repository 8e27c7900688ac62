import Foundation
import Testing
@testable import BarfillCore

/// A small plan with every kind of entry: a series with an interior and a tail gap in one chunk,
/// a daily head gap from another provider, and a complete series with off-grid bars.
enum PlanFixture {
    static func time(_ text: String) -> Int64 { UTC.parse(text)! }

    static func plan(createdAt: Int64 = time("2024-03-09T12:00:00Z")) -> Plan {
        let aapl = Ticker("AAPL")!, msft = Ticker("MSFT")!, spy = Ticker("SPY")!
        let series = [
            Plan.Series(symbol: spy, timeframe: .m15, provider: .massive, from: time("2024-03-01T05:00:00Z"),
                        until: time("2024-03-09T05:00:00Z"), expected: 156, present: 156, offGrid: 4,
                        fingerprint: SHA256.hex("SPY m15")),
            Plan.Series(symbol: aapl, timeframe: .h1, provider: .massive, from: time("2024-03-01T05:00:00Z"),
                        until: time("2024-03-09T05:00:00Z"), expected: 36, present: 33, offGrid: 0,
                        fingerprint: SHA256.hex("AAPL h1")),
            Plan.Series(symbol: msft, timeframe: .d1, provider: .finnhub, from: time("2024-03-01T05:00:00Z"),
                        until: time("2024-03-09T05:00:00Z"), expected: 6, present: 5, offGrid: 1,
                        fingerprint: SHA256.hex("MSFT d1")),
        ]
        let chunks = [
            Plan.Chunk(symbol: msft, timeframe: .d1, provider: .finnhub, from: time("2024-03-01T05:00:00Z"),
                       to: time("2024-03-01T21:00:00Z"), requests: 1,
                       gaps: [Plan.ChunkGap(from: time("2024-03-01T05:00:00Z"), to: time("2024-03-01T21:00:00Z"), bars: 1, kind: .head)]),
            Plan.Chunk(symbol: aapl, timeframe: .h1, provider: .massive, from: time("2024-03-04T15:00:00Z"),
                       to: time("2024-03-08T21:00:00Z"), requests: 1,
                       gaps: [Plan.ChunkGap(from: time("2024-03-04T15:00:00Z"), to: time("2024-03-04T16:00:00Z"), bars: 1, kind: .interior),
                              Plan.ChunkGap(from: time("2024-03-08T19:00:00Z"), to: time("2024-03-08T21:00:00Z"), bars: 2, kind: .tail)]),
        ]
        return Plan(createdAt: createdAt, calendar: .init(name: "XNYS", grid: "clock/regular/start-inside", version: "xnys-1"),
                    window: .init(from: time("2024-03-01T05:00:00Z"), until: time("2024-03-09T05:00:00Z")),
                    source: .init(host: "db.example.com", database: "postgres"), series: series, chunks: chunks)
    }
}

/// Edits a JSON document the way a reviewer's editor would: by path.
extension JSONValue {
    subscript(key: String) -> JSONValue? {
        get { if case let .object(m) = self { m[key] } else { nil } }
        set {
            guard case var .object(m) = self else { return }
            m[key] = newValue
            self = .object(m)
        }
    }

    subscript(index: Int) -> JSONValue {
        get { if case let .array(a) = self { a[index] } else { .null } }
        set {
            guard case var .array(a) = self else { return }
            a[index] = newValue
            self = .array(a)
        }
    }

    var items: [JSONValue] {
        get { if case let .array(a) = self { a } else { [] } }
        set { self = .array(newValue) }
    }
}

func planJSON(_ plan: Plan = PlanFixture.plan()) -> JSONValue {
    try! JSONValue(parsing: plan.encoded())
}

/// Gives a hand-edited chunk the id of its new content, as someone forging a plan would.
func rehash(_ chunk: inout JSONValue) {
    chunk["id"] = nil
    let id = Plan.Chunk.contentID(of: chunk)
    chunk["id"] = .string(id)
}

func decode(_ value: JSONValue) throws(PlanError) -> Plan {
    try Plan(decoding: Array(value.canonicalText.utf8))
}

@Suite struct PlanCodecTests {
    @Test func writesCanonicalText() {
        let text = PlanFixture.plan().text
        #expect(text.hasSuffix("}\n"))
        #expect(!text.hasSuffix("\n\n"))
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        for line in lines {
            let indent = line.prefix { $0 == " " }.count
            #expect(indent % 2 == 0, "odd indent: \(line)")
            #expect(!line.hasSuffix(" "))
        }
        let topKeys = lines.filter { $0.hasPrefix("  \"") }.map { $0.dropFirst(3).prefix { $0 != "\"" } }
        #expect(topKeys == ["calendar", "chunks", "created_at", "format", "series", "source", "summary", "version", "window"])
        #expect(text.contains("\n  \"created_at\": \"2024-03-09T12:00:00Z\",\n"))
        #expect(text.contains("\n  \"version\": 1,\n"))
    }

    @Test func readsBackWhatItWrites() throws {
        let plan = PlanFixture.plan()
        let decoded = try Plan(decoding: plan.encoded())
        #expect(decoded == plan)
        #expect(decoded.encoded() == plan.encoded())
    }

    @Test func plansDifferOnlyInCreatedAt() {
        let a = PlanFixture.plan(createdAt: PlanFixture.time("2024-03-09T12:00:00Z")).text.split(separator: "\n")
        let b = PlanFixture.plan(createdAt: PlanFixture.time("2024-03-10T08:30:00Z")).text.split(separator: "\n")
        #expect(a.count == b.count)
        let differing = zip(a, b).filter { $0 != $1 }
        #expect(differing.count == 1)
        #expect(differing.first?.0.contains("\"created_at\"") == true)
        #expect(PlanFixture.plan(createdAt: 1).contentHash == PlanFixture.plan(createdAt: 2).contentHash)
    }

    @Test func ordersSeriesAndChunksCanonically() {
        let plan = PlanFixture.plan()
        #expect(plan.series.map(\.symbol.value) == ["AAPL", "MSFT", "SPY"])
        #expect(plan.chunks.map(\.symbol.value) == ["AAPL", "MSFT"])
        let reversed = Plan(createdAt: plan.createdAt, calendar: plan.calendar, window: plan.window, source: plan.source,
                            series: plan.series.reversed(), chunks: plan.chunks.reversed())
        #expect(reversed.encoded() == plan.encoded())
    }

    @Test func summarisesTheChunks() {
        let s = PlanFixture.plan().summary
        #expect(s == Plan.Summary(series: 3, gaps: 3, missingBars: 4, offGrid: 5, chunks: 2,
                                  requests: [.massive: 1, .finnhub: 1], estimatedSeconds: 12 + 1))
    }

    @Test func chunkIDIsTheHashOfItsContent() {
        // Pinned: plans/example.json's first and second chunks, their canonical text, and the first 24
        // hex digits of its SHA-256 as `python3 -c 'import hashlib; …'` computes them, not this code.
        let aapl = Plan.Chunk(symbol: Ticker("AAPL")!, timeframe: .h1, provider: .massive,
                              from: 1_706_896_800, to: 1_711_656_000, requests: 1, gaps: [
                                  Plan.ChunkGap(from: 1_706_896_800, to: 1_706_900_400, bars: 1, kind: .interior),
                                  Plan.ChunkGap(from: 1_708_027_200, to: 1_708_106_400, bars: 4, kind: .interior),
                                  Plan.ChunkGap(from: 1_711_648_800, to: 1_711_656_000, bars: 2, kind: .tail),
                              ])
        #expect(aapl.contentJSON.compactText == #"{"from":"2024-02-02T18:00:00Z","gaps":[{"bars":1,"from":"2024-02-02T18:00:00Z","kind":"interior","to":"2024-02-02T19:00:00Z"},{"bars":4,"from":"2024-02-15T20:00:00Z","kind":"interior","to":"2024-02-16T18:00:00Z"},{"bars":2,"from":"2024-03-28T18:00:00Z","kind":"tail","to":"2024-03-28T20:00:00Z"}],"missing_bars":7,"provider":"massive","requests":1,"symbol":"AAPL","timeframe":"h1","to":"2024-03-28T20:00:00Z"}"#)
        #expect(aapl.id == "4b0566c759545bfff7d0fa00")
        let brk = Plan.Chunk(symbol: Ticker("BRK.B")!, timeframe: .m15, provider: .finnhub,
                             from: 1_706_797_800, to: 1_709_154_000, requests: 1, gaps: [
                                 Plan.ChunkGap(from: 1_706_797_800, to: 1_709_154_000, bars: 494, kind: .head),
                             ])
        #expect(brk.id == "ecf6f61f33d2c20e74a12447")
        let chunk = PlanFixture.plan().chunks[0]
        #expect(chunk.id.count == Plan.Chunk.idLength)
        var moved = chunk
        moved.to += 3_600
        #expect(moved.computedID != chunk.id)
    }

    /// The direct writer of a chunk's hashed content agrees with the generic canonical writer.
    @Test func chunkContentBytesAreItsCanonicalCompactJSON() {
        for chunk in PlanFixture.plan().chunks {
            #expect(chunk.contentBytes == chunk.contentJSON.compactBytes)
            var hostile = chunk
            hostile.gaps.append(Plan.ChunkGap(from: chunk.to, to: chunk.to + 3_600, bars: 1, kind: .tail))
            hostile.requests = 12_345
            #expect(hostile.contentBytes == hostile.contentJSON.compactBytes)
        }
    }

    /// The member-by-member writer of `encoded()` and `contentHash` agrees with the tree writer,
    /// including an empty plan (`[]`, `{}`) and strings that need escapes.
    @Test func streamedPlanBytesAreTheCanonicalTextOfItsTree() {
        let plan = PlanFixture.plan()
        var empty = Plan(createdAt: plan.createdAt, calendar: plan.calendar, window: plan.window,
                         source: .init(host: "/var/run/\"q\"\n", database: "postgres"), series: [], chunks: [])
        empty.calendar.version = "v\u{1}é"
        for subject in [plan, empty] {
            #expect(subject.encoded() == subject.json.canonicalBytes)
            guard case var .object(members) = subject.json else { Issue.record("not an object"); continue }
            members["created_at"] = nil
            #expect(subject.contentHash == SHA256.hex(JSONValue.object(members).compactBytes))
        }
        #expect(String(decoding: empty.encoded(), as: UTF8.self).contains("\"chunks\": [],\n"))
        #expect(String(decoding: empty.encoded(), as: UTF8.self).contains("\"requests\": {},\n"))
    }

    @Test func acceptsAPlanWithChunksDeletedAndRecomputesItsSummary() throws {
        var json = planJSON()
        json["chunks"]!.items.removeFirst()
        let plan = try decode(json)
        #expect(plan.chunks.map(\.symbol.value) == ["MSFT"])
        #expect(plan.summary == Plan.Summary(series: 3, gaps: 1, missingBars: 1, offGrid: 5, chunks: 1,
                                             requests: [.finnhub: 1], estimatedSeconds: 1))
    }

    @Test func keepsTheWrittenEstimateOfAnUntouchedPlan() throws {
        let slow = ProviderLimits(requestsPerMinute: [.massive: 1, .finnhub: 1])
        let plan = PlanFixture.plan()
        let made = Plan(createdAt: plan.createdAt, calendar: plan.calendar, window: plan.window, source: plan.source,
                        series: plan.series, chunks: plan.chunks, limits: slow)
        #expect(made.summary.estimatedSeconds == 120)
        #expect(try Plan(decoding: made.encoded()) == made)
    }
}

/// Each way a plan from a pull request can be wrong, made from a real file, and the error it gets.
@Suite struct PlanRejectionTests {
    static func expectRejection(_ expected: PlanError, _ edit: (inout JSONValue) -> Void,
                                sourceLocation: SourceLocation = #_sourceLocation) {
        var json = planJSON()
        edit(&json)
        #expect(throws: expected, sourceLocation: sourceLocation) { try decode(json) }
    }

    @Test func truncatedFile() {
        let bytes = PlanFixture.plan().encoded()
        #expect {
            try Plan(decoding: bytes.prefix(bytes.count / 2))
        } throws: { error in
            guard case let .notJSON(reason) = error as? PlanError else { return false }
            return reason.contains("truncated")
        }
    }

    @Test func notJSONAtAll() {
        #expect(throws: PlanError.self) { try Plan(decoding: Array("format: barfill.plan\n".utf8)) }
        #expect(throws: PlanError.notAPlan(reason: "the document is an array, not an object")) {
            try Plan(decoding: Array("[]".utf8))
        }
    }

    @Test func wrongFormat() {
        Self.expectRejection(.notAPlan(reason: "its `format` is \"barfill.report\", not \"barfill.plan\"")) {
            $0["format"] = .string("barfill.report")
        }
        Self.expectRejection(.notAPlan(reason: "it has no `format` field")) { $0["format"] = nil }
    }

    @Test func unknownVersion() {
        Self.expectRejection(.unsupportedVersion(found: "2")) { $0["version"] = .integer(2) }
        Self.expectRejection(.unsupportedVersion(found: "\"1\"")) { $0["version"] = .string("1") }
    }

    @Test func missingField() {
        Self.expectRejection(.missingField(path: "window.until")) { $0["window"]!["until"] = nil }
        Self.expectRejection(.missingField(path: "chunks[0].gaps[1].kind")) { $0["chunks"]![0]["gaps"]![1]["kind"] = nil }
    }

    @Test func extraFieldsSuchAsAHostURLOrSQL() {
        Self.expectRejection(.unexpectedField(path: "url")) { $0["url"] = .string("https://evil.example") }
        Self.expectRejection(.unexpectedField(path: "source.password")) { $0["source"]!["password"] = .string("hunter2") }
        Self.expectRejection(.unexpectedField(path: "chunks[1].sql")) { $0["chunks"]![1]["sql"] = .string("DROP TABLE ohlc_bars") }
    }

    @Test func hostThatIsAURLOrCarriesCredentials() {
        for host in ["postgres://user:pw@db.example.com", "user@db.example.com", "db.example.com/x?sslmode=disable", "a b"] {
            Self.expectRejection(.malformedText(path: "source.host", text: host, expected: Plan.hostExpectation)) {
                $0["source"]!["host"] = .string(host)
            }
        }
    }

    @Test(arguments: ["", "localhost", "10.0.0.5", "::1", "db-a.example.com,db-b.example.com", "/var/run/postgresql"])
    func hostsLibpqTakes(_ host: String) throws {
        var json = planJSON()
        json["source"]!["host"] = .string(host)
        #expect(try decode(json).source.host == host)
    }

    @Test func wrongType() {
        Self.expectRejection(.wrongType(path: "series", expected: "an array", found: "an object")) { $0["series"] = .object([:]) }
        Self.expectRejection(.wrongType(path: "summary.gaps", expected: "an integer", found: "a string")) {
            $0["summary"]!["gaps"] = .string("3")
        }
    }

    @Test func nonIntegerNumbers() {
        Self.expectRejection(.notAnInteger(path: "summary.chunks", found: "2.0")) { $0["summary"]!["chunks"] = .number("2.0") }
        Self.expectRejection(.notAnInteger(path: "chunks[0].requests", found: "1e0")) { $0["chunks"]![0]["requests"] = .number("1e0") }
    }

    @Test func countsBelowTheirMinimum() {
        Self.expectRejection(.badCount(path: "chunks[0].requests", value: 0, minimum: 1)) { $0["chunks"]![0]["requests"] = .integer(0) }
        Self.expectRejection(.badCount(path: "series[2].present", value: -1, minimum: 0)) { $0["series"]![2]["present"] = .integer(-1) }
    }

    @Test(arguments: ["2024-03-01 05:00:00", "2024-03-01T05:00:00+00:00", "2024-03-01", "2024-03-01T05:00:00.5Z",
                      "2024-02-30T05:00:00Z", "2024-03-01T05:00:00-05:00"])
    func badTimes(_ text: String) {
        Self.expectRejection(.badTime(path: "window.from", text: text)) { $0["window"]!["from"] = .string(text) }
    }

    @Test func unknownTimeframe() {
        Self.expectRejection(.unknownTimeframe(path: "chunks[0].timeframe", text: "m2")) { $0["chunks"]![0]["timeframe"] = .string("m2") }
    }

    @Test func unknownProviderAndKind() {
        Self.expectRejection(.unknownProvider(path: "chunks[1].provider", text: "alpaca")) { $0["chunks"]![1]["provider"] = .string("alpaca") }
        Self.expectRejection(.unknownProvider(path: "summary.requests.polygon", text: "polygon")) {
            $0["summary"]!["requests"]!["polygon"] = .integer(1)
        }
        Self.expectRejection(.unknownGapKind(path: "chunks[0].gaps[0].kind", text: "middle")) {
            $0["chunks"]![0]["gaps"]![0]["kind"] = .string("middle")
        }
    }

    @Test(arguments: ["aapl", "AAPL/../x", "A B", "", "A?x=1"])
    func malformedTicker(_ text: String) {
        Self.expectRejection(.malformedTicker(path: "chunks[0].symbol", text: text)) { $0["chunks"]![0]["symbol"] = .string(text) }
    }

    @Test func malformedIdsFingerprintsAndGrid() {
        Self.expectRejection(.malformedText(path: "chunks[0].id", text: "XYZ", expected: "24 lowercase hex digits")) {
            $0["chunks"]![0]["id"] = .string("XYZ")
        }
        Self.expectRejection(.malformedText(path: "series[0].fingerprint", text: "n/a", expected: "16–64 lowercase hex digits")) {
            $0["series"]![0]["fingerprint"] = .string("n/a")
        }
        Self.expectRejection(.malformedText(path: "calendar.grid", text: "clock/regular/start-inside/period-start",
                                            expected: "anchor/scope/inclusion[/first-session], e.g. clock/regular/start-inside")) {
            $0["calendar"]!["grid"] = .string("clock/regular/start-inside/period-start")
        }
    }

    @Test func unknownCalendar() {
        Self.expectRejection(.unknownCalendar(name: "XLON")) { $0["calendar"]!["name"] = .string("XLON") }
    }

    @Test func absurdWindows() {
        Self.expectRejection(.absurdWindow(path: "window", reason: "it ends (2024-03-01T05:00:00Z) no later than it starts (2024-03-09T05:00:00Z)")) {
            let from = $0["window"]!["from"]
            $0["window"]!["from"] = $0["window"]!["until"]
            $0["window"]!["until"] = from
        }
        Self.expectRejection(.absurdWindow(path: "window", reason: "it reaches outside 1990–2040, the calendar's range")) {
            $0["window"]!["from"] = .string("1985-01-01T00:00:00Z")
        }
        Self.expectRejection(.absurdWindow(path: "series[0]", reason: "it reaches outside the plan's window")) {
            $0["series"]![0]["until"] = .string("2024-03-10T05:00:00Z")
        }
    }

    @Test func chunkEditedByHand() {
        var json = planJSON()
        let id = json["chunks"]![0]["id"]!
        json["chunks"]![0]["gaps"]![1]["bars"] = .integer(3)
        json["chunks"]![0]["missing_bars"] = .integer(4)
        #expect {
            try decode(json)
        } throws: { error in
            guard case let .editedChunk(found, _) = error as? PlanError else { return false }
            return .string(found) == id
        }
    }

    @Test func chunkWiderThanItsProviderServes() {
        var json = planJSON()
        // Finnhub serves 28 days of intraday per request; make the d1 chunk an intraday one over 40 days.
        json["chunks"]![1]["timeframe"] = .string("h1")
        json["chunks"]![1]["to"] = .string("2024-04-10T21:00:00Z")
        json["chunks"]![1]["gaps"]![0]["to"] = .string("2024-04-10T21:00:00Z")
        rehash(&json["chunks"]![1])
        #expect {
            try decode(json)
        } throws: { error in
            if case .chunkTooWide = error as? PlanError { true } else { false }
        }
    }

    @Test func gapOutsideItsChunk() {
        var json = planJSON()
        json["chunks"]![0]["gaps"]![1]["to"] = .string("2024-03-08T22:00:00Z")
        rehash(&json["chunks"]![0])
        let id = json["chunks"]![0]["id"]!
        guard case let .string(text) = id else { Issue.record("no id"); return }
        #expect(throws: PlanError.gapOutsideChunk(id: text, gap: 1)) { try decode(json) }
    }

    @Test func overlappingGaps() {
        var json = planJSON()
        json["chunks"]![0]["gaps"]![1]["from"] = .string("2024-03-04T15:30:00Z")
        rehash(&json["chunks"]![0])
        guard case let .string(id) = json["chunks"]![0]["id"]! else { Issue.record("no id"); return }
        #expect(throws: PlanError.overlappingGaps(id: id, gap: 1)) { try decode(json) }
    }

    @Test func gapsOffTheGrid() {
        var early = planJSON()   // 09:00 New York is not an h1 slot of the regular-hours grid
        early["chunks"]![0]["from"] = .string("2024-03-04T14:00:00Z")
        early["chunks"]![0]["gaps"]![0]["from"] = .string("2024-03-04T14:00:00Z")
        rehash(&early["chunks"]![0])
        guard case let .string(id) = early["chunks"]![0]["id"]! else { Issue.record("no id"); return }
        #expect(throws: PlanError.gapOffGrid(id: id, gap: 0, grid: "clock/regular/start-inside")) { try decode(early) }

        var short = planJSON()   // one bar from 14:00 ends at 15:00 New York, not at the close
        short["chunks"]![0]["gaps"]![1]["bars"] = .integer(1)
        short["chunks"]![0]["missing_bars"] = .integer(2)
        rehash(&short["chunks"]![0])
        guard case let .string(shortID) = short["chunks"]![0]["id"]! else { Issue.record("no id"); return }
        #expect(throws: PlanError.gapOffGrid(id: shortID, gap: 1, grid: "clock/regular/start-inside")) { try decode(short) }

        var extended = planJSON()   // …but it is one on the extended-hours grid: no longer off-grid
        extended["calendar"]!["grid"] = .string("clock/extended/start-inside")
        #expect(throws: Never.self) { try decode(extended) }
    }

    @Test func chunkWhoseNumbersDisagree() {
        var json = planJSON()
        json["chunks"]![0]["missing_bars"] = .integer(7)
        rehash(&json["chunks"]![0])
        guard case let .string(id) = json["chunks"]![0]["id"]! else { Issue.record("no id"); return }
        #expect(throws: PlanError.inconsistentChunk(id: id, reason: "missing_bars is 7 but its gaps add up to 3")) { try decode(json) }

        var crowded = planJSON()
        crowded["chunks"]![0]["gaps"]![0]["bars"] = .integer(2)   // two h1 bars in one hour
        crowded["chunks"]![0]["missing_bars"] = .integer(4)
        rehash(&crowded["chunks"]![0])
        #expect {
            try decode(crowded)
        } throws: { error in
            guard case let .inconsistentChunk(_, reason) = error as? PlanError else { return false }
            return reason.contains("at most 1 fit")
        }
    }

    @Test func duplicateAndOverlappingChunks() {
        var json = planJSON()
        json["chunks"]!.items.append(json["chunks"]![0])
        guard case let .string(id) = json["chunks"]![0]["id"]! else { Issue.record("no id"); return }
        #expect(throws: PlanError.duplicateChunk(id: id)) { try decode(json) }

        var overlapping = planJSON()
        var copy = overlapping["chunks"]![0]
        copy["gaps"] = .array([copy["gaps"]![1]])
        copy["from"] = copy["gaps"]![0]["from"]
        copy["missing_bars"] = .integer(2)
        rehash(&copy)
        overlapping["chunks"]!.items.append(copy)
        #expect {
            try decode(overlapping)
        } throws: { error in
            if case .overlappingChunks = error as? PlanError { true } else { false }
        }
    }

    @Test func chunkOutsideItsSeries() {
        var json = planJSON()
        json["series"]!.items.removeFirst()   // AAPL h1
        #expect {
            try decode(json)
        } throws: { error in
            guard case let .chunkOutsideSeries(_, reason) = error as? PlanError else { return false }
            return reason.contains("does not list")
        }

        var otherProvider = planJSON()
        otherProvider["chunks"]![0]["provider"] = .string("finnhub")
        rehash(&otherProvider["chunks"]![0])
        #expect {
            try decode(otherProvider)
        } throws: { error in
            guard case let .chunkOutsideSeries(_, reason) = error as? PlanError else { return false }
            return reason.contains("planned with massive")
        }
    }

    @Test func duplicateSeries() {
        Self.expectRejection(.duplicateSeries(path: "series[3]")) { $0["series"]!.items.append($0["series"]![0]) }
    }

    @Test func everyErrorSaysWhatToDo() {
        let errors: [PlanError] = [
            .notJSON(reason: "x"), .notAPlan(reason: "x"), .unsupportedVersion(found: "2"), .missingField(path: "a"),
            .unexpectedField(path: "a"), .wrongType(path: "a", expected: "b", found: "c"), .notAnInteger(path: "a", found: "1.5"),
            .badCount(path: "a", value: -1, minimum: 0), .badTime(path: "a", text: "b"), .unknownTimeframe(path: "a", text: "b"),
            .unknownProvider(path: "a", text: "b"), .unknownGapKind(path: "a", text: "b"), .malformedTicker(path: "a", text: "b"),
            .malformedText(path: "a", text: "b", expected: "c"), .unknownCalendar(name: "X"), .absurdWindow(path: "a", reason: "b"),
            .chunkTooWide(id: "a", reason: "b"), .gapOutsideChunk(id: "a", gap: 0), .overlappingGaps(id: "a", gap: 1),
            .gapOffGrid(id: "a", gap: 0, grid: "c"), .inconsistentChunk(id: "a", reason: "b"), .editedChunk(id: "a", expected: "b"), .duplicateChunk(id: "a"),
            .overlappingChunks(id: "a", other: "b"), .chunkOutsideSeries(id: "a", reason: "b"), .duplicateSeries(path: "a"),
        ]
        for error in errors {
            let message = error.errorDescription ?? ""
            #expect(message.contains("barfill gaps") || message.contains("fetch it again") || message.contains("remove it"), "\(message)")
        }
    }
}
