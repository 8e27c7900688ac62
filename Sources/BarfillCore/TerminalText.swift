/// Text from outside barfill (a database row, a provider answer) made safe to print in a line
/// or a table cell: control characters escaped, long values cut.
public enum TerminalText {
    /// Cells longer than this are cut: one 500-character ticker must not widen every row.
    public static let defaultLimit = 24

    /// `text` with control characters (C0, DEL, C1, and the bidi/line separators that reorder or
    /// break a terminal line) written as `\n`, `\t`, `\u{1B}` …, cut to at most `limit`
    /// characters of the escaped form, the cut marked with `…`.
    public static func escaped(_ text: String, limit: Int = defaultLimit) -> String {
        let pieces = text.unicodeScalars.map(escape)
        let whole = pieces.joined()
        guard whole.count > limit else { return whole }
        var out = ""
        for piece in pieces {
            // An escape is never split: `\u{1B` would read as something else.
            guard out.count + piece.count <= limit - 1 else { break }
            out += piece
        }
        return out + "…"
    }

    private static func escape(_ scalar: Unicode.Scalar) -> String {
        switch scalar {
        case "\n": return "\\n"
        case "\r": return "\\r"
        case "\t": return "\\t"
        case "\\": return "\\\\"
        default:
            let v = scalar.value
            let isControl = v < 0x20 || (0x7F...0x9F).contains(v)
            let reorders = (0x200E...0x200F).contains(v) || (0x2028...0x202E).contains(v)
                || (0x2066...0x2069).contains(v)
            guard isControl || reorders else { return String(scalar) }
            return "\\u{" + String(v, radix: 16, uppercase: true) + "}"
        }
    }
}

/// A plain-text table: every cell escaped and cut with `TerminalText`, columns padded to the
/// widest cell, the last column unpadded. Every table the CLI prints goes through here.
public struct TextTable: Sendable {
    public var header: [String]
    public var rows: [[String]] = []
    public var cellLimit: Int

    public init(header: [String], cellLimit: Int = TerminalText.defaultLimit) {
        self.header = header
        self.cellLimit = cellLimit
    }

    public mutating func append(_ row: [String]) { rows.append(row) }

    /// The table as lines, each ending in a newline.
    public func rendered() -> String {
        let cells = ([header] + rows).map { $0.map { TerminalText.escaped($0, limit: cellLimit) } }
        let columns = cells.map(\.count).max() ?? 0
        let widths = (0..<columns).map { column in cells.map { column < $0.count ? $0[column].count : 0 }.max() ?? 0 }
        return cells.map { row in
            row.enumerated().map { column, cell in
                column == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[column] - cell.count)
            }.joined(separator: "  ")
        }.joined(separator: "\n") + "\n"
    }
}
