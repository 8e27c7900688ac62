import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// An output file (`report --html`, `gaps --output`) that cannot be written: exit 1 with the
/// operating system's reason, never Foundation's raw `NSError` text.
struct OutputFileError: LocalizedError {
    var path: String
    var reason: String

    init(path: String, error: any Error) {
        self.path = path
        self.reason = Self.reason(error)
    }

    var errorDescription: String? {
        "cannot write \(path): \(reason); check that its directory exists and is writable"
    }

    /// The POSIX reason under a Foundation file error ("No such file or directory").
    static func reason(_ error: any Error) -> String {
        var current = error as NSError
        while true {
            if current.domain == NSPOSIXErrorDomain { return String(cString: strerror(Int32(current.code))) }
            guard let underlying = current.userInfo[NSUnderlyingErrorKey] as? NSError else { break }
            current = underlying
        }
        switch (error as NSError).code {
        case CocoaError.fileNoSuchFile.rawValue, CocoaError.fileWriteNoPermission.rawValue, CocoaError.fileReadNoSuchFile.rawValue:
            // Foundation on Linux sometimes drops the POSIX error it came from.
            return String(cString: strerror(CocoaError.Code(rawValue: (error as NSError).code) == .fileWriteNoPermission ? EACCES : ENOENT))
        default:
            return "the file could not be written (\((error as NSError).domain) \((error as NSError).code))"
        }
    }
}
