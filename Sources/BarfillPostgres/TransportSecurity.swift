import CLibPQ
import Foundation

/// Whether a connection must use TLS: libpq's default `sslmode=prefer` silently falls back to
/// plaintext, which is fine on this machine and not across a network (a password and every bar
/// in clear). A non-local host gets `sslmode=require` unless the URL or `PGSSLMODE` chose a mode.
public enum TransportSecurity {
    /// The connection string to hand to libpq: `conninfo` itself, or with `sslmode=require` added.
    /// A string libpq cannot parse is returned unchanged, for libpq to report.
    public static func securing(_ conninfo: String, environment: [String: String]) -> String {
        guard let options = parsedOptions(conninfo) else { return conninfo }
        let chosen = options["sslmode"] != nil || options["requiressl"] != nil
            || !(environment["PGSSLMODE"] ?? "").isEmpty || !(environment["PGREQUIRESSL"] ?? "").isEmpty
        // A service file may name both host and sslmode: libpq reads it, barfill cannot see it.
        let service = options["service"] != nil || !(environment["PGSERVICE"] ?? "").isEmpty
        let hosts = (options["hostaddr"] ?? environment["PGHOSTADDR"]).flatMap(nonEmpty)
            ?? (options["host"] ?? environment["PGHOST"]).flatMap(nonEmpty) ?? ""
        guard !service, requiresTLS(hosts: hosts, sslmodeChosen: chosen) else { return conninfo }
        if conninfo.hasPrefix("postgresql://") || conninfo.hasPrefix("postgres://") {
            return conninfo + (conninfo.contains("?") ? "&" : "?") + "sslmode=require"
        }
        return conninfo.isEmpty ? "sslmode=require" : conninfo + " sslmode=require"
    }

    /// True when `hosts` (libpq's comma-separated `host` or `hostaddr`; empty = the default unix
    /// socket) names any host that is not this machine and no sslmode was chosen.
    public static func requiresTLS(hosts: String, sslmodeChosen: Bool) -> Bool {
        guard !sslmodeChosen else { return false }
        return hosts.split(separator: ",", omittingEmptySubsequences: false)
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .contains { !isLocal(host: $0) }
    }

    /// A unix socket directory, `localhost`, an address in 127.0.0.0/8, or `::1`.
    public static func isLocal(host: String) -> Bool {
        if host.isEmpty || host.hasPrefix("/") || host.hasPrefix("@") { return true }
        if host.lowercased() == "localhost" { return true }
        let bare = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        if bare == "::1" || bare == "0:0:0:0:0:0:0:1" { return true }
        let octets = bare.split(separator: ".", omittingEmptySubsequences: false)
        return octets.count == 4 && octets[0] == "127"
            && octets.allSatisfy { $0.count <= 3 && $0.allSatisfy(\.isASCII) && UInt8($0) != nil }
    }

    private static func nonEmpty(_ text: String) -> String? { text.isEmpty ? nil : text }

    /// The options the string itself sets (no environment, no defaults), by libpq's own parser.
    private static func parsedOptions(_ conninfo: String) -> [String: String]? {
        guard !conninfo.isEmpty else { return [:] }
        guard let options = PQconninfoParse(conninfo, nil) else { return nil }
        defer { PQconninfoFree(options) }
        var found: [String: String] = [:]
        var option = options
        while let keyword = option.pointee.keyword {
            if let value = option.pointee.val { found[String(cString: keyword)] = String(cString: value) }
            option += 1
        }
        return found
    }
}
