import BarfillCore
import Foundation
import Testing
@testable import BarfillHTTP

@Suite struct HTTPClientTests {
    @Test func returnsStatusCaseInsensitiveHeadersAndBody() async throws {
        let loopback = try Loopback()
        let response = try await HTTPClient().get(loopback.provider.baseURL + "/nothing/here")
        #expect(response.status == 404)
        #expect(response.headers["content-type"] == "application/json")
        #expect(response.headers["CONTENT-TYPE"] == "application/json")
        #expect(String(decoding: response.body, as: UTF8.self) == #"{"error":"Not found"}"#)
    }

    @Test func reusesOneConnectionForSuccessiveRequests() async throws {
        let loopback = try Loopback()
        let client = try HTTPClient()
        for _ in 0..<5 { _ = try await client.get(loopback.provider.baseURL + "/keep/alive") }
        #expect(loopback.provider.log.count == 5)
        #expect(loopback.provider.connectionsAccepted == 1)
    }

    @Test func aRefusedConnectionIsAConnectError() async throws {
        let loopback = try Loopback()
        let url = loopback.provider.baseURL + "/gone"
        loopback.provider.stop()
        await #expect(throws: HTTPError.connect(host: "127.0.0.1", reason: "Couldn't connect to server")) {
            _ = try await HTTPClient().get(url)
        }
    }

    /// `.invalid` never resolves (RFC 6761), and the client refuses it before any resolver is asked
    /// (libcurl's resolver-start hook), so the answer does not depend on this machine's DNS. The
    /// failure is the DNS case: never sent, not transient, and for a provider "unreachable", exit 75.
    @Test(arguments: ["barfill-test.invalid", "BARFILL-TEST.INVALID.", "invalid"])
    func anUnresolvableHostIsADNSError(_ host: String) async throws {
        await #expect(throws: HTTPError.dns(host: host)) {
            _ = try await HTTPClient(timeouts: HTTPTimeouts(connect: 5, total: 5)).get("http://\(host)/x")
        }
        #expect(HTTPError.dns(host: host).neverSent && !HTTPError.dns(host: host).isTransient)
    }

    @Test(arguments: ["barfill-test.invalid", "invalid", "x.invalid.", "WWW.EXAMPLE.INVALID"])
    func specialUseInvalidNamesNeverResolve(_ host: String) {
        #expect(HTTPClient.neverResolves(host))
    }

    @Test(arguments: ["127.0.0.1", "localhost", "api.massive.com", "invalid.example.com", "notinvalid", "x.invalidx"])
    func otherNamesGoToTheResolver(_ host: String) {
        #expect(!HTTPClient.neverResolves(host))
    }

    @Test func aSlowAnswerTimesOut() async throws {
        let loopback = try Loopback()
        loopback.provider.inject([.slow(2)])
        let client = try HTTPClient(timeouts: HTTPTimeouts(connect: 1, total: 0.3))
        await #expect(throws: HTTPError.timeout(host: "127.0.0.1")) {
            _ = try await client.get(loopback.provider.massiveBaseURL + "/v2/aggs/ticker/AAPL/range/1/day/2024-03-04/2024-03-08",
                                     headers: [("Authorization", "Bearer \(goodKey)")])
        }
    }

    @Test func cancellingTheTaskAbortsTheTransfer() async throws {
        let loopback = try Loopback()
        loopback.provider.inject([.slow(3)])
        let client = try HTTPClient()
        let url = loopback.provider.massiveBaseURL + "/v2/aggs/ticker/AAPL/range/1/day/2024-03-04/2024-03-08"
        let task = Task { try await client.get(url, headers: [("Authorization", "Bearer \(goodKey)")]) }
        while loopback.provider.log.isEmpty { try await Task.sleep(nanoseconds: 5_000_000) }
        task.cancel()
        await #expect(throws: HTTPError.aborted) { _ = try await task.value }
    }

    @Test func httpsToAServerWithoutTLSIsATLSError() async throws {
        let loopback = try Loopback()
        let url = loopback.provider.baseURL.replacingOccurrences(of: "http://", with: "https://") + "/x"
        do {
            _ = try await HTTPClient(timeouts: HTTPTimeouts(connect: 2, total: 5)).get(url)
            Issue.record("a TLS request to a plain HTTP server succeeded")
        } catch {
            guard case .tls(host: "127.0.0.1", _) = error else { Issue.record("expected a TLS error, got \(error)"); return }
        }
    }

    @Test func refusesURLsThatAreNotHTTP() async throws {
        await #expect(throws: HTTPError.invalidURL) { _ = try await HTTPClient().get("file:///etc/passwd") }
        await #expect(throws: HTTPError.invalidURL) { _ = try await HTTPClient().get("not a url") }
    }
}
