import Foundation
import RampCore
import RampStore
import Testing

/// Gate policies through the built binary, with command sources the tests steer.
@Suite struct PolicyEndToEndTests {
    func submit(_ box: Sandbox, gates: String, extra: String = "") {
        box.write(
            "p.json",
            """
            {"flag": "f", "variants": {"on": 1, "off": 0}, "canary": "on", "baseline": "off",
             "steps": [{"percent": 1, "bake": "5m"}, {"percent": 100}],
             "sources": {"m": {"type": "command", "command": ["./metric.sh"]}},
             "gates": \(gates)\(extra)}
            """)
        #expect(box.ramp(["submit", box.dir.appendingPathComponent("p.json").path, "--now", t(0)]).status == 0)
        box.ramp(["tick", "--now", t(0)])
    }

    @Test func aFailureLimitRollsBackOnlyAfterThatManyFailuresInARow() {
        let box = Sandbox()
        submit(box, gates: #"[{"name": "errors", "source": "m", "max": 0.01, "failure_limit": 3}]"#)
        box.setMetric("errors", "0.5")
        box.ramp(["tick", "--now", t(1)])
        box.ramp(["tick", "--now", t(2)])
        #expect(box.status("f")["why"] == "errors: failed for 2 checks, 2 of 3 allowed (0.5 > max 0.01)")
        box.setMetric("errors", "0.001")
        box.ramp(["tick", "--now", t(3)])  // a pass breaks the run
        box.setMetric("errors", "0.5")
        box.ramp(["tick", "--now", t(4)])
        box.ramp(["tick", "--now", t(5)])
        #expect(box.status("f")["state"] == "progressing")
        let third = box.ramp(["tick", "--now", t(6)])
        #expect(
            third.stdout.contains(
                "rollback: progressing → rolled_back, 1% → 0%  (gate errors failed for 3 checks: 0.5 > max 0.01)"))
    }

    @Test func aShadowGateIsRecordedButNeverActs() throws {
        let box = Sandbox()
        submit(
            box,
            gates:
                #"[{"name": "errors", "source": "m", "max": 0.01}, {"name": "latency", "source": "m", "max": 300, "shadow": true}]"#
        )
        box.setMetric("latency", "900")
        box.ramp(["tick", "--now", t(5)])
        box.ramp(["tick", "--now", t(6)])
        #expect(box.status("f")["state"] == "completed")
        let evidence = try #require(box.ramp(["audit", "log", "--json"]).json.last?["evidence"]?["checks"]?.arrayValue)
        let shadow = try #require(evidence.first { $0["gate"] == "latency" })
        #expect(shadow["verdict"] == "fail")
        #expect(shadow["message"] == "900 > max 300")
        #expect(shadow["shadow"] == true)
        let explain = box.ramp(["explain", "f"])
        #expect(explain.stdout.contains("gate latency (shadow: recorded, never acts): failed for 2 checks"))
    }

    @Test func maxHoldPausesAStepThatNeverGetsData() {
        let box = Sandbox()
        submit(
            box, gates: #"[{"name": "errors", "source": "m", "max": 0.01}]"#, extra: #", "max_hold": {"after": "30m"}"#)
        box.write("value-errors.txt", "")
        for minute: Int64 in 1...29 { box.ramp(["tick", "--now", t(minute)]) }
        #expect(box.status("f")["state"] == "progressing")
        let held = box.ramp(["tick", "--now", t(30)])
        #expect(
            held.stdout.contains(
                "pause: progressing → paused, 1% → 1%  (step 1 held 30m without advancing (max_hold 30m): errors: no data for 30 checks"
            ))
        #expect(
            box.status("f")["why"]?.stringValue?.hasPrefix("paused (ramp resume f); errors: no data for 30 checks")
                == true)
    }

    @Test func gateChecksAreKeptForTheRetentionPeriodOnly() throws {
        let box = Sandbox()
        submit(
            box,
            gates: #"[{"name": "errors", "source": "m", "max": 0.01}, {"name": "latency", "source": "m", "max": 300}]"#)
        for minute: Int64 in 1...4 { box.ramp(["tick", "--now", t(minute)]) }
        #expect(try Store(path: box.store, create: false).checkCount() == 10)
        box.ramp(["tick", "--now", t(5), "--check-retention", "2m"])
        // Checks from minutes 3, 4 and 5 remain; the audit log still holds the checks behind each transition.
        #expect(try Store(path: box.store, create: false).checkCount() == 6)
        #expect(box.ramp(["audit", "log", "--json"]).json[1]["evidence"]?["checks"]?.arrayValue?.count == 2)
        #expect(box.ramp(["tick", "--check-retention", "soon"]).status == 3)
    }

    @Test func everyShippedPlanValidates() {
        let box = Sandbox()
        let root = Sandbox.packageRoot
        let plans = ["plans/checkout-v2.json", "plans/search-ranker.json", "examples/prometheus/plan.json"]
        let ran = box.ramp(["plan", "validate"] + plans, useStore: false, cwd: root)
        #expect(ran.status == 0, "\(ran.stderr)")
        #expect(ran.lines.count == 3)
    }
}
