import Foundation
import RampCore
import Testing

@Suite struct RolloutEndToEndTests {
    @Test func aHealthyCanaryGoesThroughOneFiveTwentyFiveToAHundredWithAnInjectedClock() throws {
        let box = Sandbox()
        let plan = box.plan("checkout-v2")
        let submitted = box.ramp(["submit", plan, "--now", t(0)])
        #expect(submitted.status == 0, "\(submitted.stderr)")
        #expect(submitted.stdout.contains("rollout #1 of checkout-v2 is pending (new flag)"))
        #expect(box.status("checkout-v2")["state"] == "pending")

        var shares: [Double] = []
        var canaryAt: [Double: Set<String>] = [:]
        let keys = (0..<3000).map { "user-\($0)" }.joined(separator: "\n")
        for minute in stride(from: Int64(0), through: 40, by: 1) {
            let tick = box.ramp(["tick", "--now", t(minute)])
            #expect(tick.status == 0, "\(tick.stderr)")
            let status = box.status("checkout-v2", at: t(minute))
            let share = status["percent"]?.numberValue ?? -1
            if shares.last != share {
                shares.append(share)
                let evaluated = box.ramp(["eval", "checkout-v2", "--keys", "-"], stdin: keys).lines
                canaryAt[share] = Set(
                    evaluated.filter { $0.contains("\ton\t") }.map { String($0.split(separator: "\t")[0]) })
            }
            if minute == 5 {
                #expect(status["bake_left_seconds"] == 300)
                #expect(status["why"] == "bake: 5m left")
            }
        }
        #expect(shares == [1, 5, 25, 100])
        #expect(box.status("checkout-v2")["state"] == "completed")
        #expect(box.events() == ["submit", "start", "advance", "advance", "advance", "complete"])
        // Whoever had the canary keeps it as the share grows, and the share is about right.
        for (small, large) in [(1.0, 5.0), (5, 25), (25, 100)] {
            #expect(canaryAt[small]!.isSubset(of: canaryAt[large]!), "\(small)% → \(large)%")
        }
        #expect(abs(Double(canaryAt[25]!.count) / 3000 - 0.25) < 0.03)
        #expect(canaryAt[100]!.count == 3000)
        let verify = box.ramp(["audit", "verify"])
        #expect(verify.status == 0, "\(verify.stderr)")
        #expect(verify.stdout == "audit log ok: 6 entries, chain intact, store agrees with it\n")
    }

    @Test func aGateThatFailsRollsTheCanaryBackOnTheFirstTickThatSeesIt() throws {
        let box = Sandbox()
        box.ramp(["submit", box.plan("search"), "--now", t(0)])
        box.ramp(["tick", "--now", t(0)])
        box.ramp(["tick", "--now", t(10)])
        #expect(box.status("search")["percent"] == 5)
        box.setMetric("errors", "0.05")
        let tick = box.ramp(["tick", "--now", t(11)])
        #expect(tick.status == 0)
        #expect(
            tick.stdout.contains(
                "search  rollback: progressing → rolled_back, 5% → 0%  (gate errors failed: 0.05 > max 0.01)"))
        let status = box.status("search")
        #expect(status["state"] == "rolled_back")
        #expect(status["percent"] == 0)
        let served = box.ramp(
            ["eval", "search", "--keys", "-"], stdin: (0..<500).map { "k\($0)" }.joined(separator: "\n"))
        #expect(served.lines.count == 500)
        #expect(served.lines.allSatisfy { $0.hasSuffix("\toff\t{\"color\":\"grey\"}\tSTATIC") })
        // The audit entry carries the evidence: each gate's value, bound and verdict.
        let last = try #require(box.ramp(["audit", "log", "--json", "--flag", "search"]).json.last)
        #expect(last["event"] == "rollback")
        #expect(last["actor"]?.stringValue?.hasPrefix("tick@") == true)
        let checks = try #require(last["evidence"]?["checks"]?.arrayValue)
        #expect(
            checks.contains {
                $0["gate"] == "errors" && $0["value"] == 0.05 && $0["verdict"] == "fail" && $0["bound"] == "≤ 0.01"
            })
        #expect(checks.contains { $0["gate"] == "latency" && $0["verdict"] == "pass" })
        // Further ticks leave a finished rollout alone.
        box.setMetric("errors", "0.001")
        box.ramp(["tick", "--now", t(30)])
        #expect(box.events(flag: "search").last == "rollback")
    }

    @Test func noDataAndErrorsHoldAndNeverAdvance() throws {
        let box = Sandbox()
        box.ramp(["submit", box.plan("f"), "--now", t(0)])
        box.ramp(["tick", "--now", t(0)])
        box.write("value-errors.txt", "")
        box.ramp(["tick", "--now", t(20)])
        #expect(box.status("f")["why"] == "errors: no data (command ./metric.sh printed nothing)")
        box.write("value-errors.txt", "oops")
        box.ramp(["tick", "--now", t(40)])
        #expect(box.status("f")["why"] == #"errors: error (command ./metric.sh printed "oops", not a number)"#)
        try FileManager.default.removeItem(at: box.dir.appendingPathComponent("value-errors.txt"))
        box.ramp(["tick", "--now", t(60)])
        #expect(
            box.status("f")["why"]?.stringValue?.hasPrefix(
                "errors: error for 2 checks (command ./metric.sh: exit status 1: cat:")
                == true)
        #expect(box.status("f")["percent"] == 1)
        #expect(box.events() == ["submit", "start"])
    }

    @Test func aTickSkipsRolloutsCheckedLessThanAnIntervalAgo() {
        let box = Sandbox()
        box.ramp(["submit", box.plan("f", steps: [(10, "0s", false), (100, "0s", false)]), "--now", t(0)])
        box.ramp(["tick", "--now", t(0)])
        let early = box.ramp([
            "tick", "--now", Instant(seconds: Instant(rfc3339: t(0))!.seconds + 20).description, "--verbose",
        ])
        #expect(early.stdout == "f: next check at \(t(1))\n")
        let due = box.ramp(["tick", "--now", Instant(seconds: Instant(rfc3339: t(1))!.seconds - 3).description])
        #expect(due.stdout.contains("advance"), "a tick a few seconds early (cron jitter) still counts: \(due.stdout)")
    }

    @Test func stepsWithApprovalWaitForAnOperatorWhileGatesKeepGuarding() throws {
        let box = Sandbox()
        box.ramp(["submit", box.plan("f", steps: [(1, "5m", true), (100, "0s", false)]), "--now", t(0)])
        box.ramp(["tick", "--now", t(0)])
        box.ramp(["tick", "--now", t(5)])
        #expect(box.status("f")["state"] == "awaiting_approval")
        box.ramp(["tick", "--now", t(50)])
        #expect(box.status("f")["state"] == "awaiting_approval")
        // Which move waits for whom, in every place it is shown.
        #expect(box.status("f")["why"] == "awaiting an operator's approval to move from 1% to 100% (ramp approve f)")
        #expect(
            box.ramp(["plan", "validate", box.dir.appendingPathComponent("f.json").path]).stdout.contains(
                "1% → (ramp approve) → 100%"))
        let check = box.ramp([
            "plan", "check", box.dir.appendingPathComponent("f.json").path, "--traffic", "100/s", "--baseline-rate",
            "1%", "--mde", "20%",
        ])
        #expect(check.stdout.contains("leaving this step waits for an operator: ramp approve f"), "\(check.stdout)")
        let approved = box.ramp([
            "approve", "f", "--actor", "alice", "--reason", "dashboards look fine", "--now", t(51),
        ])
        #expect(approved.status == 0, "\(approved.stderr)")
        #expect(box.status("f")["percent"] == 100)
        let entry = try #require(box.ramp(["audit", "log", "--json"]).json.last)
        #expect(entry["actor"] == "alice")
        #expect(entry["reason"] == "step 1 approved: dashboards look fine; step 2/2 at 100%")
    }

    @Test func operatorsCanPauseResumePromoteAndAbort() throws {
        let box = Sandbox()
        box.ramp(["submit", box.plan("f"), "--now", t(0)])
        box.ramp(["tick", "--now", t(0)])
        #expect(box.ramp(["pause", "f", "--now", t(1)]).status == 0)
        box.ramp(["tick", "--now", t(30)])
        #expect(box.status("f")["state"] == "paused")
        #expect(box.status("f")["percent"] == 1)
        let again = box.ramp(["pause", "f", "--now", t(31)])
        #expect(again.status == 5)
        #expect(again.stderr == "ramp: cannot pause f: it is already paused\n")
        #expect(box.ramp(["resume", "f", "--now", t(32)]).status == 0)
        box.ramp(["tick", "--now", t(32)])
        #expect(box.status("f")["percent"] == 5, "the bake counted from step entry, so it advances at once")
        #expect(box.ramp(["promote", "f", "--now", t(33)]).status == 0)
        #expect(box.status("f")["percent"] == 25)
        #expect(box.ramp(["abort", "f", "--reason", "changed our minds", "--now", t(34)]).status == 0)
        #expect(box.status("f")["state"] == "rolled_back")
        #expect(box.status("f")["percent"] == 0)
        #expect(box.events() == ["submit", "start", "pause", "resume", "advance", "promote", "abort"])
        let full = box.ramp(["promote", "f", "--full", "--now", t(35)])
        #expect(full.status == 5)
        #expect(full.stderr == "ramp: cannot promote --full f: it has no active rollout\n")
        #expect(box.ramp(["audit", "verify"]).status == 0)
    }

    @Test func theKillSwitchSendsEveryoneToTheBaselineAndRollsBackTheRollout() throws {
        let box = Sandbox()
        box.ramp(["submit", box.plan("f", steps: [(50, "1h", false), (100, "0s", false)]), "--now", t(0)])
        box.ramp(["tick", "--now", t(0)])
        let keys = (0..<400).map { "u\($0)" }.joined(separator: "\n")
        #expect(box.ramp(["eval", "f", "--keys", "-"], stdin: keys).lines.contains { $0.contains("\ton\t") })
        let killed = box.ramp(["kill", "f", "--reason", "pager", "--now", t(1)])
        #expect(killed.status == 0, "\(killed.stderr)")
        #expect(killed.stdout.contains("kill: progressing → rolled_back, 50% → 0%  (kill switch: pager)"))
        #expect(box.ramp(["eval", "f", "--keys", "-"], stdin: keys).lines.allSatisfy { $0.contains("\toff\t") })
        #expect(box.status("f")["killed"] == true)
        #expect(box.ramp(["kill", "f", "--now", t(2)]).stdout == "f is already killed; nothing changed\n")
        let refused = box.ramp(["submit", box.plan("f", name: "again.json"), "--now", t(3)])
        #expect(refused.status == 5)
        #expect(
            refused.stderr.contains(
                "flag \"f\" is killed: pass --restart to start it over from 0% (releasing the switch with no one on "
                    + "the canary), or run `ramp unkill f` first"), "\(refused.stderr)")
        #expect(box.ramp(["unkill", "f", "--now", t(4)]).status == 0)
        #expect(box.ramp(["submit", box.plan("f", name: "again.json"), "--now", t(5)]).status == 0)
        #expect(box.events() == ["submit", "start", "kill", "unkill", "submit"])
        #expect(box.ramp(["audit", "verify"]).status == 0)
    }

    @Test func killingACompletedFlagServesTheBaselineUntilUnkilled() {
        let box = Sandbox()
        box.ramp(["submit", box.plan("f", steps: [(100, "0s", false)]), "--now", t(0)])
        box.ramp(["tick", "--now", t(0)])
        box.ramp(["tick", "--now", t(1)])
        #expect(box.status("f")["state"] == "completed")
        #expect(box.ramp(["eval", "f", "--key", "bob"]).stdout == "on\t{\"color\":\"green\"}\tTARGETING_MATCH\n")
        box.ramp(["kill", "f", "--now", t(2)])
        #expect(box.ramp(["eval", "f", "--key", "bob"]).stdout == "off\t{\"color\":\"grey\"}\tSTATIC\n")
        box.ramp(["unkill", "f", "--now", t(3)])
        #expect(
            box.ramp(["eval", "f", "--key", "bob", "--json"]).json.first == [
                "flag": "f", "key": "bob", "variant": "on", "value": ["color": "green"], "reason": "TARGETING_MATCH",
            ])
        #expect(box.ramp(["audit", "verify"]).status == 0)
    }

    @Test func aSecondPlanForAFlagWithAnActiveRolloutIsRefused() throws {
        let box = Sandbox()
        box.ramp(["submit", box.plan("f"), "--now", t(0)])
        let before = try box.dump()
        let second = box.ramp(["submit", box.plan("f", name: "other.json"), "--now", t(1)])
        #expect(second.status == 5)
        #expect(
            second.stderr
                == "ramp: flag \"f\" already has an active rollout (#1, pending); it must complete, roll back or be aborted (`ramp abort f`) before another plan\n"
        )
        #expect(try box.dump() == before)
    }

    @Test func runLoopsWithASimulatedClockUntilSettled() {
        let box = Sandbox()
        #expect(box.ramp(["config", "rehearsal", "on", "--now", t(0)]).status == 0)
        box.ramp(["submit", box.plan("f"), "--now", t(0)])
        let run = box.ramp(["run", "--now", t(0), "--interval", "1m", "--until-settled"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.lines.count == 5)
        #expect(run.lines.last?.hasPrefix("\(t(31))  f  complete:") == true, "\(run.stdout)")
    }

    @Test func runStopsCleanlyOnSIGTERM() throws {
        let box = Sandbox()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Sandbox.binary)
        process.arguments = ["run", "--interval", "1h", "--store", box.store]
        box.ramp(["submit", box.plan("f")])
        try process.run()
        // Wait (up to 20 s) for the first tick to have run, then stop it mid-sleep.
        for _ in 0..<200 {
            if box.status("f")["state"] == "progressing" { break }
            usleep(100_000)
        }
        let started = Date()
        process.terminate()
        process.waitUntilExit()
        #expect(process.terminationReason == .exit)
        #expect(process.terminationStatus == 0)
        #expect(Date().timeIntervalSince(started) < 5, "it stops at once, not after its 1h interval")
        #expect(box.status("f")["state"] == "progressing", "the first tick ran before the signal")
    }

    @Test(.enabled(if: Backend.isSQLite, "the demo makes a SQLite store"))
    func theReadmeDemoCompletesOneRolloutRollsBackTheOtherAndReadsOutTheExperiments() {
        let box = Sandbox()
        let demo = box.ramp(["demo", "--store", box.store], useStore: false, cwd: Sandbox.packageRoot)
        #expect(demo.status == 0, "\(demo.stderr)")
        #expect(demo.stdout.contains("checkout-v2  complete: progressing → completed, 100% → 100%"))
        #expect(
            demo.stdout.contains(
                "search-ranker  rollback: progressing → rolled_back, 5% → 0%  (gate error-rate failed: 0.041 > max 0.01)"
            ))
        #expect(demo.stdout.hasSuffix("audit log ok: 20 entries\n"))
        // It notifies a shipped sink (examples/notify/append-jsonl) of every event, and writes both reports.
        let folder = box.dir.standardizedFileURL.path
        #expect(
            demo.stdout.contains(
                "notifications: 18 delivered by examples/notify/append-jsonl to \(folder)/notifications.jsonl\n"))
        let sent = ((try? String(contentsOfFile: "\(folder)/notifications.jsonl", encoding: .utf8)) ?? "")
            .split(separator: "\n").compactMap { try? JSONParser.parse(String($0)) }
        let seqs = box.ramp(["audit", "log", "--json"]).json.filter { $0["flag"]?.stringValue != "*" }
            .compactMap { $0["seq"]?.numberValue }
        #expect(sent.compactMap { $0["audit_seq"]?.numberValue } == seqs)
        for flag in ["checkout-v2", "search-ranker"] {
            #expect(demo.stdout.contains("report: \(folder)/\(flag).html\n"))
            let page = (try? String(contentsOfFile: "\(folder)/\(flag).html", encoding: .utf8)) ?? ""
            #expect(page.hasPrefix("<!DOCTYPE html>") && page.contains("<section class=\"rollout\""))
        }
        // The README shows this run line for line — the experiment's and the bandit's readouts included — but
        // for its times and the store's folder.
        func normalized(_ text: String) -> [String] {
            text.replacing(/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z/, with: "TIME")
                .replacing(/\/[^ ]*\/(ramp\.db|notifications\.jsonl|[a-z0-9-]+\.html)/) { "DIR/\($0.output.1)" }
                .split(separator: "\n").map(String.init)
        }
        let readme =
            (try? String(contentsOf: Sandbox.packageRoot.appendingPathComponent("README.md"), encoding: .utf8)) ?? ""
        let block = readme.components(separatedBy: "```text\nstore: ").dropFirst().first?
            .components(separatedBy: "\n```").first
        #expect(block.map { normalized("store: " + $0) } == normalized(demo.stdout))
        #expect(demo.stdout.contains("  decision: ship short — short improves purchase"))
        #expect(demo.stdout.contains("  decision: ship v2 — v2 improves click"))
    }

    @Test func theAuditLogFiltersByFlagAndTimeAndEachEntryLinksToThePrevious() throws {
        let box = Sandbox()
        box.ramp(["submit", box.plan("a"), "--now", t(0), "--actor", "alice", "--reason", "ticket OPS-1"])
        box.ramp(["submit", box.plan("b"), "--now", t(5)])
        box.ramp(["tick", "--now", t(10)])
        let all = box.ramp(["audit", "log", "--json"]).json
        #expect(all.map { $0["seq"]?.numberValue ?? 0 } == [1, 2, 3, 4])
        #expect(all[0]["prev_hash"]?.stringValue == String(repeating: "0", count: 64))
        for (previous, entry) in zip(all, all.dropFirst()) { #expect(entry["prev_hash"] == previous["hash"]) }
        #expect(all[0]["actor"] == "alice")
        #expect(all[0]["reason"] == "ticket OPS-1")
        #expect(all[0]["plan_digest"]?.stringValue?.count == 64)
        #expect(box.ramp(["audit", "log", "--json", "--flag", "b"]).json.map { $0["event"] } == ["submit", "start"])
        let since = box.ramp(["audit", "log", "--json", "--since", t(5)]).json
        #expect(since.map { $0["flag"] } == ["b", "a", "b"])
        let recent = box.ramp(["audit", "log", "--json", "--since", "1m", "--now", t(10)]).json
        #expect(recent.map { $0["event"] } == ["start", "start"])
        let text = box.ramp(["audit", "log", "--flag", "a"])
        // The declared actor, and beside it the operating-system user and host that really wrote the entry.
        let writer = "\(String(cString: getpwuid(geteuid()).pointee.pw_name))@\(ProcessInfo.processInfo.hostName)"
        #expect(text.lines.first == "#1 alice (\(writer))  \(t(0))  a  submit: – → pending, 0% → 0%  (ticket OPS-1)")
        #expect(all[0]["os_user"]?.stringValue == String(cString: getpwuid(geteuid()).pointee.pw_name))
        #expect(all[0]["host"]?.stringValue == ProcessInfo.processInfo.hostName)
        #expect(text.lines.last == "    evidence: errors=0.002 ≤ 0.01 pass; latency=120 ≤ 300 pass")
        #expect(box.ramp(["audit", "log", "--flag", "zzz"]).status == 4)
    }
}
