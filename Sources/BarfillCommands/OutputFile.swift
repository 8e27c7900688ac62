import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Where a command writes a file it produces (`gaps --output`, `report --html`, `apply --report`).
///
/// `-` is standard output. A new path or a regular file is replaced atomically (a temporary file
/// in the same directory, fsync, rename), so a reader sees the old content or the new, never
/// half. A symlink is written through: the rule applies to its target, and the link stays. A
/// device, FIFO or socket is opened and written in place, never replaced by a regular file.
struct OutputFile {
    let path: String

    init(_ path: String) { self.path = path }

    var isStandardOutput: Bool { path == "-" }

    /// Fails now, before any work, when the output could not be written later: a missing
    /// directory, no permission, a directory in the way.
    func checkWritable() throws(OutputFileError) {
        guard !isStandardOutput else { return }
        let target = try resolved()
        switch target.kind {
        case .missing, .regular:
            let directory = Self.directory(of: target.path)
            var info = stat()
            guard stat(directory, &info) == 0 else { throw error(errno) }
            guard info.st_mode & S_IFMT == S_IFDIR else { throw error(ENOTDIR) }
            // The temporary file is created in the directory and renamed there: both need write access.
            guard access(directory, W_OK | X_OK) == 0 else { throw error(errno) }
        case .special:
            guard access(target.path, W_OK) == 0 else { throw error(errno) }
        case .directory:
            throw error(EISDIR)
        }
    }

    /// Writes `bytes` by the rule above.
    func write(_ bytes: some Sequence<UInt8>) throws(OutputFileError) {
        let data = Data(bytes)
        guard !isStandardOutput else {
            FileHandle.standardOutput.write(data)
            return
        }
        let target = try resolved()
        switch target.kind {
        case .missing, .regular(mode: _):
            try replace(target.path, with: data, mode: target.kind.mode)
        case .special:
            // In place: O_TRUNC is meaningless for a device or a FIFO, and must not be a rename.
            let fd = open(target.path, O_WRONLY | O_CLOEXEC | O_NOCTTY)
            guard fd >= 0 else { throw error(errno) }
            let handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
            do { try handle.write(contentsOf: data) } catch { throw self.error(Self.posixCode(error)) }
        case .directory:
            throw error(EISDIR)
        }
    }

    // MARK: Rules

    enum Kind {
        case missing
        case regular(mode: mode_t)
        case directory
        /// A character or block device, a FIFO, a socket.
        case special

        var mode: mode_t? { if case let .regular(mode) = self { mode } else { nil } }
    }

    /// The path after following symlinks (a dangling link resolves to the path it names), and
    /// what is there.
    func resolved() throws(OutputFileError) -> (path: String, kind: Kind) {
        var current = path
        // As the kernel does (ELOOP after 40 links), so a link cycle ends.
        for _ in 0..<40 {
            var info = stat()
            guard lstat(current, &info) == 0 else {
                let code = errno
                if code == ENOENT { return (current, .missing) }
                throw error(code)
            }
            switch info.st_mode & S_IFMT {
            case S_IFLNK:
                let destination: String
                do { destination = try FileManager.default.destinationOfSymbolicLink(atPath: current) } catch { throw self.error(EINVAL) }
                current = destination.hasPrefix("/") ? destination : Self.directory(of: current) + "/" + destination
            case S_IFREG: return (current, .regular(mode: info.st_mode & 0o7777))
            case S_IFDIR: return (current, .directory)
            default: return (current, .special)
            }
        }
        throw error(ELOOP)
    }

    /// Temporary file beside `target`, written, fsynced, renamed over it; the directory fsynced
    /// so the rename itself survives a crash.
    private func replace(_ target: String, with data: Data, mode: mode_t?) throws(OutputFileError) {
        let directory = Self.directory(of: target)
        let name = (target as NSString).lastPathComponent
        let temporary = directory + "/.\(name).barfill-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode ?? 0o666)
        guard fd >= 0 else { throw error(errno) }
        let handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
        var failure: Int32? = nil
        // An existing file keeps its permissions (open's mode is masked by the umask).
        if let mode, fchmod(fd, mode) != 0 { failure = errno }
        if failure == nil {
            do { try handle.write(contentsOf: data) } catch { failure = Self.posixCode(error) }
        }
        if failure == nil, fsync(fd) != 0 { failure = errno }
        if failure == nil, rename(temporary, target) != 0 { failure = errno }
        if let failure {
            unlink(temporary)
            throw error(failure)
        }
        let directoryFD = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directoryFD >= 0 {
            fsync(directoryFD)
            close(directoryFD)
        }
    }

    /// The errno behind a Foundation write error (corelibs wraps it as the underlying error).
    private static func posixCode(_ error: any Error) -> Int32 {
        let error = error as NSError
        if error.domain == NSPOSIXErrorDomain { return Int32(error.code) }
        if let underlying = error.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
            return Int32(underlying.code)
        }
        return EIO
    }

    private static func directory(of path: String) -> String {
        let parent = (path as NSString).deletingLastPathComponent
        return parent.isEmpty ? "." : parent
    }

    private func error(_ code: Int32) -> OutputFileError {
        .cannotWrite(path: path, reason: String(cString: strerror(code)))
    }
}

/// An output file that cannot be written (exit 1: a person has to fix the path or permissions).
enum OutputFileError: LocalizedError {
    case cannotWrite(path: String, reason: String)

    var errorDescription: String? {
        switch self {
        case let .cannotWrite(path, reason):
            "cannot write \(path): \(reason); choose a path in an existing directory you can write to"
        }
    }
}
