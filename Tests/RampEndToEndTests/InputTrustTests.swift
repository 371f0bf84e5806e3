import Foundation
import RampCore
import Testing

/// A JSON server whose answer a test sets: `status.txt` and `body.txt` in its folder, read on every request.
final class ScriptedServer {
    let port = PrometheusServer.freePort()
    let dir: URL
    private let process = Process()

    static let script = #"""
        import http.server, os, sys
        folder = sys.argv[2]
        def read(name, default):
            try:
                with open(os.path.join(folder, name), "rb") as f: return f.read()
            except OSError: return default
        class H(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(int(read("status.txt", b"200")))
                self.send_header("Content-Type", "application/json"); self.end_headers()
                self.wfile.write(read("body.txt", b"{}"))
            def log_message(self, *a): pass
        http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
        """#

    init(in dir: URL) {
        self.dir = dir
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", Self.script, String(port), dir.path]
        try? process.run()
        for _ in 0..<100 {
            if PrometheusServer.get("http://127.0.0.1:\(port)/") != nil { break }
            usleep(50_000)
        }
    }

    var url: String { "http://127.0.0.1:\(port)" }

    func answer(_ status: Int, _ body: String) {
        try? Data(String(status).utf8).write(to: dir.appendingPathComponent("status.txt"))
        try? Data(body.utf8).write(to: dir.appendingPathComponent("body.txt"))
    }

    deinit {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
}

/// Inputs no real arm can have, numbers in other spellings, and secrets in what sources send back: none of them
/// ever starts or promotes a rollout, and no secret, whole or in part, reaches the store or the output.
@Suite struct InputTrustTests {
    static let token = "tok-ABCDEFG-123456-zyxwvu"

    static func statisticalPlan(_ box: Sandbox, url: String, metric: String, inputs: [String]) -> String {
        let pointers = inputs.map { #""\#($0)": "/\#($0)/{{variant}}""# }.joined(separator: ", ")
        box.write(
            "s.json",
            """
            {"flag": "f", "variants": {"on": 1, "off": 0}, "canary": "on", "baseline": "off",
             "steps": [{"percent": 10}, {"percent": 50}, {"percent": 100}],
             "sources": {"s": {"type": "http", "url": "\(url)"}},
             "gates": [{"name": "g", "kind": "statistical", "source": "s", "test": "\(metric == "mean" ? "welch" : "z")", "metric": "\(metric)",
                        "min_samples": 5, "expected_samples": 5, "inputs": {\(pointers)}}]}
            """)
        return box.dir.appendingPathComponent("s.json").path
    }

    /// Each case: the metric, its inputs per arm (canary `on`, baseline `off`), and what the error says.
    static let impossible: [(String, String, String)] = [
        (
            "proportion", #"{"count": {"on": -1000, "off": 10}, "total": {"on": 5000, "off": 5000}}"#,
            "count -1000 is negative"
        ),
        (
            "proportion", #"{"count": {"on": 9000, "off": 10}, "total": {"on": 5000, "off": 5000}}"#,
            "count 9000 is more than total 5000"
        ),
        (
            "mean",
            #"{"count": {"on": 5000, "off": 5000}, "mean": {"on": 12, "off": 10}, "variance": {"on": -100, "off": 1}}"#,
            "variance -100 is negative"
        ),
        (
            "mean",
            #"{"count": {"on": 5000, "off": 5000}, "sum": {"on": 5e200, "off": 50000}, "sum_squares": {"on": 1e308, "off": 600000}}"#,
            "an input is not a finite number"
        ),
    ]

    @Test(arguments: 0..<impossible.count)
    func impossibleStatisticalInputsAreAnErrorNeverAVerdict(index: Int) throws {
        let (metric, body, said) = Self.impossible[index]
        let box = Sandbox()
        let server = ScriptedServer(in: box.dir)
        server.answer(200, body)
        let inputs = try #require(try JSONParser.parse(body).objectValue).keys.sorted()
        #expect(
            box.ramp([
                "submit", Self.statisticalPlan(box, url: server.url, metric: metric, inputs: inputs), "--now", t(0),
            ]).status == 0
        )
        for minute: Int64 in 0...2 { box.ramp(["tick", "--now", t(minute)]) }
        let status = box.status("f", at: t(2))
        #expect(status["state"] == "pending" && status["percent"] == 0, "\(status)")
        let check = status["checks"]?.arrayValue?.first
        #expect(check?["verdict"] == "error", "\(String(describing: check))")
        #expect(check?["message"]?.stringValue?.contains(said) == true, "\(String(describing: check))")
    }

    /// A metric command's output is read as a decimal: hexadecimal and other spellings `Double` takes are errors.
    @Test(arguments: ["0x1p-10", "0x10", "1_000", "inf", "Infinity", " 1e400"])
    func aCommandsNumberInAnotherSpellingIsAnError(output: String) {
        let box = Sandbox()
        box.write("metric.sh", "#!/bin/sh\necho '\(output)'\n", executable: true)
        box.ramp(["submit", box.plan("f"), "--now", t(0)])
        box.ramp(["tick", "--now", t(0)])
        let status = box.status("f", at: t(0))
        #expect(status["state"] == "pending", "\(output): \(status)")
        #expect(status["checks"]?.arrayValue?.allSatisfy { $0["verdict"] == "error" } == true, "\(output): \(status)")
        #expect(box.ramp(["record", "outcome", "m", output, "--variant", "on", "--flag", "f"]).status == 2)
    }

    /// Every configured secret, whole or cut, stays out of the store and every output.
    static func expectNoSecret(_ box: Sandbox, _ outputs: [Ran], _ what: String) throws {
        let dump = try box.dump()
        let fragment = String(token.prefix(8))
        for text in [dump] + outputs.map({ $0.stdout + $0.stderr }) {
            #expect(!text.contains(fragment) && !text.contains("unk-QWER"), "\(what): \(text)")
            #expect(!text.contains(#"tok-ABCDEFG\/"#), "\(what): \(text)")
        }
    }

    /// Another source's token, printed bare by a command, or cut by the 200 characters of stderr kept.
    @Test(arguments: [
        #"echo "curl: token $PROM_TOKEN rejected" >&2"#,
        // A credential no source is configured with, found by its pattern: before the cut, not after.
        #"printf "Authorization: Bearer %s %0172d\n" "$UNCONFIGURED" 0 >&2"#,
        #"printf "%0190d token=%s\n" 0 "$PROM_TOKEN" >&2"#,
    ])
    func aCommandsStderrNeverKeepsASecret(script: String) throws {
        let box = Sandbox()
        box.write("metric.sh", "#!/bin/sh\n\(script)\nexit 1\n", executable: true)
        box.write(
            "p.json",
            """
            {"flag": "f", "variants": {"on": 1, "off": 0}, "canary": "on", "baseline": "off",
             "steps": [{"percent": 5}, {"percent": 100}],
             "sources": {"m": {"type": "command", "command": ["./metric.sh"]},
                         "p": {"type": "prometheus", "url": "http://127.0.0.1:9", "bearer_token_env": "PROM_TOKEN"}},
             "gates": [{"name": "g", "source": "m", "max": 1}]}
            """)
        let env = ["PROM_TOKEN": Self.token, "UNCONFIGURED": "unk-QWERTYU-987654-abc"]
        let submitted = box.ramp(["submit", box.dir.appendingPathComponent("p.json").path, "--now", t(0)], env: env)
        #expect(submitted.status == 0, "\(submitted.stderr)")
        let ticks = (0...1).map { box.ramp(["tick", "--now", t($0)], env: env) }
        let checks = box.status("f", at: t(1))["checks"]?.arrayValue ?? []
        #expect(checks.contains { $0["message"]?.stringValue?.contains("[redacted]") == true }, "\(checks)")
        let shown = ["status", "explain f"].map {
            box.ramp($0.split(separator: " ").map(String.init) + ["--now", t(1)])
        }
        try Self.expectNoSecret(box, ticks + shown, script)
    }

    /// A server's error body, shortened to 200 characters as evidence, and a JSON string's escaping of the token.
    @Test(arguments: [
        String(repeating: "x", count: 179) + " token=" + token,
        #"{"error": "invalid token tok-ABCDEFG\/123456\/zyxwvu"}"#,
        #"{"raw": "tok-ABCDEFG\"123456/zyxwvu"}"#,
    ])
    func aServersBodyNeverKeepsASecret(body: String) throws {
        let box = Sandbox()
        let server = ScriptedServer(in: box.dir)
        server.answer(500, body)
        // The token as configured: in the body it is written as PHP (slash escaped) or Python (quote only) would.
        let token =
            body.contains(#"\/"#)
            ? "tok-ABCDEFG/123456/zyxwvu" : body.contains(#"\""#) ? "tok-ABCDEFG\"123456/zyxwvu" : Self.token
        box.write(
            "h.json",
            """
            {"flag": "f", "variants": {"on": 1, "off": 0}, "canary": "on", "baseline": "off",
             "steps": [{"percent": 10}, {"percent": 100}],
             "sources": {"s": {"type": "http", "url": "\(server.url)/stats", "bearer_token_env": "TOKEN"}},
             "gates": [{"name": "g", "source": "s", "pointer": "/v", "max": 1}]}
            """)
        let env = ["TOKEN": token]
        box.ramp(["submit", box.dir.appendingPathComponent("h.json").path, "--now", t(0)], env: env)
        let tick = box.ramp(["tick", "--now", t(0)], env: env)
        let check = box.status("f", at: t(0))["checks"]?.arrayValue?.first
        #expect(check?["verdict"] == "error", "\(String(describing: check))")
        try Self.expectNoSecret(box, [tick], body)
    }

    /// What a plan cannot mean, refused before it is stored, with the field named.
    @Test(arguments: [
        (
            #""sources": {"s": {"type": "http", "url": "http://alice:pw-12345@127.0.0.1:9/x"}}, "gates": [{"name": "g", "source": "s", "pointer": "/v", "max": 1}]"#,
            "sources.s.url: a user or password in the URL would be written into the plan"
        ),
        (
            #""steps": [{"percent": 100}], "sources": {"s": {"type": "command", "command": ["/bin/echo", "{{variant}}"]}}, "gates": [{"name": "g", "kind": "relative", "source": "s", "max_ratio": 1.2}]"#,
            "gates[0]: a relative gate would never be checked: the first step is 100%"
        ),
        (#""interval": "2d""#, "interval: 2d is longer than the maximum 1d"),
        (
            #""sources": {"p": {"type": "prometheus", "url": "http://127.0.0.1:9/x?tenant=a"}}, "gates": [{"name": "g", "source": "p", "query": "up", "max": 1}]"#,
            "sources.p.url: a prometheus url is the server's base URL"
        ),
        (
            #""sources": {"p": {"type": "http", "url": "http://127.0.0.1:9/x", "headers": {"X-A": "a\r\nInjected: 1"}}}, "gates": [{"name": "g", "source": "p", "pointer": "/v", "max": 1}]"#,
            "sources.p.headers.X-A: the value has a control character"
        ),
        (
            #""sources": {"p": {"type": "http", "url": "http://127.0.0.1:9/x", "headers": {"X B": "1"}}}, "gates": [{"name": "g", "source": "p", "pointer": "/v", "max": 1}]"#,
            #"is not an HTTP header name"#
        ),
        (
            #""sources": {"p": {"type": "http", "url": "http://127.0.0.1:9/x", "headers": {"Proxy-Authorization": "Basic x"}}}, "gates": [{"name": "g", "source": "p", "pointer": "/v", "max": 1}]"#,
            "put credentials in bearer_token_env"
        ),
        (#""steps": [{"percnt": 5}]"#, #"steps[0].percnt: unknown field (did you mean "percent"?)"#),
        (#""rules": [{"wen": {"==": [1, 1]}, "variant": "on"}]"#, #"did you mean "when"?"#),
    ])
    func aPlanThatCannotMeanWhatItSaysIsRefused(fields: String, said: String) {
        let box = Sandbox()
        var members = [
            #""flag": "f""#, #""variants": {"on": 1, "off": 0}"#, #""canary": "on""#, #""baseline": "off""#,
        ]
        if !fields.contains(#""steps""#) { members.append(#""steps": [{"percent": 5}, {"percent": 100}]"#) }
        members.append(fields)
        box.write("bad.json", "{" + members.joined(separator: ", ") + "}")
        let ran = box.ramp(["plan", "validate", box.dir.appendingPathComponent("bad.json").path])
        #expect(ran.status == 3, "\(ran.stdout)\(ran.stderr)")
        #expect((ran.stdout + ran.stderr).contains(said), "\(ran.stdout)\(ran.stderr)")
    }

    /// Lines after one that carries a credential are kept: the credential's value ends at its own line.
    @Test func aCredentialInOneStderrLineLeavesTheOthers() {
        let box = Sandbox()
        box.write(
            "metric.sh", "#!/bin/sh\necho 'line 1 Authorization: Bearer abc123456' >&2\necho 'line 2 ok' >&2\nexit 3\n",
            executable: true)
        box.ramp(["submit", box.plan("f"), "--now", t(0)])
        box.ramp(["tick", "--now", t(0)])
        let message = box.status("f", at: t(0))["checks"]?.arrayValue?.first?["message"]?.stringValue ?? ""
        #expect(message.hasSuffix("exit status 3: line 1 Authorization: [redacted] | line 2 ok"), "\(message)")
    }

    @Test func aDirectoryAsACommandIsWarnedAbout() throws {
        let box = Sandbox()
        try FileManager.default.createDirectory(
            at: box.dir.appendingPathComponent("sub"), withIntermediateDirectories: true)
        box.write(
            "d.json",
            #"{"flag": "f", "variants": {"on": 1, "off": 0}, "canary": "on", "baseline": "off", "steps": [{"percent": 5}], "sources": {"s": {"type": "command", "command": ["./sub"]}}, "gates": [{"name": "g", "source": "s", "max": 1}]}"#
        )
        let ran = box.ramp(["plan", "validate", box.dir.appendingPathComponent("d.json").path])
        #expect(ran.status == 0)
        #expect(
            ran.stdout.contains("command \(box.dir.appendingPathComponent("sub").path) is a directory"), "\(ran.stdout)"
        )
    }
}
