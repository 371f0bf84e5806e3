import Foundation
import RampCore
import RampStore
import Testing

/// Edits behind ramp's back, as someone with write access to the store file could make them: `ramp audit verify`
/// (and the independent `examples/audit_verify.py`) must catch every one.
@Suite struct TamperTests {
    /// A store with a history: a setting, submit, start, advance, pause, resume, kill, unkill.
    static func history() -> Sandbox {
        let box = Sandbox()
        #expect(box.ramp(["config", "bucketing", "cbor", "--now", t(0)]).status == 0)
        box.ramp([
            "submit", box.plan("f", steps: [(1, "1m", false), (5, "1m", false), (100, "0s", false)]), "--now", t(0),
        ])
        box.ramp(["tick", "--now", t(0)])
        box.ramp(["tick", "--now", t(1)])
        box.ramp(["pause", "f", "--now", t(2)])
        box.ramp(["resume", "f", "--now", t(3)])
        box.ramp(["submit", box.plan("g"), "--now", t(4)])
        box.ramp(["kill", "g", "--now", t(5)])
        box.ramp(["unkill", "g", "--now", t(6)])
        box.ramp(["record", "exposure", "f", "on", "user-1", "--now", t(7)])
        #expect(box.ramp(["audit", "verify"]).status == 0)
        return box
    }

    static func sql(_ box: Sandbox, _ statements: String) throws { try box.tamper(statements) }

    /// Runs both verifiers; both must fail with exit 6.
    static func expectCaught(_ box: Sandbox, _ what: String, checkpoint: String? = nil) {
        let args = ["audit", "verify"] + (checkpoint.map { ["--checkpoint", $0] } ?? [])
        let ran = box.ramp(args)
        #expect(ran.status == 6, "ramp missed: \(what): \(ran.stdout)\(ran.stderr)")
        // The Python verifier reads SQLite files.
        guard Backend.isSQLite else { return }
        let python = Process()
        python.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        python.arguments =
            ["python3", Sandbox.packageRoot.appendingPathComponent("examples/audit_verify.py").path, box.store]
            + (checkpoint.map { ["--checkpoint", $0] } ?? [])
        python.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        python.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try? python.run()
        python.waitUntilExit()
        // What is served is ramp's own check: the Python verifier reads the log alone.
        if what.hasPrefix("state:") { return }
        #expect(python.terminationStatus == 6, "audit_verify.py missed: \(what)")
    }

    static let columnEdits: [(String, String)] = [
        ("seq", "UPDATE audit SET seq = 99 WHERE seq = 4"),
        ("at", "UPDATE audit SET at = '2026-01-01T00:00:01Z' WHERE seq = 4"),
        ("at, same instant in other bytes", "UPDATE audit SET at = '2026-01-01T00:01:00+00:00' WHERE seq = 4"),
        ("actor", "UPDATE audit SET actor = 'mallory' WHERE seq = 4"),
        ("rollout_id", "UPDATE audit SET rollout_id = 2 WHERE seq = 4"),
        ("flag", "UPDATE audit SET flag = 'g' WHERE seq = 4"),
        ("event", "UPDATE audit SET event = 'promote' WHERE seq = 4"),
        ("from_state", "UPDATE audit SET from_state = 'paused' WHERE seq = 4"),
        ("to_state", "UPDATE audit SET to_state = 'completed' WHERE seq = 4"),
        ("from_bp", "UPDATE audit SET from_bp = 0 WHERE seq = 4"),
        ("to_bp", "UPDATE audit SET to_bp = 10000 WHERE seq = 4"),
        ("reason", "UPDATE audit SET reason = 'approved by the CTO' WHERE seq = 4"),
        ("evidence", "UPDATE audit SET evidence = '{}' WHERE seq = 4"),
        ("evidence, same value re-spaced", "UPDATE audit SET evidence = replace(evidence, ':', ': ') WHERE seq = 4"),
        ("plan_digest", "UPDATE audit SET plan_digest = NULL WHERE seq = 4"),
        ("prev_hash", "UPDATE audit SET prev_hash = upper(prev_hash) WHERE seq = 4"),
        ("hash", "UPDATE audit SET hash = upper(hash) WHERE seq = 4"),
        ("os_user", "UPDATE audit SET os_user = 'someone' WHERE seq = 4"),
        ("host", "UPDATE audit SET host = NULL WHERE seq = 4"),
        ("a NUL tail on reason", "UPDATE audit SET reason = reason || CAST(x'00' AS TEXT) || 'junk' WHERE seq = 4"),
        ("a NUL tail on actor", "UPDATE audit SET actor = actor || CAST(x'006576696c' AS TEXT) WHERE seq = 4"),
        ("a NUL tail on evidence", "UPDATE audit SET evidence = evidence || CAST(x'00' AS TEXT) WHERE seq = 4"),
        ("bytes that are not UTF-8", "UPDATE audit SET actor = CAST(x'74ff' AS TEXT) WHERE seq = 4"),
        ("a middle entry deleted", "DELETE FROM audit WHERE seq = 5"),
        ("the newest entry deleted", "DELETE FROM audit WHERE seq = (SELECT max(seq) FROM audit)"),
        ("the head's hash", "UPDATE audit_head SET hash = upper(hash)"),
        ("the head's seq", "UPDATE audit_head SET seq = seq + 1"),
        ("the head row", "DELETE FROM audit_head"),
        (
            "the newest entry deleted and the head moved back",
            """
            DELETE FROM audit WHERE seq = (SELECT max(seq) FROM audit);
            UPDATE audit_head SET seq = seq - 1, hash = (SELECT hash FROM audit WHERE seq = (SELECT max(seq) FROM audit))
            """
        ),
    ]

    /// Every column of every table that decides what users are served.
    static let servingEdits: [(String, String)] = [
        (
            "flags.variants",
            #"UPDATE flags SET variants = '{"off":{"color":"grey"},"on":{"color":"red"}}' WHERE key = 'f'"#
        ),
        ("flags.baseline and canary swapped", "UPDATE flags SET baseline = canary, canary = baseline WHERE key = 'f'"),
        ("flags.canary_bp", "UPDATE flags SET canary_bp = 10000 WHERE key = 'f'"),
        ("flags.killed", "UPDATE flags SET killed = 1 WHERE key = 'f'"),
        ("a killed flag's share raised", "UPDATE flags SET killed = 1, canary_bp = 10000 WHERE key = 'g'"),
        ("flags.disabled", "UPDATE flags SET disabled = 1 WHERE key = 'f'"),
        (
            "flags.rules",
            #"UPDATE flags SET rules = '[{"variant":"on","when":{"==":[1,1]}}]' WHERE key = 'f'"#
        ),
        ("flags.segments", #"UPDATE flags SET segments = '{"staff":{"==":[1,1]}}' WHERE key = 'f'"#),
        ("flags.canary_segments", #"UPDATE flags SET canary_segments = '["staff"]' WHERE key = 'f'"#),
        ("flags.metadata", #"UPDATE flags SET metadata = '{"team":"x"}' WHERE key = 'f'"#),
        ("flags.weights", #"UPDATE flags SET weights = '{"off":1,"on":1}' WHERE key = 'f'"#),
        (
            "a flag row inserted by hand",
            #"INSERT INTO flags(key, variants, baseline, canary, canary_bp, updated_at) VALUES ('h', '{"a":1,"b":2}', 'a', 'b', 5000, 0)"#
        ),
        ("a flag row deleted", "DELETE FROM flags WHERE key = 'g'"),
        ("rollouts.step", "UPDATE rollouts SET step = 2 WHERE flag = 'f'"),
        ("rollouts.step_entered_at", "UPDATE rollouts SET step_entered_at = step_entered_at - 86400 WHERE flag = 'f'"),
        ("rollouts.state", "UPDATE rollouts SET state = 'awaiting_approval' WHERE flag = 'f'"),
        ("rollouts.paused_from", "UPDATE rollouts SET paused_from = 'progressing' WHERE flag = 'f'"),
        (
            "rollouts.plan_digest",
            "UPDATE rollouts SET plan_digest = (SELECT digest FROM plans WHERE flag = 'g') WHERE flag = 'f'"
        ),
        ("rollouts.flag", "UPDATE rollouts SET flag = 'g' WHERE flag = 'f'"),
        (
            "plans.body edited under its digest",
            "UPDATE plans SET body = replace(body, '\"max\": 0.01', '\"max\": 0.9')"
        ),
        (
            "plans.base_dir, where relative commands run",
            "UPDATE plans SET base_dir = '/tmp/elsewhere' WHERE flag = 'f'"
        ),
        (
            "rollouts.due_at and next_check_at, pushed to 2100",
            "UPDATE rollouts SET due_at = 4102444800, next_check_at = 4102444800 WHERE flag = 'f'"
        ),
        (
            "an outbox row for a target nobody configured",
            #"INSERT INTO outbox(key, target, spec, event, flag, body, created_at, next_at) VALUES ('9', 'x', '{"base_dir":"/","command":["/bin/sh","-c","touch pwned"],"events":["advance"],"name":"x","timeout":"10s","type":"command"}', 'advance', 'f', '{}', 0, 0)"#
        ),
        ("settings: a value changed", "UPDATE settings SET value = 'concat' WHERE key = 'bucketing'"),
        ("settings: a row inserted", "INSERT INTO settings(key, value) VALUES ('rehearsal', 'on')"),
        ("settings: a row deleted", "DELETE FROM settings WHERE key = 'bucketing'"),
    ]

    @Test(arguments: 0..<servingEdits.count)
    func everyEditOfWhatIsServedIsCaught(index: Int) throws {
        let (what, statement) = Self.servingEdits[index]
        let box = Self.history()
        let before = try box.dump()
        try Self.sql(box, (Backend.isSQLite ? "PRAGMA foreign_keys = OFF; " : "") + statement)
        #expect(try box.dump() != before, "the edit changed nothing: \(what)")
        Self.expectCaught(box, "state: \(what)")
        if what.hasPrefix("plans.body") {
            #expect(box.ramp(["audit", "verify"]).stderr.contains("was edited: its text no longer has that digest"))
        }
    }

    @Test(arguments: 0..<columnEdits.count)
    func everyEditOfAnAuditRowIsCaught(index: Int) throws {
        let (what, statement) = Self.columnEdits[index]
        let box = Self.history()
        let before = try box.dump()
        try Self.sql(box, statement)
        #expect(try box.dump() != before, "the edit changed nothing: \(what)")
        Self.expectCaught(box, what.contains("head moved back") ? "state: \(what)" : what)
    }

    /// Queued notifications go only to targets the log configured: a store-wide one and a plan's verify; the same
    /// rows pointed at another command do not.
    @Test(.enabled(if: Backend.isSQLite, "copies the SQLite file"))
    func aQueuedNotificationsTargetEditedByHandIsCaught() throws {
        let box = Sandbox()
        box.write("metric.sh", "#!/bin/sh\necho 0.001\n", executable: true)
        let store = #"[{"name": "sink", "type": "command", "command": ["/bin/true"], "events": ["start", "advance"]}]"#
        #expect(box.ramp(["config", "notify", store, "--now", t(0)]).status == 0)
        let plan = box.plan("f", extra: #", "notify": [{"name": "own", "type": "command", "command": ["/bin/true"]}]"#)
        #expect(box.ramp(["submit", plan, "--now", t(0)]).status == 0)
        box.ramp(["tick", "--now", t(0)])
        box.ramp(["tick", "--now", t(11)])
        let targets = Set(try Store(path: box.store, create: false).queuedTargets().map(\.target))
        #expect(targets == ["sink", "own"], "\(targets)")
        let clean = box.ramp(["audit", "verify"])
        #expect(clean.status == 0, "\(clean.stderr)")
        for name in ["sink", "own"] {
            let copy = Sandbox()
            for suffix in ["", "-wal"] where FileManager.default.fileExists(atPath: box.store + suffix) {
                try FileManager.default.copyItem(atPath: box.store + suffix, toPath: copy.store + suffix)
            }
            try Self.sql(
                copy, "UPDATE outbox SET spec = replace(spec, '/bin/true', '/bin/sh') WHERE target = '\(name)'")
            let caught = copy.ramp(["audit", "verify"])
            #expect(caught.status == 6, "\(name): \(caught.stderr)")
            #expect(caught.stderr.contains("is queued for target \(name)"), "\(caught.stderr)")
        }
    }

    /// examples/audit_verify.py, written from docs/audit.md alone, agrees with ramp on untouched stores.
    @Test(.enabled(if: Backend.isSQLite, "examples/audit_verify.py reads SQLite files"))
    func theIndependentVerifierAcceptsEveryUntouchedStore() throws {
        let history = Self.history()
        let demo = Sandbox()
        let demoStore = demo.dir.appendingPathComponent("demo.db").path
        #expect(demo.ramp(["demo", "--store", demoStore], useStore: false, cwd: Sandbox.packageRoot).status == 0)
        for store in [history.store, demoStore] {
            let python = Process()
            python.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            python.arguments = [
                "python3", Sandbox.packageRoot.appendingPathComponent("examples/audit_verify.py").path, store,
            ]
            let out = demo.dir.appendingPathComponent("verify-\(UUID().uuidString).txt")
            _ = FileManager.default.createFile(atPath: out.path, contents: nil)
            python.standardOutput = try FileHandle(forWritingTo: out)
            try python.run()
            python.waitUntilExit()
            #expect(python.terminationStatus == 0, "\(store)")
            #expect(try String(contentsOf: out, encoding: .utf8).hasPrefix("ok: "))
            #expect(demo.ramp(["audit", "verify", "--store", store], useStore: false).status == 0)
        }
    }

    /// A consistent rewrite — an entry changed, every later hash and the head recomputed — passes the chain; a
    /// checkpoint published before it catches it.
    @Test func aConsistentRewriteIsCaughtByACheckpoint() throws {
        let box = Self.history()
        let checkpoint = box.dir.appendingPathComponent("checkpoints.jsonl")
        let head = box.ramp(["audit", "checkpoint"])
        #expect(head.status == 0)
        try Data(head.stdout.utf8).write(to: checkpoint)
        try Self.rewriteConsistently(box) { entry in
            if entry.seq == 4 { entry.reason = "approved by the CTO" }
        }
        #expect(box.ramp(["audit", "verify"]).status == 0, "a consistent rewrite passes the chain alone")
        let caught = box.ramp(["audit", "verify", "--checkpoint", checkpoint.path])
        #expect(caught.status == 6)
        #expect(caught.stderr.contains("does not match its checkpoint"), "\(caught.stderr)")
        Self.expectCaught(box, "a consistent rewrite", checkpoint: checkpoint.path)
    }

    /// Rewrites the whole log through `change`, recomputing every hash and the head, as a forger with write
    /// access to the file could.
    static func rewriteConsistently(_ box: Sandbox, _ change: (inout AuditEntry) -> Void) throws {
        let store = try Store(path: box.store, create: false)
        var entries: [AuditEntry] = []
        try store.auditEntries { entries.append($0) }
        var previous: (seq: Int64, hash: String)?
        try Self.sql(box, "DELETE FROM audit; DELETE FROM audit_head;")
        for var entry in entries {
            change(&entry)
            entry.storedAt = nil
            entry.storedEvidence = nil
            let rewritten = entry.chained(after: previous)
            try store.executeRaw(
                """
                INSERT INTO audit(seq, at, actor, rollout_id, flag, event, from_state, to_state, from_bp, to_bp, reason,
                                  evidence, plan_digest, prev_hash, hash, os_user, host)
                VALUES (\(rewritten.seq), '\(rewritten.at)', \(quoted(rewritten.actor)),
                        \(rewritten.rollout.map(String.init) ?? "NULL"), '\(rewritten.flag)', '\(rewritten.event)',
                        \(quoted(rewritten.fromState?.text)), \(quoted(rewritten.toState?.text)),
                        \(rewritten.fromPercent.map { String($0.basisPoints) } ?? "NULL"),
                        \(rewritten.toPercent.map { String($0.basisPoints) } ?? "NULL"), \(quoted(rewritten.reason)),
                        \(quoted(rewritten.evidence.canonical)), \(quoted(rewritten.planDigest)),
                        '\(rewritten.prevHash)', '\(rewritten.hash)', \(quoted(rewritten.osUser)),
                        \(quoted(rewritten.host)))
                """)
            previous = (rewritten.seq, rewritten.hash)
        }
        try store.executeRaw("INSERT INTO audit_head(id, seq, hash) VALUES (1, \(previous!.seq), '\(previous!.hash)')")
    }

    /// Every tick's transition is re-run through the state machine from its recorded evidence: a forged decision
    /// (an advance on a failing check), even written into a consistently rehashed log, does not follow from it.
    @Test func aDecisionThatDoesNotFollowFromItsEvidenceIsCaught() throws {
        let box = Self.history()
        try Self.rewriteConsistently(box) { entry in
            guard entry.event == "advance", case .object(var evidence) = entry.evidence,
                case .array(var checks)? = evidence["checks"], case .object(var first)? = checks.first
            else { return }
            first["verdict"] = "fail"
            first["value"] = 0.5
            checks[0] = .object(first)
            evidence["checks"] = .array(checks)
            entry.evidence = .object(evidence)
        }
        let caught = box.ramp(["audit", "verify"])
        #expect(caught.status == 6)
        #expect(
            caught.stderr.contains(
                "does not follow from its evidence under its plan: replayed, the state machine says rollback"),
            "\(caught.stderr)")
    }

    /// A log written before ramp recorded the rollout with each transition (no `rollout` in the evidence, nor the
    /// user and host that wrote it: both came in schema v6) still verifies: the replay takes the state and served
    /// share from the entries themselves.
    @Test func anOlderLogWithoutRolloutSnapshotsStillVerifies() throws {
        let box = Self.history()
        try Self.rewriteConsistently(box) { entry in
            guard case .object(var evidence) = entry.evidence else { return }
            evidence["rollout"] = nil
            entry.evidence = .object(evidence)
            entry.osUser = nil
            entry.host = nil
        }
        let ran = box.ramp(["audit", "verify"])
        #expect(ran.status == 0, "\(ran.stderr)")
        try Self.sql(box, "UPDATE flags SET canary_bp = 2500 WHERE key = 'f'")
        #expect(box.ramp(["audit", "verify"]).status == 6, "the share is still compared")
    }

    /// The ways a forger could try to keep a tick's transition out of the replay all fail verification.
    @Test(arguments: [
        "an operator's command added", "its checks removed", "a malformed rollout record", "no rollout record",
    ])
    func aForgedTickTransitionCannotHideFromTheReplay(how: String) throws {
        let box = Self.history()
        try Self.rewriteConsistently(box) { entry in
            guard entry.event == "advance", case .object(var evidence) = entry.evidence else { return }
            switch how {
            case "an operator's command added": evidence["command"] = "promote"
            case "its checks removed": evidence["checks"] = nil
            case "a malformed rollout record": break
            default: evidence["rollout"] = nil
            }
            if case .object(var rollout)? = evidence["rollout"], how == "a malformed rollout record" {
                rollout["step"] = 1.5
                evidence["rollout"] = .object(rollout)
            }
            entry.evidence = .object(evidence)
        }
        let caught = box.ramp(["audit", "verify"])
        #expect(caught.status == 6, "\(how): \(caught.stdout)\(caught.stderr)")
    }

    /// Forgeries written into a consistently rehashed log (no checkpoint): each makes a recorded decision that does
    /// not follow from what the log says before it, or dresses a new entry up as an older kind, and is caught.
    static let forgeries: [(String, @Sendable (inout AuditEntry) -> Void)] = [
        (
            "the rollout records stripped from a log that records its writers",
            { entry in entry.evidence = entry.evidence.removing("rollout") }
        ),
        (
            "the writer stripped from the newest entries only",
            { entry in
                if entry.seq >= 8 {
                    entry.osUser = nil
                    entry.host = nil
                }
            }
        ),
        (
            "a decision time after the entry's own",
            { entry in entry.evidence = entry.evidence.setting("decided_at", .string(t(90))) }
        ),
        (
            "an entry dated before the one before it",
            { entry in if entry.seq == 6 { entry.at = Instant(rfc3339: t(1))! } }
        ),
        (
            "a failing check called a shadow",
            { entry in
                entry.forgeFirstCheck(seq: 4) {
                    $0["value"] = 0.5; $0["verdict"] = "fail"; $0["shadow"] = true
                }
            }
        ),
        ("a check its value contradicts", { entry in entry.forgeFirstCheck(seq: 4) { $0["value"] = 0.5 } }),
        (
            "a check of a gate the plan does not have",
            { entry in entry.forgeFirstCheck(seq: 4) { $0["gate"] = "other" } }
        ),
        (
            "the checks emptied",
            { entry in if entry.seq == 4 { entry.evidence = entry.evidence.setting("checks", []) } }
        ),
        (
            "a move from a state the rollout was not in",
            { entry in if entry.seq == 4 { entry.fromState = .known(.paused) } }
        ),
        ("a move from a share the flag did not serve", { entry in if entry.seq == 6 { entry.fromPercent = .full } }),
        (
            "an advance relabelled as an approval",
            { entry in
                if entry.seq == 4 {
                    entry.event = .known(.approve)
                    entry.evidence = entry.evidence.removing("checks").setting("command", "approve")
                }
            }
        ),
        (
            "a resume that skips a step",
            { entry in
                guard entry.seq == 6, case .object(var rollout)? = entry.evidence["rollout"] else { return }
                rollout["step"] = 2
                entry.evidence = entry.evidence.setting("rollout", .object(rollout))
            }
        ),
    ]

    @Test(arguments: 0..<forgeries.count)
    func aForgedDecisionInAConsistentRewriteIsCaughtByTheReplay(index: Int) throws {
        let (what, forge) = Self.forgeries[index]
        let box = Self.history()
        try Self.rewriteConsistently(box, forge)
        let caught = box.ramp(["audit", "verify"])
        #expect(caught.status == 6, "\(what): \(caught.stdout)\(caught.stderr)")
        #expect(caught.stderr.contains(Self.forgeryCaughtBy[what] ?? "?"), "\(what): \(caught.stderr)")
    }

    /// What catches each forgery: the check that names it, not some other.
    static let forgeryCaughtBy: [String: String] = [
        "the rollout records stripped from a log that records its writers": "lacks the rollout record",
        "the writer stripped from the newest entries only": "#8: does not record who wrote it",
        "a decision time after the entry's own": "that is not a time before its own",
        "an entry dated before the one before it": "#6: is dated 2026-01-01T00:01:00Z, before the entry before it",
        "a failing check called a shadow": "#4: does not follow from its evidence under its plan",
        "a check its value contradicts": "records gate errors as pass, but its recorded values",
        "a check of a gate the plan does not have": "records a check of gate other that its plan does not check",
        "the checks emptied": "records checks of no gate where its plan checks errors, latency",
        "a move from a state the rollout was not in": "#4: starts from paused at 1%, but the log before it",
        "a move from a share the flag did not serve": "#6: starts from paused at 100%, but the log before it",
        "an advance relabelled as an approval": "cannot approve f: it is progressing, not awaiting approval",
        "a resume that skips a step": "#6: does not follow from its command under its plan",
    ]

    /// A rollout row whose step its plan does not have (a hand edit) never crashes ramp.
    @Test func aStepOutOfRangeIsRefusedNotCrashedOn() throws {
        let box = Self.history()
        try Self.sql(box, "UPDATE rollouts SET step = 99 WHERE flag = 'g'")
        for args in [["status"], ["explain", "g"], ["metrics"], ["tick", "--now", t(8)], ["audit", "verify"]] {
            let ran = box.ramp(args + (args.contains("--now") ? [] : ["--now", t(8)]))
            #expect(!ran.killed, "\(args) crashed: \(ran.stderr)")
        }
        #expect(box.ramp(["audit", "verify"]).status == 6)
    }

    /// Verify reads one snapshot of the store: commands committing meanwhile never look like tampering.
    @Test func verifyWhileCommandsCommitNeverFailsFalsely() throws {
        let box = Self.history()
        var failures: [String] = []
        let stop = Date().addingTimeInterval(8)
        var minute: Int64 = 20
        var verifies = 0
        while Date() < stop, verifies < 40 {
            minute += 1
            let pause = box.start(["pause", "f", "--now", t(minute)])
            let verify = box.ramp(["audit", "verify"])
            _ = pause.wait()
            minute += 1
            let resume = box.start(["resume", "f", "--now", t(minute)])
            let again = box.ramp(["audit", "verify"])
            _ = resume.wait()
            verifies += 2
            for ran in [verify, again] where ran.status != 0 { failures.append(ran.stderr) }
        }
        #expect(failures.isEmpty, "\(failures)")
        #expect(verifies >= 10)
    }

    /// A checkpoint file that names no head, or a head in another spelling, is refused rather than passed: a
    /// publishing job that wrote nothing, or wrote something else, is a fault to see.
    @Test(arguments: [
        ("", "holds no checkpoint"), ("\n  \n", "holds no checkpoint"),
        (#"{"at":"2026-01-01T00:00:00Z","hash":"\#(String(repeating: "A", count: 64))","seq":1}"#, "lowercase hex"),
        (#"{"at":"yesterday","hash":"\#(String(repeating: "a", count: 64))","seq":1}"#, "time like"),
    ])
    func aCheckpointFileThatNamesNoHeadIsRefused(text: String, said: String) throws {
        let box = Self.history()
        let file = box.dir.appendingPathComponent("checkpoints.jsonl")
        try Data(text.utf8).write(to: file)
        let ran = box.ramp(["audit", "verify", "--checkpoint", file.path])
        #expect(ran.status == 3, "\(ran.stdout)\(ran.stderr)")
        #expect(ran.stderr.contains(said), "\(ran.stderr)")
        let python = Process()
        python.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        python.arguments = [
            "python3", Sandbox.packageRoot.appendingPathComponent("examples/audit_verify.py").path, box.store,
            "--checkpoint", file.path,
        ]
        python.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        python.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try python.run()
        python.waitUntilExit()
        #expect(python.terminationStatus == 2)
        let missing = box.ramp(["audit", "verify", "--checkpoint", box.dir.appendingPathComponent("none").path])
        #expect(missing.status == 3 && missing.stderr.contains("no such file"), "\(missing.stderr)")
        try Data(box.ramp(["audit", "checkpoint"]).stdout.utf8).write(to: file)
        #expect(
            box.ramp(["audit", "verify", "--checkpoint", file.path]).stdout.hasSuffix(", passes through 1 checkpoint\n")
        )
    }

    @Test func aLogCutBackBeforeACheckpointIsCaught() throws {
        let box = Self.history()
        let checkpoint = box.dir.appendingPathComponent("checkpoints.jsonl")
        try Data(box.ramp(["audit", "checkpoint"]).stdout.utf8).write(to: checkpoint)
        try Self.sql(
            box,
            """
            DELETE FROM audit WHERE seq = (SELECT max(seq) FROM audit);
            UPDATE audit_head SET seq = seq - 1, hash = (SELECT hash FROM audit WHERE seq = (SELECT max(seq) FROM audit))
            """)
        let caught = box.ramp(["audit", "verify", "--checkpoint", checkpoint.path])
        #expect(caught.status == 6)
        #expect(caught.stderr.contains("is missing, but a checkpoint records it"), "\(caught.stderr)")
    }
}

extension JSONValue {
    func setting(_ key: String, _ value: JSONValue) -> JSONValue {
        guard case .object(var members) = self else { return self }
        members[key] = value
        return .object(members)
    }

    func removing(_ key: String) -> JSONValue {
        guard case .object(var members) = self else { return self }
        members[key] = nil
        return .object(members)
    }
}

extension AuditEntry {
    /// Changes the first recorded check of entry `seq`.
    mutating func forgeFirstCheck(seq: Int64, _ change: (inout [String: JSONValue]) -> Void) {
        guard self.seq == seq, case .array(var checks)? = evidence["checks"], case .object(var first)? = checks.first
        else { return }
        change(&first)
        checks[0] = .object(first)
        evidence = evidence.setting("checks", .array(checks))
    }
}

private func quoted(_ text: String?) -> String {
    text.map { "'" + $0.replacingOccurrences(of: "'", with: "''") + "'" } ?? "NULL"
}
