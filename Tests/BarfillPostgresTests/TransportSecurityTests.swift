import BarfillPostgres
import BarfillTestSupport
import Foundation
import Testing

@Suite struct TransportSecurityTests {
    @Test(arguments: ["", "localhost", "LOCALHOST", "127.0.0.1", "127.8.9.10", "::1", "[::1]", "/var/run/postgresql", "@abstract",
                      "localhost,127.0.0.1"])
    func localHostsKeepLibpqsDefault(_ hosts: String) {
        #expect(!TransportSecurity.requiresTLS(hosts: hosts, sslmodeChosen: false))
    }

    @Test(arguments: ["db.abcdefgh.supabase.co", "aws-0-us-east-1.pooler.supabase.com", "10.0.0.5", "128.0.0.1", "::2",
                      "127.0.0.1.example.com", "localhost.example.com", "127.0.0.1,db.example.com"])
    func otherHostsRequireTLS(_ hosts: String) {
        #expect(TransportSecurity.requiresTLS(hosts: hosts, sslmodeChosen: false))
        #expect(!TransportSecurity.requiresTLS(hosts: hosts, sslmodeChosen: true), "a chosen sslmode is kept, even disable")
    }

    @Test func aConnectionStringGetsSSLModeRequireOnlyWhenNothingChoseOne() {
        let none: [String: String] = [:]
        #expect(TransportSecurity.securing("postgresql://u:p@db.example.com:6543/postgres", environment: none)
                == "postgresql://u:p@db.example.com:6543/postgres?sslmode=require")
        #expect(TransportSecurity.securing("postgresql://u@db.example.com/postgres?connect_timeout=5", environment: none)
                == "postgresql://u@db.example.com/postgres?connect_timeout=5&sslmode=require")
        #expect(TransportSecurity.securing("host=db.example.com dbname=postgres", environment: none)
                == "host=db.example.com dbname=postgres sslmode=require")
        // Chosen in the URL, in the environment, or left to a service file: unchanged.
        let verify = "postgresql://u@db.example.com/postgres?sslmode=verify-full&sslrootcert=/etc/ca.crt"
        #expect(TransportSecurity.securing(verify, environment: none) == verify)
        #expect(TransportSecurity.securing("postgresql://db.example.com/x", environment: ["PGSSLMODE": "disable"]) == "postgresql://db.example.com/x")
        #expect(TransportSecurity.securing("service=prod", environment: none) == "service=prod")
        // No URL: libpq's PG* variables name the host.
        #expect(TransportSecurity.securing("", environment: ["PGHOST": "db.example.com"]) == "sslmode=require")
        #expect(TransportSecurity.securing("", environment: ["PGHOST": "127.0.0.1"]) == "")
        #expect(TransportSecurity.securing("", environment: [:]) == "")
        // hostaddr is what libpq dials; host is only the name to verify.
        #expect(TransportSecurity.securing("host=db.example.com hostaddr=127.0.0.1", environment: none)
                == "host=db.example.com hostaddr=127.0.0.1")
        #expect(TransportSecurity.securing("postgresql://localhost/x", environment: none) == "postgresql://localhost/x")
        // Not parseable by libpq: unchanged, for libpq to report.
        #expect(TransportSecurity.securing("host='unterminated", environment: none) == "host='unterminated")
    }

    @Test(.requiresPostgres)
    func aServerOn127001WithoutTLSStillAccepts() throws {
        // The test server has no TLS at all: a required TLS would fail this connect.
        let db = try TestDatabase.fresh(schema: .swiftBolt)
        #expect(db.url.contains("127.0.0.1"))
        let connection = try PostgresConnection(url: db.url)
        #expect(try connection.query("SELECT 1").scalar() == "1")
        #expect(try connection.query("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").scalar() == "f")
    }
}
