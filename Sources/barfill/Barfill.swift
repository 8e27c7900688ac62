import ArgumentParser

@main
struct Barfill: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "barfill",
        abstract: "Keep a PostgreSQL table of OHLC bars complete.",
        subcommands: [
            Gaps.self, Apply.self, Status.self, PlanCommand.self, ReportCommand.self, Migrate.self,
            Fetch.self, SimulateProvider.self, CalendarCommand.self, Work.self, Requests.self,
        ])
}
