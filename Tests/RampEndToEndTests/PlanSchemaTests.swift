import Foundation
import Testing

/// plans/ramp-plan.schema.json, checked by an independent validator (PyPI `jsonschema`, installed by
/// Tests/run-all.sh): it accepts the plans ramp accepts and refuses what ramp refuses wherever a schema can see it.
@Suite struct PlanSchemaTests {
    static let python =
        ProcessInfo.processInfo.environment["RAMP_JSONSCHEMA_PYTHON"]
        ?? Sandbox.packageRoot.appendingPathComponent(".build/python-jsonschema/bin/python").path

    static func check(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = ["Tests/Support/check_plan_schema.py"] + arguments
        process.currentDirectoryURL = Sandbox.packageRoot
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("schema-\(UUID().uuidString)")
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: output) }
        let handle = try FileHandle(forWritingTo: output)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        process.waitUntilExit()
        return (process.terminationStatus, (try? String(contentsOf: output, encoding: .utf8)) ?? "")
    }

    static var installed: Bool {
        guard FileManager.default.isExecutableFile(atPath: python) else {
            Issue.record("no jsonschema at \(python): run Tests/run-all.sh, which installs it")
            return false
        }
        return true
    }

    @Test func theSchemaAcceptsEveryPlanInTheRepositoryAndItsDocs() throws {
        guard Self.installed else { return }
        let ran = try Self.check(["plans/ramp-plan.schema.json", "plans", "examples", "README.md", "docs"])
        #expect(ran.status == 0, "\(ran.output)")
        for seen in [
            "plans/checkout-v2.json", "plans/search-ranker.json", "examples/prometheus/plan.json", "README.md:",
            "docs/targeting.md:",
        ] {
            #expect(ran.output.contains("ok \(seen)"), "\(ran.output)")
        }
    }

    @Test func theSchemaAcceptsThePlansTheTestsUse() throws {
        guard Self.installed else { return }
        let box = Sandbox()
        let written = [
            ("statistics.json", StatisticsEndToEndTests.plan), ("targeting.json", TargetingEndToEndTests.plan),
            (
                "weights.json",
                #"{"flag": "f", "variants": {"on": 1, "off": 0, "x": 2}, "canary": "on", "baseline": "off", "weights": {"off": 5, "on": 1, "x": 2147483641}, "rules": [{"choose": {"if": [{"==": [{"var": "t"}, "g"]}, "x", null]}}, {"when": {"==": [1, 1]}, "variant": "on"}], "steps": [{"percent": 50}]}"#
            ),
        ]
        .map { name, text in
            box.write(name, text)
            return box.dir.appendingPathComponent(name).path
        }
        let paths = [box.plan("f"), box.plan("g", extra: #", "max_hold": {"after": "2h"}"#)] + written
        #expect(box.ramp(["plan", "validate"] + paths, useStore: false).status == 0)
        let ran = try Self.check(["plans/ramp-plan.schema.json"] + paths)
        #expect(ran.status == 0, "\(ran.output)")
    }

    @Test func theSchemaRefusesWhatRampRefusesWhereASchemaCanSeeIt() throws {
        guard Self.installed else { return }
        let box = Sandbox()
        let head =
            #"{"flag": "f", "canary": "on", "baseline": "off", "steps": [{"percent": 50}], "sources": {"e": {"type": "events"}}"#
        let refused = [
            head + #", "intervall": "1m"}"#,
            head + #", "interval": "0s"}"#,
            head + #", "gates": [{"name": "g", "source": "e", "kind": "statistical", "test": "srm", "alpha": 0.7}]}"#,
            head
                + #", "gates": [{"name": "g", "source": "e", "kind": "statistical", "test": "sequential", "metric": "proportion", "query": "error"}]}"#,
            head + #", "gates": [{"name": "g", "source": "e", "kind": "statistical", "test": "srm", "min": 1}]}"#,
            // Names with a control character (C0, DEL, C1, U+2028, U+2029).
            head + #", "gates": [{"name": "g\u0085", "source": "e", "kind": "statistical", "test": "srm"}]}"#,
            #"{"flag": "f", "canary": "on\u2028", "baseline": "off", "steps": [{"percent": 50}]}"#,
            #"{"flag": "f", "canary": "on", "baseline": "off", "variants": {"on": 1, "off": 0, "o\u007f": 2}, "steps": [{"percent": 50}]}"#,
            #"{"flag": "f", "canary": "on", "baseline": "off", "steps": [{"percent": 50}], "sources": {"e\t": {"type": "events"}}}"#,
            // A trailing newline, which Python's `$` would let through.
            #"{"flag": "f\n", "canary": "on", "baseline": "off", "steps": [{"percent": 50}]}"#,
            head + #", "interval": "1m\n"}"#,
            head + #", "notify": [{"name": "n", "type": "webhook", "url_env": "HOOK\n"}]}"#,
            head + #", "notify": [{"name": "n", "type": "webhook", "url": "https://hooks.example/x\n"}]}"#,
            head + #", "notify": [{"name": "n", "type": "command", "command": [""]}]}"#,
            head + #", "notify": [{"name": "n", "type": "command", "command": ["x"], "timeout": "1m1s"}]}"#,
            #"{"flag": "f", "canary": "on", "baseline": "off", "steps": [{"percent": 50}], "sources": {"p": {"type": "prometheus", "url": "http://prom:9090"}}, "gates": [{"name": "g", "source": "p", "kind": "statistical", "test": "srm", "inputs": {"total": "sum(exposures)"}}]}"#,
            head + #", "interval": "2d"}"#,
            // Headers that would forge or fail a request, and a Prometheus URL that is not a base URL.
            #"{"flag": "f", "canary": "on", "baseline": "off", "steps": [{"percent": 50}], "sources": {"p": {"type": "http", "url": "http://h/x", "headers": {"X-A": "a\r\nB: 1"}}}, "gates": [{"name": "g", "source": "p", "pointer": "/v", "max": 1}]}"#,
            #"{"flag": "f", "canary": "on", "baseline": "off", "steps": [{"percent": 50}], "sources": {"p": {"type": "http", "url": "http://h/x", "headers": {"Proxy-Authorization": "x"}}}, "gates": [{"name": "g", "source": "p", "pointer": "/v", "max": 1}]}"#,
            #"{"flag": "f", "canary": "on", "baseline": "off", "steps": [{"percent": 50}], "sources": {"p": {"type": "prometheus", "url": "http://h:9090/x?t=a"}}, "gates": [{"name": "g", "source": "p", "query": "up", "max": 1}]}"#,
            // A webhook URL without a host.
            head + #", "notify": [{"name": "n", "type": "webhook", "url": "https://"}]}"#,
            head + #", "notify": [{"name": "n", "type": "webhook", "url": "https:///h"}]}"#,
            #"{"flag": "f", "canary": "on", "baseline": "off", "steps": [{"percent": 50}], "sources": {"p": {"type": "prometheus", "url": "https://user:pw@prom:9090"}}, "gates": [{"name": "g", "source": "p", "query": "up", "max": 1}]}"#,
            #"{"flag": "f", "canary": "on", "baseline": "off", "steps": [{"percent": 100}], "sources": {"e": {"type": "events"}}, "gates": [{"name": "g", "source": "e", "kind": "statistical", "test": "srm"}]}"#,
            // Weights that are no whole number from 0 to 2^31 − 1, and rules that both choose and name a variant.
            #"{"flag": "f", "canary": "on", "baseline": "off", "steps": [{"percent": 50}], "weights": {"on": 1.5}}"#,
            #"{"flag": "f", "canary": "on", "baseline": "off", "steps": [{"percent": 50}], "weights": {"on": -1}}"#,
            #"{"flag": "f", "canary": "on", "baseline": "off", "steps": [{"percent": 50}], "weights": {"on": 2147483648}}"#,
            #"{"flag": "f", "canary": "on", "baseline": "off", "steps": [{"percent": 50}], "rules": [{"choose": "on", "variant": "on"}]}"#,
            #"{"flag": "f", "canary": "on", "baseline": "off", "steps": [{"percent": 50}], "rules": [{"when": true}]}"#,
            // Experiment and bandit plans: fields of the other kind, one arm, an unknown type, a null variant, a
            // layer range out of bounds, a floor of half or more.
            #"{"kind": "bandit", "flag": "f", "variants": {"a": 1, "b": 2}, "control": "a", "weights": {"a": 1, "b": 1}, "primary": {"metric": "m", "type": "proportion", "better": "higher"}, "sample": 100}"#,
            #"{"kind": "experiment", "flag": "f", "variants": {"a": 1, "b": 2}, "control": "a", "burn_in": 10, "primary": {"metric": "m", "type": "proportion", "better": "higher"}, "sample": 100}"#,
            #"{"kind": "experiment", "flag": "f", "variants": {"a": 1}, "control": "a", "primary": {"metric": "m", "type": "proportion", "better": "higher"}, "sample": 100}"#,
            #"{"kind": "experiment", "flag": "f", "variants": {"a": 1, "b": 2}, "control": "a", "primary": {"metric": "m", "type": "median", "better": "higher"}, "sample": 100}"#,
            #"{"kind": "experiment", "flag": "f", "variants": {"a": 1, "b": null}, "control": "a", "primary": {"metric": "m", "type": "mean", "better": "higher"}, "sample": 100}"#,
            #"{"kind": "experiment", "flag": "f", "variants": {"a": 1, "b": 2}, "control": "a", "primary": {"metric": "m", "type": "mean", "better": "higher"}, "sample": 100, "layer": {"name": "l", "range": [0, 10001]}}"#,
            #"{"kind": "bandit", "flag": "f", "variants": {"a": 1, "b": 2}, "control": "a", "primary": {"metric": "m", "type": "mean", "better": "higher"}, "sample": 100, "floor": 0.5}"#,
        ]
        let paths = refused.enumerated().map { i, text in
            box.write("bad-\(i).json", text)
            return box.dir.appendingPathComponent("bad-\(i).json").path
        }
        for path in paths { #expect(box.ramp(["plan", "validate", path], useStore: false).status == 3, "\(path)") }
        let ran = try Self.check(["--expect-invalid", "plans/ramp-plan.schema.json"] + paths)
        #expect(ran.status == 0, "\(ran.output)")
    }
}
