import Foundation
import RampCore
import RampStore
import Testing

/// The paths on which ramp could stop protecting a rollout without anyone seeing, closed and pinned.
@Suite struct TrustEndToEndTests {
    @Test func aRolloutDoesNotStartWhileAGateHasAnErrorEvenWhenErrorsRollBack() {
        let box = Sandbox()
        let plan = box.plan("f", extra: #", "on": {"error": "rollback"}"#)
        try? FileManager.default.removeItem(at: box.dir.appendingPathComponent("metric.sh"))
        let submit = box.ramp(["submit", plan, "--now", t(0)])
        #expect(submit.status == 0)
        #expect(submit.stderr.contains("warning: \(plan): source m: command \(box.dir.path)/metric.sh does not exist"))
        for minute: Int64 in 0...3 { box.ramp(["tick", "--now", t(minute)]) }
        #expect(box.status("f")["state"] == "pending")
        #expect(box.status("f")["percent"] == 0)
        #expect(box.events() == ["submit"])
        // Once the script is back, the next tick starts it.
        box.write("metric.sh", "#!/bin/sh\ncat \"$(dirname \"$0\")/value-$RAMP_GATE.txt\"\n", executable: true)
        box.ramp(["tick", "--now", t(4)])
        #expect(box.events() == ["submit", "start"])
    }

    @Test func tickPrintsAHoldLineWhenTheCauseChangesAndNotEveryMinute() {
        let box = Sandbox()
        box.ramp(["submit", box.plan("f"), "--now", t(0)])
        #expect(box.ramp(["tick", "--now", t(0)]).lines.count == 1, "the start")
        #expect(box.ramp(["tick", "--now", t(1)]).stdout.isEmpty, "baking after a step change is not news")
        box.setMetric("latency", "")
        let first = box.ramp(["tick", "--now", t(2)])
        #expect(first.stdout == "\(t(2))  f  holding: latency: no data (command ./metric.sh printed nothing)\n")
        #expect(box.ramp(["tick", "--now", t(3)]).stdout.isEmpty, "the same cause is not repeated")
        box.setMetric("latency", "120")
        let back = box.ramp(["tick", "--now", t(4)])
        #expect(back.stdout.hasPrefix("\(t(4))  f  holding: bake: "), "\(back.stdout)")
        #expect(box.ramp(["tick", "--now", t(5), "--verbose"]).stdout.hasPrefix("\(t(5))  f  holding: bake: "))
    }

    @Test func withoutMaxHoldARolloutStuckOnNoDataIsPausedAfterADay() {
        let box = Sandbox()
        box.ramp(["submit", box.plan("f"), "--now", t(0)])
        box.ramp(["tick", "--now", t(0)])
        box.setMetric("errors", "")
        let status = box.ramp(["status", "f", "--now", t(1)])
        #expect(
            status.stdout.contains(
                "max_hold: pause at \(t(24 * 60)) if this step is still held (max_hold 1d → pause (default))"))
        #expect(
            box.ramp(["explain", "f", "--now", t(1)]).stdout.contains(
                "max_hold: pause at \(t(24 * 60)) if this step is still held (max_hold 1d → pause (default))"))
        #expect(
            box.status("f", at: t(1))["max_hold"]
                == ["after_seconds": 86_400, "then": "pause", "default": true, "at": .string(t(24 * 60))])
        box.ramp(["tick", "--now", t(24 * 60 - 1)])
        #expect(box.status("f", at: t(24 * 60 - 1))["state"] == "progressing")
        let tick = box.ramp(["tick", "--now", t(24 * 60)])
        #expect(tick.stdout.contains("pause: progressing → paused"), "\(tick.stdout)")
        #expect(tick.stdout.contains("held 1d without advancing (max_hold 1d)"))
    }

    @Test func aFutureTimeIsRefusedInALiveStoreAndAcceptedInARehearsalStore() throws {
        let box = Sandbox()
        box.ramp(["submit", box.plan("f"), "--now", t(0)])
        let before = try box.dump()
        let future = Instant(seconds: Int64(Date().timeIntervalSince1970) + 3600).description
        for args in [["tick", "--now", future], ["pause", "f", "--now", future]] {
            let ran = box.ramp(args)
            #expect(ran.status == 3, "\(args)")
            // How far ahead depends on the second the binary reads its clock: only the shape is fixed.
            #expect(ran.stderr.hasPrefix("ramp: the time \(future) is "), "\(ran.stderr)")
            #expect(ran.stderr.contains(" ahead of this machine's clock ("), "\(ran.stderr)")
        }
        let env = box.ramp(["tick"], env: ["RAMP_NOW": future])
        #expect(env.status == 3)
        #expect(try box.dump() == before)
        // A live store cannot become a rehearsal store; a new one can, and then takes simulated time.
        #expect(box.ramp(["config", "rehearsal", "on", "--now", t(1)]).status == 5)
        let rehearsal = box.dir.appendingPathComponent("rehearsal.db").path
        #expect(
            box.ramp(["config", "rehearsal", "on", "--store", rehearsal, "--now", t(0)], useStore: false).status == 0)
        #expect(
            box.ramp(["submit", box.plan("f"), "--store", rehearsal, "--now", future], useStore: false).status == 0)
        #expect(box.ramp(["tick", "--store", rehearsal, "--now", future], useStore: false).status == 0)
    }

    @Test func auditTimesNeverGoBackwards() throws {
        let box = Sandbox()
        box.ramp(["submit", box.plan("f"), "--now", t(60)])
        box.ramp(["tick", "--now", t(60)])
        let before = try box.dump()
        let ran = box.ramp(["pause", "f", "--now", "2020-01-01T00:00:00Z"])
        #expect(ran.status == 3)
        #expect(ran.stderr.contains("the time 2020-01-01T00:00:00Z is before the newest audit entry's (\(t(60)))"))
        #expect(try box.dump() == before)
        // With the system clock, an earlier time than the log's (the clock stepped back) takes the newest time.
        let clock = box.dir.appendingPathComponent("clock.db").path
        let ahead = Instant(seconds: Int64(Date().timeIntervalSince1970) + 120).description
        #expect(box.ramp(["submit", box.plan("f"), "--store", clock, "--now", ahead], useStore: false).status == 0)
        #expect(box.ramp(["pause", "f", "--store", clock], useStore: false).status == 0)
        let times = box.ramp(["audit", "log", "--json", "--store", clock], useStore: false).json.map { $0["at"] }
        #expect(times == [.string(ahead), .string(ahead)])
    }

    @Test func aCheckStoredInTheFutureDoesNotStopGatesBeingChecked() {
        let box = Sandbox()
        box.ramp(["submit", box.plan("f"), "--now", t(0)])
        box.ramp(["tick", "--now", t(0)])
        box.setMetric("latency", "")
        box.ramp(["tick", "--now", t(100)])  // a hold: the last check is now at t(100), the newest entry at t(0)
        box.setMetric("latency", "120")
        box.setMetric("errors", "0.5")
        let stepped = box.ramp(["tick", "--now", t(50), "--json"])  // the clock stepped back
        #expect(stepped.json.first?["not_due_until"] == nil, "\(stepped.stdout)")
        #expect(box.status("f", at: t(50))["state"] == "rolled_back")
    }

    @Test func aDemoWithABadPlanMakesNoStore() {
        let box = Sandbox()
        try? FileManager.default.createDirectory(
            at: box.dir.appendingPathComponent("plans"), withIntermediateDirectories: true)
        box.write("plans/a.json", #"{"flag": 1}"#)
        let store = box.dir.appendingPathComponent("demo.db").path
        let demo = box.ramp(["demo", "--plans", "plans", "--store", store], useStore: false)
        #expect(demo.status == 3)
        #expect(demo.stderr == "ramp: plans/a.json: flag: expected a string, found a number\n")
        #expect(!FileManager.default.fileExists(atPath: store))
    }

    @Test(.enabled(if: Backend.isSQLite, "the demo makes a SQLite store")) func theDemoNeverWritesIntoAnExistingStore()
        throws
    {
        let box = Sandbox()
        box.ramp(["submit", box.plan("f"), "--now", t(0)])
        let before = try box.dump()
        let demo = box.ramp(["demo", "--store", box.store], useStore: false, cwd: Sandbox.packageRoot)
        #expect(demo.status == 5)
        #expect(
            demo.stderr
                == "ramp: demo: \(box.store) exists; the demo only ever uses a new store and overwrites nothing beside it\n"
        )
        #expect(try box.dump() == before)
    }

    @Test func aPlanForAFlagThatServesItsCanaryIsRefusedUnlessRestarted() throws {
        let box = Sandbox()
        box.ramp(["submit", box.plan("f", steps: [(100, "0s", false)]), "--now", t(0)])
        box.ramp(["tick", "--now", t(0)])
        box.ramp(["tick", "--now", t(1)])
        #expect(box.status("f")["state"] == "completed")
        let before = try box.dump()
        let again = box.ramp(["submit", box.plan("f"), "--now", t(2)])
        #expect(again.status == 5)
        #expect(
            again.stderr
                == "ramp: flag \"f\" serves its canary \"on\" to 100% of users; a new plan starts from 0% and would take it from them: pass --restart to start this flag over\n"
        )
        #expect(try box.dump() == before)
        #expect(box.ramp(["submit", box.plan("f"), "--restart", "--now", t(2)]).status == 0)
        #expect(box.status("f")["percent"] == 0)
        #expect(box.ramp(["audit", "log", "--json"]).json.last?["evidence"]?["restart"] == true)
        // With an active rollout, that is what a second plan is refused for, even with --restart.
        let active = box.ramp(["submit", box.plan("f"), "--restart", "--now", t(3)])
        #expect(active.status == 5)
        #expect(active.stderr.contains("already has an active rollout"), "\(active.stderr)")
    }

    @Test func planValidateChecksEveryFileAndWarnsAboutWhatCronWillMiss() {
        let box = Sandbox()
        box.write("bad.json", #"{"flag": "g", "canary": "b", "baseline": "a", "stepz": []}"#)
        let token = box.plan(
            "tok", name: "tok.json"
        )
        box.write(
            "tok.json",
            #"""
            {"flag": "tok", "variants": {"on": 1, "off": 0}, "canary": "on", "baseline": "off",
             "steps": [{"percent": 5, "bake": "1h", "approval": true}, {"percent": 100}],
             "sources": {"p": {"type": "prometheus", "url": "http://127.0.0.1:1", "bearer_token_env": "RAMP_TEST_UNSET_TOKEN"}},
             "gates": [{"name": "e", "source": "p", "query": "up", "max": 1}]}
            """#)
        let ran = box.ramp(["plan", "validate", "bad.json", box.plan("f"), token], useStore: false)
        #expect(ran.status == 3)
        #expect(ran.stderr == "ramp: bad.json: stepz: unknown field (did you mean \"steps\"?)\n")
        #expect(ran.lines.count == 3, "\(ran.stdout)")
        #expect(
            ran.lines[1].hasSuffix(
                "tok.json: ok — flag tok, on over off: 5% → (ramp approve) → 100%, 1 gate, max_hold 1d → pause (default)"
            ))
        #expect(
            ran.lines[2].hasSuffix(
                "tok.json: warning: source p: environment variable RAMP_TEST_UNSET_TOKEN is not set here (cron and systemd start ramp with an environment of their own: set it there too)"
            ))
    }

    @Test func aCommandThatCreatesAStoreSaysSoAndARefusedOneLeavesNone() {
        let box = Sandbox()
        let created = box.ramp(["submit", box.plan("f"), "--now", t(0)])
        #expect(created.stderr == "ramp: created a new store at \(box.store)\n")
        #expect(box.ramp(["submit", box.plan("g"), "--now", t(1)]).stderr.isEmpty, "only the first creates it")
        let other = box.dir.appendingPathComponent("other.db").path
        box.write(
            "nosteps.json",
            #"{"flag": "h", "variants": {"a": 1, "b": 2}, "canary": "b", "baseline": "a", "steps": [{"segment": "x"}]}"#
        )
        let refused = box.ramp(["submit", "nosteps.json", "--store", other, "--now", t(0)], useStore: false)
        #expect(refused.status == 3)
        #expect(!FileManager.default.fileExists(atPath: other))
    }
}

/// Inputs that once crashed the binary (SIGILL on a failed conversion): each is now one line and a non-zero exit,
/// and the store is exactly as it was.
@Suite struct NoInputCrashesRampTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var args: [String]
        var stdin: String? = nil
        var status: Int32
        var stderr: String
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(
            name: "record at 1e20", args: ["record", "-"],
            stdin: #"{"type": "exposure", "flag": "f", "variant": "on", "key": "k", "at": 1e20}"# + "\n", status: 3,
            stderr:
                "ramp: standard input line 1: \"at\": 1e+20 is not whole Unix seconds between the years 0 and 9999\n"
        ),
        Case(
            name: "plan check traffic 1e308/s",
            args: ["plan", "check", "PLAN", "--traffic", "1e308/s", "--baseline-rate", "1%", "--mde", "20%"],
            status: 2,
            stderr:
                "ramp: plan check: --traffic: \"1e308/s\" is not a rate like 200/s, 12000/m or 500/h (between 0.000001/s and 1e12/s) (see ramp plan check --help)\n"
        ),
        Case(
            name: "plan check traffic 1e-300/s",
            args: ["plan", "check", "PLAN", "--traffic", "1e-300/s", "--baseline-rate", "1%", "--mde", "20%"],
            status: 2,
            stderr:
                "ramp: plan check: --traffic: \"1e-300/s\" is not a rate like 200/s, 12000/m or 500/h (between 0.000001/s and 1e12/s) (see ramp plan check --help)\n"
        ),
        Case(
            name: "plan check with an empty traffic (found by the fuzzer)",
            args: ["plan", "check", "PLAN", "--traffic", "", "--baseline-rate", "1%", "--mde", "20%"], status: 2,
            stderr:
                "ramp: plan check: --traffic: \"\" is not a rate like 200/s, 12000/m or 500/h (between 0.000001/s and 1e12/s) (see ramp plan check --help)\n"
        ),
        Case(
            name: "an export that cannot be written is a system failure, not invalid input",
            args: ["export", "--format", "flagd", "--out", "/nonexistent-folder/flags.json"], status: 1,
            stderr: "ramp: /nonexistent-folder/flags.json: cannot write: No such file or directory\n"),
        Case(
            name: "a control character in an argument", args: ["pause", "no\nsuch\u{1b}[2Jflag"], status: 4,
            stderr: "ramp: unknown flag \"no\\nsuch\\u{1b}[2Jflag\"\n"),
    ]

    @Test(arguments: cases)
    func refusedWithOneLineAndTheStoreUnchanged(c: Case) throws {
        let box = Sandbox()
        let plan = box.plan("f")
        box.ramp(["submit", plan, "--now", t(0)])
        box.ramp(["tick", "--now", t(0)])
        let before = try box.dump()
        let ran = box.ramp(c.args.map { $0 == "PLAN" ? plan : $0 } + ["--now", t(1)], stdin: c.stdin)
        #expect(!ran.killed)
        #expect(ran.status == c.status, "\(ran.stderr)")
        #expect(ran.stderr == c.stderr)
        if c.status != 0 { #expect(try box.dump() == before) }
    }

    @Test func invalidUTF8KeysAreRefusedNotMerged() throws {
        let box = Sandbox()
        box.ramp(["submit", box.plan("f"), "--now", t(0)])
        let before = try box.dump()
        // "a\xff" and "a\xfe" would both decode to "a\u{FFFD}": one key instead of two.
        let input =
            Data(#"{"type": "exposure", "flag": "f", "variant": "on", "key": "a"#.utf8) + Data([0xff])
            + Data("\"}\n".utf8)
        let url = box.dir.appendingPathComponent("events.jsonl")
        try input.write(to: url)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Sandbox.binary)
        process.arguments = ["record", "-", "--store", box.store, "--now", t(1)]
        process.standardInput = try FileHandle(forReadingFrom: url)
        let err = box.dir.appendingPathComponent("err.txt")
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        process.standardError = try FileHandle(forWritingTo: err)
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 3)
        #expect(try String(contentsOf: err, encoding: .utf8) == "ramp: standard input line 1: not valid UTF-8\n")
        #expect(try box.dump() == before)
    }

    @Test(.enabled(if: Backend.isSQLite, "PRAGMA user_version; PostgresStoreTests has its twin"))
    func aStoreWithANegativeSchemaVersionIsRefusedNotCrashedOn() throws {
        let box = Sandbox()
        box.ramp(["submit", box.plan("f"), "--now", t(0)])
        try Store(path: box.store, create: false).executeRaw("PRAGMA user_version = -3")
        let before = try Data(contentsOf: URL(fileURLWithPath: box.store))
        for args in [["status"], ["tick", "--now", t(1)], ["audit", "verify"]] {
            let ran = box.ramp(args)
            #expect(!ran.killed, "\(args)")
            #expect(ran.status == 1, "\(args): \(ran.stderr)")
            #expect(ran.stderr == "ramp: \(box.store): not a usable ramp store: its schema version -3 is not ramp's\n")
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: box.store)) == before)
    }

    @Test func aForeignSQLiteFileIsLeftByteForByteAsItWas() throws {
        let box = Sandbox()
        let foreign = box.dir.appendingPathComponent("other.sqlite").path
        let made = Process()
        made.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        made.arguments = [
            "python3", "-c",
            "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute('create table t(x)'); c.commit()", foreign,
        ]
        try made.run()
        made.waitUntilExit()
        let before = try Data(contentsOf: URL(fileURLWithPath: foreign))
        for args in [["status"], ["submit", box.plan("f")], ["config", "bucketing", "cbor"]] {
            let ran = box.ramp(args + ["--store", foreign], useStore: false)
            #expect(ran.status == 1, "\(args): \(ran.stderr)")
            #expect(ran.stderr.contains("not a usable ramp store"), "\(ran.stderr)")
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: foreign)) == before)
        #expect(!FileManager.default.fileExists(atPath: foreign + "-wal"))
    }
}

/// Pins for behaviour that mutations of the code showed no test guarded.
@Suite struct GuardPinTests {
    /// A hold is written only if the rollout is still the version the tick read: an operator's pause that lands
    /// while the tick polls wins, and the tick reports a lost race and writes nothing.
    @Test func aHoldLosesToACommandThatLandedWhileTheTickPolled() throws {
        let box = Sandbox()
        box.ramp(["submit", box.plan("f"), "--now", t(0)])
        box.ramp(["tick", "--now", t(0)])
        let slow = box.start(["tick", "--now", t(1), "--json"], env: ["METRIC_SLEEP": "2"])
        usleep(700_000)
        #expect(box.ramp(["pause", "f", "--now", t(1)]).status == 0)
        let ran = slow.wait()
        #expect(ran.json.first?["lost_race"] == true, "\(ran.stdout)")
        let explain = box.ramp(["explain", "f", "--json", "--now", t(1)]).json.first
        let checked = explain?["gates"]?.arrayValue?.compactMap { $0["checked_at"]?.stringValue } ?? []
        #expect(!checked.contains(t(1)), "the losing tick recorded no checks: \(checked)")
        #expect(box.status("f")["state"] == "paused")
    }

    /// A rollout is due once its interval has passed less a slack of a tenth of the interval, capped at 10 s: with
    /// a 1h interval, 3590 s after the last check is due and 3589 s is not.
    @Test func theDueSlackIsCappedAtTenSeconds() {
        let box = Sandbox()
        let plan = box.plan("f")
        let text = (try? String(contentsOfFile: plan, encoding: .utf8)) ?? ""
        box.write("f.json", text.replacingOccurrences(of: #""interval": "1m""#, with: #""interval": "1h""#))
        #expect(box.ramp(["submit", plan, "--now", t(0)]).status == 0)
        box.ramp(["tick", "--now", t(0)])
        let base = Instant(rfc3339: t(0))!
        let early = box.ramp(["tick", "--json", "--now", (base + TimeSpan(seconds: 3589)).description]).json.first
        #expect(early?["not_due_until"] == .string(t(60)), "\(String(describing: early))")
        let due = box.ramp(["tick", "--json", "--now", (base + TimeSpan(seconds: 3590)).description]).json.first
        #expect(due?["not_due_until"] == nil, "\(String(describing: due))")
    }
}

@Suite struct DisabledTimeTests {
    /// A disabled flag serves no one: an hour disabled is not an hour of bake. The step bakes the 10 minutes it
    /// still owed after it is enabled and resumed, and the audit log records the shift (so verify agrees).
    @Test func timeSpentDisabledIsNotBakeTime() {
        let box = Sandbox()
        box.ramp(["submit", box.plan("f"), "--now", t(0)])
        box.ramp(["tick", "--now", t(0)])  // step 1 (1%) entered at t(0), bake 10m
        #expect(box.ramp(["disable", "f", "--now", t(2)]).status == 0)
        let enable = box.ramp(["enable", "f", "--now", t(62), "--json"])
        #expect(enable.status == 0)
        #expect(box.ramp(["resume", "f", "--now", t(62)]).status == 0)
        box.ramp(["tick", "--now", t(63)])
        #expect(box.status("f", at: t(63))["percent"] == 1, "2 of 10 minutes baked before, 1 after: not yet")
        #expect(box.status("f", at: t(63))["bake_left_seconds"] == 420)
        box.ramp(["tick", "--now", t(70)])
        #expect(box.status("f", at: t(70))["percent"] == 5)
        let entries = box.ramp(["audit", "log", "--json", "--flag", "f"]).json
        let enabled = entries.first { $0["event"] == "enable" }
        #expect(enabled?["evidence"]?["bake_paused"] == "1h")
        #expect(enabled?["evidence"]?["rollout"]?["step_entered_at"] == .string(t(60)))
        #expect(box.ramp(["audit", "verify"]).status == 0)
    }
}

@Suite struct ExportOwnershipTests {
    /// Concurrent commands each rewrite the export; with one writer at a time, each reading the store after it
    /// holds the lock, the file ends as the store is.
    @Test func concurrentCommandsLeaveTheExportAsTheStoreIs() throws {
        let box = Sandbox()
        let export = box.dir.appendingPathComponent("flags.json").path
        #expect(box.ramp(["config", "export.flagd", export, "--now", t(0)]).status == 0)
        let flags = (0..<6).map { "f\($0)" }
        for flag in flags { box.ramp(["submit", box.plan(flag), "--now", t(0)]) }
        for round in 0..<3 {
            let running = flags.map {
                box.start([round % 2 == 0 ? "kill" : "unkill", $0, "--now", t(Int64(1 + round))])
            }
            for ran in running.map({ $0.wait() }) { #expect(ran.status == 0, "\(ran.stderr)") }
            let file = try String(contentsOfFile: export, encoding: .utf8)
            #expect(file == box.ramp(["export", "--format", "flagd"]).stdout, "round \(round)")
        }
    }

    /// One store reached through a symbolic link is the same store, not a copy.
    @Test func aStoreReachedThroughASymlinkStillWritesItsExport() throws {
        let box = Sandbox()
        let real = box.dir.appendingPathComponent("real")
        try FileManager.default.createDirectory(at: real, withIntermediateDirectories: true)
        let store = real.appendingPathComponent("ramp.db").path
        let link = box.dir.appendingPathComponent("link")
        try FileManager.default.createSymbolicLink(at: link, withDestinationURL: real)
        let export = real.appendingPathComponent("flags.json").path
        #expect(
            box.ramp(["config", "export.flagd", export, "--store", store, "--now", t(0)], useStore: false).status == 0)
        box.ramp(["submit", box.plan("f"), "--store", store, "--now", t(0)], useStore: false)
        let viaLink = link.appendingPathComponent("ramp.db").path
        let ran = box.ramp(["tick", "--store", viaLink, "--now", t(0)], useStore: false)
        #expect(ran.status == 0, "\(ran.stderr)")
        #expect(try String(contentsOfFile: export, encoding: .utf8).contains(#""rampState":"progressing""#))
    }

    /// The configured flagd file belongs to the store that configured it: a copy of the store at another path
    /// changes its own state, but never overwrites the original's export.
    @Test(.enabled(if: Backend.isSQLite, "copies the SQLite file"))
    func aCopiedStoreDoesNotOverwriteTheOriginalsExport() throws {
        let box = Sandbox()
        let export = box.dir.appendingPathComponent("flags.json").path
        #expect(box.ramp(["config", "export.flagd", export, "--now", t(0)]).status == 0)
        box.ramp(["submit", box.plan("f"), "--now", t(0)])
        let copy = box.dir.appendingPathComponent("copy.db").path
        try FileManager.default.copyItem(atPath: box.store, toPath: copy)
        try FileManager.default.removeItem(atPath: export)
        let ran = box.ramp(["kill", "f", "--store", copy, "--now", t(1)], useStore: false)
        #expect(ran.status == 1)
        #expect(
            ran.stderr.contains("\(export) is the flagd export of the store at \(box.store)"), "\(ran.stderr)")
        #expect(!FileManager.default.fileExists(atPath: export), "the copy wrote the original's export")
        #expect(box.ramp(["audit", "verify", "--store", copy], useStore: false).status == 0)
        // The original still keeps it current.
        #expect(box.ramp(["tick", "--now", t(1)]).status == 0)
        #expect(FileManager.default.fileExists(atPath: export))
        // Configuring the same path in the copy (an operator's explicit choice) makes it write that file.
        #expect(
            box.ramp(["config", "export.flagd", export, "--store", copy, "--now", t(2)], useStore: false).status == 0)
        #expect(box.ramp(["unkill", "f", "--store", copy, "--now", t(3)], useStore: false).status == 0)
        let written = try String(contentsOfFile: export, encoding: .utf8)
        #expect(written.contains(#""rampKilled":false"#), "\(written)")
    }
}
