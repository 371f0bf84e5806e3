import Foundation
import RampCore
import Testing

/// A JSON server in Python on 127.0.0.1: answers /stats?variant=V with per-variant numbers, only with the
/// right bearer token.
final class JSONServer {
    let port = PrometheusServer.freePort()
    private let process = Process()

    static let script = #"""
        import http.server, json, sys, urllib.parse
        class H(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                sent = self.headers.get("Authorization")
                if sent != "Bearer s3cret":
                    # Like some real upstreams, the refusal quotes the header it was sent.
                    self.send_response(401); self.end_headers()
                    self.wfile.write(("no token; you sent Authorization: %s" % sent).encode()); return
                q = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)
                v = q.get("variant", ["?"])[0]
                body = {"stats": {"error_rate": 0.002 if v == "on" else 0.001, "rps": None if v == "none" else 100,
                                  "errors": 40 if v == "on" else 10, "requests": 2000}}
                data = json.dumps(body).encode()
                self.send_response(200); self.send_header("Content-Type", "application/json"); self.end_headers()
                self.wfile.write(data)
            def log_message(self, *a): pass
        http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
        """#

    init() throws {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", Self.script, String(port)]
        try process.run()
        for _ in 0..<100 {
            if PrometheusServer.get("http://127.0.0.1:\(port)/") != nil { break }
            usleep(50_000)
        }
    }

    deinit {
        // SIGKILL: the test runner blocks SIGTERM in its threads, and Foundation's Process hands that mask on.
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
}

@Suite struct SourcesEndToEndTests {
    /// Submits a 10% → 100% plan for flag `h` whose gates read an http source at `url`, token from STATS_TOKEN.
    func submitHTTPPlan(_ box: Sandbox, url: String, gates: String) {
        box.write(
            "http.json",
            """
            {"flag": "h", "variants": {"on": 1, "off": 0}, "canary": "on", "baseline": "off",
             "steps": [{"percent": 10}, {"percent": 100}],
             "sources": {"stats": {"type": "http", "url": "\(url)", "bearer_token_env": "STATS_TOKEN", "timeout": "2s"}},
             "gates": \(gates)}
            """)
        #expect(box.ramp(["submit", box.dir.appendingPathComponent("http.json").path, "--now", t(0)]).status == 0)
    }

    @Test func anHTTPSourceReadsANumberByPointerWithATokenFromTheEnvironmentAndStoresNoSecret() throws {
        let server = try JSONServer()
        let box = Sandbox()
        submitHTTPPlan(
            box, url: "http://127.0.0.1:\(server.port)/stats?variant={{variant}}",
            gates: #"""
                [{"name": "errors", "source": "stats", "pointer": "/stats/error_rate", "max": 0.01},
                 {"name": "errors-vs-baseline", "kind": "relative", "source": "stats", "pointer": "/stats/error_rate",
                  "max_delta": 0.005}]
                """#)
        let noToken = box.ramp(["tick", "--now", t(0)])
        #expect(noToken.status == 0)
        #expect(
            box.status("h")["why"]?.stringValue?.contains("bearer token: environment variable STATS_TOKEN is not set")
                == true)
        let env = ["STATS_TOKEN": "s3cret"]
        box.ramp(["tick", "--now", t(1)], env: env)
        box.ramp(["tick", "--now", t(2)], env: env)
        box.ramp(["tick", "--now", t(3)], env: env)
        #expect(box.status("h")["state"] == "completed")
        let log = box.ramp(["audit", "log", "--json"]).json
        let advance = try #require(log.first { $0["event"] == "advance" }?["evidence"]?["checks"]?.arrayValue)
        #expect(advance.map { $0["value"] } == [0.002, 0.002])
        #expect(advance[1]["baseline"] == 0.001)
        // At 100% no one gets the baseline: the relative gate is not checked there, the threshold gate is.
        let complete = try #require(log.last?["evidence"]?["checks"]?.arrayValue)
        #expect(log.last?["event"] == "complete")
        #expect(complete.map { $0["gate"] } == ["errors"])
        #expect(!(try box.dump().contains("s3cret")), "the token is in neither the plan, the store nor the audit log")
    }

    @Test func aStatisticalGateReadsEachInputOncePerArmAndAWorseCanaryNeverStarts() throws {
        let server = try JSONServer()
        let box = Sandbox()
        submitHTTPPlan(
            box, url: "http://127.0.0.1:\(server.port)/stats?variant={{variant}}",
            gates: #"""
                [{"name": "errors", "kind": "statistical", "source": "stats", "test": "sequential",
                  "metric": "proportion", "expected_samples": 2000,
                  "inputs": {"total": "/stats/requests", "count": "/stats/errors"}}]
                """#)
        box.ramp(["tick", "--now", t(0)], env: ["STATS_TOKEN": "s3cret"])
        // The server answers 40 of 2,000 for the canary and 10 of 2,000 for the baseline: a failing gate.
        let status = box.status("h")
        #expect(status["state"] == "pending")
        let check = try #require(status["checks"]?.arrayValue?.first)
        #expect(check["verdict"] == "fail")
        #expect(check["statistics"]?["canary"]?["count"] == 2000 && check["statistics"]?["canary"]?["mean"] == 0.02)
        #expect(check["statistics"]?["baseline"]?["mean"] == 0.005)
        #expect(check["message"]?.stringValue?.hasPrefix("canary rate 2% vs baseline 0.50% (+1.50 pp") == true)
        #expect(status["why"]?.stringValue?.contains("errors: failed (canary rate 2% vs baseline 0.50%") == true)
    }

    @Test func aRefusedTokenAndANullValueNeverPromote() throws {
        let server = try JSONServer()
        let box = Sandbox()
        submitHTTPPlan(
            box, url: "http://127.0.0.1:\(server.port)/stats?variant=none",
            gates: #"""
                [{"name": "rps", "source": "stats", "pointer": "/stats/rps", "min": 1},
                 {"name": "missing", "source": "stats", "pointer": "/stats/p99", "max": 1}]
                """#)
        for minute: Int64 in 0...5 { box.ramp(["tick", "--now", t(minute)], env: ["STATS_TOKEN": "wrong-token-17"]) }
        var checks = box.status("h")["checks"]?.arrayValue ?? []
        #expect(
            checks.first?["message"]?.stringValue?.hasSuffix(
                "/stats?variant=none: HTTP 401: no token; you sent Authorization: [redacted]") == true,
            "\(checks)")
        #expect(!(try box.dump().contains("wrong-token-17")), "an upstream's echo of the token is never stored")
        for minute: Int64 in 6...10 { box.ramp(["tick", "--now", t(minute)], env: ["STATS_TOKEN": "s3cret"]) }
        checks = box.status("h")["checks"]?.arrayValue ?? []
        #expect(checks.map { $0["verdict"] } == ["no_data", "error"])
        #expect(checks.last?["message"]?.stringValue?.hasSuffix(": no value at /stats/p99") == true)
        // A gate in error never lets the rollout start, whatever the other gates say.
        #expect(box.status("h")["percent"] == 0)
        #expect(box.status("h")["state"] == "pending")
    }

    /// Each command source notes when it starts and ends; with concurrency every start comes before any end,
    /// and with --concurrency 1 each starts after the one before it ended.
    @Test(arguments: [8, 1])
    func aTickPollsItsGatesConcurrentlyWithABound(concurrency: Int) throws {
        let box = Sandbox()
        box.write(
            "slow.sh",
            "#!/bin/sh\necho \"start $RAMP_GATE\" >> \"$(dirname \"$0\")/trace\"\nsleep 0.5\necho \"end $RAMP_GATE\" >> \"$(dirname \"$0\")/trace\"\necho 0\n",
            executable: true)
        let gates = (1...5).map { #"{"name": "g\#($0)", "source": "slow", "max": 1}"# }.joined(separator: ", ")
        box.write(
            "p.json",
            #"{"flag": "c", "variants": {"a": 1, "b": 2}, "canary": "b", "baseline": "a", "steps": [{"percent": 50}], "sources": {"slow": {"type": "command", "command": ["./slow.sh"]}}, "gates": [\#(gates)]}"#
        )
        box.ramp(["submit", box.dir.appendingPathComponent("p.json").path, "--now", t(0)])
        #expect(box.ramp(["tick", "--now", t(0), "--concurrency", String(concurrency)]).status == 0)
        let trace = try String(contentsOf: box.dir.appendingPathComponent("trace"), encoding: .utf8)
            .split(separator: "\n").map { $0.split(separator: " ")[0] }
        #expect(trace.count == 10)
        if concurrency > 1 {
            #expect(trace.prefix(5).allSatisfy { $0 == "start" }, "all five ran at once: \(trace)")
        } else {
            #expect(
                trace == Array(repeating: ["start", "end"], count: 5).flatMap { $0 }.map { Substring($0) },
                "one at a time")
        }
    }

    /// A command that outlives its timeout is killed together with everything it started, and is an error.
    @Test func aCommandIsKilledWithItsChildrenAtItsTimeout() throws {
        let box = Sandbox()
        box.write(
            "hang.sh", "#!/bin/sh\nsleep 300 &\necho $! > \"$(dirname \"$0\")/child.pid\"\nwait\n", executable: true)
        box.write(
            "p.json",
            #"{"flag": "k", "variants": {"a": 1, "b": 2}, "canary": "b", "baseline": "a", "steps": [{"percent": 50}], "sources": {"hang": {"type": "command", "command": ["./hang.sh"], "timeout": "1s"}}, "gates": [{"name": "g", "source": "hang", "max": 1}]}"#
        )
        box.ramp(["submit", box.dir.appendingPathComponent("p.json").path, "--now", t(0)])
        #expect(box.ramp(["tick", "--now", t(0)]).status == 0)
        let check = try #require(box.status("k")["checks"]?.arrayValue?.first)
        #expect(check["verdict"] == "error")
        #expect(check["message"] == "command ./hang.sh: killed after its 1s timeout")
        let pidText = try String(contentsOf: box.dir.appendingPathComponent("child.pid"), encoding: .utf8)
        let child = try #require(Int32(pidText.trimmingCharacters(in: .whitespacesAndNewlines)))
        usleep(100_000)
        // Dead means gone, or a zombie waiting for PID 1 to reap it (containers often never do).
        let stat = try? String(contentsOfFile: "/proc/\(child)/stat", encoding: .utf8)
        let state = stat?.split(separator: ")").last?.split(separator: " ").first
        #expect(stat == nil || state == "Z", "the command's child (pid \(child)) was killed too: \(stat ?? "")")
    }
}
