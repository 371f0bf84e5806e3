import Foundation
import RampCore
import Testing

/// The group-sequential gate through `ramp tick`: its looks carried from tick to tick in the store.
@Suite struct GroupSequentialEndToEndTests {
    static func plan(port: Int) -> String {
        """
        {"flag": "gs", "variants": {"on": 1, "off": 0}, "canary": "on", "baseline": "off",
         "steps": [{"percent": 50, "bake": "1h"}, {"percent": 100}], "interval": "1m",
         "sources": {"stats": {"type": "http", "url": "http://127.0.0.1:\(port)/stats", "timeout": "5s"}},
         "gates": [{"name": "errors", "source": "stats", "kind": "statistical", "test": "group_sequential",
                    "metric": "proportion",
                    "inputs": {"count": "/{{variant}}/errors", "total": "/{{variant}}/requests"},
                    "min_samples": 100, "expected_samples": 2000, "looks": 4}]}
        """
    }

    /// The source's answer: each arm's (errors, requests), or 404 for nil.
    func arms(_ server: ScriptedServer, on: (Int, Int)?, off: (Int, Int)?) {
        guard let on, let off else { return server.answer(404, "{}") }
        server.answer(
            200,
            #"{"on": {"errors": \#(on.0), "requests": \#(on.1)}, "off": {"errors": \#(off.0), "requests": \#(off.1)}}"#)
    }

    func statistics(_ box: Sandbox, at time: String) -> JSONValue? {
        box.status("gs", at: time)["checks"]?.arrayValue?.first?["statistics"]
    }

    /// Looks each quarter of the planned sample; a tick that cannot read its inputs keeps the looks taken (no
    /// fresh start that would spend α again); a doubled error rate fails at the second look, and the audit entry
    /// carries the boundaries and the α spent.
    @Test func looksCarryFromTickToTickAndARegressionRollsBackWithItsBoundary() throws {
        let box = Sandbox()
        let server = ScriptedServer(in: box.dir)
        box.write("gs.json", Self.plan(port: server.port))
        #expect(box.ramp(["submit", "gs.json", "--now", t(0)]).status == 0)
        arms(server, on: (6, 600), off: (6, 600))
        box.ramp(["tick", "--now", t(0)])
        box.ramp(["tick", "--now", t(1)])
        var stats = statistics(box, at: t(1))
        #expect(stats?["looks"] == [600], "\(String(describing: stats))")
        #expect(stats?["spending"] == "obrien_fleming" && stats?["verdict"] == "inconclusive")
        // The source answers 404: an error, and the look at 600 is kept.
        arms(server, on: nil, off: nil)
        box.ramp(["tick", "--now", t(2)])
        #expect(box.status("gs", at: t(2))["checks"]?.arrayValue?.first?["verdict"] == "error")
        arms(server, on: (8, 800), off: (8, 800))
        box.ramp(["tick", "--now", t(3)])
        stats = statistics(box, at: t(3))
        #expect(stats?["looks"] == [600], "no look until 1,100 per arm: \(String(describing: stats))")
        let waiting = box.status("gs", at: t(3))["checks"]?.arrayValue?.first?["message"]?.stringValue ?? ""
        #expect(waiting.contains("next look at 1,100 samples per arm"), "\(waiting)")
        // 3.3% against 1% at 1,200 per arm.
        arms(server, on: (40, 1200), off: (12, 1200))
        box.ramp(["tick", "--now", t(4)])
        #expect(box.status("gs", at: t(4))["state"] == "rolled_back")
        let entry = try #require(box.ramp(["audit", "log", "--json", "--flag", "gs"]).json.last)
        #expect(entry["event"] == "rollback")
        let evidence = try #require(entry["evidence"]?["checks"]?.arrayValue?.first?["statistics"])
        #expect(evidence["looks"] == [600, 1200] && evidence["verdict"] == "fail")
        let boundaries = GroupSequential.boundaries(fractions: [0.3, 0.6], spending: .obrienFleming, alpha: 0.05)
        let recorded = evidence["boundaries"]?.arrayValue?.compactMap(\.numberValue) ?? []
        #expect(recorded.count == 2 && zip(recorded, boundaries).allSatisfy { abs($0 - $1) < 1e-5 }, "\(recorded)")
        #expect(evidence["boundary"]?.numberValue == recorded.last)
        let spent = evidence["alpha_spent"]?.numberValue ?? 0
        #expect(abs(spent - AlphaSpending.obrienFleming.spent(0.6, alpha: 0.05)) < 1e-9)
        let explained = box.ramp(["explain", "gs"]).stdout
        #expect(explained.contains("worse, z 3.926 ≥ boundary 2.281 at look 2"), "\(explained)")
        #expect(explained.contains(" at look 2 at 60% of the planned sample, α spent 0.01140 of 0.05"), "\(explained)")
        #expect(box.ramp(["audit", "verify"]).status == 0)
    }
}

extension GroupSequentialEndToEndTests {
    /// `ramp plan check` plans a group-sequential gate at its inflated maximum and says when it is expected to stop.
    @Test func planCheckPlansTheMaximumAndTheExpectedStop() throws {
        let box = Sandbox()
        box.write("gs.json", Self.plan(port: 9))
        let ran = box.ramp(
            ["plan", "check", "gs.json", "--traffic", "200/s", "--baseline-rate", "1%", "--mde", "20%"],
            useStore: false)
        #expect(ran.status == 0, "\(ran.stderr)")
        let lines = ran.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first?.hasSuffix("group-sequential (O'Brien-Fleming, 4 looks) (gate errors)") == true)
        let design = GroupSequential.design(spending: .obrienFleming, alpha: 0.05, power: 0.8, looks: 4)
        let planner = PowerPlanner(traffic: 200, baselineRate: 0.01, relativeEffect: 0.2)
        let fixed = planner.seconds(share: 0.5, test: PowerPlanner.Test(sequential: false, alpha: 0.05))
        #expect(
            lines.count > 2 && lines[1].contains("needs at most")
                && lines[1].contains(TimeSpan.describing(seconds: fixed * design.maximum)), "\(lines)")
        #expect(
            lines[2]
                == "    expected to stop by \(TimeSpan.describing(seconds: fixed * design.expected)) when the effect is there",
            "\(lines)")
        let json = box.ramp(
            ["plan", "check", "gs.json", "--traffic", "200/s", "--baseline-rate", "1%", "--mde", "20%", "--json"],
            useStore: false
        ).json.first
        #expect(json?["test"] == "group_sequential")
        // A power at or below alpha plans nothing: refused, not answered with a sample.
        let chance = box.ramp(
            [
                "plan", "check", "gs.json", "--traffic", "200/s", "--baseline-rate", "1%", "--mde", "20%", "--power",
                "5%",
            ],
            useStore: false)
        #expect(chance.status == 2 && chance.stdout.isEmpty)
        #expect(chance.stderr.contains("--power 5% must be above the test's alpha 0.05"), "\(chance.stderr)")
        #expect(json?["steps"]?.arrayValue?.first?["expected_seconds"]?.numberValue != nil)
    }
}
