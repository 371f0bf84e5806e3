import Foundation
import RampCore
import Testing

/// The built `ramp` against a real Prometheus. The history (see `PrometheusServer.history`) holds a healthy
/// canary (`checkout`), one whose error rate jumps an hour in (`payments`), a slower one (`latency`) and one
/// with no traffic (`idle`).
@Suite(.serialized) struct PrometheusEndToEndTests {
    static let errorRate =
        #"sum(rate(app_errors_total{flag=\"{{flag}}\",variant=\"{{variant}}\"}[2m])) / sum(rate(app_requests_total{flag=\"{{flag}}\",variant=\"{{variant}}\"}[2m]))"#

    /// A plan reading `flag`'s series in Prometheus.
    func plan(
        _ box: Sandbox, flag: String, prometheus: String, gates: String? = nil, on: String = "",
        steps: String = #"[{"percent": 1, "bake": "10m"}, {"percent": 5, "bake": "10m"}, {"percent": 100}]"#
    ) -> String {
        box.write(
            "\(flag).json",
            """
            {
              "flag": "\(flag)", "variants": {"on": true, "off": false}, "canary": "on", "baseline": "off",
              "steps": \(steps),
              "sources": {"prom": {"type": "prometheus", "url": "\(prometheus)", "timeout": "5s"}},
              "gates": \(gates ?? #"[{"name": "error-rate", "source": "prom", "query": "\#(Self.errorRate)", "max": 0.05}]"#)\(on),
              "interval": "1m"
            }
            """)
        return box.dir.appendingPathComponent("\(flag).json").path
    }

    /// Ticks once a minute from `from` to `to` (minutes after the history's base).
    func tick(_ box: Sandbox, from: Int64, to: Int64, until stop: (JSONValue) -> Bool = { _ in false }) -> Int64? {
        for minute in from...to {
            let ran = box.ramp(["tick", "--now", PrometheusServer.at(minute)])
            #expect(ran.status == 0, "\(ran.stderr)")
            if stop(box.status(flagOf(box), at: PrometheusServer.at(minute))) { return minute }
        }
        return nil
    }

    func flagOf(_ box: Sandbox) -> String {
        box.ramp(["status", "--json"]).json.first?["flag"]?.stringValue ?? ""
    }

    @Test func aHealthyCanaryAdvancesThroughItsSteps() throws {
        let prometheus = try PrometheusServer()
        let box = Sandbox()
        #expect(
            box.ramp([
                "submit", plan(box, flag: "checkout", prometheus: prometheus.url), "--now", PrometheusServer.at(5),
            ]).status == 0)
        _ = tick(box, from: 5, to: 30)
        #expect(box.status("checkout")["state"] == "completed")
        #expect(box.events() == ["submit", "start", "advance", "advance", "complete"])
        let advance = try #require(box.ramp(["audit", "log", "--json"]).json.first { $0["event"] == "advance" })
        let check = try #require(advance["evidence"]?["checks"]?.arrayValue?.first)
        #expect(check["verdict"] == "pass")
        #expect(abs((check["value"]?.numberValue ?? 0) - 0.01) < 0.001, "1% errors: \(check)")
        #expect(check["query"]?.stringValue?.contains(#"flag="checkout",variant="on""#) == true, "templates filled in")
    }

    @Test func aJumpInTheErrorRateRollsBackOnTheFirstTickWhoseQuerySeesIt() throws {
        let prometheus = try PrometheusServer()
        let box = Sandbox()
        let steps = #"[{"percent": 1, "bake": "10m"}, {"percent": 5, "bake": "2h"}, {"percent": 100}]"#
        box.ramp([
            "submit", plan(box, flag: "payments", prometheus: prometheus.url, steps: steps), "--now",
            PrometheusServer.at(30),
        ])
        let rolledBackAt = tick(box, from: 30, to: 90) { $0["state"] == "rolled_back" }
        let minute = try #require(rolledBackAt, "the jump at minute 60 must roll the canary back")
        #expect(minute > 60 && minute <= 62, "rolled back at minute \(minute)")
        // Every earlier tick saw a passing error rate; the rollback's evidence is the first failing one.
        let explain = box.ramp(["explain", "payments", "--json", "--now", PrometheusServer.at(minute)]).json.first
        #expect(explain?["gates"]?.arrayValue?.first?["verdict"] == "fail")
        let rollback = try #require(box.ramp(["audit", "log", "--json"]).json.last)
        #expect(rollback["event"] == "rollback")
        #expect(rollback["at"]?.stringValue == PrometheusServer.at(minute))
        let value = try #require(rollback["evidence"]?["checks"]?[0]?["value"]?.numberValue)
        #expect(value > 0.05)
        // A tick given a time before the rollback is refused: time only moves forward.
        let previous = box.ramp(["tick", "--now", PrometheusServer.at(minute - 1)])
        #expect(previous.status == 3)
        #expect(box.events(flag: "payments").filter { $0 == "rollback" }.count == 1)
    }

    @Test func withPrometheusStoppedTheRolloutNeverAdvances() throws {
        let prometheus = try PrometheusServer()
        let box = Sandbox()
        box.ramp(["submit", plan(box, flag: "checkout", prometheus: prometheus.url), "--now", PrometheusServer.at(5)])
        box.ramp(["tick", "--now", PrometheusServer.at(5)])
        prometheus.stop()
        _ = tick(box, from: 6, to: 60)
        let status = box.status("checkout", at: PrometheusServer.at(60))
        #expect(status["state"] == "progressing")
        #expect(status["percent"] == 1)
        #expect(
            status["why"]?.stringValue?.hasPrefix(
                "error-rate: error for 55 checks (prometheus \(prometheus.url): connection refused") == true,
            "\(status)")
        #expect(box.events() == ["submit", "start"])
    }

    @Test(arguments: [
        (
            "empty vector", #"sum(rate(app_errors_total{flag=\"nothing\"}[2m]))"#, "no_data",
            "prometheus: query returned no series"
        ),
        ("NaN from 0/0", Self.errorRate, "no_data", "prometheus: value is NaN (no traffic?)"),
        (
            "several series", #"app_latency_seconds{variant=\"{{variant}}\"}"#, "error",
            "prometheus: query returned 4 series; a gate needs exactly one (aggregate, e.g. sum(...))"
        ),
        ("a query Prometheus refuses", "sum(rate(app_errors_total[2m]", "error", "prometheus: bad_data:"),
    ])
    func checksThatReturnNothingOrFailNeverPromote(name: String, query: String, verdict: String, message: String) throws
    {
        let prometheus = try PrometheusServer()
        let box = Sandbox()
        let gates = #"[{"name": "g", "source": "prom", "query": "\#(query)", "max": 0.05}]"#
        box.ramp([
            "submit", plan(box, flag: "idle", prometheus: prometheus.url, gates: gates), "--now",
            PrometheusServer.at(5),
        ])
        _ = tick(box, from: 5, to: 40)
        let status = box.status("idle", at: PrometheusServer.at(40))
        // No data may start a rollout (at 0% there is no canary traffic); an error never does.
        let started = verdict == "no_data"
        #expect(status["percent"] == (started ? 1 : 0), "\(name): never advances")
        let check = try #require(status["checks"]?.arrayValue?.first)
        #expect(check["verdict"]?.stringValue == verdict)
        #expect(check["message"]?.stringValue?.hasPrefix(message) == true, "\(check)")
        #expect(box.events() == (started ? ["submit", "start"] : ["submit"]))
    }

    @Test func anEmptyResultFollowsTheNoDataPolicy() throws {
        let prometheus = try PrometheusServer()
        let box = Sandbox()
        let gates =
            #"[{"name": "g", "source": "prom", "query": "sum(rate(app_errors_total{flag=\"nothing\"}[2m]))", "max": 0.05}]"#
        let on = #", "on": {"no_data": "rollback"}"#
        box.ramp([
            "submit", plan(box, flag: "idle", prometheus: prometheus.url, gates: gates, on: on), "--now",
            PrometheusServer.at(5),
        ])
        box.ramp(["tick", "--now", PrometheusServer.at(5)])
        box.ramp(["tick", "--now", PrometheusServer.at(6)])
        #expect(box.status("idle")["state"] == "rolled_back")
        #expect(box.events() == ["submit", "start", "rollback"])
    }

    @Test func aRelativeGateComparesCanaryAndBaselineSeriesOfTheSameMetric() throws {
        let prometheus = try PrometheusServer()
        let gates =
            #"[{"name": "latency-vs-baseline", "kind": "relative", "source": "prom", "query": "max(app_latency_seconds{flag=\"{{flag}}\",variant=\"{{variant}}\"})", "max_ratio": 1.2}]"#
        // `latency`: the canary is 50% slower than its baseline; rolled back.
        let slow = Sandbox()
        slow.ramp([
            "submit", plan(slow, flag: "latency", prometheus: prometheus.url, gates: gates), "--now",
            PrometheusServer.at(5),
        ])
        slow.ramp(["tick", "--now", PrometheusServer.at(5)])
        #expect(slow.status("latency")["state"] == "pending", "a failing gate blocks the start")
        #expect(
            slow.status("latency")["why"]
                == "latency-vs-baseline: failed (canary 0.3 vs baseline 0.2: worse by more than allowed (≤ baseline × 1.2))"
        )
        #expect(slow.ramp(["promote", "latency", "--now", PrometheusServer.at(6)]).status == 0)
        slow.ramp(["tick", "--now", PrometheusServer.at(7)])
        #expect(slow.status("latency")["state"] == "rolled_back")
        let evidence = try #require(slow.ramp(["audit", "log", "--json"]).json.last?["evidence"]?["checks"]?[0])
        #expect(evidence["value"] == 0.3)
        #expect(evidence["baseline"] == 0.2)
        #expect(evidence["bound"] == "≤ baseline × 1.2")
        // `checkout`: 0.21 against 0.20 is within 20%; it advances.
        let fine = Sandbox()
        fine.ramp([
            "submit", plan(fine, flag: "checkout", prometheus: prometheus.url, gates: gates), "--now",
            PrometheusServer.at(5),
        ])
        _ = tick(fine, from: 5, to: 30)
        #expect(fine.status("checkout")["state"] == "completed")
    }

    /// An experiment whose metrics are read from a real Prometheus per arm (`{{variant}}` in each input): the
    /// readout's numbers are what Prometheus itself answers for each arm's inputs, its units the primary's count,
    /// and the tick stops the experiment on the slower arm's latency guardrail.
    @Test func anExperimentReadsItsArmsFromPrometheusAndItsGuardrailStopsIt() throws {
        let prometheus = try PrometheusServer()
        let box = Sandbox()
        func q(_ family: String) -> String {
            #"sum(increase(\#(family){flag=\"copy\",variant=\"{{variant}}\"}[1h]))"#
        }
        let latency = #"sum(app_latency_seconds{flag=\"copy\",variant=\"{{variant}}\"})"#
        box.write(
            "copy.json",
            """
            {
              "kind": "experiment", "flag": "copy", "variants": {"a": 1, "b": 2, "c": 3}, "control": "a",
              "sources": {"prom": {"type": "prometheus", "url": "\(prometheus.url)", "timeout": "5s"}},
              "primary": {"metric": "conversion", "type": "proportion", "better": "higher", "mde": 0.1,
                          "source": "prom", "inputs": {"count": "\(q("app_errors_total"))", "total": "\(q("app_requests_total"))"}},
              "guardrails": [{"metric": "latency", "type": "mean", "better": "lower", "margin": 0.1, "source": "prom",
                              "inputs": {"count": "\(q("app_requests_total"))", "mean": "\(latency)",
                                         "variance": "\(latency) * 0 + 0.0004"}}],
              "sample": 1000000, "interval": "10m"
            }
            """)
        let submitted = box.ramp([
            "submit", box.dir.appendingPathComponent("copy.json").path, "--now", PrometheusServer.at(60),
        ])
        try #require(submitted.status == 0, "\(submitted.stderr)")
        let at = PrometheusServer.at(65)
        let report = try #require(box.ramp(["experiment", "report", "copy", "--json", "--now", at]).json.first)
        let arms = try #require(report["arms"]?.arrayValue)
        for arm in arms {
            let name = try #require(arm["variant"]?.stringValue)
            // The query as the plan's JSON holds it, unescaped, for this arm.
            func direct(_ query: String) -> Double? {
                prometheus.value(
                    of: query.replacingOccurrences(of: "{{variant}}", with: name)
                        .replacingOccurrences(of: #"\""#, with: "\""), at: at)
            }
            let total = try #require(direct(q("app_requests_total")))
            let count = try #require(direct(q("app_errors_total")))
            #expect(arm["units"]?.numberValue == total.rounded(), "\(name): units are the primary's count")
            #expect(arm["primary"]?["units"]?.numberValue == total.rounded())
            #expect(arm["primary"]?["sum"]?.numberValue == count)
            #expect(arm["guardrails"]?[0]?["value"]?.numberValue == direct(latency))
        }
        #expect(arms.compactMap { $0["variant"]?.stringValue } == ["a", "b", "c"])
        #expect(abs((arms[1]["primary"]?["lift"]?["estimate"]?.numberValue ?? 0) - 0.6) < 1e-9, "8% over 5%")
        #expect(report["decision"]?["verdict"] == "ship", "\(report)")
        #expect(report["decision"]?["winner"] == "b")
        // The tick reads the same and stops the experiment on c's latency, 50% over a's.
        let tick = box.ramp(["tick", "--now", PrometheusServer.at(70)])
        #expect(
            tick.stdout.contains("copy  experiment_stop: guardrail latency failed: c is shown worse than a"),
            "\(tick.stdout) \(tick.stderr)")
        #expect(box.ramp(["audit", "verify"]).status == 0)
        // A source that cannot be read is said per metric, and decides nothing.
        prometheus.stop()
        let down = try #require(box.ramp(["experiment", "report", "copy", "--json", "--now", at]).json.first)
        #expect(down["arms"]?[1]?["primary"]?["error"]?.stringValue?.isEmpty == false, "\(down)")
    }
}
