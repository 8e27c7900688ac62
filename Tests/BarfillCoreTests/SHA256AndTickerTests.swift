import Testing
@testable import BarfillCore

@Suite struct SHA256Tests {
    @Test(arguments: [
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
    ])
    func matchesTheStandardVectors(input: String, digest: String) {
        #expect(SHA256.hex(input) == digest)
    }

    @Test func millionAs() {
        #expect(SHA256.hex(String(repeating: "a", count: 1_000_000))
                == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }
}

@Suite struct TickerTests {
    @Test(arguments: ["AAPL", "BRK.B", "BF-B", "A", "SPY", "X1"])
    func acceptsRealTickers(_ text: String) { #expect(Ticker(text) != nil) }

    @Test(arguments: ["", "aapl", "AAPL/../x", "A B", "A%2F", "A?x=1", ".A", "-A", "AAPL\n", "ÄAPL",
                      String(repeating: "A", count: 17), "A@evil.com", "A#"])
    func refusesHostileOnes(_ text: String) { #expect(Ticker(text) == nil) }
}
