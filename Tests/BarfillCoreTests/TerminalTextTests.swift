import Testing
import BarfillCore

@Suite struct TerminalTextTests {
    @Test func controlCharactersAreWrittenAsEscapes() {
        #expect(TerminalText.escaped("AB\u{1B}[2J\nC\tD\u{7F}\u{9B}", limit: 80) == "AB\\u{1B}[2J\\nC\\tD\\u{7F}\\u{9B}")
        #expect(TerminalText.escaped("BRK.B") == "BRK.B")
        // Right-to-left overrides reorder what follows them on the line.
        #expect(TerminalText.escaped("A\u{202E}B") == "A\\u{202E}B")
    }

    @Test func longTextIsCutAndMarked() {
        let long = String(repeating: "X", count: 500)
        #expect(TerminalText.escaped(long) == String(repeating: "X", count: 23) + "…")
        #expect(TerminalText.escaped(long).count == TerminalText.defaultLimit)
        #expect(TerminalText.escaped(String(repeating: "X", count: 24)) == String(repeating: "X", count: 24))
        // An escape sequence is never cut in half.
        #expect(TerminalText.escaped("ABCDEFGH\u{1B}", limit: 12) == "ABCDEFGH…")
    }

    @Test func aTableKeepsItsColumnsWhateverTheCellsHold() {
        var table = TextTable(header: ["symbol", "bars"])
        table.append(["AAPL", "10"])
        table.append([String(repeating: "Z", count: 500), "7"])
        table.append(["EVIL\u{1B}[31m\r", "3"])
        let lines = table.rendered().split(separator: "\n")
        #expect(lines.count == 4)
        #expect(lines.allSatisfy { !$0.contains("\u{1B}") && !$0.contains("\r") })
        // The second column starts at the same place on every line, and no line is wider than the limit allows.
        let starts = lines.map { line in line.distance(from: line.startIndex, to: line.lastIndex(of: " ")!) }
        #expect(Set(starts).count == 1)
        #expect(lines.allSatisfy { $0.count <= TerminalText.defaultLimit + 2 + 4 })
    }
}
