import BarfillHTTP
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A small HTTP/1.1 server on 127.0.0.1 over POSIX sockets: one thread accepts, one thread per
/// connection serves requests in turn (keep-alive). Enough for a simulated provider, no more:
/// GET requests, `Content-Length` bodies, no chunked uploads, no TLS.
final class LoopbackServer: Sendable {
    struct Request: Sendable {
        var method: String
        /// Path and query as sent (`/v2/aggs/…?adjusted=true`).
        var target: String
        var headers: HTTPHeaders
    }

    struct Response: Sendable {
        var status: Int
        var headers: [(String, String)] = [("Content-Type", "application/json")]
        var body: Data
        /// Real seconds to wait before answering.
        var delay: Double = 0
        /// Send only this many body bytes (after announcing the whole length), then close: a cut connection.
        var truncateAt: Int? = nil
    }

    typealias Handler = @Sendable (Request) -> Response

    let port: UInt16
    private let listener: Int32
    private let handler: Handler
    private let state = Mutex<(stopped: Bool, connections: Set<Int32>, accepted: Int)>((false, [], 0))

    init(port: UInt16 = 0, handler: @escaping Handler) throws(SimulatedProviderError) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw .socket("socket", errno) }
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { let e = errno; close(fd); throw .socket("bind", e) }
        guard listen(fd, 128) == 0 else { let e = errno; close(fd); throw .socket("listen", e) }
        var actual = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &actual) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        self.port = UInt16(bigEndian: actual.sin_port)
        self.listener = fd
        self.handler = handler
        let thread = Thread { [self] in acceptLoop() }
        thread.name = "simulated-provider-accept"
        thread.start()
    }

    deinit { stop() }

    /// Connections accepted so far (keep-alive makes this smaller than the request count).
    var connectionsAccepted: Int { state.withLock { $0.accepted } }

    /// Stops accepting and ends every open connection. Idempotent. File descriptors are shut down
    /// under the lock and closed only by the thread that owns them, so a number reused by another
    /// socket in the process is never touched.
    func stop() {
        state.withLock { s in
            guard !s.stopped else { return }
            s.stopped = true
            shutdown(listener, Int32(SHUT_RDWR))   // wakes the accept loop, which closes the listener
            for fd in s.connections { shutdown(fd, Int32(SHUT_RDWR)) }
            s.connections = []
        }
    }

    private func acceptLoop() {
        while true {
            let fd = accept(listener, nil, nil)
            if fd < 0 {
                if errno == EINTR || errno == ECONNABORTED { continue }
                close(listener)   // shut down by stop(), or unusable
                return
            }
            var one: Int32 = 1
            setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            let admitted = state.withLock { s in
                if s.stopped { return false }
                s.connections.insert(fd)
                s.accepted += 1
                return true
            }
            guard admitted else { close(fd); close(listener); return }
            let thread = Thread { [self] in serve(fd) }
            thread.name = "simulated-provider-connection"
            thread.start()
        }
    }

    private func serve(_ fd: Int32) {
        defer {
            _ = state.withLock { $0.connections.remove(fd) }
            close(fd)
        }
        var buffer = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 16_384)
        while true {
            // Read until a whole request head is buffered.
            var headEnd: Int? = Self.headEnd(in: buffer)
            while headEnd == nil {
                let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                if n <= 0 { return }
                buffer.append(contentsOf: chunk[0..<n])
                // A request line starts with a method in capitals; anything else (a TLS ClientHello) is hung up on.
                guard let first = buffer.first, (65...90).contains(first) else { return }
                if buffer.count > 65_536 { return }   // no sane GET has a head this large
                headEnd = Self.headEnd(in: buffer)
            }
            let head = String(decoding: buffer[0..<headEnd!], as: UTF8.self)
            buffer.removeFirst(headEnd! + 4)
            var lines = head.components(separatedBy: "\r\n")
            let requestLine = lines.removeFirst().split(separator: " ")
            guard requestLine.count == 3 else { return }
            var headers = HTTPHeaders()
            for line in lines {
                guard let colon = line.firstIndex(of: ":") else { continue }
                headers.append(name: String(line[..<colon]).trimmingCharacters(in: .whitespaces),
                               value: String(line[line.index(after: colon)...]).trimmingCharacters(in: .whitespaces))
            }
            // Discard a request body, if any.
            if let length = headers["Content-Length"].flatMap(Int.init), length > 0 {
                while buffer.count < length {
                    let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                    if n <= 0 { return }
                    buffer.append(contentsOf: chunk[0..<n])
                }
                buffer.removeFirst(length)
            }
            let version = String(requestLine[2])
            let closeAfter = headers["Connection"]?.lowercased() == "close" || version == "HTTP/1.0"
            let response = handler(Request(method: String(requestLine[0]), target: String(requestLine[1]), headers: headers))
            if response.delay > 0 { Thread.sleep(forTimeInterval: response.delay) }
            var text = "HTTP/1.1 \(response.status) \(Self.reason(response.status))\r\n"
            for (name, value) in response.headers { text += "\(name): \(value)\r\n" }
            text += "Content-Length: \(response.body.count)\r\n"
            if closeAfter || response.truncateAt != nil { text += "Connection: close\r\n" }
            text += "\r\n"
            var bytes = Data(text.utf8)
            bytes.append(response.truncateAt.map { response.body.prefix($0) } ?? response.body)
            guard sendAll(fd, bytes) else { return }
            if closeAfter || response.truncateAt != nil { return }
        }
    }

    private func sendAll(_ fd: Int32, _ data: Data) -> Bool {
        data.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = send(fd, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
                if n < 0 { if errno == EINTR { continue }; return false }
                offset += n
            }
            return true
        }
    }

    private static func headEnd(in buffer: [UInt8]) -> Int? {
        guard buffer.count >= 4 else { return nil }
        for i in 0...(buffer.count - 4) where buffer[i] == 13 && buffer[i + 1] == 10 && buffer[i + 2] == 13 && buffer[i + 3] == 10 {
            return i
        }
        return nil
    }

    static func reason(_ status: Int) -> String {
        switch status {
        case 200: "OK"
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 429: "Too Many Requests"
        case 500: "Internal Server Error"
        case 502: "Bad Gateway"
        case 503: "Service Unavailable"
        default: "Status"
        }
    }
}

/// The simulated provider could not start.
public enum SimulatedProviderError: LocalizedError, Sendable {
    case socket(String, Int32)

    public var errorDescription: String? {
        switch self {
        case let .socket(call, code): "cannot serve on 127.0.0.1: \(call) failed (\(String(cString: strerror(code))))"
        }
    }
}
