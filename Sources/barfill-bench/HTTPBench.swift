import BarfillCore
import BarfillHTTP
import Foundation
import BarfillSimulator

/// "http": decoding and validating a full 50,000-bar Massive page, and request overhead against
/// the simulated provider on loopback (raw HTTP, and whole fetches through the Massive client).
func httpBenchmark() async throws {
    // 50,000 one-minute bars: about 52 sessions of extended hours.
    let first = LocalDate(year: 2024, month: 1, day: 2)!
    let from = NewYork.midnight(first)
    let to = NewYork.midnight(first.adding(days: 100))
    let raws = Array(SimulatedBars.bars(ticker: "AAPL", timeframe: .m1, from: from, through: to - 1,
                                        extendedHours: true, illiquid: false).prefix(50_000))
    precondition(raws.count == 50_000, "not enough simulated bars for a full page")
    let body = SimulatedProvider.massiveBody(ticker: "AAPL", raws: raws)
    let ticker = Ticker("AAPL")!
    var best = Double.infinity
    for _ in 0..<5 {
        let (page, seconds) = try await measure { try MassiveClient.decode(page: body, ticker: ticker, from: from, to: to) }
        precondition(page.bars.count == 50_000 && page.rejections.isEmpty, "the page did not validate")
        best = min(best, seconds)
    }
    print(String(format: "massive page decode+validate: 50000 bars, %.1f MB, best of 5 %.1f ms, %.0f bars/s",
                 Double(body.count) / 1e6, best * 1e3, 50_000 / best))
    // Baseline: Foundation's JSONDecoder into Decodable structs, decoding only (no validation), so
    // the scanner keeps its place only if scanning and validating beat merely decoding.
    var baseline = Double.infinity
    for _ in 0..<5 {
        let (page, seconds) = try await measure { try JSONDecoder().decode(DecodablePage.self, from: body) }
        precondition(page.results.count == 50_000, "JSONDecoder read another page")
        baseline = min(baseline, seconds)
    }
    print(String(format: "massive page, baseline JSONDecoder (decode only): best of 5 %.1f ms, %.0f bars/s; scanner %.1f× faster",
                 baseline * 1e3, 50_000 / baseline, baseline / best))

    let key = "bench-key"
    let provider = try SimulatedProvider(configuration: .init(keys: [key: .init()]))
    defer { provider.stop() }
    let client = try HTTPClient()
    let url = provider.massiveBaseURL + "/v2/aggs/ticker/AAPL/range/1/day/2024-03-04/2024-03-08?adjusted=true&sort=asc&limit=50000"
    let headers = [("Authorization", "Bearer \(key)")]
    for _ in 0..<50 { _ = try await client.get(url, headers: headers) }   // warm up
    let requests = 2_000
    let (_, raw) = try await measure {
        for _ in 0..<requests {
            let response = try await client.get(url, headers: headers)
            precondition(response.status == 200)
        }
    }
    print(String(format: "loopback GET (keep-alive, 5-bar answer): %d requests in %.2f s, %.0f requests/s, %.0f µs each",
                 requests, raw, Double(requests) / raw, raw / Double(requests) * 1e6))

    let settings = try ProviderSettings(provider: .massive, baseURL: provider.massiveBaseURL, key: APIKey(key)!)
    let limiter = RateLimiter(provider: .massive, key: settings.key, limits: [RateLimit(requests: 1_000_000, per: 1)])
    let massive = try MassiveClient(settings: settings, limiter: limiter, http: client)
    let weekFrom = NewYork.midnight(LocalDate(year: 2024, month: 3, day: 4)!)
    let weekTo = NewYork.midnight(LocalDate(year: 2024, month: 3, day: 9)!)
    let (_, fetched) = try await measure {
        for _ in 0..<requests {
            let result = try await massive.fetch(ticker: ticker, timeframe: .d1, from: weekFrom, to: weekTo)
            precondition(result.bars.count == 5)
        }
    }
    print(String(format: "MassiveClient.fetch (pacing, request, decode, validate): %.0f fetches/s, %.0f µs each",
                 Double(requests) / fetched, fetched / Double(requests) * 1e6))
}

/// A Massive aggregates page as `JSONDecoder` reads it: the baseline for `MassivePageScanner`.
private struct DecodablePage: Decodable {
    struct Aggregate: Decodable {
        var t: Int64
        var o, h, l, c, v: Double
        var vw: Double?
        var n: Int?
    }
    var ticker: String?
    var status: String?
    var next_url: String?
    var results: [Aggregate]
}
