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
    }

    @Test func rfc3339OffsetsAreInstantsEastOrWestOfUTC() {
        let tenUTC = UTC.parse("2024-01-01T10:00:00Z")!
        #expect(UTC.parse("2024-01-01T10:00:00+02:00") == tenUTC - 2 * 3_600)
        #expect(UTC.parse("2024-01-01T10:00:00-05:30") == tenUTC + 5 * 3_600 + 30 * 60)
        #expect(UTC.parse("2024-01-01T10:00:00-00:00") == tenUTC)
        #expect(UTC.parse("2024-01-01t10:00:00z") == tenUTC)
        // Across midnight: 01:00 in Tokyo is the previous day in UTC.
        #expect(UTC.parse("2024-01-01T01:00:00+09:00") == UTC.parse("2023-12-31T16:00:00Z"))
    }

    @Test func rfc3339FractionsAreDroppedToTheWholeSecond() {
        let instant = UTC.parse("2024-03-08T15:00:00Z")!
        #expect(UTC.parse("2024-03-08T15:00:00.5Z") == instant)
        #expect(UTC.parse("2024-03-08T15:00:00.999999+00:00") == instant)
        #expect(UTC.parse("2024-03-08T10:00:00.25-05:00") == instant)
    }

    @Test(arguments: ["2024-03-08T15:00:00", "2024-03-08T15:00:00+2:00", "2024-03-08T15:00:00+24:00",
                      "2024-03-08T15:00:00+01:60", "2024-03-08T15:00:00.Z", "2024-03-08T15:00:00.5x+01:00",
                      "2024-03-08 15:00:00Z", "2024-03-08T15:00Z", "2024-03-08T15:00:00+0100", "２024-03-08T15:00:00Z"])
    func malformedInstantsAreRefused(_ text: String) {
        #expect(UTC.parse(text) == nil)
    }

    /// The byte-by-byte writer agrees with the date's own text, across the calendar's range and beyond.
    @Test func formatsEveryHourLikeTheDateDoes() {
        for seconds in stride(from: Int64(-86_400 * 400), through: 2_300_000_000, by: 86_400 * 13 + 3_599) {
            let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
            let rest = Int(seconds - days * 86_400)
            func two(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
            let expected = "\(LocalDate(daysSinceEpoch: Int(days)))T\(two(rest / 3_600)):\(two(rest / 60 % 60)):\(two(rest % 60))Z"
            #expect(UTC.format(seconds) == expected)
        }
    }

    /// Plans hold exactly `YYYY-MM-DDTHH:MM:SSZ`; nothing looser.
    @Test func planTimesAreReadOnlyInTheirOneForm() {
        #expect(Fields.canonicalTime("2024-03-08T15:00:00Z") == 1_709_910_000)
        for text in ["2024-03-08T15:00:00+00:00", "2024-02-30T00:00:00Z", "2024-03-08T24:00:00Z", "2024-03-08T15:60:00Z",
                     "2024-03-08 15:00:00Z", "2024-03-08T15:00:0aZ", "2024-03-08", "+024-03-08T15:00:00Z", "2024-03-08T15:00:00z"] {
            #expect(Fields.canonicalTime(text) == nil, "\(text)")
        }
    }

    @Test(arguments: [(Int64(0), Int64(0), Int64(0)), (86_399, 0, 86_399), (86_400, 1, 0),
                      (-1, -1, 86_399), (-86_400, -1, 0), (-86_401, -2, 86_399)])
    func instantsSplitIntoTheirDayAlsoBefore1970(_ seconds: Int64, _ days: Int64, _ secondOfDay: Int64) {
        #expect(UTC.day(of: seconds) == (days, secondOfDay))
        #expect(seconds.floorDivided(by: 86_400) == days)
        #expect(seconds.ceilingDivided(by: 86_400) == (secondOfDay == 0 ? days : days + 1))
    }

    /// The plan reader takes what canonicalTime accepts without formatting it back: the two agree.
    @Test func planTimesReadBackToWhatUTCFormatWrites() {
        for seconds in stride(from: Plan.earliest - 86_400, through: Plan.latest + 86_400, by: 7 * 86_400 + 3_661) {
            let text = UTC.format(seconds)
            #expect(Fields.canonicalTime(text) == seconds, "\(text)")
        }
        for text in ["0000-01-01T00:00:00Z", "2024-02-29T23:59:59Z", "9999-12-31T23:59:59Z"] {
            #expect(Fields.canonicalTime(text).map(UTC.format) == text)
        }
    }
}
