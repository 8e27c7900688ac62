import Foundation

/// Why a plan file was refused. A plan comes from a pull request, so anything that is not
/// exactly what `barfill gaps` writes is refused before any work starts (exit 65).
/// `path` names the place in the file, like `chunks[3].gaps[0].from`.
public enum PlanError: LocalizedError, Sendable, Hashable {
    /// The bytes are not one JSON document (cut short, or not JSON at all).
    case notJSON(reason: String)
    /// The document is JSON but not a barfill plan (no or another `format`).
    case notAPlan(reason: String)
    /// A `version` this barfill does not read.
    case unsupportedVersion(found: String)
    case missingField(path: String)
    /// A field v1 does not have: plans carry only their documented fields (no hosts, URLs or SQL).
    case unexpectedField(path: String)
    case wrongType(path: String, expected: String, found: String)
    /// A number with a fraction or exponent, or too large: plans hold integers only.
    case notAnInteger(path: String, found: String)
    /// A count below its minimum (negative bars, zero requests).
    case badCount(path: String, value: Int64, minimum: Int64)
    /// Not `YYYY-MM-DDTHH:MM:SSZ`.
    case badTime(path: String, text: String)
    case unknownTimeframe(path: String, text: String)
    case unknownProvider(path: String, text: String)
    case unknownGapKind(path: String, text: String)
    case malformedTicker(path: String, text: String)
    case malformedText(path: String, text: String, expected: String)
    case unknownCalendar(name: String)
    /// A window that ends before it starts or lies outside the calendar's 1990–2040.
    case absurdWindow(path: String, reason: String)
    /// A chunk's window holds more than its provider serves in `requests` calls.
    case chunkTooWide(id: String, reason: String)
    case gapOutsideChunk(id: String, gap: Int)
    case overlappingGaps(id: String, gap: Int)
    /// A gap whose `from` is not a slot start on the plan's grid, or whose `to` is not the end of its `bars`-th slot.
    case gapOffGrid(id: String, gap: Int, grid: String)
    /// A chunk whose numbers disagree with each other (bars versus its gaps and window).
    case inconsistentChunk(id: String, reason: String)
    /// A chunk's content no longer matches its `id`: it was edited by hand.
    case editedChunk(id: String, expected: String)
    case duplicateChunk(id: String)
    case overlappingChunks(id: String, other: String)
    /// A chunk for a series the plan's `series` list does not hold, or outside that series' window.
    case chunkOutsideSeries(id: String, reason: String)
    case duplicateSeries(path: String)

    private static let regenerate = "run `barfill gaps` again to write a fresh plan"

    public var errorDescription: String? {
        switch self {
        case let .notJSON(reason):
            "the plan is not valid JSON (\(reason)); if it was cut short in a copy or download, fetch it again, else \(Self.regenerate)"
        case let .notAPlan(reason):
            "this is not a barfill plan: \(reason); pass a file written by `barfill gaps`"
        case let .unsupportedVersion(found):
            "plan version \(found) is not supported (this barfill reads version \(Plan.version)); \(Self.regenerate) with this barfill"
        case let .missingField(path):
            "the plan lacks `\(path)`; \(Self.regenerate) instead of editing it"
        case let .unexpectedField(path):
            "the plan has a field `\(path)` that plan version 1 does not have; plans hold only their documented fields (no hosts, URLs or SQL): remove it or \(Self.regenerate)"
        case let .wrongType(path, expected, found):
            "`\(path)` should be \(expected) but is \(found); \(Self.regenerate)"
        case let .notAnInteger(path, found):
            "`\(path)` is \(found), but plans hold whole numbers only; \(Self.regenerate)"
        case let .badCount(path, value, minimum):
            "`\(path)` is \(value) but must be at least \(minimum); \(Self.regenerate)"
        case let .badTime(path, text):
            "`\(path)` is \"\(text)\", not a UTC time like 2024-03-08T15:00:00Z; \(Self.regenerate)"
        case let .unknownTimeframe(path, text):
            "`\(path)` names an unknown timeframe \"\(text)\" (known: \(Timeframe.allCases.map(\.rawValue).joined(separator: ", "))); \(Self.regenerate)"
        case let .unknownProvider(path, text):
            "`\(path)` names an unknown provider \"\(text)\" (known: \(ProviderName.allCases.map(\.rawValue).joined(separator: ", "))); \(Self.regenerate)"
        case let .unknownGapKind(path, text):
            "`\(path)` names an unknown gap kind \"\(text)\" (known: \(GapKind.allCases.map(\.rawValue).joined(separator: ", "))); \(Self.regenerate)"
        case let .malformedTicker(path, text):
            "`\(path)` is \(String(reflecting: text)), not a ticker (1–16 of A–Z, 0–9, `.` and `-`); \(Self.regenerate)"
        case let .malformedText(path, text, expected):
            "`\(path)` is \(String(reflecting: text)), expected \(expected); \(Self.regenerate)"
        case let .unknownCalendar(name):
            "the plan is for calendar \"\(name)\", but barfill knows only XNYS; \(Self.regenerate)"
        case let .absurdWindow(path, reason):
            "`\(path)` is not a usable window: \(reason); \(Self.regenerate)"
        case let .chunkTooWide(id, reason):
            "chunk \(id) asks for more than its provider serves: \(reason); \(Self.regenerate) instead of widening chunks"
        case let .gapOutsideChunk(id, gap):
            "gap \(gap) of chunk \(id) lies outside the chunk's from–to window; \(Self.regenerate) instead of editing chunks"
        case let .overlappingGaps(id, gap):
            "gap \(gap) of chunk \(id) starts before the previous gap ends; \(Self.regenerate) instead of editing chunks"
        case let .gapOffGrid(id, gap, grid):
            "gap \(gap) of chunk \(id) does not start and end on slots of the plan's grid (\(grid)); \(Self.regenerate) instead of editing chunks"
        case let .inconsistentChunk(id, reason):
            "chunk \(id) contradicts itself: \(reason); \(Self.regenerate)"
        case let .editedChunk(id, expected):
            "chunk \(id) was changed after it was planned (its content hashes to \(expected)); \(Self.regenerate) instead of editing chunks (deleting whole chunks is fine)"
        case let .duplicateChunk(id):
            "chunk \(id) appears twice; delete one copy or \(Self.regenerate)"
        case let .overlappingChunks(id, other):
            "chunks \(other) and \(id) of one series overlap, so some bars would be fetched twice; \(Self.regenerate)"
        case let .chunkOutsideSeries(id, reason):
            "chunk \(id) \(reason); \(Self.regenerate)"
        case let .duplicateSeries(path):
            "`\(path)` lists a series that is already listed; \(Self.regenerate)"
        }
    }
}
