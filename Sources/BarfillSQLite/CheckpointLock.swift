#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An exclusive advisory lock on `<checkpoint>.lock`, held while a run uses the checkpoint, so two
/// `barfill apply` processes never share one. The kernel drops it when the process dies, even by SIGKILL.
final class CheckpointLock {
    private let descriptor: Int32
    let path: String

    /// Takes the lock without waiting; throws `.locked` when another process holds it.
    init(path: String) throws(CheckpointError) {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw .cannotOpen(path: path, reason: String(cString: strerror(errno)))
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let code = errno
            close(fd)
            if code == EWOULDBLOCK { throw .locked(path: path) }
            throw .cannotOpen(path: path, reason: String(cString: strerror(code)))
        }
        // Record who holds it, for a person looking at a stuck lock.
        let pid = "\(getpid())\n"
        _ = ftruncate(fd, 0)
        _ = pid.withCString { write(fd, $0, strlen($0)) }
        self.descriptor = fd
        self.path = path
    }

    deinit {
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }
}
