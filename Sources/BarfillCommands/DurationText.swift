/// Durations as people type them on a command line: `25m`, `1h30m`, `90s`, `2h`.
public enum DurationText {
    /// Seconds in `text`, or nil when it is not a sequence of positive `<number><h|m|s>` parts.
    public static func seconds(_ text: String) -> Int64? {
        var total: Int64 = 0
        var digits = ""
        var sawUnit = false
        for character in text {
            if let _ = character.wholeNumberValue, character.isASCII {
                digits.append(character)
                continue
            }
            guard let value = Int64(digits), digits.count <= 9 else { return nil }
            switch character {
            case "h": total += value * 3_600
            case "m": total += value * 60
            case "s": total += value
            default: return nil
            }
            digits = ""
            sawUnit = true
        }
        guard digits.isEmpty, sawUnit, total > 0 else { return nil }
        return total
    }
}
