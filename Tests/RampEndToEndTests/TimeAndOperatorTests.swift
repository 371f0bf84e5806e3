import Foundation
import RampCore
import Testing

/// Simulated time stays in rehearsal stores, times never run backwards through a command, and an operator is never
/// surprised: by a store left behind, a file overwritten, a killed flag that must first serve its canary again.
@Suite struct TimeAndOperatorTests {
    /// The wall clock, and a time `minutes` from it, as `--now` takes them.
    static func fromNow(_ minutes: Int64) -> String {
        Instant(seconds: Int64(Date().timeIntervalSince1970) + minutes * 60).description
    }

    @Test func aSimulatedRunIsRefusedInALiveStore() throws {
        let box = Sandbox()
        box.ramp(["submit", box.plan("f", steps: [(1, "4m", false), (100, "0s", false)]), "--now", Self.fromNow(0)])
        let before = try box.dump()
        let run = box.ramp(["run", "--now", Self.fromNow(0), "--interval", "1m", "--until-settled"])
        #expect(run.status == 3, "\(run.stdout)\(run.stderr)")
        #expect(run.stderr.contains("run --now simulates time, which only a rehearsal store takes"), "\(run.stderr)")
        #expect(try box.dump() == before)
    }

    @Test func anEventDatedInTheFutureIsRefusedInALiveStoreOnly() throws {
        let box = Sandbox()
        box.ramp(["submit", box.plan("f"), "--now", Self.fromNow(0)])
        let before = try box.dump()
        let future = Self.fromNow(60)
        let one = box.ramp(["record", "exposure", "f", "on", "u1", "--at", future])
        #expect(one.status == 3, "\(one.stderr)")
        #expect(one.stderr.contains("ahead of this machine's clock"), "\(one.stderr)")
        let lines = box.ramp(
            ["record", "-"],
            stdin: #"{"type": "exposure", "flag": "f", "variant": "on", "key": "u1", "at": "\#(future)"}"# + "\n")
        #expect(lines.status == 3, "\(lines.stderr)")
        #expect(try box.dump() == before)
        #expect(box.ramp(["record", "exposure", "f", "on", "u1", "--at", Self.fromNow(1)]).status == 0)

        let rehearsal = Sandbox()
        #expect(rehearsal.ramp(["config", "rehearsal", "on"]).status == 0)
        rehearsal.ramp(["submit", rehearsal.plan("f"), "--now", future])
        #expect(rehearsal.ramp(["record", "exposure", "f", "on", "u1", "--at", future, "--now", future]).status == 0)
    }

    @Test func notifyRetryWithATimeBeforeTheLogIsRefused() throws {
        let box = Sandbox()
        box.ramp(["submit", box.plan("f"), "--now", t(10)])
        let before = try box.dump()
        let ran = box.ramp(["notify", "retry", "--now", t(0)])
        #expect(ran.status == 3, "\(ran.stderr)")
        #expect(ran.stderr.contains("audit times never go backwards"), "\(ran.stderr)")
        #expect(try box.dump() == before)
    }

    @Test func aCommandRefusedForAFutureTimeLeavesNoStore() {
        let box = Sandbox()
        for args in [["submit", box.plan("f")], ["config", "bucketing", "cbor"]] {
            let ran = box.ramp(args + ["--now", Self.fromNow(60 * 24 * 365)])
            #expect(ran.status == 3, "\(args): \(ran.stderr)")
            #expect(!box.storeExists(), "\(args) left a store behind")
            #expect(!ran.stderr.contains("created a new store"), "\(ran.stderr)")
        }
    }

    /// A killed or disabled flag that served 100%: releasing the switch by hand would serve it again, so the
    /// refusal says so, and `--restart` starts it over with no one on the canary.
    @Test(arguments: ["kill", "disable"])
    func aKilledOrDisabledFlagStartsOverWithoutServingItsCanaryAgain(switchOn: String) throws {
        let box = Sandbox()
        box.ramp(["submit", box.plan("f", steps: [(100, "0s", false)]), "--now", t(0)])
        box.ramp(["tick", "--now", t(0)])
        box.ramp(["tick", "--now", t(1)])
        #expect(box.status("f", at: t(1))["state"] == "completed")
        #expect(box.ramp([switchOn, "f", "--now", t(2)]).status == 0)
        let before = try box.dump()
        let refused = box.ramp(["submit", box.plan("f"), "--now", t(3)])
        #expect(refused.status == 5)
        let undo = switchOn == "kill" ? "unkill" : "enable"
        #expect(
            refused.stderr.contains("`ramp \(undo) f` would serve its canary to 100% of users again: pass --restart"),
            "\(refused.stderr)")
        #expect(try box.dump() == before)
        let restarted = box.ramp(["submit", box.plan("f"), "--restart", "--now", t(3)])
        #expect(restarted.status == 0, "\(restarted.stderr)")
        let status = box.status("f", at: t(3))
        #expect(status["killed"] == false && status["disabled"] == false && status["percent"] == 0, "\(status)")
        let served = box.ramp(["eval", "f", "--key", "user-1", "--json", "--now", t(3)]).json.first
        #expect(served?["variant"] == "off", "\(String(describing: served))")
        let released = box.ramp(["audit", "log", "--json"]).json.last?["evidence"]?["released"]
        #expect(
            released == [.string(switchOn == "kill" ? "kill switch" : "disabled")], "\(String(describing: released))")
        let verified = box.ramp(["audit", "verify"])
        #expect(verified.status == 0, "\(verified.stderr)")
    }

    @Test func theDemoOverwritesNothingBesideANewStore() throws {
        let box = Sandbox()
        let folder = box.dir.appendingPathComponent("demo")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let notifications = folder.appendingPathComponent("notifications.jsonl")
        try Data("{\"real\": 1}\n".utf8).write(to: notifications)
        let ran = box.ramp(
            ["demo", "--store", folder.appendingPathComponent("new.db").path], useStore: false, cwd: Sandbox.packageRoot
        )
        #expect(ran.status == 5, "\(ran.stdout)\(ran.stderr)")
        #expect(ran.stderr.contains("notifications.jsonl exists"), "\(ran.stderr)")
        #expect(try String(contentsOf: notifications, encoding: .utf8) == "{\"real\": 1}\n")
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("new.db").path))
        // A link that leads nowhere is refused too: writing through it would create its target.
        let link = box.dir.appendingPathComponent("link.db")
        try FileManager.default.createSymbolicLink(
            atPath: link.path, withDestinationPath: box.dir.appendingPathComponent("elsewhere.db").path)
        let linked = box.ramp(["demo", "--store", link.path], useStore: false, cwd: Sandbox.packageRoot)
        #expect(linked.status == 5, "\(linked.stderr)")
        #expect(!FileManager.default.fileExists(atPath: box.dir.appendingPathComponent("elsewhere.db").path))
    }

    @Test func awaitingApprovalSaysWhichMoveWaitsForWhom() {
        let box = Sandbox()
        box.ramp(["submit", box.plan("f", steps: [(1, "0s", true), (100, "0s", false)]), "--now", t(0)])
        box.ramp(["tick", "--now", t(0)])
        let tick = box.ramp(["tick", "--now", t(1)])
        #expect(
            tick.stdout.contains("moving from step 1 (1%) to 100% waits for an operator: ramp approve f"),
            "\(tick.stdout)")
    }

    @Test func statusShowsARolloutWhoseLastCheckLiesAheadAsDueNow() throws {
        let box = Sandbox()
        box.ramp(["submit", box.plan("f"), "--now", t(0)])
        box.ramp(["tick", "--now", t(60)])
        // The clock stepped back an hour: the tick checks at once, and status says so.
        let status = box.status("f", at: t(0))
        #expect(status["next_check"]?.stringValue == t(0), "\(status)")
    }
}
