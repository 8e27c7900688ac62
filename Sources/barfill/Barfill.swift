import ArgumentParser

@main
struct Barfill: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "barfill",
        abstract: "Keep a PostgreSQL table of OHLC bars complete.",
        subcommands: [CalendarCommand.self, PlanCommand.self, Fetch.self, SimulateProvider.self, Migrate.self, ReportCommand.self])
}
