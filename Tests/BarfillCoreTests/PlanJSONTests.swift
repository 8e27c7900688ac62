import Foundation
import Testing
@testable import BarfillCore

@Suite struct PlanJSONTests {
    @Test func writesSortedKeysWithTwoSpaceIndent() {
        let value = JSONValue.object(["b": .array([.integer(1), .integer(-2)]), "a": .object([:]), "c": .array([]),
                                      "d": .string("x\"y\\z\n\u{01}é")])
        #expect(value.canonicalText == """
        {
          "a": {},
          "b": [
            1,
            -2
          ],
          "c": [],
          "d": "x\\"y\\\\z\\n\\u0001é"
        }

        """)
        #expect(value.compactText == #"{"a":{},"b":[1,-2],"c":[],"d":"x\"y\\z\n\u0001é"}"#)
    }

    @Test func sortsKeysByBytes() {
        let value = JSONValue.object(["é": .null, "z": .null, "Z": .null, "a_b": .null, "ab": .null])
        #expect(value.compactText == #"{"Z":null,"a_b":null,"ab":null,"z":null,"é":null}"#)
    }

    @Test func readsBackWhatItWrites() throws {
        let value = JSONValue.object(["n": .integer(Int64.min), "m": .integer(Int64.max), "t": .bool(true), "f": .bool(false),
                                      "z": .null, "s": .string("tab\there \u{1F600} \u{7F}"), "a": .array([.object(["k": .string("")])])])
        #expect(try JSONValue(parsing: value.canonicalText) == value)
        #expect(try JSONValue(parsing: value.compactText) == value)
    }

    @Test func keepsNonIntegersAsText() throws {
        #expect(try JSONValue(parsing: "1.5") == .number("1.5"))
        #expect(try JSONValue(parsing: "1e3") == .number("1e3"))
        #expect(try JSONValue(parsing: "-0") == .integer(0))
        #expect(try JSONValue(parsing: "9223372036854775808") == .number("9223372036854775808"))
    }

    @Test func decodesEscapes() throws {
        #expect(try JSONValue(parsing: #""\u00e9\ud83d\ude00\/\b\f\r""#) == .string("é\u{1F600}/\u{08}\u{0C}\r"))
    }

    @Test(arguments: [
        "", "   ", "{", "[1,]", "{\"a\":1,}", "01", "1.", ".5", "+1", "\"abc", "\"\\x\"", "\"\\ud800\"", "\"\\udc00x\"",
        "{\"a\":1,\"a\":2}", "\u{FEFF}{}", "\"a\u{01}b\"", "nul", "{} {}", "[1 2]", "{\"a\" 1}", "{1:2}", "'a'",
        String(repeating: "[", count: 70) + String(repeating: "]", count: 70),
    ])
    func refusesWhatIsNotStrictJSON(_ text: String) {
        #expect(throws: JSONSyntaxError.self) { try JSONValue(parsing: text) }
    }

    @Test func refusesInvalidUTF8() {
        #expect(throws: JSONSyntaxError.self) { try JSONValue(parsing: [0x22, 0xC3, 0x28, 0x22]) }
        #expect(throws: JSONSyntaxError.self) { try JSONValue(parsing: [0x22, 0xED, 0xA0, 0x80, 0x22]) }   // encoded surrogate
        #expect(throws: JSONSyntaxError.self) { try JSONValue(parsing: [0x22, 0xC0, 0xAF, 0x22]) }         // overlong
    }

    @Test func saysWhenTextEndsEarly() {
        for text in ["{\"a\": [1, 2", "{\"a\": \"b", "[tr"] {
            #expect {
                try JSONValue(parsing: text)
            } throws: { error in
                (error as? JSONSyntaxError)?.isTruncated == true
            }
        }
        #expect {
            try JSONValue(parsing: "[1 2]")
        } throws: { error in
            (error as? JSONSyntaxError)?.isTruncated == false
        }
    }

    /// Every control character is escaped the way Python's `json.dumps(ensure_ascii=False)` does.
    @Test func escapesEveryControlCharacterAsPythonDoes() {
        let text = String(String.UnicodeScalarView((0..<0x20).map { Unicode.Scalar(UInt8($0)) }))
        let short: [UInt32: String] = [0x08: "\\b", 0x09: "\\t", 0x0A: "\\n", 0x0C: "\\f", 0x0D: "\\r"]
        let expected = (0..<0x20).map { short[UInt32($0)] ?? "\\u00" + (($0 < 16 ? "0" : "") + String($0, radix: 16)) }.joined()
        #expect(JSONValue.string(text).compactText == "\"" + expected + "\"")
        #expect(JSONValue.string("\u{7F}é\u{1F600}").compactText == "\"\u{7F}é\u{1F600}\"")
    }

    @Test(arguments: [Int64.min, -1_000, -1, 0, 7, 10, 9_999, Int64.max])
    func writesIntegersAsStringDoes(_ value: Int64) {
        #expect(JSONValue.integer(value).compactText == String(value))
    }

    /// The shared string grammar reads from any offset and says where the string ended.
    @Test func grammarReadsOneStringAtAnOffset() throws {
        let bytes = Array(#"xx"a\"b\u00e9"rest"#.utf8)
        let (text, end) = try JSONGrammar.readString(bytes, at: 2)
        #expect(text == "a\"bé")
        #expect(end == bytes.count - 4)
        #expect(throws: JSONGrammar.StringError.self) { try JSONGrammar.readString(Array(#""a\q""#.utf8), at: 0) }
    }

    /// Elements of streamed arrays reach the handler in order and leave `[]` in the root; other
    /// values (a streamed key that is not an array, nested arrays) stay in the tree.
    @Test func streamsTheElementsOfNamedTopLevelArrays() throws {
        var seen: [String] = []
        let root = try JSONValue.parsingStreamed(Array(#"{"b":[1,{"x":[2]}],"a":[3],"c":"s","d":[]}"#.utf8),
                                                 arrays: ["b", "c", "d"]) { key, n, value in
            seen.append("\(key)[\(n)]=\(value.compactText)")
        }
        #expect(seen == ["b[0]=1", #"b[1]={"x":[2]}"#])
        #expect(root == .object(["a": .array([.integer(3)]), "b": .array([]), "c": .string("s"), "d": .array([])]))
        #expect(throws: JSONSyntaxError.self) {
            _ = try JSONValue.parsingStreamed(Array(#"{"b":[1,2}"#.utf8), arrays: ["b"]) { _, _, _ in }
        }
        #expect(throws: JSONSyntaxError.self) {
            _ = try JSONValue.parsingStreamed(Array(#"{"b":[],"b":[]}"#.utf8), arrays: ["b"]) { _, _, _ in }
        }
    }
}
