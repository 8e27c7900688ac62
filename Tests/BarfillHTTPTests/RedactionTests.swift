import BarfillCore
import Foundation
import Testing
@testable import BarfillHTTP

@Suite struct RedactionTests {
    @Test func redactsKnownSecretsCredentialParametersAndHeaders() {
        #expect(Redaction.redact("GET /x?apiKey=abc123&limit=5", secrets: []) == "GET /x?apiKey=<redacted>&limit=5")
        #expect(Redaction.redact("/stock/candle?symbol=AAPL&token=zzz", secrets: []) == "/stock/candle?symbol=AAPL&token=<redacted>")
        #expect(Redaction.redact("Authorization: Bearer s3cr3t, Accept: x") == "Authorization: Bearer <redacted>, Accept: x")
        #expect(Redaction.redact("x-finnhub-token: s3cr3t\r\n") == "x-finnhub-token: <redacted>\r\n")
        #expect(Redaction.redact("the key s3cr3t leaked", secrets: ["s3cr3t"]) == "the key <redacted> leaked")
        #expect(Redaction.redact("/v2/aggs/ticker/AAPL?adjusted=true") == "/v2/aggs/ticker/AAPL?adjusted=true")
    }

    @Test func anAPIKeyPrintsAsItsFingerprintOnly() {
        let key = APIKey(goodKey)!
        var dumped = ""
        dump(key, to: &dumped)
        for text in ["\(key)", String(describing: key), String(reflecting: key), dumped] {
            #expect(!text.contains(goodKey))
            #expect(text.contains(key.fingerprint))
        }
    }

    @Test func noLogLineAtTraceLevelAndNoErrorCarriesTheKey() async throws {
        let captured = CapturedLog()
        let loopback = try Loopback {
            $0.pageSize = 20
            $0.clock = ProviderClock(timeScale: 0.005)
            $0.keys = [goodKey: .init(massive: [RateLimit(requests: 2, per: 60)]), freeKey: .init(finnhubCandles: false)]
        }
        loopback.provider.inject([.status(503), .truncate])
        let massive = try loopback.massive(limiter: loopback.limiter(.massive, limits: [RateLimit(requests: 50, per: 60)]),
                                           logger: captured.logger)
        let result = try await massive.fetch(ticker: aapl, timeframe: .h1, from: March2024.from, to: March2024.to)
        #expect(result.isComplete && result.bars.count == 80)
        _ = try await loopback.finnhub(logger: captured.logger).fetch(ticker: aapl, timeframe: .d1, from: March2024.from, to: March2024.to)

        var errors: [String] = []
        for (client, key) in [(try loopback.massive(key: "unknown-secret-key", logger: captured.logger), "unknown-secret-key")] {
            do { _ = try await client.fetch(ticker: aapl, timeframe: .d1, from: March2024.from, to: March2024.to) }
            catch { errors.append(error.localizedDescription); #expect(!error.localizedDescription.contains(key)) }
        }
        do { _ = try await loopback.finnhub(key: freeKey, logger: captured.logger).fetch(ticker: aapl, timeframe: .d1, from: March2024.from, to: March2024.to) }
        catch { errors.append(error.localizedDescription) }
        #expect(errors.count == 2)

        let lines = captured.lines.withLock { $0 }
        let statuses = loopback.provider.log.map(\.status)
        #expect(statuses.contains(429) && statuses.contains(503) && statuses.contains(401) && statuses.contains(403))
        #expect(lines.count > 20)
        #expect(lines.contains { $0.contains("Bearer <redacted>") })
        #expect(lines.contains { $0.contains("X-Finnhub-Token: <redacted>") })
        for line in lines + errors {
            for secret in [goodKey, freeKey, "unknown-secret-key"] { #expect(!line.contains(secret), "\(line)") }
        }
    }

    @Test func theProvidersRequestLogHoldsFingerprintsNotKeys() async throws {
        let loopback = try Loopback()
        _ = try await HTTPClient().get(loopback.provider.massiveBaseURL + "/v2/aggs/ticker/AAPL/range/1/day/2024-03-04/2024-03-08?apiKey=\(goodKey)")
        let entry = try #require(loopback.provider.log.first)
        #expect(entry.status == 200 && entry.keyFingerprint == APIKey(goodKey)!.fingerprint)
        #expect(entry.path.contains("apiKey=<redacted>") && !entry.path.contains(goodKey))
    }
}
