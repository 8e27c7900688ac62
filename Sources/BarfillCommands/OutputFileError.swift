import Foundation

#if canImport(Glibc)
import Glibc
#endif

extension OutputFileError {
    /// A file error from Foundation, as the operating system's reason.
    init(path: String, error: any Error) {
        self = .cannotWrite(path: path, reason: Self.reason(error))
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
