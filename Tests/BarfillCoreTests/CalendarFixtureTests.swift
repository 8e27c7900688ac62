import Foundation
import Testing
@testable import BarfillCore

/// The rule-based XNYS calendar against exchange_calendars' XNYS (Tests/Fixtures/README.md).
@Suite struct CalendarFixtureTests {
    struct Row: Equatable, CustomStringConvertible {
        let date: String, open: String, close: String
        var description: String { "\(date),\(open),\(close)" }
    }

    static func fixture() throws -> [Row] {
        let url = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/xnys-sessions-2000-2030.csv")
        let text = try String(contentsOf: url, encoding: .utf8)
        return text.split(separator: "\n").dropFirst().map { line in
            let fields = line.split(separator: ",").map(String.init)
            return Row(date: fields[0], open: fields[1], close: fields[2])
        }
    }

    @Test func everySessionOpenAndCloseOf2000Through2030MatchesExchangeCalendars() throws {
        let expected = try Self.fixture()
        let sessions = try MarketCalendar.xnys.sessions(from: LocalDate(iso: "2000-01-01")!,
                                                        through: LocalDate(iso: "2030-12-31")!)
        let actual = sessions.map { Row(date: $0.date.description, open: UTC.format($0.open), close: UTC.format($0.close)) }

        let missing = Set(expected.map(\.description)).subtracting(actual.map(\.description)).sorted()
        let extra = Set(actual.map(\.description)).subtracting(expected.map(\.description)).sorted()
        #expect(missing.isEmpty, "in exchange_calendars only: \(missing.prefix(20))")
        #expect(extra.isEmpty, "in the rules only: \(extra.prefix(20))")
        #expect(actual.elementsEqual(expected), "same rows, same order")
        #expect(expected.count == 7_794)
        #expect(sessions.count == 7_794)
        #expect(sessions.filter(\.isEarlyClose).count == 69)
    }
}
