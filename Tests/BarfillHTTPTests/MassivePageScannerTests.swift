import BarfillCore
import Foundation
import Testing
@testable import BarfillHTTP
import BarfillSimulator

@Suite struct MassivePageScannerTests {
    static func scan(_ text: String) throws -> (MassivePageScanner.Envelope, [MassivePageScanner.Aggregate]) {
        var found: [MassivePageScanner.Aggregate] = []
        let envelope = try MassivePageScanner.scan(Data(text.utf8)) { found.append($0) }
        return (envelope, found)
    }

    /// What `JSONDecoder` makes of the same bytes: the reference the scanner must agree with.
    struct Reference: Decodable {
        struct Aggregate: Decodable { var t: Int64; var o, h, l, c, v: Double? }
        var ticker: String?
        var status: String?
        var next_url: String?
        var results: [Aggregate]?
    }

    @Test func agreesWithJSONDecoderOnAGeneratedPage() throws {
        let raws = SimulatedBars.bars(ticker: "MSFT", timeframe: .m1, from: March2024.from, through: March2024.to,
                                      extendedHours: true, illiquid: false)
        let body = SimulatedProvider.massiveBody(ticker: "MSFT", raws: raws, nextURL: "http://127.0.0.1:1/next?cursor=x")
        let reference = try JSONDecoder().decode(Reference.self, from: body)
        let (envelope, found) = try Self.scan(String(decoding: body, as: UTF8.self))
        #expect(envelope.ticker == "MSFT" && envelope.status == "OK" && envelope.nextURL == reference.next_url)
        let expected = reference.results ?? []
        #expect(found.count == expected.count && found.count == 4_800)
        for (a, b) in zip(found, expected) {
            #expect(a.t == b.t && a.o == b.o && a.h == b.h && a.l == b.l && a.c == b.c && a.v == b.v)
        }
    }

    @Test(arguments: ["154.17", "0.0001", "-3.5", "1.5e2", "2E-3", "123456789012345678901", "0.1234567890123456789012345",
                      "9007199254740993", "-0", "1e-400"])
    func numbersMatchTheStandardLibrary(_ text: String) throws {
        let (_, found) = try Self.scan(#"{"results":[{"t":0,"o":\#(text)}],"status":"OK"}"#)
        #expect(found.first?.o == Double(text))
    }

    @Test func decodesEscapesAndSkipsFieldsItDoesNotUse() throws {
        let (envelope, found) = try Self.scan("""
            { "ticker" : "A\\u0041PL", "extra": {"a": [1, 2.5e3, {"b": null}, true, false, "x\\"y"]},
              "results": [ {"t": 60000, "n": 3, "o": null, "otc": true} ], "status": "OK",
              "next_url": "https:\\/\\/api.massive.com\\/v2\\/x?cursor=\\ud83d\\ude00" }
            """)
        #expect(envelope.ticker == "AAPL")
        #expect(envelope.nextURL == "https://api.massive.com/v2/x?cursor=😀")
        #expect(found.count == 1 && found[0].t == 60_000 && found[0].o == nil && found[0].v == nil)
    }

    @Test func everyTruncationIsAnErrorNeverACrash() throws {
        let raws = SimulatedBars.bars(ticker: "AAPL", timeframe: .d1, from: March2024.from, through: March2024.to,
                                      extendedHours: true, illiquid: false)
        let body = String(decoding: SimulatedProvider.massiveBody(ticker: "AAPL", raws: raws, nextURL: "http://h/n"), as: UTF8.self)
        let bytes = Array(body.utf8)
        for cut in 0..<bytes.count {
            #expect(throws: MassivePageScanner.Failure.self) {
                _ = try MassivePageScanner.scan(Data(bytes[0..<cut])) { _ in }
            }
        }
        #expect(try Self.scan(body).1.count == 5)
    }

    @Test(arguments: [
        #"{"results":[{"t":01}]}"#, #"{"results":[{"t":1.}]}"#, #"{"results":[{"t":1,}]}"#, #"{"results":[{"t":1}],}"#,
        #"{"status":"OK"} x"#, #"{"status":'OK'}"#, "{\"status\":\"O\u{01}K\"}", #"{"status":"\q"}"#, #"{"results":[{"t":+1}]}"#,
        #"{"results":[{"t":1e3}]}"#, #"{"results":[{"t":NaN}]}"#, #"[1]"#, #"{"a":nul}"#,
        // Lone surrogates: the plan reader's string grammar (JSONGrammar) refuses them, so the page reader does.
        #"{"ticker":"\ud83d"}"#, #"{"ticker":"\udc00x"}"#, #"{"status":"OK","next_url":"\ud83dx"}"#,
    ])
    func refusesWhatIsNotJSONOrNotAPage(_ text: String) {
        #expect(throws: MassivePageScanner.Failure.self) { _ = try Self.scan(text) }
    }

    @Test func aBarWithoutItsTimeOrOffTheSecondMakesThePageInvalid() throws {
        let ticker = Ticker("AAPL")!
        for body in [#"{"ticker":"AAPL","results":[{"o":1,"h":1,"l":1,"c":1,"v":1}],"status":"OK"}"#,
                     #"{"ticker":"AAPL","results":[{"t":1500,"o":1,"h":1,"l":1,"c":1,"v":1}],"status":"OK"}"#] {
            #expect(throws: ProviderError.self) { _ = try MassiveClient.decode(page: Data(body.utf8), ticker: ticker, from: 0, to: 10) }
        }
        let good = #"{"ticker":"AAPL","results":[{"t":1000,"o":1,"h":1,"l":1,"c":1,"v":1}],"status":"OK"}"#
        #expect(try MassiveClient.decode(page: Data(good.utf8), ticker: ticker, from: 0, to: 10).bars == [Bar(ts: 1, open: 1, high: 1, low: 1, close: 1, volume: 1)])
    }

    @Test func aNonOKStatusIsTheProvidersError() {
        let body = #"{"status":"ERROR","request_id":"x","error":"Something broke"}"#
        #expect(throws: ProviderError.providerStatus(.massive, status: "ERROR", message: "Something broke")) {
            _ = try MassiveClient.decode(page: Data(body.utf8), ticker: Ticker("AAPL")!, from: 0, to: 10)
        }
    }
}
