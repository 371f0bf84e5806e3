import Foundation
import RampCore
import RampEngine
import RampStore
import Synchronization
import Testing

/// What only a PostgreSQL store has to prove: its schema matches SQLite's, a store moves in and verifies, bad
/// connection strings and foreign databases are refused, ticks on many hosts take turns, faults of the database
/// itself (a terminated backend, a restarted server) lose nothing, and evaluators hear a change at once.
/// Runs in Tests/run-all.sh's PostgreSQL pass (each test's sandbox is a database of its own on the shared server;
/// the restart test starts a server of its own).
@Suite(.enabled(if: Backend.isPostgres, "needs RAMP_TEST_POSTGRES (Tests/run-all.sh's PostgreSQL pass)"))
struct PostgresStoreTests {
    /// A SQLite store beside the sandbox's PostgreSQL one, built by the same commands.
    static func sqliteHistory(_ box: Sandbox) -> String {
        let file = box.dir.appendingPathComponent("local.db").path
        func ramp(_ args: [String]) { box.ramp(args + ["--store", file], useStore: false) }
        ramp(["submit", box.plan("f"), "--now", t(0)])
        ramp(["submit", box.plan("g"), "--now", t(0)])
        for minute: Int64 in [0, 10, 20] { ramp(["tick", "--now", t(minute)]) }
        ramp(["kill", "g", "--now", t(21)])
        ramp(["record", "exposure", "f", "on", "user-\u{0}1", "--now", t(22)])
        ramp(["record", "outcome", "errors", "0.125", "--flag", "f", "--key", "user-\u{0}1", "--now", t(22)])
        ramp(["config", "bucketing", "concat", "--now", t(23)])
        return file
    }

    @Test func theCatalogNamesEveryTableAndColumnOfBothSchemas() throws {
        let box = Sandbox()
        let file = Self.sqliteHistory(box)
        #expect(box.ramp(["submit", box.plan("f"), "--now", t(0)]).status == 0)
        #expect(try Store(path: file, create: false).columns() == Store.catalogColumns)
        #expect(try Store(path: box.store, create: false).columns() == Store.catalogColumns)
    }

    @Test func aStoreCopiedInAndOutIsTheSameRowForRowAndVerifies() throws {
        let box = Sandbox()
        let file = Self.sqliteHistory(box)
        let copied = box.ramp(["store", "copy", "--from", file, "--to", box.store], useStore: false)
        #expect(copied.status == 0, "\(copied.stderr)")
        #expect(copied.stdout.contains("verified: every row equals the source's; audit log ok: "), "\(copied.stdout)")
        #expect(box.ramp(["audit", "verify"]).status == 0)
        let local = box.ramp(["status", "--json", "--now", t(30), "--store", file], useStore: false).stdout
        #expect(box.ramp(["status", "--json", "--now", t(30)]).stdout == local)
        // Back out to a new file: the three stores hold the same rows, NUL inside text included.
        let back = box.dir.appendingPathComponent("back.db").path
        #expect(box.ramp(["store", "copy", "--from", box.store, "--to", back], useStore: false).status == 0)
        let digests = try [file, box.store, back].map { try Store(path: $0, create: false).contentDigests() }
        for table in Store.catalogColumns.keys {
            #expect(digests[0][table]?.digest == digests[1][table]?.digest, "\(table)")
            #expect(digests[0][table]?.digest == digests[2][table]?.digest, "\(table)")
        }
        #expect(digests[0]["exposures"]?.rows == 1)
        // The copy carries on as a store: the next tick moves f on, on PostgreSQL.
        #expect(box.ramp(["tick", "--now", t(31)]).stdout.contains("f  advance"))
        // A store that holds rows is never copied into, and is left as it was.
        let before = try box.dump()
        let again = box.ramp(["store", "copy", "--from", file, "--to", box.store], useStore: false)
        #expect(again.status == 5)
        #expect(again.stderr.hasSuffix("already holds a store; a store is copied only into a new, empty one\n"))
        #expect(try box.dump() == before)
    }

    /// The flagd export belongs to the store that configured it, whichever folder or host a command runs from
    /// and however the connection string is spelt; a copy in another database never overwrites it.
    @Test func theFlagdExportBelongsToTheDatabaseNotToAFolderOrASpelling() throws {
        let box = Sandbox()
        let export = box.dir.appendingPathComponent("flags.json").path
        #expect(box.ramp(["config", "export.flagd", export, "--now", t(0)]).status == 0)
        box.ramp(["submit", box.plan("f"), "--now", t(0)])
        let elsewhere = FileManager.default.temporaryDirectory
        let respelt = box.store.replacingOccurrences(of: "127.0.0.1", with: "localhost")
        let ran = box.ramp(["tick", "--now", t(0), "--store", respelt], useStore: false, cwd: elsewhere)
        #expect(ran.status == 0, "\(ran.stderr)")
        #expect(try String(contentsOfFile: export, encoding: .utf8).contains(#""rampState":"progressing""#))
        // A copy in another database has an id of its own: it changes its state, not the original's export.
        let other = Sandbox()
        #expect(box.ramp(["store", "copy", "--from", box.store, "--to", other.store], useStore: false).status == 0)
        try FileManager.default.removeItem(atPath: export)
        let copied = other.ramp(["kill", "f", "--now", t(1)])
        #expect(copied.status == 1)
        #expect(
            copied.stderr.contains("\(export) is the flagd export of the store at PostgreSQL store "),
            "\(copied.stderr)")
        #expect(!FileManager.default.fileExists(atPath: export), "the copy wrote the original's export")
        #expect(box.ramp(["tick", "--now", t(1)]).status == 0)
        #expect(FileManager.default.fileExists(atPath: export), "the original keeps its export current")
    }

    @Test func aPasswordNeverAppearsAndIsRefusedOnTheCommandLine() throws {
        let box = Sandbox()
        let withPassword = box.store.replacingOccurrences(of: "ramp@", with: "ramp:s3cret-pw@")
        for args in [
            ["status", "--store", withPassword], ["store", "copy", "--from", withPassword, "--to", "x.db"],
            ["submit", box.plan("f"), "--store", withPassword],
        ] {
            let ran = box.ramp(args, useStore: false)
            #expect(ran.status == 3, "\(args): \(ran.stderr)")
            #expect(!ran.stderr.contains("s3cret-pw") && ran.stderr.contains("ramp:***@"), "\(ran.stderr)")
            #expect(ran.stderr.split(separator: "\n").count == 1)
        }
        #expect(!box.storeExists(), "a refused command makes no store")
        // From the environment it is taken (the server trusts any password here), and never written anywhere.
        let env = ["RAMP_STORE": withPassword]
        #expect(box.ramp(["submit", box.plan("f"), "--now", t(0)], env: env, useStore: false).status == 0)
        #expect(box.ramp(["tick", "--now", t(0)], env: env, useStore: false).status == 0)
        #expect(!(try box.dump()).contains("s3cret-pw"))
        let created = box.ramp(["submit", box.plan("g"), "--now", t(1)], env: env, useStore: false)
        #expect(!created.stdout.contains("s3cret-pw") && !created.stderr.contains("s3cret-pw"))
    }

    /// The commands ramp runs inherit its environment, the store's password with it: whatever they print of it
    /// is taken out before it reaches a message, the store or the audit log.
    @Test func theStoresPasswordNeverReachesTheLogThroughACommandsOutput() throws {
        let box = Sandbox()
        let withPassword = box.store.replacingOccurrences(of: "ramp@", with: "ramp:Store-Secret-1@")
        box.write(
            "leaky.sh",
            """
            #!/bin/sh
            if [ -e "$(dirname "$0")/leak" ]; then echo "debug: store=$RAMP_STORE pg=$PGPASSWORD" >&2; exit 1; fi
            echo 0.002

            """, executable: true)
        let plan = box.plan("f", extra: #", "on": {"error": "rollback"}"#)
        let text = try String(contentsOfFile: plan, encoding: .utf8)
        try text.replacingOccurrences(of: "./metric.sh", with: "./leaky.sh").write(
            toFile: plan, atomically: true, encoding: .utf8)
        let env = ["RAMP_STORE": withPassword, "PGPASSWORD": "Pg-Secret-2"]
        #expect(box.ramp(["submit", plan, "--now", t(0)], env: env, useStore: false).status == 0)
        #expect(box.ramp(["tick", "--now", t(0)], env: env, useStore: false).status == 0)
        box.write("leak", "")
        let tick = box.ramp(["tick", "--now", t(1)], env: env, useStore: false)
        #expect(tick.stdout.contains("rollback"), "\(tick.stdout)\(tick.stderr)")
        let log = box.ramp(["audit", "log", "--json"]).stdout
        #expect(log.contains("debug: store="), "the command's message is kept")
        for secret in ["Store-Secret-1", "Pg-Secret-2"] {
            #expect(!log.contains(secret) && !tick.stdout.contains(secret) && !tick.stderr.contains(secret))
            #expect(!(try box.dump()).contains(secret))
        }
    }

    /// Eight commands creating one new store at once, three times over: the first creates the schema, the
    /// others wait for it and use it.
    @Test func commandsCreatingOneStoreAtOnceAllSucceed() {
        for _ in 0..<3 {
            let box = Sandbox()
            let plans = (0..<8).map { box.plan("flag-\($0)") }
            let running = plans.map { box.start(["submit", $0, "--now", t(0)]) }
            let all = running.map { $0.wait() }
            #expect(all.allSatisfy { $0.status == 0 }, "\(all.map(\.stderr))")
            #expect(box.events().filter { $0 == "submit" }.count == 8)
        }
    }

    /// The append-only triggers must fire for every session and call the function that refuses.
    @Test(arguments: [
        "ALTER TABLE audit ENABLE REPLICA TRIGGER audit_refuses_update",
        "ALTER TABLE audit DISABLE TRIGGER audit_refuses_truncate",
        """
        CREATE OR REPLACE FUNCTION ramp_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RETURN NEW; END $$
        """,
    ])
    func anAppendOnlyTriggerThatNoLongerRefusesFailsVerification(statement: String) throws {
        let box = Sandbox()
        box.ramp(["submit", box.plan("f"), "--now", t(0)])
        #expect(box.ramp(["audit", "verify"]).status == 0)
        try PostgresConnection(box.store).query(statement)
        let verify = box.ramp(["audit", "verify"])
        #expect(verify.status == 6)
        #expect(verify.stderr.contains("store integrity check failed: the audit log's trigger"), "\(verify.stderr)")
    }

    @Test func aDatabaseNotInUTF8IsRefusedAndLeftEmpty() throws {
        let box = Sandbox()
        let database = String(box.store.split(separator: "/").last!) + "_latin1"
        let admin = try PostgresConnection(Backend.postgres! + "/postgres")
        try admin.query(
            "CREATE DATABASE \(database) ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0")
        defer { _ = try? admin.query("DROP DATABASE IF EXISTS \(database) WITH (FORCE)") }
        let store = Backend.postgres! + "/" + database
        let ran = box.ramp(["submit", box.plan("f"), "--now", t(0), "--store", store], useStore: false)
        #expect(ran.status == 1)
        #expect(ran.stderr.hasSuffix("its encoding is LATIN1, and ramp's text needs UTF8 (createdb -E UTF8)\n"))
        #expect(
            try PostgresConnection(store).query("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'") == [["0"]]
        )
    }

    /// A copy that fails leaves the target as it was: no ramp schema in an empty database.
    @Test func aFailedCopyLeavesTheDatabaseEmpty() throws {
        let box = Sandbox()
        let file = Self.sqliteHistory(box)
        // A gate check of a rollout that does not exist: SQLite took it with its foreign keys off; PostgreSQL won't.
        try Store(path: file, create: false).executeRaw(
            "PRAGMA foreign_keys = OFF; INSERT INTO gate_checks(rollout_id, step, checked_at, gate, outcome, detail) "
                + "VALUES (999, 0, 0, 'g', 'pass', '{}')")
        let ran = box.ramp(["store", "copy", "--from", file, "--to", box.store], useStore: false)
        #expect(ran.status == 1, "\(ran.stdout)\(ran.stderr)")
        #expect(ran.stderr.split(separator: "\n").count == 1)
        #expect(!box.storeExists())
        #expect(
            try PostgresConnection(box.store).query(
                "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()") == [["0"]])
    }

    /// A server that takes the connection and never answers: the command gives up (connect_timeout 10 s).
    @Test func aServerThatNeverAnswersFailsTheCommandRatherThanHangingIt() throws {
        let box = Sandbox()
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(listener) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                bind(listener, socketAddress, length) == 0 && listen(listener, 8) == 0
                    && getsockname(listener, socketAddress, &length) == 0
            }
        }
        #expect(bound)
        let port = UInt16(bigEndian: address.sin_port)
        let running = box.start(["status", "--store", "postgres://ramp@127.0.0.1:\(port)/x"], useStore: false)
        let deadline = Date().addingTimeInterval(30)
        while running.process.isRunning, Date() < deadline { usleep(100_000) }
        if running.process.isRunning { kill(running.process.processIdentifier, SIGKILL) }
        let ran = running.wait()
        #expect(!ran.killed, "ramp hung on a server that never answers")
        #expect(ran.status == 1)
        #expect(ran.stderr.contains("cannot open the store"), "\(ran.stderr)")
    }

    @Test func aMissingClientLibraryIsOneLineThatSaysWhatToInstall() {
        let box = Sandbox()
        let ran = box.ramp(["status"], env: ["RAMP_LIBPQ": "/nonexistent/libpq.so.5"])
        #expect(ran.status == 1)
        #expect(ran.stderr.split(separator: "\n").count == 1)
        #expect(ran.stderr.contains("PostgreSQL's client library is not available"), "\(ran.stderr)")
        #expect(ran.stderr.hasSuffix("(install libpq5)\n"), "\(ran.stderr)")
    }

    @Test func aForeignNewerOrOddDatabaseIsRefusedAndLeftUntouched() throws {
        let box = Sandbox()
        let db = try PostgresConnection(box.store)
        try db.query("CREATE TABLE notes(body TEXT)")
        try db.query("INSERT INTO notes VALUES ('mine')")
        let foreign = box.ramp(["submit", box.plan("f"), "--now", t(0)])
        #expect(foreign.status == 1)
        #expect(foreign.stderr.hasSuffix("not a usable ramp store: it holds tables that are not ramp's\n"))
        #expect(
            try db.query("SELECT to_regclass('ramp_schema') IS NULL, (SELECT count(*) FROM notes)") == [["t", "1"]])
        try db.query("DROP TABLE notes")
        #expect(box.ramp(["submit", box.plan("f"), "--now", t(0)]).status == 0)
        for (version, message) in [
            ("99", "store schema version 99 is newer than this ramp understands (13); upgrade ramp"),
            ("-3", "not a usable ramp store: its schema version -3 is not ramp's"),
        ] {
            try db.query("UPDATE ramp_schema SET version = $1", [version])
            let before = try db.query("SELECT * FROM flags")
            for args in [["status"], ["tick", "--now", t(1)], ["submit", box.plan("g"), "--now", t(1)]] {
                let ran = box.ramp(args)
                #expect(ran.status == 1, "\(args)")
                #expect(ran.stderr.hasSuffix(message + "\n"), "\(args): \(ran.stderr)")
            }
            #expect(try db.query("SELECT version FROM ramp_schema") == [[version]])
            #expect(try db.query("SELECT * FROM flags") == before)
        }
    }

    /// A database from before flag metadata and weights (version 10) gains both columns on its next write, and
    /// the experiments table and exposure attributes (version 13), as SQLite's does.
    @Test func aVersion10DatabaseGainsFlagMetadataWeightsAndExperiments() throws {
        let box = Sandbox()
        #expect(box.ramp(["submit", box.plan("f"), "--now", t(0)]).status == 0)
        let db = try PostgresConnection(box.store)
        try db.query("ALTER TABLE flags DROP COLUMN weights")
        try db.query("ALTER TABLE flags DROP COLUMN metadata")
        try db.query("DROP TABLE experiments")
        try db.query("ALTER TABLE exposures DROP COLUMN attributes")
        try db.query("UPDATE ramp_schema SET version = 10")
        #expect(box.ramp(["tick", "--now", t(1)]).status == 0)
        #expect(try db.query("SELECT version FROM ramp_schema") == [["13"]])
        #expect(try db.query("SELECT metadata, weights FROM flags") == [["{}", "{}"]])
        #expect(try db.query("SELECT count(*) FROM experiments") == [["0"]])
        #expect(box.ramp(["record", "exposure", "f", "on", "u1", "--now", t(2)]).status == 0)
        #expect(try db.query("SELECT key, attributes FROM exposures") == [["u1", nil]])
        #expect(box.ramp(["audit", "verify"]).status == 0)
    }

    /// On PostgreSQL ticks on several hosts take turns (the tick lease); without the lease, the compare-and-set
    /// alone still writes each transition once, whoever polls.
    @Test func ticksRacingWithoutTheLeaseStillMakeOneTransitionPerRollout() throws {
        let box = Sandbox()
        // Every gate reading takes 0.5 s, so the four ticks poll side by side and all decide before any commits.
        box.write("slow.sh", "#!/bin/sh\nsleep 0.5\ncat \"$(dirname \"$0\")/value-$RAMP_GATE.txt\"\n", executable: true)
        for i in 0..<12 {
            let plan = box.plan("flag-\(i)")
            let text = try String(contentsOfFile: plan, encoding: .utf8)
            try text.replacingOccurrences(of: "./metric.sh", with: "./slow.sh").write(
                toFile: plan, atomically: true, encoding: .utf8)
            box.ramp(["submit", plan, "--now", t(0)])
        }
        let start = Instant(rfc3339: t(0))!
        let store = box.store
        let results = Mutex<[[TickOutcome]]>([])
        let failures = Mutex<[String]>([])
        DispatchQueue.concurrentPerform(iterations: 4) { i in
            do {
                let ramp = try Ramp(storePath: store, create: false)
                let outcomes = try ramp.tick(now: start, actor: "host-\(i)", reportNotDue: false, lease: false)
                results.withLock { $0.append(outcomes) }
            } catch {
                failures.withLock { $0.append("\(error)") }
            }
        }
        #expect(failures.withLock { $0 }.isEmpty, "\(failures.withLock { $0 })")
        let all = results.withLock { $0 }.flatMap { $0 }
        #expect(all.contains { if case .lostRace = $0.kind { true } else { false } }, "the ticks really raced")
        let transitions = all.filter { if case .transition = $0.kind { true } else { false } }
        #expect(transitions.count == 12)
        #expect(Set(transitions.map { (outcome: TickOutcome) in outcome.flag }).count == 12)
        #expect(box.events().filter { $0 == "start" }.count == 12)
        #expect(box.ramp(["audit", "verify"]).status == 0)
    }

    /// The ticking process's backend is terminated (`pg_terminate_backend`) while it polls: the tick fails with
    /// one line and writes nothing half; the store verifies and the next tick carries on.
    @Test func aTickWhoseBackendIsTerminatedMidTickLosesNothing() throws {
        let box = Sandbox()
        for i in 0..<3 { box.ramp(["submit", box.plan("flag-\(i)"), "--now", t(0)]) }
        #expect(box.ramp(["tick", "--now", t(0)]).status == 0)
        let admin = try PostgresConnection(box.store)
        let database = String(box.store.split(separator: "/").last!)
        let running = box.start(["tick", "--now", t(10)], env: ["METRIC_SLEEP": "2"])
        // Wait (bounded) for the tick's connection, then end it while the tick is polling its sources.
        var terminated = 0
        let deadline = Date().addingTimeInterval(10)
        while terminated == 0, Date() < deadline {
            usleep(100_000)
            let rows = try admin.query(
                """
                SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                WHERE datname = $1 AND pid <> pg_backend_pid() AND backend_type = 'client backend'
                """, [database])
            terminated = rows.count
        }
        #expect(terminated >= 1)
        let ran = running.wait()
        #expect(ran.status == 1, "\(ran.stdout)\(ran.stderr)")
        #expect(ran.stderr.split(separator: "\n").count == 1, "\(ran.stderr)")
        #expect(box.ramp(["audit", "verify"]).status == 0)
        #expect(box.events().filter { $0 == "advance" }.isEmpty)
        let next = box.ramp(["tick", "--now", t(11)])
        #expect(next.status == 0, "\(next.stderr)")
        #expect(box.events().filter { $0 == "advance" }.count == 3)
        #expect(box.ramp(["audit", "verify"]).status == 0)
    }

    /// PostgreSQL stops at once (as in a crash) and starts again while ticks run, many times at random moments:
    /// every tick either finished or failed with one line, the store always verifies, and ticks carry on.
    @Test func restartingPostgresMidRunLosesNothing() throws {
        let server = try PostgresServer()
        defer { server.stop() }
        let box = Sandbox()
        let store = "postgres://ramp@127.0.0.1:\(server.port)/postgres"
        func ramp(_ args: [String]) -> Ran {
            box.ramp(args + ["--store", store], useStore: false)
        }
        let steps: [(Double, String, Bool)] = (1...20).map { (Double($0 * 5), "1m", false) }
        for i in 0..<8 { #expect(ramp(["submit", box.plan("flag-\(i)", steps: steps), "--now", t(0)]).status == 0) }
        var generator = SystemRandomNumberGenerator()
        var failed = 0
        for minute: Int64 in 1...8 {
            // Each tick polls for 0.3 s or more: a restart within 0.6 s of its start often lands mid-tick.
            let running = box.start(
                ["tick", "--now", t(minute), "--store", store], env: ["METRIC_SLEEP": "0.3"], useStore: false)
            usleep(useconds_t(Double.random(in: 0...0.6, using: &generator) * 1_000_000))
            try server.restart()
            let ran = running.wait()
            #expect(!ran.killed)
            if ran.status != 0 {
                failed += 1
                #expect(ran.stderr.split(separator: "\n").count >= 1)
            }
            let verify = ramp(["audit", "verify"])
            #expect(verify.status == 0, "after a restart in tick \(minute): \(verify.stderr)")
        }
        #expect(failed >= 1, "at least one restart must land in the middle of a tick")
        // After the faults, ticks carry on from where the log is.
        for minute: Int64 in 9...11 { #expect(ramp(["tick", "--now", t(minute)]).status == 0) }
        #expect(ramp(["audit", "verify"]).status == 0)
        let starts = box.ramp(["audit", "log", "--json", "--store", store], useStore: false).json.filter {
            $0["event"]?.stringValue == "start"
        }
        #expect(starts.count == 8, "every rollout started exactly once (\(failed) ticks failed on a restart)")
    }

    /// An evaluator in this process hears `ramp kill` from another process by notification alone (its polling
    /// timer is set to an hour), keeps serving its last snapshot while its connections are cut, and reconnects
    /// by itself.
    @Test func anEvaluatorHearsAKillAtOnceAndReconnectsByItself() throws {
        let box = Sandbox()
        #expect(box.ramp(["submit", box.plan("f", steps: [(100, "0s", false)]), "--now", t(0)]).status == 0)
        #expect(box.ramp(["tick", "--now", t(0)]).status == 0)
        let evaluator = try FlagEvaluator(store: box.store, refreshInterval: .seconds(3600))
        func served() -> String? { evaluator.evaluate("f", targetingKey: "user-1").variant }
        #expect(evaluator.evaluate("g", targetingKey: "user-1").variant == nil)
        func waitUntil(_ condition: () -> Bool) -> Bool {
            let deadline = Date().addingTimeInterval(15)
            while !condition() {
                if Date() > deadline { return false }
                usleep(10_000)
            }
            return true
        }
        #expect(served() == "on")
        #expect(waitUntil { evaluator.isListening })
        #expect(box.ramp(["kill", "f", "--now", t(1)]).status == 0)
        #expect(waitUntil { served() == "off" }, "the kill was heard without polling")
        // Cut every connection of the evaluator: it serves its snapshot meanwhile, and hears the next change.
        let admin = try PostgresConnection(box.store)
        let database = String(box.store.split(separator: "/").last!)
        _ = try admin.query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
            [database])
        #expect(served() == "off")
        #expect(waitUntil { evaluator.isListening }, "the listener reconnected")
        #expect(box.ramp(["submit", box.plan("g", steps: [(100, "0s", false)]), "--now", t(2)]).status == 0)
        #expect(box.ramp(["tick", "--now", t(2)]).status == 0)
        #expect(
            waitUntil { evaluator.evaluate("g", targetingKey: "user-1").variant == "on" },
            "a change after the reconnection was heard")
    }
}
