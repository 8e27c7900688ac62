import BarfillCore
import BarfillTestSupport
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Where `gaps --output`, `report --html` and `apply --report` write: through symlinks, into
/// devices and FIFOs in place, atomically over regular files, and a path that cannot be written
/// is refused before any work.
@Suite(.serialized, .requiresPostgres)
struct OutputFileTests {
    struct Setup {
        let fixture: ApplyFixture
        let binary: BarfillBinary
        var directory: URL { fixture.directory }

        func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

        func gaps(output: String, _ extra: [String] = []) async throws -> BarfillBinary.Run {
            try await binary.run(["gaps", "--timeframes", "h1", "--from", UTC.format(ApplyFixture.window.from),
                                  "--until", UTC.format(ApplyFixture.window.until), "--output", output] + extra,
                                 directory: directory)
        }

        func statusRows() throws -> Int {
            try fixture.database.connection.query("SELECT count(*) FROM barfill.backfill_status").int(0, 0) ?? -1
        }
    }

    static func setup() throws -> Setup {
        let fixture = try ApplyFixture()
        try fixture.seed("AAPL", .h1, holes: [3..<5])
        let binary = try BarfillBinary(environment: ["DATABASE_URL": fixture.database.url, "MASSIVE_API_KEY": ApplyFixture.secret,
                                                     "MASSIVE_BASE_URL": fixture.simulator.massiveBaseURL])
        return Setup(fixture: fixture, binary: binary)
    }

    static func fileType(_ path: String) -> mode_t {
        var info = stat()
        guard lstat(path, &info) == 0 else { return 0 }
        return info.st_mode & S_IFMT
    }

    /// A character device like the one at /dev (`mknod PATH c MAJOR MINOR`), in the test's own directory.
    static func mknod(_ path: String, major: Int, minor: Int) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/mknod")
        process.arguments = ["-m", "666", path, "c", String(major), String(minor)]
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0 && fileType(path) == S_IFCHR, "mknod \(path) c \(major) \(minor)")
    }

    static func isPlan(_ text: String) -> Bool { text.contains("\"format\" : \"barfill.plan\"") || text.contains("\"format\": \"barfill.plan\"") }

    @Test func aPlanIsWrittenIntoAFIFOWhichStaysAFIFO() async throws {
        let setup = try Self.setup()
        let fifo = setup.path("plan.fifo")
        #expect(mkfifo(fifo, 0o600) == 0)
        // A second name for the same FIFO: if the command replaced `fifo`, the reader can still be released.
        let sameFIFO = setup.path("plan.fifo.link")
        #expect(link(fifo, sameFIFO) == 0)
        // The reader: what a `barfill gaps --output >(…)` pipeline would be.
        let received = LockedText()
        let reader = Thread {
            if let handle = FileHandle(forReadingAtPath: fifo) { received.set(String(decoding: handle.readDataToEndOfFile(), as: UTF8.self)) }
            received.finish()
        }
        reader.start()
        let run = try await setup.gaps(output: fifo)
        if !received.isFinished {
            // The command never opened the FIFO: end the reader's wait with an empty write end.
            let fd = open(sameFIFO, O_WRONLY | O_NONBLOCK)
            if fd >= 0 { close(fd) }
        }
        while !received.isFinished { try await Task.sleep(nanoseconds: 10_000_000) }
        #expect(run.status == 0, "\(run.stderr)")
        #expect(Self.isPlan(received.text), "the reader got: \(received.text.prefix(200))")
        #expect(Self.fileType(fifo) == S_IFIFO)
    }

    @Test func aSymlinkIsWrittenThroughAndSurvives() async throws {
        let setup = try Self.setup()
        let target = setup.path("real-plan.json")
        try Data("old".utf8).write(to: URL(fileURLWithPath: target))
        #expect(chmod(target, 0o640) == 0)
        let link = setup.path("plan.json")
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: "real-plan.json")
        let run = try await setup.gaps(output: link)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(Self.fileType(link) == S_IFLNK)
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: link) == "real-plan.json")
        #expect(Self.isPlan(try String(contentsOfFile: target, encoding: .utf8)))
        var info = stat()
        #expect(stat(target, &info) == 0 && info.st_mode & 0o777 == 0o640, "the replaced file keeps its permissions")
        // No temporary file left beside it.
        #expect(try FileManager.default.contentsOfDirectory(atPath: setup.directory.path).filter { $0.contains(".barfill-") }.isEmpty)
    }

    @Test(.enabled(if: getuid() == 0, "mknod needs root (CAP_MKNOD)"))
    func aCharacterDeviceStaysADevice() async throws {
        let setup = try Self.setup()
        let null = setup.path("null")
        try Self.mknod(null, major: 1, minor: 3)
        let run = try await setup.gaps(output: null)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(Self.fileType(null) == S_IFCHR)
    }

    @Test(.enabled(if: getuid() == 0, "mknod needs root (CAP_MKNOD)"))
    func aWriteThatFailsAfterTheScanRecordsNoProgress() async throws {
        let setup = try Self.setup()
        // A copy of /dev/full: opening works, every write fails with ENOSPC, after the scan.
        let full = setup.path("full")
        try Self.mknod(full, major: 1, minor: 7)
        let run = try await setup.gaps(output: full)
        #expect(run.status == 1, "\(run.stderr)")
        #expect(run.stderr.contains("barfill gaps: error: cannot write \(full): No space left on device"), "\(run.stderr)")
        #expect(try setup.statusRows() == 0)
        #expect(Self.fileType(full) == S_IFCHR)

        // Written, the same scan records its progress.
        let written = try await setup.gaps(output: setup.path("plan.json"))
        #expect(written.status == 0, "\(written.stderr)")
        #expect(try setup.statusRows() == 1)
    }

    @Test func anUnwritableOutputFailsBeforeTheScanAndRecordsNothing() async throws {
        let setup = try Self.setup()
        // A regular file where a directory should be: no user, root included, can write below it.
        let file = setup.path("not-a-directory")
        try Data().write(to: URL(fileURLWithPath: file))
        for output in [setup.path("missing/plan.json"), file + "/plan.json"] {
            let run = try await setup.gaps(output: output)
            #expect(run.status == 1, "\(run.stderr)")
            #expect(run.stderr.hasPrefix("barfill gaps: error: cannot write \(output): "), "\(run.stderr)")
            #expect(!run.stderr.contains("USAGE") && !run.stderr.contains("NSCocoaErrorDomain"))
            #expect(try setup.statusRows() == 0)
        }
        #expect(!FileManager.default.fileExists(atPath: setup.path("missing")), "the directory is not created")
    }

    @Test func reportToAMissingDirectoryIsAnIOErrorNotUsage() async throws {
        let setup = try Self.setup()
        let output = setup.path("missing/coverage.html")
        let run = try await setup.binary.run(["report", "--html", output, "--from", "2024-03-01", "--until", "2024-04-01"],
                                             directory: setup.directory)
        #expect(run.status == 1, "\(run.stderr)")
        #expect(run.stderr == "barfill report: error: cannot write \(output): No such file or directory; choose a path in an existing directory you can write to\n")

        let written = try await setup.binary.run(["report", "--html", setup.path("coverage.html"), "--from", "2024-03-01", "--until", "2024-04-01"],
                                                 directory: setup.directory)
        #expect(written.status == 0, "\(written.stderr)")
        #expect(try String(contentsOfFile: setup.path("coverage.html"), encoding: .utf8).contains("<svg"))
    }

    @Test func applyWithAnUnwritableReportMakesNoRequestAndWritesNoRow() async throws {
        let setup = try Self.setup()
        let plan = setup.fixture.plan([("AAPL", .h1, [3..<5])])
        let planPath = setup.path("plan.json")
        try Data(plan.encoded()).write(to: URL(fileURLWithPath: planPath))
        let before = try setup.fixture.database.barCount()
        let report = "/missing-\(UUID().uuidString)/x.json"
        let run = try await setup.binary.run(["apply", planPath, "--checkpoint", setup.fixture.checkpointPath,
                                              "--rate", "massive=6000/min", "--report", report], directory: setup.directory)
        #expect(run.status == 1, "\(run.stderr)")
        #expect(run.stderr.hasPrefix("barfill apply: error: cannot write \(report): No such file or directory"), "\(run.stderr)")
        #expect(setup.fixture.requests().isEmpty)
        #expect(try setup.fixture.database.barCount() == before)
        #expect(!FileManager.default.fileExists(atPath: setup.fixture.checkpointPath))
    }

    @Test func aPlanGoesToStandardOutputForDash() async throws {
        let setup = try Self.setup()
        let run = try await setup.gaps(output: "-")
        #expect(run.status == 0, "\(run.stderr)")
        #expect(Self.isPlan(run.stdout))
        #expect(!FileManager.default.fileExists(atPath: setup.path("-")))
    }
}

/// Text handed from a reader thread to the test.
final class LockedText: @unchecked Sendable {
    private let lock = NSLock()
    private var value = ""
    private var done = false

    var text: String { lock.withLock { value } }
    var isFinished: Bool { lock.withLock { done } }
    func set(_ text: String) { lock.withLock { value = text } }
    func finish() { lock.withLock { done = true } }
}
