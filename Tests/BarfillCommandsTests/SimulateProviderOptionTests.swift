import ArgumentParser
@testable import BarfillCommands
import BarfillHTTP
import BarfillSimulator
import Testing

/// `simulate-provider`'s fault and limit options: one parser per kind of value, read once.
struct SimulateProviderOptionTests {
    @Test func everyFaultOptionIsReadIntoTheSimulatorsConfiguration() throws {
        let parsed = try Barfill.parseAsRoot([
            "simulate-provider", "--server-error-rate", "5%", "--garbled-rate", "0.03", "--cut-rate", " 3% ",
            "--slow-rate", "2%", "--slow-seconds", "7", "--fault-seed", "9", "--fail-every", "4", "--truncate-every", "5",
            "--slow-every", "6", "--massive-rate", "5/min", "--finnhub-rate", "60/min, 30/s",
        ])
        let command = try #require(parsed as? SimulateProvider)
        #expect(command.faults.randomFaults == SimulatedProvider.RandomFaults(seed: 9, serverError: 0.05, garbled: 0.03, cut: 0.03,
                                                                              slow: 0.02, slowSeconds: 7))
        #expect(command.faults.rules == [.init(every: 4, fault: .status(503)), .init(every: 5, fault: .truncate),
                                         .init(every: 6, fault: .slow(7))])
        #expect(command.massiveRate == [RateLimit(requests: 5, per: 60)])
        #expect(command.finnhubRate == [RateLimit(requests: 60, per: 60), RateLimit(requests: 30, per: 1)])
    }

    @Test func withoutFaultOptionsNoFaultIsInjected() throws {
        let command = try #require(try Barfill.parseAsRoot(["simulate-provider"]) as? SimulateProvider)
        #expect(command.faults.randomFaults == nil)
        #expect(command.faults.rules.isEmpty)
        #expect(command.massiveRate == nil && command.finnhubRate == nil)
    }

    @Test(arguments: ["--server-error-rate", "--garbled-rate", "--cut-rate", "--slow-rate"])
    func aBadShareIsAUsageErrorWordedOneWayForEveryRate(_ option: String) {
        for bad in ["120%", "1.5", "five", "%"] {
            #expect {
                try Barfill.parseAsRoot(["simulate-provider", option, bad])
            } throws: { error in
                Barfill.exitCode(for: error).rawValue == 64
                    && Barfill.message(for: error).contains("'\(bad)' is not a share such as 5% or 0.05")
                    && Barfill.message(for: error).contains(option)
            }
        }
    }

    @Test(arguments: ["--fail-every", "--truncate-every", "--slow-every"])
    func aBadCountIsAUsageErrorWordedOneWayForEveryNthFault(_ option: String) {
        for bad in ["0", "2.5", "x"] {
            #expect {
                try Barfill.parseAsRoot(["simulate-provider", option, bad])
            } throws: { error in
                Barfill.exitCode(for: error).rawValue == 64
                    && Barfill.message(for: error).contains("'\(bad)' is not a whole number of at least 1")
            }
        }
    }

    @Test func ratesAddingUpToMoreThanAllRequestsAreRefused() {
        #expect {
            try Barfill.parseAsRoot(["simulate-provider", "--server-error-rate", "60%", "--garbled-rate", "0.5"])
        } throws: { error in
            Barfill.exitCode(for: error).rawValue == 64
                && Barfill.message(for: error).contains("the fault rates add up to more than 100%")
        }
    }

    @Test func aBadLimitListIsAUsageError() {
        #expect {
            try Barfill.parseAsRoot(["simulate-provider", "--massive-rate", "5/min,lots"])
        } throws: { error in
            Barfill.exitCode(for: error).rawValue == 64
                && Barfill.message(for: error).contains("'5/min,lots' is not a list of limits such as 5/min,30/s")
        }
    }
}
