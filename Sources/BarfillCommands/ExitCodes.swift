import ArgumentParser
import BarfillApply
import BarfillCore
import BarfillHTTP
import BarfillPostgres
import BarfillSQLite
import Foundation

/// barfill's exit codes (README, "Exit codes"), and the one place every error type is mapped to one.
public enum ExitCodes {
    /// Done; `gaps`: no gaps.
    public static let success: Int32 = 0
    /// A failure, with details on standard error (chunks that failed, the database gone, a provider refusing).
    public static let failure: Int32 = 1
    /// `gaps --detailed-exitcode` found gaps.
    public static let gapsFound: Int32 = 2
    /// The command line is wrong (sysexits EX_USAGE).
    public static let usage: Int32 = 64
    /// A plan, checkpoint or other input file is invalid or was tampered with (EX_DATAERR).
    public static let dataError: Int32 = 65
    /// Stopped early but resumable: rate limit, budget, deadline, signal, checkpoint in use (EX_TEMPFAIL).
    public static let resumable: Int32 = 75

    /// What an error says to a person: its description, never Foundation's raw `NSError` dump.
    public static func message(for error: any Error) -> String {
        switch error {
        case let error as ValidationError: return error.message
        case is PlanError, is CheckpointError, is ApplyError, is ProviderError, is PostgresError, is OutputFileError:
            break
        default:
            // A Foundation file error that escaped a command: its reason, not "NSCocoaErrorDomain Code=4 …".
            let bridged = error as NSError
            if bridged.domain == NSCocoaErrorDomain || bridged.domain == NSPOSIXErrorDomain {
                return OutputFileError.reason(error)
            }
        }
        if let description = (error as? LocalizedError)?.errorDescription { return description }
        return "\(error)"
    }

    /// The exit code for an error that ended a command.
    public static func code(for error: any Error) -> Int32 {
        switch error {
        case let error as ExitCode:
            return error.rawValue
        case is ValidationError:
            return usage
        case is PlanError:
            return dataError
        case let error as CheckpointError:
            switch error {
            case .corrupt, .newerSchema: return dataError
            case .locked: return resumable
            case .cannotOpen, .storage: return failure
            }
        case let error as SQLiteError:
            if case .corrupt = error { return dataError }
            return failure
        case let error as ApplyError:
            return code(for: error)
        case let error as ProviderError:
            switch error {
            // How barfill was invoked (environment, options), not what happened at the provider.
            case .missingKey, .invalidBaseURL, .unsupportedTimeframe, .invalidWindow: return usage
            default:
                // Unreachable or still failing after the retries: nothing was refused, try again later.
                return error.fault == .permanent ? failure : resumable
            }
        case is CalendarError:
            return usage
        case let error as PostgresError:
            // A connection lost mid-run (a restart, the pooler going away) ends nothing for good: every
            // write is one transaction, so the same command resumes. A database that cannot be reached at
            // all, or a server error, needs a person.
            if case .connectionLost = error { return resumable }
            return failure
        case is HTTPError:
            return failure
        default:
            return failure
        }
    }

    public static func code(for error: ApplyError) -> Int32 {
        switch error {
        case .stalePlan, .planCalendarMismatch, .unknownGrid: dataError
        case .invalidOption: usage
        case .unreadablePlan, .cannotWrite, .notMigrated: failure
        }
    }

    /// The exit code for how an apply run ended.
    public static func code(for outcome: ApplyOutcome) -> Int32 {
        switch outcome {
        case .complete: success
        case .stopped: resumable
        case .failed: failure
        }
    }
}

/// Runs a command body; an error is printed once (and annotated in GitHub Actions) and turned into
/// its documented exit code.
public func reportingErrors(_ command: String, _ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let exit as ExitCode {
        throw exit
    } catch {
        let message = ExitCodes.message(for: error)
        StandardError.write("barfill \(command): error: \(message)\n")
        let code = ExitCodes.code(for: error)
        if code == ExitCodes.usage { StandardError.write("See 'barfill \(command) --help'.\n") }
        GitHubActions().error(message, title: "barfill \(command)")
        throw ExitCode(code)
    }
}
