import Testing
@testable import BarfillCore

@Suite struct TimeTests {
    @Test func datesRoundTripThroughDayNumbers() {
        for days in stride(from: -30_000, through: 40_000, by: 7) {
            let date = LocalDate(daysSinceEpoch: days)
            #expect(date.daysSinceEpoch == days)
            #expect(LocalDate(iso: date.description) == date)
        }
        #expect(LocalDate(iso: "2024-02-29")?.weekday == 4)
        #expect(LocalDate(iso: "2023-02-29") == nil)
    }

    @Test func rfc3339RoundTrips() {
        for s: Int64 in [0, 1_709_910_000, -86_401, 2_208_988_800] {
            #expect(UTC.parse(UTC.format(s)) == s)
        }
        #expect(UTC.format(1_709_910_000) == "2024-03-08T15:00:00Z")
        #expect(UTC.parse("2024-03-08T15:00:00.5Z") == nil)
        #expect(UTC.parse("2024-03-08T15:00:00+01:00") == nil)
    }
}
