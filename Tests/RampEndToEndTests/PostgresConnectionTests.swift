import Foundation
import RampCore
import RampStore
import Testing

/// ramp's own boundary to libpq (loaded at run time), against a real PostgreSQL server.
@Suite(.enabled(if: Backend.isPostgres, "runs in Tests/run-all.sh's PostgreSQL pass"))
struct PostgresConnectionTests {
    @Test func roundTripsTextParametersNullsAndErrors() throws {
        let server = try PostgresServer()
        defer { server.stop() }
        let db = try PostgresConnection(server.url)
        try db.query("CREATE TABLE t(a TEXT, b INTEGER)")
        let text = "it's \"ü\" \\ ; DROP TABLE t; --"
        try db.query("INSERT INTO t(a, b) VALUES ($1, $2)", [text, "42"])
        try db.query("INSERT INTO t(a, b) VALUES ($1, $2)", [nil, nil])
        #expect(try db.query("SELECT a, b FROM t ORDER BY b NULLS LAST") == [[text, "42"], [nil, nil]])
        do {
            try db.query("SELEC 1")
            Issue.record("a syntax error was accepted")
        } catch {
            #expect(error.description.contains("syntax error"))
            #expect(error.description.contains("SQLSTATE 42601"))
            #expect(!error.description.contains("\n"))
        }
        #expect(try db.query("SELECT count(*) FROM t") == [["2"]])  // still usable after an error
    }

    @Test func aConnectionFailureNamesTheServerButNeverThePassword() throws {
        let server = try PostgresServer()
        defer { server.stop() }
        for url in [
            "postgres://ramp:s3cret-pass@127.0.0.1:\(server.port)/no_such_db",
            "postgres://ramp@127.0.0.1:\(try PostgresServer.freePort())/postgres?password=s3cret-pass",
        ] {
            do {
                _ = try PostgresConnection(url)
                Issue.record("connected to \(url)")
            } catch {
                #expect(!error.description.contains("s3cret-pass"), "\(error)")
                #expect(error.description.contains("***"), "\(error)")
                #expect(error.description.contains("cannot open the store"), "\(error)")
                #expect(!error.description.contains("\n"))
            }
        }
    }
}
