import Foundation
import RampCore
import RampStore
import Testing

/// The result of running the `ramp` binary.
struct Ran {
    var status: Int32
    var stdout: String
    var stderr: String
    var killed: Bool

    var lines: [String] { stdout.split(separator: "\n").map(String.init) }
    /// stdout's JSON lines, parsed.
    var json: [JSONValue] { lines.compactMap { try? JSONParser.parse($0) } }
}

/// Which database the end-to-end tests' stores live in. Tests/run-all.sh runs this suite twice: on SQLite files,
/// then with `RAMP_TEST_POSTGRES` naming a private PostgreSQL server (`postgresql://ramp@127.0.0.1:PORT`), where
/// each sandbox gets a database of its own.
enum Backend {
    static let postgres: String? = ProcessInfo.processInfo.environment["RAMP_TEST_POSTGRES"].flatMap {
        $0.isEmpty ? nil : $0
    }
    static var isPostgres: Bool { postgres != nil }
    static var isSQLite: Bool { postgres == nil }
}

/// A scratch folder with a store, plans and a controllable metric script, for one test; removed with it.
final class Sandbox {
    let dir: URL
    /// The store: `ramp.db` in the folder, or a new PostgreSQL database of its own (see `Backend`).
    let store: String
    /// The PostgreSQL database made for this sandbox, dropped with it.
    private let database: String?

    /// The built `ramp`, next to the test bundle (SwiftPM builds it first: the test target depends on it).
    static let binary: String = {
        if let given = ProcessInfo.processInfo.environment["RAMP_BIN"] { return given }
        let exe = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        return exe.deletingLastPathComponent().appendingPathComponent("ramp").path
    }()

    /// The package's root folder (for the README's demo): the nearest folder above this file with Package.swift.
    static let packageRoot: URL = {
        var dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while !FileManager.default.fileExists(atPath: dir.appendingPathComponent("Package.swift").path), dir.path != "/"
        {
            dir.deleteLastPathComponent()
        }
        return dir
    }()

    init() {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("ramp-e2e-\(UUID().uuidString)")
        try! FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        if let server = Backend.postgres {
            let name = "ramp_e2e_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
            try! PostgresConnection(server + "/postgres").query("CREATE DATABASE \(name)")
            database = name
            store = server + "/" + name
        } else {
            database = nil
            store = dir.appendingPathComponent("ramp.db").path
        }
        // metric.sh prints the number in value-<gate>.txt: tests steer each gate by writing that file.
        write(
            "metric.sh",
            "#!/bin/sh\n[ -n \"$METRIC_SLEEP\" ] && sleep \"$METRIC_SLEEP\"\ncat \"$(dirname \"$0\")/value-$RAMP_GATE.txt\"\n",
            executable: true)
        setMetric("errors", "0.002")
        setMetric("latency", "120")
    }

    deinit {
        try? FileManager.default.removeItem(at: dir)
        if let server = Backend.postgres, let database {
            _ = try? PostgresConnection(server + "/postgres").query("DROP DATABASE IF EXISTS \(database) WITH (FORCE)")
        }
    }

    /// Runs SQL on the store directly, past the audit log's append-only triggers: how the tamper tests play an
    /// attacker with write access to the database. On SQLite the triggers are dropped; on PostgreSQL the session
    /// skips them (`session_replication_role`, as a superuser can), so they stay in place.
    func tamper(_ statements: String) throws {
        let store = try Store(path: self.store, create: false)
        switch store.backend {
        case .sqlite:
            try store.executeRaw(
                "DROP TRIGGER IF EXISTS audit_refuses_update; DROP TRIGGER IF EXISTS audit_refuses_delete; "
                    + statements)
        case .postgres:
            try store.executeRaw("SET session_replication_role = replica; " + statements)
        }
    }

    func write(_ name: String, _ text: String, executable: Bool = false) {
        let url = dir.appendingPathComponent(name)
        try! Data(text.utf8).write(to: url)
        if executable { try! FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: url.path) }
    }

    func setMetric(_ gate: String, _ value: String) { write("value-\(gate).txt", value + "\n") }

    /// Writes a plan for `flag` with the given steps (percent, bake, approval) and two gates.
    @discardableResult
    func plan(
        _ flag: String,
        steps: [(Double, String, Bool)] = [
            (1, "10m", false), (5, "10m", false), (25, "10m", false), (100, "0s", false),
        ],
        extra: String = "", name: String? = nil
    ) -> String {
        let stepsJSON = steps.map {
            #"{"percent": \#(JSONValue.format($0.0)), "bake": "\#($0.1)"\#($0.2 ? #", "approval": true"# : "")}"#
        }
        let file = name ?? "\(flag).json"
        write(
            file,
            """
            {
              "flag": "\(flag)",
              "variants": {"on": {"color": "green"}, "off": {"color": "grey"}},
              "canary": "on", "baseline": "off",
              "steps": [\(stepsJSON.joined(separator: ", "))],
              "sources": {"m": {"type": "command", "command": ["./metric.sh"], "timeout": "5s"}},
              "gates": [{"name": "errors", "source": "m", "max": 0.01}, {"name": "latency", "source": "m", "max": 300}],
              "interval": "1m"\(extra)
            }
            """)
        return dir.appendingPathComponent(file).path
    }

    /// A started `ramp ARGS --store <sandbox store>`; `wait()` collects it.
    struct Running {
        let process: Process
        let out: URL
        let err: URL

        func wait() -> Ran {
            process.waitUntilExit()
            let ran = Ran(
                status: process.terminationStatus,
                stdout: (try? String(contentsOf: out, encoding: .utf8)) ?? "",
                stderr: (try? String(contentsOf: err, encoding: .utf8)) ?? "",
                killed: process.terminationReason == .uncaughtSignal)
            try? FileManager.default.removeItem(at: out)
            try? FileManager.default.removeItem(at: err)
            return ran
        }
    }

    func start(
        _ args: [String], stdin: String? = nil, env: [String: String] = [:], useStore: Bool = true,
        cwd: URL? = nil
    ) -> Running {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = args + (useStore ? ["--store", store] : [])
        process.currentDirectoryURL = cwd ?? dir
        var environment = ProcessInfo.processInfo.environment
        environment["RAMP_STORE"] = nil
        environment["RAMP_NOW"] = nil
        environment["USER"] = "tester"
        for (k, v) in env { environment[k] = v }
        process.environment = environment
        let out = dir.appendingPathComponent("out-\(UUID().uuidString)")
        let err = dir.appendingPathComponent("err-\(UUID().uuidString)")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        process.standardOutput = try! FileHandle(forWritingTo: out)
        process.standardError = try! FileHandle(forWritingTo: err)
        let input = Pipe()
        process.standardInput = input
        try! process.run()
        if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
        try? input.fileHandleForWriting.close()
        return Running(process: process, out: out, err: err)
    }

    /// Runs `ramp ARGS --store <sandbox store>` and waits, or kills it with SIGKILL after `killAfter` seconds.
    @discardableResult
    func ramp(
        _ args: [String], stdin: String? = nil, env: [String: String] = [:], useStore: Bool = true,
        cwd: URL? = nil, killAfter: Double? = nil
    ) -> Ran {
        let running = start(args, stdin: stdin, env: env, useStore: useStore, cwd: cwd)
        if let killAfter {
            usleep(useconds_t(killAfter * 1_000_000))
            kill(running.process.processIdentifier, SIGKILL)
        }
        let ran = running.wait()
        if ran.status == 0, args.first == "submit", args.count > 1 { Self.collect(plan: args[1], in: cwd ?? dir) }
        return ran
    }

    /// Every plan a test submitted successfully is copied into `$RAMP_PLAN_CORPUS` (set by Tests/run-all.sh),
    /// which then checks them all against plans/ramp-plan.schema.json: the schema must accept what ramp accepts.
    static func collect(plan: String, in folder: URL) {
        guard let corpus = ProcessInfo.processInfo.environment["RAMP_PLAN_CORPUS"] else { return }
        let source = plan.hasPrefix("/") ? URL(fileURLWithPath: plan) : folder.appendingPathComponent(plan)
        guard let data = try? Data(contentsOf: source) else { return }
        try? FileManager.default.createDirectory(atPath: corpus, withIntermediateDirectories: true)
        let name = SHA256.hex(String(decoding: data, as: UTF8.self)) + ".json"
        try? data.write(to: URL(fileURLWithPath: corpus).appendingPathComponent(name))
    }

    /// Whether the store exists: its file, or a ramp schema in its PostgreSQL database.
    func storeExists() -> Bool {
        guard Backend.isPostgres else { return FileManager.default.fileExists(atPath: store) }
        do {
            _ = try Store(path: store, create: false)
            return true
        } catch .missing {
            return false
        } catch {
            return true
        }
    }

    /// Every row of the store, for "left the store exactly as it was".
    func dump() throws -> String { try Store(path: store, create: false).dump() }

    /// The audit log's events, oldest first.
    func events(flag: String? = nil) -> [String] {
        ramp(["audit", "log", "--json"] + (flag.map { ["--flag", $0] } ?? [])).json.compactMap {
            $0["event"]?.stringValue
        }
    }

    func status(_ flag: String, at time: String = t(0)) -> JSONValue {
        ramp(["status", flag, "--json", "--now", time]).json.first ?? .null
    }
}

/// Times relative to 2026-01-01T00:00:00Z, in minutes.
func t(_ minutes: Int64) -> String { Instant(seconds: 1_767_225_600 + minutes * 60).description }
