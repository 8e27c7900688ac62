import ArgumentParser

@main
struct Barfill: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "barfill",
        abstract: "Keep a PostgreSQL table of OHLC bars complete.",
        subcommands: [Apply.self, Status.self])
}
