import ArgumentParser
@testable import BarfillCommands
import BarfillCore
import Testing

/// The shared option types: one parser each, the same answer in every command.
struct OptionParsingTests {
    @Test(arguments: [["gaps"], ["status"], ["report", "--html", "out.html"]])
    func tickersAndTimeframesAreParsedTheSameWayInEveryCommand(_ command: [String]) throws {
        let parsed = try Barfill.parseAsRoot(command + ["--symbols", " aapl, BRK.B ,,", "--timeframes", "H1, d1"])
        let series = try #require((parsed as? Gaps)?.series ?? (parsed as? Status)?.series ?? (parsed as? ReportCommand)?.series)
        #expect(try series.tickers()?.map(\.value) == ["AAPL", "BRK.B"])
        #expect(try series.timeframeList() == [.h1, .d1])
    }

    @Test(arguments: [["gaps"], ["status"], ["report", "--html", "out.html"]])
    func aBadTickerIsAUsageErrorWordedOneWay(_ command: [String]) {
        #expect {
            try Barfill.parseAsRoot(command + ["--symbols", "AAPL,$X"])
        } throws: { error in
            Barfill.exitCode(for: error).rawValue == 64
                && Barfill.message(for: error) == #"--symbols: "$X" is not a ticker (\#(Ticker.rule))"#
        }
    }

    @Test func aDateMeansMidnightInNewYorkAndTheWindowIsHalfOpen() throws {
        let window = WindowOptions(from: "2024-03-08", until: "2024-03-11T14:30:00Z")
        let resolved = try window.resolved(defaultDays: nil)
        #expect(resolved.from == NewYork.midnight(LocalDate(iso: "2024-03-08")!))
        #expect(resolved.until == UTC.parse("2024-03-11T14:30:00Z"))
    }

    @Test func theOldInclusiveToEndsAtTheNextMidnight() throws {
        let window = WindowOptions(from: "2024-03-08", until: nil)
        let resolved = try window.resolved(defaultDays: nil, legacyTo: "2024-03-08")
        #expect(resolved.until == NewYork.midnight(LocalDate(iso: "2024-03-09")!))
        #expect(throws: ValidationError.self) {
            try WindowOptions(from: "2024-03-08", until: "2024-03-09").resolved(defaultDays: nil, legacyTo: "2024-03-09")
        }
    }

    @Test(arguments: [
        ["gaps", "--from", "1980-01-02", "--until", "1980-02-01"],
        ["report", "--html", "x.html", "--from", "1980-01-02", "--until", "1980-02-01"],
        ["fetch", "--provider", "massive", "--symbol", "AAPL", "--timeframe", "h1", "--from", "1980-01-02", "--to", "1980-01-03"],
        ["calendar", "sessions", "--from", "1980-01-02"],
        ["calendar", "slots", "--timeframe", "h1", "--from", "2024-01-02", "--until", "2099-01-01"],
    ])
    func outOfCalendarDatesAreUsageErrorsInEveryCommand(_ arguments: [String]) throws {
        #expect {
            try Barfill.parseAsRoot(arguments)
        } throws: { error in
            Barfill.exitCode(for: error).rawValue == 64 && Barfill.message(for: error).contains("calendar")
        }
    }
}

/// `--deadline` as people type it.
struct DurationTextTests {
    @Test(arguments: [("25m", 1_500), ("1h30m", 5_400), ("90s", 90), ("2h", 7_200)] as [(String, Int64)])
    func durationsAreSumsOfHoursMinutesAndSeconds(_ text: String, _ seconds: Int64) {
        #expect(DurationText.seconds(text) == seconds)
    }

    @Test(arguments: ["", "5", "-5m", "5x", "0m", "1.5h", "m"])
    func anythingElseIsRefused(_ text: String) {
        #expect(DurationText.seconds(text) == nil)
    }
}

extension WindowOptions {
    init(from: String?, until: String?) {
        self.init()
        self.from = from
        self.until = until
    }
}
