import Foundation
import RampCore
import RampEngine
import RampStore

/// `ramp-bench postgres --server URL [--rollouts 10000] [--race 1000] [--tickers 8] [--evaluators 8] [--kills 30]`:
/// ramp on PostgreSQL beside ramp on SQLite, in the same run. `URL` is a server (`postgresql://ramp@127.0.0.1:5432`)
/// whose role may create databases; each measurement gets a new database, dropped at the end.
///
/// 1. One tick of N due rollouts (every rollout starting), then one of N holding, on SQLite and on PostgreSQL.
/// 2. Eight tickers — two simulated hosts of four processes each — racing over 1,000 due rollouts, with the tick
///    lease and without it: transitions written against the decisions the tickers reported, duplicates, wall time.
/// 3. Kill-switch propagation: 8 evaluator processes serve 30 flags at 100%; each flag is killed in turn through
///    the engine, and each evaluator notes when it first serves the baseline. On PostgreSQL (LISTEN/NOTIFY) and, as
///    the baseline, on SQLite (polling every second, FlagEvaluator's default).
func runPostgres(_ arguments: [String]) {
    var server: String?
    var rollouts = 10_000
    var race = 1000
    var tickers = 8
    var evaluators = 8
    var kills = 30
    var i = 0
    func number(_ text: String, _ range: ClosedRange<Int>) -> Int {
        guard let n = Int(text), range.contains(n) else { fail("\(arguments[i]): \(text) is not in \(range)") }
        return n
    }
    while i < arguments.count {
        guard i + 1 < arguments.count else { fail("\(arguments[i]) needs a value") }
        switch arguments[i] {
        case "--server": server = arguments[i + 1]
        case "--rollouts": rollouts = number(arguments[i + 1], 1...100_000)
        case "--race": race = number(arguments[i + 1], 1...100_000)
        case "--tickers": tickers = number(arguments[i + 1], 2...64)
        case "--evaluators": evaluators = number(arguments[i + 1], 1...64)
        case "--kills": kills = number(arguments[i + 1], 1...1000)
        default: fail("postgres: unknown argument \(arguments[i])")
        }
        i += 2
    }
    guard let server, ConnectionString.isPostgres(server) else {
        fail("postgres: --server postgresql://USER@HOST:PORT (a server whose role may create databases) is required")
    }
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ramp-bench-pg-\(getpid())")
    try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    let databases = Databases(server: server)
    defer {
        databases.dropAll()
        try? FileManager.default.removeItem(at: dir)
    }
    let start = Instant(seconds: 1_767_225_600)
    do {
        print("== one tick of \(rollouts) due rollouts")
        print("backend     start (all)                  hold (all)")
        for backend in ["sqlite", "postgres"] {
            let store =
                backend == "sqlite" ? dir.appendingPathComponent("tick.db").path : try databases.make("tick")
            buildInChild(n: rollouts, path: store, dir: dir.path, start: start)
            let ramp = try Ramp(storePath: store, create: false)
            var outcomes: [TickOutcome] = []
            let starting = try timed { outcomes = try ramp.tick(now: start, actor: "bench", reportNotDue: false) }
            let started = outcomes.filter { if case .transition = $0.kind { true } else { false } }.count
            let holding = try timed {
                outcomes = try ramp.tick(now: start + TimeSpan(seconds: 60), actor: "bench", reportNotDue: false)
            }
            let held = outcomes.filter { if case .hold = $0.kind { true } else { false } }.count
            guard started == rollouts, held == rollouts else { fail("\(backend): \(started) starts, \(held) holds") }
            print(
                backend.padding(toLength: 12, withPad: " ", startingAt: 0)
                    + "\(ms(starting)) (\(perRollout(starting, rollouts)))".padding(
                        toLength: 29, withPad: " ", startingAt: 0)
                    + "\(ms(holding)) (\(perRollout(holding, rollouts)))")
        }

        print("\n== \(tickers) tickers on two simulated hosts racing over \(race) due rollouts (PostgreSQL)")
        print("lease   decisions  transitions written  duplicates  lost races  skipped ticks  wall time")
        for lease in [true, false] {
            let store = try databases.make(lease ? "race_lease" : "race_nolease")
            buildInChild(n: race, path: store, dir: dir.path, start: start)
            let began = DispatchTime.now().uptimeNanoseconds
            let children = (0..<tickers).map { k in
                child(
                    [
                        "race-ticker", store, "host-\(k % 2 == 0 ? "a" : "b")-\(k / 2)", lease ? "lease" : "no-lease",
                        String(start.seconds),
                    ])
            }
            var decisions = 0
            var lost = 0
            var skipped = 0
            for running in children {
                let fields = running.finish().split(whereSeparator: { $0 == " " || $0 == "\n" }).compactMap { Int($0) }
                guard fields.count == 3 else { fail("a race ticker failed") }
                decisions += fields[0]
                lost += fields[1]
                skipped += fields[2]
            }
            let wall = Double(DispatchTime.now().uptimeNanoseconds - began) / 1e6
            let store2 = try Store(path: store, create: false)
            var starts: [String: Int] = [:]
            try store2.auditEntries(parseEvidence: false) { entry in
                if entry.event.text == "start" { starts[entry.flag, default: 0] += 1 }
            }
            let written = starts.values.reduce(0, +)
            let duplicates = starts.values.filter { $0 > 1 }.count
            print(
                [
                    lease ? "on" : "off", String(decisions), String(written), String(duplicates), String(lost),
                    String(skipped), ms(wall),
                ].enumerated().map {
                    $1.padding(toLength: [8, 11, 21, 12, 12, 15, 10][$0], withPad: " ", startingAt: 0)
                }
                .joined())
            guard written == decisions, duplicates == 0, written == race else {
                fail("the race wrote \(written) transitions for \(decisions) decisions (\(duplicates) duplicates)")
            }
        }

        print("\n== kill-switch propagation to \(evaluators) evaluator processes, \(kills) kills")
        print("backend     how                     p50        p99        max        samples")
        for backend in ["postgres", "sqlite"] {
            let store =
                backend == "sqlite" ? dir.appendingPathComponent("kill.db").path : try databases.make("propagation")
            let ramp = try Ramp(storePath: store, create: true)
            try ramp.configure(.rehearsal, "on", actor: "bench", now: start)
            for k in 0..<kills {
                _ = try ramp.submit(
                    text: hundred(flag: "kill-\(k)"), file: "bench.json", baseDir: dir.path, actor: "bench",
                    reason: nil, now: start)
            }
            _ = try ramp.tick(now: start, actor: "bench", reportNotDue: false)
            let children = (0..<evaluators).map { _ in child(["listen", store, String(kills)]) }
            for running in children { running.waitForLine("ready") }
            var killedAt: [Double] = []
            for k in 0..<kills {
                killedAt.append(wallSeconds())
                _ = try ramp.kill(flag: "kill-\(k)", actor: "bench", reason: nil, now: start + TimeSpan(seconds: 60))
                usleep(backend == "sqlite" ? 1_100_000 : 200_000)
            }
            var latencies: [Double] = []
            for running in children {
                for line in running.finish().split(separator: "\n") {
                    let fields = line.split(separator: " ")
                    guard fields.count == 2, let k = Int(fields[0]), let at = Double(fields[1]), k < kills else {
                        continue
                    }
                    latencies.append((at - killedAt[k]) * 1000)
                }
            }
            guard latencies.count == evaluators * kills else {
                fail("\(backend): \(latencies.count) of \(evaluators * kills) evaluations saw their kill")
            }
            latencies.sort()
            func quantile(_ q: Double) -> String {
                String(format: "%.1f ms", latencies[min(latencies.count - 1, Int(Double(latencies.count) * q))])
            }
            print(
                backend.padding(toLength: 12, withPad: " ", startingAt: 0)
                    + (backend == "sqlite" ? "polling every 1 s" : "LISTEN/NOTIFY").padding(
                        toLength: 24, withPad: " ", startingAt: 0)
                    + [quantile(0.5), quantile(0.99), quantile(1)].map {
                        $0.padding(toLength: 11, withPad: " ", startingAt: 0)
                    }.joined() + String(latencies.count))
        }
    } catch {
        fail("\(error)")
    }
}

/// `ramp-bench race-ticker STORE ACTOR lease|no-lease SECONDS`: one tick at SECONDS; prints "transitions lost skipped".
func runRaceTicker(_ arguments: [String]) {
    guard arguments.count == 4, let seconds = Int64(arguments[3]) else { fail("race-ticker STORE ACTOR LEASE SECONDS") }
    do {
        let ramp = try Ramp(storePath: arguments[0], create: false)
        let outcomes = try ramp.tick(
            now: Instant(seconds: seconds), actor: arguments[1], reportNotDue: false, lease: arguments[2] == "lease")
        var transitions = 0
        var lost = 0
        var skipped = 0
        for outcome in outcomes {
            switch outcome.kind {
            case .transition: transitions += 1
            case .lostRace: lost += 1
            case .leaseHeld: skipped += 1
            default: break
            }
        }
        print("\(transitions) \(lost) \(skipped)")
    } catch {
        fail("\(error)")
    }
}

/// `ramp-bench listen STORE KILLS`: an evaluator that serves kill-0 … kill-(KILLS-1); prints "ready" once every
/// flag serves its canary, then, for each flag, "K TIME" when it first serves the baseline (wall-clock seconds).
func runListen(_ arguments: [String]) {
    guard arguments.count == 2, let kills = Int(arguments[1]) else { fail("listen STORE KILLS") }
    do {
        let evaluator = try FlagEvaluator(store: arguments[0])
        let flags = (0..<kills).map { evaluator.handle("kill-\($0)") }
        func serves(_ k: Int) -> String? {
            evaluator.evaluate(flags[k], context: EvaluationContext(targetingKey: "user-1", attributes: [:])).variant
        }
        let deadline = Date().addingTimeInterval(120)
        while (0..<kills).contains(where: { serves($0) != "on" }) {
            guard Date() < deadline else { fail("listen: the flags never all served their canary") }
            usleep(1000)
        }
        FileHandle.standardOutput.write(Data("ready\n".utf8))
        var seen = [Double?](repeating: nil, count: kills)
        while seen.contains(where: { $0 == nil }) {
            guard Date() < deadline else { fail("listen: not every kill was seen within 120 s") }
            for k in 0..<kills where seen[k] == nil && serves(k) == "off" { seen[k] = wallSeconds() }
            usleep(200)
        }
        let lines = seen.enumerated().map { "\($0.offset) \(String(format: "%.6f", $0.element ?? 0))\n" }
        FileHandle.standardOutput.write(Data(lines.joined().utf8))
    } catch {
        fail("\(error)")
    }
}

/// A plan whose one step is 100%: its first tick serves the canary to everyone.
private func hundred(flag: String) -> String {
    """
    {"flag": "\(flag)", "variants": {"on": true, "off": false}, "canary": "on", "baseline": "off",
     "steps": [{"percent": 100}]}
    """
}

/// The wall clock in seconds, as every process on the host reads it.
private func wallSeconds() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_REALTIME, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
}

/// A child `ramp-bench` process with its stdout read line by line.
private final class Child {
    let process = Process()
    let output = Pipe()
    private var buffer = Data()

    init(_ arguments: [String]) {
        process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
        process.arguments = arguments
        process.standardOutput = output
        do {
            try process.run()
        } catch {
            fail("cannot start \(arguments.first ?? ""): \(error)")
        }
    }

    /// Reads until a line equal to `line` arrives (the child fails the bench itself after its own deadline).
    func waitForLine(_ line: String) {
        while true {
            if let range = buffer.firstRange(of: Data("\n".utf8)) {
                let first = String(decoding: buffer[..<range.lowerBound], as: UTF8.self)
                buffer.removeSubrange(..<range.upperBound)
                if first == line { return }
                continue
            }
            let more = output.fileHandleForReading.availableData
            guard !more.isEmpty else { fail("a child ended before printing \(line)") }
            buffer.append(more)
        }
    }

    /// The rest of its output, once it has ended.
    func finish() -> String {
        buffer.append(output.fileHandleForReading.readDataToEndOfFile())
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { fail("a child failed (\(process.terminationStatus))") }
        return String(decoding: buffer, as: UTF8.self)
    }
}

private func child(_ arguments: [String]) -> Child { Child(arguments) }

/// New databases on the benchmark's server, dropped at the end.
private final class Databases {
    let server: String
    private var made: [String] = []

    init(server: String) {
        self.server = server.hasSuffix("/") ? String(server.dropLast()) : server
    }

    func make(_ name: String) throws -> String {
        let database = "ramp_bench_\(name)_\(getpid())"
        try PostgresConnection(server + "/postgres").query("CREATE DATABASE \(database)")
        made.append(database)
        return server + "/" + database
    }

    func dropAll() {
        guard let admin = try? PostgresConnection(server + "/postgres") else { return }
        for database in made { _ = try? admin.query("DROP DATABASE IF EXISTS \(database) WITH (FORCE)") }
    }
}
