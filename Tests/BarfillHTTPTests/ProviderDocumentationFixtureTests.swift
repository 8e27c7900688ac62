import BarfillCore
import Foundation
import Synchronization
import Testing
@testable import BarfillHTTP
@testable import BarfillSimulator

/// The providers' own documentation examples (Tests/Fixtures/providers, sources in its README),
/// served over real HTTP on 127.0.0.1 and decoded by the real clients; then the simulator's answers
/// checked against the same examples, key by key and type by type.
@Suite struct ProviderDocumentationFixtureTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures/providers")

    static func fixture(_ name: String) throws -> Data { try Data(contentsOf: directory.appendingPathComponent(name)) }

    static func object(_ data: Data) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    static func limiter(_ provider: ProviderName) -> RateLimiter {
        RateLimiter(provider: provider, key: APIKey(goodKey)!, limits: [RateLimit(requests: 1_000, per: 1)],
                    budget: .unlimited, clock: .system, maxRateLimitedResponses: 3)
    }

    /// The documented sample's `next_url` points at api.massive.com; here it points at the replay
    /// server (same path and cursor), whose second answer is the sample without `next_url` and bars.
    @Test func massivesDocumentedCustomBarsDecodeAndItsNextURLIsFollowed() async throws {
        let sample = try Self.fixture("massive-custom-bars.json")
        let replay = try DocumentedReplay { index, port in
            var json = try! Self.object(sample)
            if index == 0 {
                json["next_url"] = (json["next_url"] as! String)
                    .replacingOccurrences(of: "https://api.massive.com", with: "http://127.0.0.1:\(port)")
            } else {
                json["next_url"] = nil
                json["results"] = nil
                json["resultsCount"] = 0
                json["queryCount"] = 0
            }
            return try! JSONSerialization.data(withJSONObject: json)
        }
        let client = try MassiveClient(settings: ProviderSettings(provider: .massive, baseURL: replay.baseURL, key: APIKey(goodKey)!),
                                       limiter: Self.limiter(.massive), retry: quickRetry)
        let from = NewYork.midnight(LocalDate(year: 2020, month: 1, day: 2)!)
        let to = NewYork.midnight(LocalDate(year: 2020, month: 1, day: 4)!)
        let result = try await client.fetch(ticker: aapl, timeframe: .d1, from: from, to: to)
        #expect(result.bars == [
            Bar(ts: 1_577_941_200, open: 74.06, high: 75.15, low: 73.7975, close: 75.0875, volume: 135_647_456),
            Bar(ts: 1_578_027_600, open: 74.2875, high: 75.145, low: 74.125, close: 74.3575, volume: 146_535_512),
        ])
        #expect(result.bars.map(\.ts) == [from, from + 86_400])   // 00:00 New York
        #expect(result.rejections.isEmpty && result.isComplete)
        let targets = replay.targets
        #expect(targets.count == 2)
        #expect(targets.last?.hasPrefix("/v2/aggs/ticker/AAPL/range/1/day/1578114000000/2020-01-10?cursor=bGltaXQ9MiZzb3J0PWFzYw") == true)
    }

    @Test func finnhubsDocumentedCandlesDecode() async throws {
        let sample = try Self.fixture("finnhub-stock-candles.json")
        let replay = try DocumentedReplay { _, _ in sample }
        let client = try FinnhubClient(settings: ProviderSettings(provider: .finnhub, baseURL: replay.baseURL + "/api/v1", key: APIKey(goodKey)!),
                                       limiter: Self.limiter(.finnhub), retry: quickRetry)
        // The sample's stamps are 2019-09-24 … 26 at 04:00 UTC, which is 00:00 New York (EDT).
        let from = NewYork.midnight(LocalDate(year: 2019, month: 9, day: 24)!)
        let to = NewYork.midnight(LocalDate(year: 2019, month: 9, day: 27)!)
        let result = try await client.fetch(ticker: aapl, timeframe: .d1, from: from, to: to)
        #expect(result.bars.map(\.ts) == [from, from + 86_400, from + 2 * 86_400])
        #expect(result.bars.first == Bar(ts: from, open: 221.03, high: 222.49, low: 217.19, close: 217.68, volume: 33_463_820))
        #expect(result.bars.last?.close == 219.89)
        #expect(result.rejections.isEmpty)
    }

    @Test func finnhubsDocumentedNoDataIsNoBars() async throws {
        let sample = try Self.fixture("finnhub-stock-candles-no-data.json")
        let replay = try DocumentedReplay { _, _ in sample }
        let client = try FinnhubClient(settings: ProviderSettings(provider: .finnhub, baseURL: replay.baseURL + "/api/v1", key: APIKey(goodKey)!),
                                       limiter: Self.limiter(.finnhub), retry: quickRetry)
        let result = try await client.fetch(ticker: aapl, timeframe: .h1, from: March2024.from, to: March2024.to)
        #expect(result.bars.isEmpty && result.isComplete && result.requests == 1)
    }

    /// JSON's kind of each value: what "the same shape" compares.
    static func kind(_ value: Any) -> String {
        switch value {
        case is String: "string"
        case let number as NSNumber: String(cString: number.objCType) == "c" ? "bool" : "number"
        case let array as [Any]: "array of " + Set(array.map(kind)).sorted().joined(separator: "|")
        case let object as [String: Any]: "{" + object.keys.sorted().map { "\($0): \(kind(object[$0]!))" }.joined(separator: ", ") + "}"
        default: "null"
        }
    }

    @Test func theSimulatorAnswersInTheDocumentedShapes() async throws {
        let loopback = try Loopback { $0.pageSize = 3 }
        let http = try HTTPClient()
        // Massive: a paged answer has every key of the documented sample, each of the same kind.
        let massive = try await http.get(loopback.provider.massiveBaseURL
            + "/v2/aggs/ticker/AAPL/range/1/day/\(March2024.from * 1_000)/\(March2024.to * 1_000)?adjusted=true&sort=asc&limit=3",
            headers: [("Authorization", "Bearer \(goodKey)")])
        #expect(massive.status == 200)
        let documented = try Self.object(Self.fixture("massive-custom-bars.json"))
        let simulated = try Self.object(Data(massive.body))
        for key in documented.keys.sorted() {
            #expect(simulated[key].map(Self.kind) == Self.kind(documented[key]!), "Massive key \(key)")
        }
        let documentedBar = try #require((documented["results"] as? [[String: Any]])?.first)
        let simulatedBar = try #require((simulated["results"] as? [[String: Any]])?.first)
        #expect(Set(simulatedBar.keys).isSuperset(of: ["c", "h", "l", "o", "t", "v"]))
        for key in simulatedBar.keys { #expect(documentedBar[key] != nil, "the simulator sends a bar key Massive does not document: \(key)") }
        #expect(simulatedBar["t"] as? Int64 == March2024.from * 1_000, "t in milliseconds at 00:00 New York")

        // Finnhub: the same keys, column arrays of numbers, `s` = ok; and `{"s":"no_data"}` alone.
        let finnhub = try await http.get(loopback.provider.finnhubBaseURL
            + "/stock/candle?symbol=AAPL&resolution=D&from=\(March2024.from)&to=\(March2024.to)",
            headers: [("X-Finnhub-Token", goodKey)])
        #expect(finnhub.status == 200)
        let documentedCandles = try Self.object(Self.fixture("finnhub-stock-candles.json"))
        let simulatedCandles = try Self.object(Data(finnhub.body))
        #expect(Set(simulatedCandles.keys) == Set(documentedCandles.keys))
        for key in documentedCandles.keys.sorted() {
            #expect(simulatedCandles[key].map(Self.kind) == Self.kind(documentedCandles[key]!), "Finnhub key \(key)")
        }
        let weekend = try await http.get(loopback.provider.finnhubBaseURL
            + "/stock/candle?symbol=AAPL&resolution=60&from=\(March2024.weekendFrom)&to=\(March2024.weekendTo)",
            headers: [("X-Finnhub-Token", goodKey)])
        let noData = try Self.object(Data(weekend.body))
        #expect(Set(noData.keys) == Set(try Self.object(Self.fixture("finnhub-stock-candles-no-data.json")).keys))
        #expect(noData["s"] as? String == "no_data")
    }
}

/// A server on 127.0.0.1 that answers request number `index` (from 0) with `bodies(index, port)`,
/// and remembers what was asked.
final class DocumentedReplay: Sendable {
    final class Log: Sendable {
        let targets = Mutex<[String]>([])
        let port = Mutex<UInt16>(0)
    }
    let log: Log
    let server: LoopbackServer

    init(_ bodies: @escaping @Sendable (Int, UInt16) -> Data) throws {
        let log = Log()
        self.log = log
        server = try LoopbackServer { request in
            let index = log.targets.withLock { $0.append(request.target); return $0.count - 1 }
            return .init(status: 200, body: bodies(index, log.port.withLock { $0 }))
        }
        let actual = server.port
        log.port.withLock { $0 = actual }
    }

    var targets: [String] { log.targets.withLock { $0 } }
    var baseURL: String { "http://127.0.0.1:\(server.port)" }
    deinit { server.stop() }
}
