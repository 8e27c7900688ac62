import ArgumentParser
import BarfillApply
import BarfillCore
import BarfillHTTP
import BarfillPostgres
import BarfillSQLite
import Foundation

/// barfill's exit codes (README, "Exit codes"), and the one place every error type is mapped to one.
enum ExitCodes {
    /// Done; `gaps`: no gaps.
    static let success: Int32 = 0
    /// A failure, with details on standard error (chunks that failed, the database gone, a provider refusing).
    static let failure: Int32 = 1
    /// `gaps --detailed-exitcode` found gaps.
    static let gapsFound: Int32 = 2
    /// The command line is wrong (sysexits EX_USAGE).
    static let usage: Int32 = 64
    /// A plan, checkpoint or other input file is invalid or was tampered with (EX_DATAERR).
    static let dataError: Int32 = 65
    /// Stopped early but resumable: rate limit, budget, deadline, signal, checkpoint in use (EX_TEMPFAIL).
    static let resumable: Int32 = 75

    /// The exit code for an error that ended a command.
    static func code(for error: any Error) -> Int32 {
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
            default: return failure
            }
        case is CalendarError:
            return usage
        case is PostgresError, is HTTPError:
            // Connection refused or lost, a server error: nothing half-written, the next run redoes it.
            return failure
        default:
            return failure
        }
    }

    static func code(for error: ApplyError) -> Int32 {
        switch error {
        case .stalePlan, .planCalendarMismatch, .unknownGrid: dataError
        case .invalidOption: usage
        case .unreadablePlan, .cannotWrite, .notMigrated: failure
        }
    }

    /// The exit code for how an apply run ended.
    static func code(for outcome: ApplyOutcome) -> Int32 {
        switch outcome {
        case .complete: success
        case .stopped: resumable
        case .failed: failure
        }
    }
}

/// Runs a command body; an error is printed once (and annotated in GitHub Actions) and turned into
/// its documented exit code.
func reportingErrors(_ command: String, _ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let exit as ExitCode {
        throw exit
    } catch let error as ValidationError {
        throw error   // ArgumentParser prints usage and exits 64
    } catch {
        let message = (error as? LocalizedError)?.errorDescription ?? "\(error)"
        StandardError.write("barfill \(command): error: \(message)\n")
        GitHubActions().error(message, title: "barfill \(command)")
        throw ExitCode(ExitCodes.code(for: error))
    }
}
