import Foundation
import RampCore
import RampStore
import Testing

@Suite struct RobustnessTests {
    @Test func eightTicksStartedAtOnceOnOneDueRolloutMakeExactlyOneTransition() throws {
        let box = Sandbox()
        box.ramp(["submit", box.plan("f"), "--now", t(0)])
        box.ramp(["tick", "--now", t(0)])
        // Every tick polls for ~0.3 s (outside any transaction), so all eight decide "advance" before any commits.
        let running = (0..<8).map { _ in box.start(["tick", "--now", t(10), "--json"], env: ["METRIC_SLEEP": "1"]) }
        let all = running.map { $0.wait() }
        #expect(all.allSatisfy { $0.status == 0 }, "\(all.map(\.stderr))")
        let outcomes = all.flatMap(\.json)
        #expect(outcomes.filter { $0["transition"] != nil }.count == 1)
        // The others wrote nothing: they lost the race, or (started late on a busy machine) found it checked, or
        // (on PostgreSQL) found another tick holding the tick lease and did not poll at all.
        let idle = outcomes.filter { $0["lost_race"] == true || $0["not_due_until"] != nil || $0["skipped"] != nil }
        #expect(idle.count == 7, "\(outcomes)")
        if Backend.isSQLite {
            #expect(outcomes.filter { $0["lost_race"] == true }.count >= 1, "at least one tick really raced")
        } else {
            #expect(outcomes.filter { $0["skipped"] != nil }.count >= 1, "at least one tick found the lease held")
        }
        #expect(box.events() == ["submit", "start", "advance"])
        #expect(box.status("f")["percent"] == 5)
        #expect(box.ramp(["audit", "verify"]).status == 0)
    }

    /// Names and keys are stored in indexed columns, which PostgreSQL bounds: both backends take them up to the
    /// same limits (200 bytes for a name, 1,024 for a key) and refuse longer ones with one line, storing nothing.
    @Test func namesAndKeysUpToTheirLimitsWorkAndLongerOnesAreRefused() throws {
        let box = Sandbox()
        let name = String(repeating: "g", count: 200)
        let plan = box.plan("f")
        let text = try String(contentsOfFile: plan, encoding: .utf8)
        try text.replacingOccurrences(of: #""name": "errors""#, with: #""name": "\#(name)""#).write(
            toFile: plan, atomically: true, encoding: .utf8)
        box.setMetric(name, "0.002")
        #expect(box.ramp(["submit", plan, "--now", t(0)]).status == 0)
        #expect(box.ramp(["tick", "--now", t(0)]).status == 0)
        let key = String(repeating: "k", count: 1024)
        #expect(box.ramp(["record", "exposure", "f", "on", key, "--now", t(1)]).status == 0)
        #expect(box.ramp(["record", "outcome", name, "1", "--flag", "f", "--key", key, "--now", t(1)]).status == 0)
        let before = try box.dump()
        let long = box.ramp(["record", "exposure", "f", "on", key + "k", "--now", t(2)])
        #expect(long.status == 3)
        #expect(long.stderr == "ramp: the key is 1025 bytes long; at most 1024 are allowed\n")
        let metric = box.ramp(["record", "outcome", name + "g", "1", "--variant", "on", "--now", t(2)])
        #expect(metric.status == 3)
        #expect(metric.stderr == "ramp: the metric is 201 bytes long; at most 200 are allowed\n")
        try text.replacingOccurrences(of: #""name": "errors""#, with: #""name": "\#(name)g""#).write(
            toFile: box.dir.appendingPathComponent("long.json").path, atomically: true, encoding: .utf8)
        let refused = box.ramp(["submit", "long.json", "--now", t(2)])
        #expect(refused.status == 3)
        #expect(refused.stderr.contains("gate name is 201 bytes long; at most 200 are allowed"), "\(refused.stderr)")
        #expect(try box.dump() == before)
        #expect(box.ramp(["audit", "verify"]).status == 0)
    }

    @Test func anEmptyStoreOrLibpqsKeyValueFormIsRefusedAndMakesNoFile() {
        let box = Sandbox()
        let empty = box.ramp(["submit", box.plan("f"), "--store", ""], useStore: false)
        #expect(empty.status == 3)
        #expect(empty.stderr == "ramp: --store is empty: name a store file or a postgres:// connection string\n")
        let fromEnvironment = box.ramp(["status"], env: ["RAMP_STORE": ""], useStore: false)
        #expect(fromEnvironment.status == 3)
        #expect(fromEnvironment.stderr.hasPrefix("ramp: RAMP_STORE is empty"))
        let keywords = box.ramp(
            ["submit", box.plan("f"), "--store", "host=127.0.0.1 dbname=x password=s3cret"], useStore: false)
        #expect(keywords.status == 3)
        #expect(
            keywords.stderr
                == "ramp: --store: host=127.0.0.1 dbname=x password=*** is libpq's key=value form, which ramp does "
                + "not take; write it as postgres://USER@HOST:PORT/DATABASE\n")
        let copy = box.ramp(["store", "copy", "--from", "host=db dbname=x", "--to", "y.db"], useStore: false)
        #expect(copy.status == 3)
        #expect(
            ((try? FileManager.default.contentsOfDirectory(atPath: box.dir.path)) ?? []).allSatisfy {
                !$0.contains("host=") && $0 != "y.db"
            })
    }

    /// Ticks over many rollouts killed with SIGKILL at random moments: every time, the store is intact, the chain
    /// verifies, and every rollout's state is what its last audit entry says (`audit verify` checks that too).
    @Test func aTickKilledAtRandomMomentsAlwaysLeavesAConsistentStore() throws {
        let box = Sandbox()
        let steps: [(Double, String, Bool)] = (1...20).map { (Double($0 * 5), "1m", false) }
        for i in 0..<12 { box.ramp(["submit", box.plan("flag-\(i)", steps: steps), "--now", t(0)]) }
        // Measure one whole tick (it starts all twelve rollouts), then kill later ticks anywhere within 1.2× that.
        let started = Date()
        #expect(box.ramp(["tick", "--now", t(0)]).status == 0)
        let tickSeconds = Date().timeIntervalSince(started)
        var generator = SystemRandomNumberGenerator()
        var killedMidway = 0
        var minute: Int64 = 0
        for _ in 0..<40 {
            minute += 1
            let delay = Double.random(in: 0.0...(tickSeconds * 1.2), using: &generator)
            let ran = box.ramp(["tick", "--now", t(minute)], killAfter: delay)
            if ran.killed { killedMidway += 1 }
            let store = try Store(path: box.store, create: false)
            #expect(try store.integrityCheck() == "ok")
            let verify = box.ramp(["audit", "verify"])
            #expect(verify.status == 0, "after a kill at \(delay) s: \(verify.stderr)")
            // Independently of verify: each flag's rollout and share agree with the flag's last audit entry.
            var lastEntries: [String: JSONValue] = [:]
            for entry in box.ramp(["audit", "log", "--json"]).json { lastEntries[entry["flag"]!.stringValue!] = entry }
            for (flag, entry) in lastEntries {
                #expect(try store.latestRollout(flag: flag)?.state.rawValue == entry["to_state"]?.stringValue)
                #expect(try store.flag(flag)?.canaryPercent.value == entry["to_percent"]?.numberValue)
            }
        }
        #expect(killedMidway > 5, "the test must actually kill ticks mid-way (\(killedMidway) of 40 were)")
        let advances = box.events().filter { $0 == "advance" }.count
        #expect(advances > 12, "killed ticks must also get work done between kills (\(advances) advances)")
    }

    @Test(arguments: TamperCase.all)
    func tamperingWithTheAuditLogIsDetectedAndNamed(tamper: TamperCase) throws {
        let box = Sandbox()
        box.ramp(["submit", box.plan("f"), "--now", t(0)])
        for minute: Int64 in [0, 10, 20] { box.ramp(["tick", "--now", t(minute)]) }
        box.ramp(["pause", "f", "--now", t(21)])
        #expect(box.ramp(["audit", "verify"]).status == 0)
        #expect(box.events() == ["submit", "start", "advance", "advance", "pause"])
        try box.tamper(tamper.sql)
        let verify = box.ramp(["audit", "verify"])
        #expect(verify.status == 6)
        #expect(verify.stderr == "ramp: audit verify failed: \(tamper.message)\n")
    }

    struct TamperCase: Sendable, CustomTestStringConvertible {
        var name: String
        var sql: String
        var message: String
        var testDescription: String { name }

        static let all: [TamperCase] = [
            TamperCase(
                name: "reason edited", sql: "UPDATE audit SET reason = 'routine' WHERE seq = 3",
                message: "audit entry #3: contents do not match its hash (altered)"),
            TamperCase(
                name: "actor edited", sql: "UPDATE audit SET actor = 'mallory' WHERE seq = 2",
                message: "audit entry #2: contents do not match its hash (altered)"),
            TamperCase(
                name: "evidence edited",
                sql:
                    "UPDATE audit SET evidence = replace(evidence, '\"verdict\":\"pass\"', '\"verdict\":\"fail\"') WHERE seq = 3",
                message: "audit entry #3: contents do not match its hash (altered)"),
            TamperCase(
                name: "time edited", sql: "UPDATE audit SET at = '2026-01-01T00:00:01Z' WHERE seq = 2",
                message: "audit entry #2: contents do not match its hash (altered)"),
            TamperCase(
                name: "hash recomputed without the chain", sql: "UPDATE audit SET prev_hash = hash WHERE seq = 4",
                message: "audit entry #4: previous hash does not match entry #3's hash"),
            TamperCase(
                name: "middle entry deleted", sql: "DELETE FROM audit WHERE seq = 3",
                message: "audit entry #3: is missing (the log jumps from #2 to #4)"),
            TamperCase(
                name: "first entry deleted", sql: "DELETE FROM audit WHERE seq = 1",
                message: "audit entry #1: is missing (the log jumps from #0 to #2)"),
            TamperCase(
                name: "newest entry deleted", sql: "DELETE FROM audit WHERE seq = 5",
                message: "audit entry #5: is missing: the log ends at #4 but the recorded head is #5"),
            TamperCase(
                name: "newest entry deleted and the head rewritten",
                sql:
                    "DELETE FROM audit WHERE seq = 5; UPDATE audit_head SET seq = 4, hash = (SELECT hash FROM audit WHERE seq = 4)",
                message: "rollout #1 (f)'s state is paused but the audit log says progressing"),
            TamperCase(
                name: "entries reordered",
                sql:
                    "UPDATE audit SET seq = -2 WHERE seq = 2; UPDATE audit SET seq = 2 WHERE seq = 3; UPDATE audit SET seq = 3 WHERE seq = -2",
                message: "audit entry #2: previous hash does not match entry #1's hash"),
            TamperCase(
                name: "an entry appended by hand",
                sql:
                    "INSERT INTO audit SELECT 6, at, actor, rollout_id, flag, event, from_state, to_state, from_bp, to_bp, reason, evidence, plan_digest, hash, hash, os_user, host FROM audit WHERE seq = 5",
                message: "audit entry #6: contents do not match its hash (altered)"),
            TamperCase(
                name: "rollout state changed behind the log's back",
                sql: "UPDATE rollouts SET state = 'completed', step = 3",
                message: "rollout #1 (f)'s state is completed but the audit log says paused"),
            TamperCase(
                name: "flag share changed behind the log's back", sql: "UPDATE flags SET canary_bp = 10000",
                message: "flag f's canary share is 100% but the audit log says 25%"),
        ]
    }
}
