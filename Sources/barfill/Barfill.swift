import ArgumentParser

@main
struct Barfill: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "barfill",
        abstract: "Keep a PostgreSQL table of OHLC bars complete.",
        subcommands: [CalendarCommand.self, Apply.self, Status.self])
}
