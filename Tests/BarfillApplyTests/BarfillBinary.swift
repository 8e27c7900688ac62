import Foundation
import Testing

/// The `barfill` executable built beside the test bundle (`swift build --build-tests` builds both),
/// run as a user would run it.
struct BarfillBinary {
    struct Run {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static var url: URL? {
        let candidates = [
            Bundle.main.executableURL?.deletingLastPathComponent(),
            URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent(),
        ].compactMap { $0?.appendingPathComponent("barfill") }
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }

    let url: URL
    var environment: [String: String]

    /// The binary with a clean environment: only what `environment` adds to PATH and HOME.
    init(environment: [String: String]) throws {
        guard let url = Self.url else {
            throw BinaryMissing()
        }
        self.url = url
        var base = ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin",
                    "HOME": ProcessInfo.processInfo.environment["HOME"] ?? "/tmp"]
        base.merge(environment) { $1 }
        self.environment = base
    }

    struct BinaryMissing: Error, CustomStringConvertible {
        var description: String { "the barfill executable is not next to the test bundle; run `swift build --build-tests` first" }
    }

    /// Starts `barfill arguments…` and returns the running process, its output going to temp files.
    func start(_ arguments: [String], directory: URL) throws -> (Process, URL, URL) {
        let process = Process()
        process.executableURL = url
        process.arguments = arguments
        process.environment = environment
        process.currentDirectoryURL = directory
        let out = directory.appendingPathComponent("stdout-\(UUID().uuidString)")
        let err = directory.appendingPathComponent("stderr-\(UUID().uuidString)")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        process.standardInput = FileHandle.nullDevice
        try process.run()
        return (process, out, err)
    }

    /// Runs `barfill arguments…` to its end.
    func run(_ arguments: [String], directory: URL) async throws -> Run {
        let (process, out, err) = try start(arguments, directory: directory)
        while process.isRunning { try await Task.sleep(nanoseconds: 10_000_000) }
        return Run(status: process.terminationStatus,
                   stdout: (try? String(contentsOf: out, encoding: .utf8)) ?? "",
                   stderr: (try? String(contentsOf: err, encoding: .utf8)) ?? "")
    }
}
