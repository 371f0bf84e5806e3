import Foundation
import RampCore
import Testing

/// Statistical gates over ramp's own events, through `ramp record` and `ramp tick`.
@Suite struct StatisticsEndToEndTests {
    static let plan = """
        {"flag": "checkout", "variants": {"on": "new", "off": "old"}, "canary": "on", "baseline": "off",
         "steps": [{"percent": 50, "bake": "10m"}, {"percent": 100}],
         "sources": {"events": {"type": "events"}},
         "gates": [
           {"name": "errors", "source": "events", "kind": "statistical", "test": "sequential",
            "metric": "proportion", "query": "error", "min_samples": 200, "expected_samples": 1000},
           {"name": "split", "source": "events", "kind": "statistical", "test": "srm", "min_samples": 100}
         ],
         "max_hold": {"after": "2h", "then": "pause"}}
        """

    /// JSON lines: `users` exposures split evenly, and an error outcome for every `canaryEvery`-th canary user and
    /// every `baselineEvery`-th baseline user, all at `time`.
    static func events(users: Range<Int>, canaryEvery: Int, baselineEvery: Int, time: String) -> String {
        users.map { i in
            let variant = i % 2 == 0 ? "on" : "off"
            var lines = [
                #"{"type": "exposure", "flag": "checkout", "variant": "\#(variant)", "key": "u\#(i)", "at": "\#(time)"}"#
            ]
            let every = variant == "on" ? canaryEvery : baselineEvery
            if (i / 2) % every == 0 {
                lines.append(#"{"type": "outcome", "metric": "error", "value": 1, "key": "u\#(i)", "at": "\#(time)"}"#)
            }
            return lines.joined(separator: "\n")
        }.joined(separator: "\n")
    }

    @Test func aCanaryWithFourTimesTheErrorsIsRolledBackWithItsEvidenceAndExplained() throws {
        let box = Sandbox()
        box.write("p.json", Self.plan)
        #expect(box.ramp(["submit", "p.json", "--now", t(0)]).status == 0)
        box.ramp(["tick", "--now", t(0)])
        // 300 users per arm: enough for min_samples, not for a verdict yet.
        var ran = box.ramp(
            ["record", "-"], stdin: Self.events(users: 0..<600, canaryEvery: 25, baselineEvery: 100, time: t(1)))
        #expect(ran.stdout == "recorded 600 exposures, 15 outcomes\n")
        box.ramp(["tick", "--now", t(2)])
        #expect(box.status("checkout", at: t(2))["state"] == "progressing")
        let held = box.status("checkout", at: t(2))["checks"]?.arrayValue?.first
        #expect(held?["verdict"] == "inconclusive")
        // The bake has passed, but an inconclusive gate holds the step.
        box.ramp(["tick", "--now", t(11)])
        #expect(box.status("checkout", at: t(11))["step"] == 1)
        // 4,000 users per arm more: the evidence is now conclusive.
        ran = box.ramp(
            ["record", "-"], stdin: Self.events(users: 600..<8600, canaryEvery: 25, baselineEvery: 100, time: t(12)))
        #expect(ran.status == 0)
        box.ramp(["tick", "--now", t(13)])
        #expect(box.status("checkout", at: t(13))["state"] == "rolled_back")
        let entry = try #require(box.ramp(["audit", "log", "--json", "--flag", "checkout"]).json.last)
        #expect(entry["event"] == "rollback")
        let stats = try #require(entry["evidence"]?["checks"]?.arrayValue?.first?["statistics"])
        #expect(stats["canary"]?["count"] == 4300 && stats["baseline"]?["count"] == 4300)
        #expect(stats["verdict"] == "fail" && stats["test"] == "sequential")
        #expect((stats["p_value"]?.numberValue ?? 1) <= 0.05)
        let explained = box.ramp(["explain", "checkout"]).stdout
        // 172 of 4,300 canary users and 43 of 4,300 baseline users had an error.
        #expect(
            explained.contains(
                "canary rate 4% vs baseline 1% (+3.00 pp, always-valid 95% interval +1.95 pp…+4.05 pp): worse, p 3.7e-17"
            ))
        let kinds = box.ramp(["explain", "checkout", "--json"]).json.first?["gates"]?.arrayValue?.map { $0["kind"] }
        #expect(kinds == ["statistical", "statistical"], "explain --json names the gate kind")
        #expect(box.ramp(["audit", "verify"]).status == 0)
    }

    @Test func equalArmsPassAtThePlannedSampleAndTheRolloutAdvances() {
        let box = Sandbox()
        box.write("p.json", Self.plan)
        box.ramp(["submit", "p.json", "--now", t(0)])
        box.ramp(["tick", "--now", t(0)])
        box.ramp(["record", "-"], stdin: Self.events(users: 0..<2400, canaryEvery: 50, baselineEvery: 50, time: t(1)))
        box.ramp(["tick", "--now", t(11)])
        #expect(box.status("checkout", at: t(11))["step"] == 2)
        #expect(box.events(flag: "checkout") == ["submit", "start", "advance"])
    }

    @Test func aBadEventLineRefusesTheWholeInputAndWritesNothing() throws {
        let box = Sandbox()
        box.write("p.json", Self.plan)
        box.ramp(["submit", "p.json", "--now", t(0)])
        let before = try box.dump()
        let input =
            Self.events(users: 0..<10, canaryEvery: 1, baselineEvery: 1, time: t(1))
            + "\n" + #"{"type": "exposure", "flag": "checkout", "variant": "purple", "key": "u1"}"#
        let ran = box.ramp(["record", "-"], stdin: input)
        #expect(ran.status == 3)
        #expect(ran.stderr == "ramp: standard input line 21: flag \"checkout\" has no variant \"purple\"\n")
        let unknown = box.ramp(["record", "exposure", "nope", "on", "u1"])
        #expect(unknown.status == 4 && unknown.stderr == "ramp: unknown flag \"nope\"\n")
        let malformed = box.ramp(["record", "-"], stdin: "{\"type\": \"outcome\", \"metric\": \"e\"}\n")
        #expect(malformed.stderr == "ramp: standard input line 1: \"value\" is required: a finite number\n")
        #expect(try box.dump() == before)
    }
}
