import CCurl
import Dispatch
import Foundation
import Synchronization

/// What went wrong below HTTP: the transfer never produced a complete response.
public enum HTTPError: LocalizedError, Equatable, Sendable {
    /// The host name did not resolve.
    case dns(host: String)
    /// Nothing accepted the connection (refused, unreachable, connect timeout).
    case connect(host: String, reason: String)
    /// The TLS handshake or certificate verification failed.
    case tls(host: String, reason: String)
    /// The connect, total or low-speed timeout ran out.
    case timeout(host: String)
    /// The body ended before the length the server announced: a cut connection.
    case truncatedBody(host: String)
    /// The transfer was cancelled (task cancellation).
    case aborted
    /// The URL is not an absolute http(s) URL.
    case invalidURL
    /// Any other libcurl failure.
    case other(code: Int, reason: String)

    public var errorDescription: String? {
        switch self {
        case let .dns(host): "cannot resolve \(host): check the base URL and the network"
        case let .connect(host, reason): "cannot connect to \(host) (\(reason)): is the service up and reachable?"
        case let .tls(host, reason): "TLS with \(host) failed (\(reason)); certificates are always verified"
        case let .timeout(host): "\(host) did not answer in time"
        case let .truncatedBody(host): "the answer from \(host) was cut short"
        case .aborted: "the request was cancelled"
        case .invalidURL: "not an absolute http(s) URL"
        case let .other(code, reason): "HTTP transfer failed (curl \(code)): \(reason)"
        }
    }

    /// Worth another attempt after a pause: the next try may well succeed.
    public var isTransient: Bool {
        switch self {
        case .timeout, .truncatedBody, .connect: true
        case .dns, .tls, .aborted, .invalidURL, .other: false
        }
    }

    /// The request never left this machine (no address, nothing accepting the connection): the
    /// provider did not see it, so it must not count against any limit.
    public var neverSent: Bool {
        switch self {
        case .dns, .connect: true
        case .timeout, .truncatedBody, .tls, .aborted, .invalidURL, .other: false
        }
    }
}

/// Response headers, looked up case-insensitively (HTTP/1.1 names are case-insensitive).
public struct HTTPHeaders: Sendable, Equatable {
    public private(set) var fields: [(name: String, value: String)] = []

    public init(_ fields: [(name: String, value: String)] = []) { self.fields = fields }

    /// The last value for `name`, any case.
    public subscript(_ name: String) -> String? {
        let wanted = name.lowercased()
        return fields.last { $0.name.lowercased() == wanted }?.value
    }

    package mutating func append(name: String, value: String) { fields.append((name, value)) }

    public static func == (a: HTTPHeaders, b: HTTPHeaders) -> Bool {
        a.fields.map(\.name) == b.fields.map(\.name) && a.fields.map(\.value) == b.fields.map(\.value)
    }
}

/// One complete HTTP response.
public struct HTTPResponse: Sendable {
    public var status: Int
    public var headers: HTTPHeaders
    public var body: Data
}

/// Connect, total and low-speed limits for one transfer.
public struct HTTPTimeouts: Sendable, Hashable {
    public var connect: Double
    public var total: Double
    /// Abort when fewer than `lowSpeedBytes` per second arrive for `lowSpeedSeconds`.
    public var lowSpeedBytes: Int
    public var lowSpeedSeconds: Int

    public init(connect: Double = 10, total: Double = 120, lowSpeedBytes: Int = 100, lowSpeedSeconds: Int = 30) {
        self.connect = connect
        self.total = total
        self.lowSpeedBytes = lowSpeedBytes
        self.lowSpeedSeconds = lowSpeedSeconds
    }

    public static let `default` = HTTPTimeouts()
}

/// libcurl's process-wide initialisation, done once before the first handle
/// (curl_global_init is not thread-safe; a Swift global's initialiser runs exactly once, under a lock).
private let curlGlobal: CURLcode = curl_global_init(Int(CURL_GLOBAL_DEFAULT))

/// One libcurl easy handle. Owned by exactly one `HTTPClient`, used only on its queue.
final class CurlEasy {
    let handle: UnsafeMutableRawPointer

    init() throws(HTTPError) {
        guard curlGlobal == CURLE_OK else { throw .other(code: Int(curlGlobal.rawValue), reason: "curl_global_init failed") }
        guard let handle = curl_easy_init() else { throw .other(code: -1, reason: "curl_easy_init returned nothing") }
        self.handle = handle
    }

    deinit { curl_easy_cleanup(handle) }
}

/// Per-transfer state the C callbacks reach through their user pointer.
/// Touched by the client's queue only, except `cancelled`, which is atomic.
final class Transfer: @unchecked Sendable {
    var body = Data()
    var headers = HTTPHeaders()
    let cancelled = Atomic<Bool>(false)
    /// The URL's host is a special-use name that never resolves (RFC 6761 `.invalid`).
    var hostNeverResolves = false
}

extension HTTPClient {
    /// RFC 6761 §6.4: names under `.invalid` get a negative answer at once, without asking any
    /// resolver, so a misconfigured base URL (and the test of the DNS failure) does not depend on
    /// the network or its DNS server.
    static func neverResolves(_ host: String) -> Bool {
        let name = host.lowercased().trimmingSuffix(".")
        return name == "invalid" || name.hasSuffix(".invalid")
    }
}

private extension String {
    func trimmingSuffix(_ suffix: String) -> String { hasSuffix(suffix) ? String(dropLast(suffix.count)) : self }
}

/// An HTTP/1.1 client over one reused libcurl easy handle (connections stay alive between
/// requests). Transfers block, so they run one at a time on the client's own serial queue,
/// never on the Swift concurrency pool; callers just `await`.
public final class HTTPClient: @unchecked Sendable {
    // The handle is only touched from `queue`, which is serial: that is the whole of the synchronisation.
    private let easy: CurlEasy
    private let queue: DispatchQueue
    public let timeouts: HTTPTimeouts
    public let userAgent: String

    public init(timeouts: HTTPTimeouts = .default, userAgent: String = "barfill/1") throws(HTTPError) {
        self.easy = try CurlEasy()
        self.timeouts = timeouts
        self.userAgent = userAgent
        self.queue = DispatchQueue(label: "barfill.http")
    }

    /// GET `url` with `headers`, returning whatever status the server answered.
    /// Throws only when no complete response arrived.
    public func get(_ url: String, headers: [(String, String)] = []) async throws(HTTPError) -> HTTPResponse {
        guard let parsed = URLComponents(string: url), let scheme = parsed.scheme?.lowercased(),
              scheme == "http" || scheme == "https", let host = parsed.host, !host.isEmpty else { throw .invalidURL }
        let transfer = Transfer()
        transfer.hostNeverResolves = Self.neverResolves(host)
        let result: Result<HTTPResponse, HTTPError> = await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Result<HTTPResponse, HTTPError>, Never>) in
                queue.async { [self] in
                    continuation.resume(returning: perform(url: url, host: host, headers: headers, transfer: transfer))
                }
            }
        } onCancel: {
            transfer.cancelled.store(true, ordering: .relaxed)
        }
        return try result.get()
    }

    private func perform(url: String, host: String, headers: [(String, String)], transfer: Transfer) -> Result<HTTPResponse, HTTPError> {
        if transfer.cancelled.load(ordering: .relaxed) { return .failure(.aborted) }
        let h = easy.handle
        curl_easy_reset(h)   // keeps live connections, the DNS cache and TLS sessions
        var list: UnsafeMutablePointer<curl_slist>? = nil
        for (name, value) in headers { list = curl_slist_append(list, "\(name): \(value)") }
        defer { curl_slist_free_all(list) }
        let context = Unmanaged.passUnretained(transfer).toOpaque()
        let code = withExtendedLifetime(transfer) { () -> CURLcode in
            _ = barfill_curl_setopt_string(h, CURLOPT_URL, url)
            _ = barfill_curl_setopt_string(h, CURLOPT_PROTOCOLS_STR, "http,https")
            _ = barfill_curl_setopt_long(h, CURLOPT_FOLLOWLOCATION, 0)   // a redirect must never carry the key elsewhere
            _ = barfill_curl_setopt_long(h, CURLOPT_NOSIGNAL, 1)
            _ = barfill_curl_setopt_long(h, CURLOPT_SSL_VERIFYPEER, 1)
            _ = barfill_curl_setopt_long(h, CURLOPT_SSL_VERIFYHOST, 2)
            _ = barfill_curl_setopt_long(h, CURLOPT_CONNECTTIMEOUT_MS, Int(timeouts.connect * 1000))
            _ = barfill_curl_setopt_long(h, CURLOPT_TIMEOUT_MS, Int(timeouts.total * 1000))
            _ = barfill_curl_setopt_long(h, CURLOPT_LOW_SPEED_LIMIT, timeouts.lowSpeedBytes)
            _ = barfill_curl_setopt_long(h, CURLOPT_LOW_SPEED_TIME, timeouts.lowSpeedSeconds)
            _ = barfill_curl_setopt_string(h, CURLOPT_USERAGENT, userAgent)
            _ = barfill_curl_setopt_string(h, CURLOPT_ACCEPT_ENCODING, "")   // whatever this libcurl can decode
            _ = barfill_curl_setopt_slist(h, CURLOPT_HTTPHEADER, list)
            _ = barfill_curl_setopt_data_callback(h, CURLOPT_WRITEFUNCTION, { ptr, size, count, user in
                let transfer = Unmanaged<Transfer>.fromOpaque(user!).takeUnretainedValue()
                let n = size * count
                if let ptr { transfer.body.append(UnsafeRawPointer(ptr).assumingMemoryBound(to: UInt8.self), count: n) }
                return n
            })
            _ = barfill_curl_setopt_pointer(h, CURLOPT_WRITEDATA, context)
            _ = barfill_curl_setopt_data_callback(h, CURLOPT_HEADERFUNCTION, { ptr, size, count, user in
                let transfer = Unmanaged<Transfer>.fromOpaque(user!).takeUnretainedValue()
                let n = size * count
                guard let ptr else { return n }
                let line = String(decoding: UnsafeRawBufferPointer(start: ptr, count: n), as: UTF8.self)
                if line.hasPrefix("HTTP/") { transfer.headers = HTTPHeaders() }   // a new response (100-continue, …)
                else if let colon = line.firstIndex(of: ":") {
                    let name = String(line[..<colon]).trimmingCharacters(in: .whitespaces)
                    let value = String(line[line.index(after: colon)...]).trimmingCharacters(in: .whitespacesAndNewlines)
                    transfer.headers.append(name: name, value: value)
                }
                return n
            })
            _ = barfill_curl_setopt_pointer(h, CURLOPT_HEADERDATA, context)
            _ = barfill_curl_setopt_long(h, CURLOPT_NOPROGRESS, 0)
            _ = barfill_curl_setopt_progress_callback(h, CURLOPT_XFERINFOFUNCTION, { user, _, _, _, _ in
                let transfer = Unmanaged<Transfer>.fromOpaque(user!).takeUnretainedValue()
                return transfer.cancelled.load(ordering: .relaxed) ? 1 : 0
            })
            _ = barfill_curl_setopt_pointer(h, CURLOPT_XFERINFODATA, context)
            // Runs before each name resolution (not for IP literals or cached names); non-zero fails
            // it with CURLE_COULDNT_RESOLVE_HOST, the same path as an NXDOMAIN answer.
            _ = barfill_curl_setopt_resolver_start(h, { _, _, user in
                Unmanaged<Transfer>.fromOpaque(user!).takeUnretainedValue().hostNeverResolves ? 1 : 0
            })
            _ = barfill_curl_setopt_pointer(h, CURLOPT_RESOLVER_START_DATA, context)
            return curl_easy_perform(h)
        }
        // Nothing of this transfer may outlive it: the pointers above die with `transfer`.
        _ = barfill_curl_setopt_pointer(h, CURLOPT_WRITEDATA, nil)
        _ = barfill_curl_setopt_pointer(h, CURLOPT_HEADERDATA, nil)
        _ = barfill_curl_setopt_pointer(h, CURLOPT_XFERINFODATA, nil)
        _ = barfill_curl_setopt_pointer(h, CURLOPT_RESOLVER_START_DATA, nil)
        _ = barfill_curl_setopt_slist(h, CURLOPT_HTTPHEADER, nil)
        guard code == CURLE_OK else {
            // A timeout before a byte of the request went out is a connect timeout: nothing was sent.
            var sent = 0
            if code == CURLE_OPERATION_TIMEDOUT, barfill_curl_getinfo_long(h, CURLINFO_REQUEST_SIZE, &sent) == CURLE_OK,
               sent == 0 {
                return .failure(.connect(host: host, reason: "connect timed out"))
            }
            return .failure(Self.error(for: code, host: host))
        }
        var status = 0
        _ = barfill_curl_getinfo_long(h, CURLINFO_RESPONSE_CODE, &status)
        return .success(HTTPResponse(status: status, headers: transfer.headers, body: transfer.body))
    }

    static func error(for code: CURLcode, host: String) -> HTTPError {
        let reason = String(cString: curl_easy_strerror(code))
        switch code {
        case CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY: return .dns(host: host)
        case CURLE_COULDNT_CONNECT: return .connect(host: host, reason: reason)
        case CURLE_OPERATION_TIMEDOUT: return .timeout(host: host)
        case CURLE_PARTIAL_FILE, CURLE_RECV_ERROR, CURLE_GOT_NOTHING: return .truncatedBody(host: host)
        case CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CERTPROBLEM, CURLE_SSL_CIPHER,
             CURLE_SSL_CACERT_BADFILE, CURLE_SSL_ENGINE_NOTFOUND, CURLE_SSL_ENGINE_SETFAILED,
             CURLE_USE_SSL_FAILED, CURLE_SSL_PINNEDPUBKEYNOTMATCH, CURLE_SSL_INVALIDCERTSTATUS:
            return .tls(host: host, reason: reason)
        case CURLE_ABORTED_BY_CALLBACK: return .aborted
        default: return .other(code: Int(code.rawValue), reason: reason)
        }
    }
}
