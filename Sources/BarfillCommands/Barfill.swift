import ArgumentParser
import Foundation

/// The root command, `barfill <command>`.
public struct Barfill: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "barfill",
        abstract: "Keep a PostgreSQL table of OHLC bars complete.",
        version: "barfill \(BarfillVersion.current)",
        subcommands: [
            Gaps.self, Apply.self, Status.self, PlanCommand.self, ReportCommand.self, Migrate.self,
            Fetch.self, SimulateProvider.self, CalendarCommand.self, Work.self, Requests.self,
        ])

    public init() {}
}

/// barfill's version: the one place it is written (`barfill --version`).
public enum BarfillVersion {
    public static let current = "0.3.0"
}

/// Parses a command line and runs the command, with barfill's error format and exit codes for
/// ArgumentParser's own errors too (what `main.swift` calls; tests call it in process).
public enum BarfillMain {
    /// Runs `barfill arguments…` (without the program name) and returns its exit status.
    public static func run(_ arguments: [String]) async -> Int32 {
        let name = commandName(arguments)
        var command: any ParsableCommand
        do {
            command = try Barfill.parseAsRoot(arguments)
        } catch {
            return reportParseError(error, command: name)
        }
        do {
            try await reportingErrors(name) {
                do {
                    if var async = command as? any AsyncParsableCommand {
                        try await async.run()
                    } else {
                        try command.run()
                    }
                } catch where !(error is ExitCode) && Barfill.exitCode(for: error) == .success {
                    // `--help` and `barfill help gaps` run ArgumentParser's help command, and the root
                    // command without a subcommand asks for help: print it, exit 0.
                    FileHandle.standardOutput.write(Data(line(Barfill.fullMessage(for: error)).utf8))
                }
            }
            return ExitCodes.success
        } catch let exit as ExitCode {
            return exit.rawValue
        } catch {
            return ExitCodes.code(for: error)
        }
    }

    /// What ArgumentParser refused (or was asked for: help, version, a completion script), printed
    /// in barfill's format; returns the exit status.
    static func reportParseError(_ error: any Error, command: String) -> Int32 {
        let code = Barfill.exitCode(for: error)
        if code == .success {
            FileHandle.standardOutput.write(Data(line(Barfill.fullMessage(for: error)).utf8))
            return ExitCodes.success
        }
        let message = Barfill.message(for: error)
        // An `ExitCode` thrown while validating carries no message and its own status.
        if message.isEmpty { return code.rawValue }
        let prefix = command.isEmpty ? "barfill" : "barfill \(command)"
        StandardError.write("\(prefix): error: \(message)\nSee '\(prefix) --help'.\n")
        GitHubActions().error(message, title: prefix)
        return ExitCodes.usage
    }

    /// The (sub)command the arguments name, e.g. `plan show`; empty for the root command.
    static func commandName(_ arguments: [String]) -> String {
        var type: any ParsableCommand.Type = Barfill.self
        var path: [String] = []
        for argument in arguments where !argument.hasPrefix("-") {
            guard let next = type.configuration.subcommands.first(where: { $0._commandName == argument }) else { break }
            path.append(argument)
            type = next
        }
        return path.joined(separator: " ")
    }

    private static func line(_ text: String) -> String { text.hasSuffix("\n") ? text : text + "\n" }
}
