import Foundation
import RampCore
import Testing

/// `Tests/Fixtures/fault_proxy.py` between ramp and a real Prometheus: each mode corrupts the answers one way.
final class FaultProxy {
    let dir: URL
    let port: Int
    let echoPort: Int
    var url: String { "http://127.0.0.1:\(port)" }
    private let process = Process()

    init(upstream: String) throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ramp-fault-\(UUID().uuidString)")
        self.dir = dir
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        func path(_ name: String) -> String { dir.appendingPathComponent(name).path }
        let script = Sandbox.packageRoot.appendingPathComponent("Tests/Fixtures/fault_proxy.py").path
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "python3", script, "--upstream", upstream, "--port-file", path("port"), "--mode-file", path("mode"),
            "--log", path("requests.log"), "--echo-port-file", path("echo-port"), "--echo-log", path("echo.log"),
        ]
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        var found: (Int, Int)?
        for _ in 0..<200 {
            if let text = try? String(contentsOfFile: path("port"), encoding: .utf8), let port = Int(text),
                let echo = Int((try? String(contentsOfFile: path("echo-port"), encoding: .utf8)) ?? "")
            {
                found = (port, echo)
                break
            }
            usleep(50_000)
        }
        guard let found else {
            kill(process.processIdentifier, SIGKILL)
            throw PrometheusServer.PrometheusError.tool("fault_proxy.py did not start")
        }
        (port, echoPort) = found
    }

    func path(_ name: String) -> String { dir.appendingPathComponent(name).path }

    func set(_ mode: String) { try! Data(mode.utf8).write(to: URL(fileURLWithPath: path("mode"))) }

    /// Lines of the request log (each `MODE<TAB>METHOD<TAB>PATH`).
    var requests: [String] {
        ((try? String(contentsOfFile: path("requests.log"), encoding: .utf8)) ?? "").split(separator: "\n").map(
            String.init)
    }

    var echoed: String { (try? String(contentsOfFile: path("echo.log"), encoding: .utf8)) ?? "" }

    deinit {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        try? FileManager.default.removeItem(at: dir)
    }
}

@Suite(.serialized) struct FaultInjectionTests {
    /// Non-numbers in every spelling, and answers that are not answers.
    static let faults: [[String]] = [
        [
            "value:-inf", "value:-Infinity", "value:-1e400", "value:+inf", "value:inf", "value:Inf", "value:+Inf",
            "value:-Inf", "value:1e400", "value:0x10", "value:1_000", "value: 1", "value:１", "value:",
            "value:null", "value:nan", "value-json:-1e400", "value-json:0.01", "value-json:null", "value-json:true",
            "value-json:{\"a\":1}",
        ],
        [
            "series:3", "status:400", "status:404", "status:422", "status:500", "status:503", "status-plain:502",
            "status-plain:200", "garbage", "truncated", "down", "reset", "wrong-type:matrix", "wrong-type:string",
            "no-status", "status:301", "status:204",
        ],
        ["trickle:0.5", "hang"],
    ]

    /// Answers that say "no data" rather than "broken": they may start a rollout (at 0% there is no canary
    /// traffic yet), and never promote one.
    static let noData: Set<String> = ["empty", "value:NaN"]

    /// Three gates over one healthy query (0.01): a max, a min and a relative gate, so that -Inf, +Inf and a
    /// one-sided Inf each meet a bound they would pass if they were numbers.
    static func plan(_ box: Sandbox, prometheus url: String, flag: String) -> String {
        let query = #"label_replace(vector(0.01), \"v\", \"{{variant}}\", \"\", \"\")"#
        box.write(
            "\(flag).json",
            """
            {"flag": "\(flag)", "variants": {"on": 1, "off": 0}, "canary": "on", "baseline": "off",
             "steps": [{"percent": 1}, {"percent": 5}, {"percent": 100}],
             "sources": {"prom": {"type": "prometheus", "url": "\(url)", "timeout": "2s"}},
             "gates": [{"name": "ceiling", "source": "prom", "query": "\(query)", "max": 0.05},
                       {"name": "floor", "source": "prom", "query": "\(query)", "min": 0},
                       {"name": "versus", "kind": "relative", "source": "prom", "query": "\(query)", "max_ratio": 1.5}]}
            """)
        return box.dir.appendingPathComponent("\(flag).json").path
    }

    @Test(arguments: 0..<faults.count)
    func noFaultEverStartsOrPromotesARollout(group: Int) throws {
        let prometheus = try PrometheusServer()
        let proxy = try FaultProxy(upstream: prometheus.url)
        for (i, mode) in Self.faults[group].enumerated() {
            let box = Sandbox()
            // A rollout started on healthy answers (the control) never advances under the fault...
            proxy.set("pass")
            box.ramp([
                "submit", Self.plan(box, prometheus: proxy.url, flag: "started"), "--now", PrometheusServer.at(0),
            ])
            box.ramp(["tick", "--now", PrometheusServer.at(0)])
            #expect(box.status("started", at: PrometheusServer.at(0))["percent"] == 1, "control: \(mode)")
            // ...and a pending one never starts under it.
            proxy.set(mode)
            box.ramp([
                "submit", Self.plan(box, prometheus: proxy.url, flag: "pending"), "--now", PrometheusServer.at(0),
            ])
            for minute: Int64 in 1...3 { box.ramp(["tick", "--now", PrometheusServer.at(minute)]) }
            let pending = box.status("pending", at: PrometheusServer.at(3))
            let started = box.status("started", at: PrometheusServer.at(3))
            #expect(pending["state"] == "pending" && pending["percent"] == 0, "\(mode) started: \(pending)")
            #expect(started["percent"] == 1, "\(mode) promoted: \(started)")
            #expect(started["state"] == "progressing", "\(mode): \(started)")
            let verdicts = Set(started["checks"]?.arrayValue?.compactMap { $0["verdict"]?.stringValue } ?? [])
            #expect(!verdicts.isEmpty && !verdicts.contains("pass"), "\(mode): \(started)")
            #expect(box.events(flag: "started") == ["submit", "start"], "\(mode)")
            #expect(box.ramp(["audit", "verify"]).status == 0)
            _ = i
        }
        // Every request went through the proxy, under the mode it was meant to meet.
        let seen = Set(proxy.requests.map { $0.split(separator: "\t").first.map(String.init) ?? "" })
        #expect(seen.isSuperset(of: Set(Self.faults[group])), "\(seen)")
        #expect(!seen.contains { $0.hasPrefix("invalid:") }, "\(seen)")
    }

    @Test func noDataAnswersMayStartARolloutButNeverPromoteIt() throws {
        let prometheus = try PrometheusServer()
        let proxy = try FaultProxy(upstream: prometheus.url)
        for mode in Self.noData.sorted() {
            let box = Sandbox()
            proxy.set(mode)
            box.ramp(["submit", Self.plan(box, prometheus: proxy.url, flag: "f"), "--now", PrometheusServer.at(0)])
            for minute: Int64 in 0...3 { box.ramp(["tick", "--now", PrometheusServer.at(minute)]) }
            let status = box.status("f", at: PrometheusServer.at(3))
            #expect(status["percent"] == 1, "\(mode): \(status)")
            let verdicts = Set(status["checks"]?.arrayValue?.compactMap { $0["verdict"]?.stringValue } ?? [])
            #expect(verdicts == ["no_data"], "\(mode): \(status)")
        }
    }

    @Test func aTricklingReplyIsCutOffAtTheSourcesTimeout() throws {
        let prometheus = try PrometheusServer()
        let proxy = try FaultProxy(upstream: prometheus.url)
        let box = Sandbox()
        box.ramp(["submit", Self.plan(box, prometheus: proxy.url, flag: "f"), "--now", PrometheusServer.at(0)])
        proxy.set("trickle:0.3")
        box.ramp(["tick", "--now", PrometheusServer.at(0)])
        let checks = box.status("f", at: PrometheusServer.at(0))["checks"]?.arrayValue ?? []
        #expect(checks.count == 3)
        for check in checks {
            #expect(check["verdict"] == "error", "\(check)")
            #expect(check["message"]?.stringValue?.contains("timed out after 2s") == true, "\(check)")
            // The reply (about 200 bytes at one per 0.3 s) would take a minute; the 2 s timeout is a deadline.
            #expect((check["seconds"]?.numberValue ?? 99) < 3.5, "\(check)")
        }
    }

    @Test func aPrometheusURLHasItsTemplatesFilledIn() throws {
        let prometheus = try PrometheusServer()
        let proxy = try FaultProxy(upstream: prometheus.url)
        let box = Sandbox()
        box.ramp([
            "submit", Self.plan(box, prometheus: proxy.url + "/tenant-{{flag}}", flag: "f"), "--now",
            PrometheusServer.at(0),
        ])
        box.ramp(["tick", "--now", PrometheusServer.at(0)])
        let paths = proxy.requests.compactMap { $0.split(separator: "\t").last.map(String.init) }
        #expect(!paths.isEmpty)
        #expect(paths.allSatisfy { $0.hasPrefix("/tenant-f/api/v1/query?") }, "\(paths)")
    }

    @Test func credentialsNeverFollowARedirectToAnotherOrigin() throws {
        let prometheus = try PrometheusServer()
        let proxy = try FaultProxy(upstream: prometheus.url)
        let box = Sandbox()
        let plan = Self.plan(box, prometheus: proxy.url, flag: "f")
        let text = try String(contentsOfFile: plan, encoding: .utf8)
            .replacingOccurrences(of: #""timeout": "2s""#, with: #""timeout": "2s", "bearer_token_env": "PROM_TOKEN""#)
        box.write("f.json", text)
        box.ramp(["submit", plan, "--now", PrometheusServer.at(0)])
        proxy.set("redirect:http://127.0.0.1:\(proxy.echoPort)/api/v1/query?query=vector(0.01)")
        box.ramp(["tick", "--now", PrometheusServer.at(0)], env: ["PROM_TOKEN": "tok-3f9a7c"])
        #expect(!proxy.echoed.contains("tok-3f9a7c"), "the token reached another origin: \(proxy.echoed)")
        let check = box.status("f", at: PrometheusServer.at(0))["checks"]?.arrayValue?.first
        #expect(check?["verdict"] == "error")
        #expect(
            check?["message"]?.stringValue?.contains(
                "HTTP 302 redirects to another origin (http://127.0.0.1:\(proxy.echoPort)); not followed") == true,
            "\(String(describing: check))")
        #expect(box.status("f", at: PrometheusServer.at(0))["state"] == "pending")
    }
}
