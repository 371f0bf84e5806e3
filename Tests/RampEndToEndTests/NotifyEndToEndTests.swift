import Foundation
import RampCore
import Testing

/// `Tests/Fixtures/notify_receiver.py`: a real HTTP receiver that takes, fails, stalls, drops or refuses on demand.
final class NotifyReceiver {
    let dir: URL
    let port: Int
    var url: String { "http://127.0.0.1:\(port)/hook" }
    private let process = Process()

    init(secretEnv: (name: String, value: String)? = nil) throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ramp-receiver-\(UUID().uuidString)")
        self.dir = dir
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        func path(_ name: String) -> String { dir.appendingPathComponent(name).path }
        let script = Sandbox.packageRoot.appendingPathComponent("Tests/Fixtures/notify_receiver.py").path
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments =
            ["python3", script, "--port-file", path("port"), "--mode-file", path("mode"), "--log", path("log")]
            + (secretEnv.map { ["--secret-env", $0.name] } ?? [])
        var environment = ProcessInfo.processInfo.environment
        if let secretEnv { environment[secretEnv.name] = secretEnv.value }
        process.environment = environment
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        var found: Int?
        for _ in 0..<200 {
            if let text = try? String(contentsOfFile: path("port"), encoding: .utf8), let port = Int(text) {
                found = port
                break
            }
            usleep(50_000)
        }
        guard let found else {
            kill(process.processIdentifier, SIGKILL)
            throw PrometheusServer.PrometheusError.tool("notify_receiver.py did not start")
        }
        port = found
    }

    deinit {
        if process.isRunning {
            process.terminate()
            for _ in 0..<50 where process.isRunning { usleep(100_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
        try? FileManager.default.removeItem(at: dir)
    }

    /// `ok`, `fail`, `fail:CODE`, `slow:SECONDS`, `close` or `refuse` (see Tests/Fixtures/README.md).
    func set(_ mode: String) {
        try! Data(mode.utf8).write(to: dir.appendingPathComponent("mode"))
        usleep(200_000)  // `refuse` closes the listener (and reopens it) from a thread polling every 50 ms
    }

    /// Every request the receiver got, oldest first.
    var log: [JSONValue] {
        let text = (try? String(contentsOf: dir.appendingPathComponent("log"), encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { try? JSONParser.parse(String($0)) }
    }

    /// The requests answered 200.
    var delivered: [JSONValue] { log.filter { $0["delivered"]?.boolValue == true } }
}

@Suite struct NotifyEndToEndTests {
    static func plan(_ box: Sandbox, _ flag: String, notify: String, alerts: String = "") -> String {
        box.plan(
            flag, steps: [(5, "0s", false), (50, "0s", true), (100, "0s", false)],
            extra: #", "notify": \#(notify)"# + (alerts.isEmpty ? "" : #", "alerts": \#(alerts)"#))
    }

    /// The audit entries a target with the default events hears, by seq.
    static func auditBySeq(_ box: Sandbox) -> [String: JSONValue] {
        var out: [String: JSONValue] = [:]
        for entry in box.ramp(["audit", "log", "--json"]).json where entry["flag"]?.stringValue != "*" {
            if let seq = entry["seq"]?.numberValue { out[JSONValue.format(seq)] = entry }
        }
        return out
    }

    @Test func aWebhookHearsEveryTransitionSignedAndKeyedByItsAuditSeq() throws {
        let receiver = try NotifyReceiver(secretEnv: ("HOOK_KEY", "s3cret-signing-key"))
        let box = Sandbox()
        let env = ["HOOK_KEY": "s3cret-signing-key"]
        let plan = Self.plan(
            box, "checkout",
            notify: #"[{"name": "team", "type": "webhook", "url": "\#(receiver.url)", "secret_env": "HOOK_KEY"}]"#)
        #expect(box.ramp(["submit", plan, "--now", t(0)], env: env).status == 0)
        for minute in 0..<3 { box.ramp(["tick", "--now", t(Int64(minute))], env: env) }
        #expect(box.ramp(["approve", "w", "--now", t(3)], env: env).status != 0, "an unknown flag writes nothing")
        #expect(box.ramp(["approve", "checkout", "--now", t(3)], env: env).status == 0)
        box.ramp(["tick", "--now", t(4)], env: env)
        box.ramp(["tick", "--now", t(5)], env: env)

        let audit = Self.auditBySeq(box)
        #expect(
            audit.values.compactMap { $0["event"]?.stringValue }.sorted()
                == ["advance", "approve", "await_approval", "complete", "start", "submit"].sorted() + [])
        let got = receiver.delivered
        #expect(got.count == audit.count, "\(receiver.log)")
        for request in got {
            let key = request["key"]?.stringValue ?? ""
            let body = request["body"] ?? .null
            #expect(request["signature_ok"]?.boolValue == true, "signed with secret_env's key")
            guard let entry = audit[key] else {
                Issue.record("a notification for no audit entry: \(request)")
                continue
            }
            #expect(body["id"]?.stringValue == key)
            #expect(body["audit_seq"]?.numberValue == entry["seq"]?.numberValue)
            #expect(body["event"]?.stringValue == entry["event"]?.stringValue)
            #expect(request["event"]?.stringValue == entry["event"]?.stringValue, "X-Ramp-Event")
            #expect(body["flag"]?.stringValue == "checkout")
            #expect(body["actor"]?.stringValue == entry["actor"]?.stringValue)
            #expect(body["at"]?.stringValue == entry["at"]?.stringValue)
            #expect(body["reason"]?.stringValue == entry["reason"]?.stringValue)
            #expect(body["to"]?["state"]?.stringValue == entry["to_state"]?.stringValue)
            #expect(body["target"]?.stringValue == "team")
        }
        // In the order the log has them.
        #expect(got.compactMap { $0["key"]?.stringValue } == audit.keys.sorted { Int($0)! < Int($1)! })
        #expect(box.ramp(["notify", "list", "--json"]).json.first?["deliveries"] == .array([]))
    }

    /// The receiver fails, stalls past the timeout, drops the connection and refuses connections, then recovers:
    /// every transition arrives, each key once after dedupe, and nothing arrives that the log does not have.
    @Test func aFlakyReceiverGetsEverythingOnceItRecovers() throws {
        let receiver = try NotifyReceiver()
        let box = Sandbox()
        let plan = Self.plan(
            box, "flaky", notify: #"[{"name": "hook", "type": "webhook", "url": "\#(receiver.url)", "timeout": "1s"}]"#)
        let modes = ["fail", "slow:3", "close", "refuse", "fail:429"]
        receiver.set("fail")
        box.ramp(["submit", plan, "--now", t(0)])
        for (minute, mode) in modes.enumerated() {
            receiver.set(mode)
            let ran = box.ramp(["tick", "--now", t(Int64(minute))])
            #expect(ran.status == 0, "a failed delivery never fails the tick: \(ran.stderr)")
        }
        box.ramp(["approve", "flaky", "--now", t(5)])
        let pending = box.ramp(["notify", "list", "--json"]).json.first?["deliveries"]?.arrayValue ?? []
        #expect(pending.count >= 3, "undelivered notifications wait in the outbox: \(pending)")
        #expect(pending.allSatisfy { $0["state"]?.stringValue == "pending" })
        #expect(receiver.delivered.isEmpty)
        receiver.set("ok")
        // The backoff reaches an hour at most: two hours later everything due has been retried.
        box.ramp(["tick", "--now", t(10)])
        box.ramp(["tick", "--now", t(130)])
        box.ramp(["tick", "--now", t(250)])
        let audit = Self.auditBySeq(box)
        let keys = receiver.delivered.compactMap { $0["key"]?.stringValue }
        #expect(Set(keys) == Set(audit.keys), "every transition, after dedupe by key")
        #expect(keys.count == Set(keys).count, "a receiver that answered 200 is not sent the same key again")
        #expect(receiver.log.count > keys.count, "the failures were real attempts")
        #expect(box.ramp(["notify", "list", "--json"]).json.first?["deliveries"] == .array([]))
    }

    /// SIGKILL after the commit while the notification is being delivered, many times: the next runs deliver every
    /// transition, none for a transition that did not commit.
    @Test func sigkillBetweenCommitAndDeliveryLosesNothing() throws {
        let receiver = try NotifyReceiver()
        let box = Sandbox()
        let plan = box.plan(
            "killed", steps: (1...12).map { (Double($0) * 8, "0s", false) } + [(100, "0s", false)],
            extra: #", "notify": [{"name": "hook", "type": "webhook", "url": "\#(receiver.url)", "timeout": "5s"}]"#)
        box.ramp(["submit", plan, "--now", t(0)])
        receiver.set("slow:3")
        var killedDuringDelivery = 0
        for minute in 0..<14 {
            let before = receiver.log.count
            let running = box.start(["tick", "--now", t(Int64(minute * 2))])
            // Wait until the receiver sees the attempt (the transition is committed), then kill ramp mid-delivery.
            let seen = WatchTests.waitFor(10) { receiver.log.count > before || !running.process.isRunning }
            if seen, running.process.isRunning {
                kill(running.process.processIdentifier, SIGKILL)
                killedDuringDelivery += 1
            }
            _ = running.wait()
        }
        #expect(killedDuringDelivery >= 10, "most ticks were killed while delivering")
        receiver.set("ok")
        // Claims expire (90 s) and every run retries what is due.
        for minute in [40, 45, 200, 330] { box.ramp(["tick", "--now", t(Int64(minute))]) }
        let audit = Self.auditBySeq(box)
        #expect(audit.count >= 12, "transitions committed despite the kills")
        let keys = Set(receiver.delivered.compactMap { $0["key"]?.stringValue })
        #expect(keys == Set(audit.keys), "delivered: \(keys.sorted()), audit: \(audit.keys.sorted())")
        let every = Set(receiver.log.compactMap { $0["key"]?.stringValue })
        #expect(every.isSubset(of: Set(audit.keys)), "no notification for a transition that did not commit")
        #expect(box.ramp(["audit", "verify"]).status == 0)
    }

    @Test func slackGetsItsMessageFormatAndTheURLStaysSecret() throws {
        let receiver = try NotifyReceiver()
        let box = Sandbox()
        let secretURL = receiver.url + "/T000/B000/XXXXsecretXXXX/%41pathsecret?tok=QSECRET"
        let env = ["SLACK_URL": secretURL]
        let plan = Self.plan(
            box, "chat",
            notify:
                #"[{"name": "team-slack", "type": "slack", "url_env": "SLACK_URL", "events": ["start", "rollback"]}]"#)
        box.ramp(["submit", plan, "--now", t(0)], env: env)
        box.ramp(["tick", "--now", t(0)], env: env)
        box.setMetric("errors", "0.5")
        box.ramp(["tick", "--now", t(1)], env: env)
        let got = receiver.delivered
        #expect(got.map { $0["event"]?.stringValue } == ["start", "rollback"])
        let rollback = got.last?["body"] ?? .null
        let text = rollback["text"]?.stringValue ?? ""
        #expect(text.hasPrefix("chat: rollback 5% → 0% (progressing → rolled_back): "), "\(text)")
        let section = rollback["blocks"]?.arrayValue?.first?["text"]?["text"]?.stringValue ?? ""
        #expect(section.contains(":rotating_light: *chat* rollback"), "\(section)")
        #expect(section.contains("• `errors` fail 0.5 (≤ 0.01)"), "the failing gate is named: \(section)")
        // The URL is read when sending: never in the store, the plan or any message.
        let storeBytes =
            Backend.isSQLite ? try Data(contentsOf: URL(fileURLWithPath: box.store)) : Data(try box.dump().utf8)
        #expect(storeBytes.range(of: Data("XXXXsecretXXXX".utf8)) == nil)
        receiver.set("refuse")
        box.ramp(["pause", "chat", "--now", t(2)], env: env)  // no rollout to pause: nothing sent
        let test = box.ramp(["notify", "test", "team-slack", "--now", t(2)], env: env)
        #expect(test.status == 1)
        #expect(test.stderr.contains("notify test team-slack (chat): connection refused"), "\(test.stderr)")
        #expect(!test.stderr.contains("XXXXsecretXXXX"))
        // A server that echoes the path and query in its error page: all of the URL is redacted.
        receiver.set("fail:404")
        let echoed = box.ramp(["notify", "test", "team-slack", "--now", t(2)], env: env)
        #expect(echoed.status == 1)
        #expect(echoed.stderr.contains("HTTP 404") && echoed.stderr.contains(Redaction.mark), "\(echoed.stderr)")
        for secret in ["XXXXsecretXXXX", "QSECRET", "pathsecret"] { #expect(!echoed.stderr.contains(secret)) }
        receiver.set("ok")
        let again = box.ramp(["notify", "test", "team-slack", "--now", t(2)], env: env)
        #expect(again.status == 0, "\(again.stderr)")
        #expect(again.stdout == "sent a test message to team-slack (slack, chat)\n")
        #expect(receiver.delivered.last?["event"]?.stringValue == "test")
        let missing = box.ramp(["notify", "test", "team-slak", "--now", t(2)], env: env)
        #expect(missing.status == 4)
        #expect(missing.stderr.contains(#"no notification target "team-slak" (did you mean "team-slack"?)"#))
    }

    /// Store-wide targets hear every flag; after the retry window a notification is failed, shown by status,
    /// counted by metrics, and `notify retry` sends it once the target is back.
    @Test func aStoreWideTargetGivesUpAfterTheRetryWindowAndRetryResends() throws {
        let receiver = try NotifyReceiver()
        let box = Sandbox()
        let targets = #"[{"name": "oncall", "type": "webhook", "url": "\#(receiver.url)", "events": ["start"]}]"#
        #expect(box.ramp(["config", "notify", targets, "--now", t(0)]).status == 0)
        receiver.set("fail:503")
        box.ramp(["submit", box.plan("a"), "--now", t(0)])
        box.ramp(["tick", "--now", t(0)])
        box.ramp(["tick", "--now", t(24 * 60 + 1)])  // past the 24-hour retry window
        let failed = box.ramp(["notify", "list", "--json"]).json.first?["deliveries"]?.arrayValue ?? []
        #expect(failed.map { $0["state"]?.stringValue } == ["failed"])
        #expect(failed.first?["last_error"]?.stringValue?.hasPrefix("HTTP 503") == true)
        let status = box.ramp(["status", "a", "--now", t(24 * 60 + 1)])
        #expect(status.stdout.contains("notifications: 1 failed to deliver (ramp notify list)"))
        #expect(box.status("a", at: t(24 * 60 + 1))["failed_notifications"]?.numberValue == 1)
        let metrics = box.ramp(["metrics", "--now", t(24 * 60 + 1)]).stdout
        #expect(metrics.contains("ramp_notifications{state=\"failed\"} 1"))
        receiver.set("ok")
        let retry = box.ramp(["notify", "retry", "--now", t(24 * 60 + 2)])
        #expect(retry.stdout == "queued 1 failed notification again; delivered 1 now\n", "\(retry.stderr)")
        #expect(receiver.delivered.map { $0["body"]?["event"]?.stringValue } == ["start"])
        let unknown = box.ramp(["notify", "retry", "oncal", "--now", t(24 * 60 + 3)])
        #expect(unknown.status == 4)
        #expect(
            unknown.stderr.contains(#"no notification target "oncal" (did you mean "oncall"?)"#), "\(unknown.stderr)")
        // A plan may not name a target the store names, nor the store one a plan names.
        let clash = Self.plan(box, "clash", notify: #"[{"name": "oncall", "type": "command", "command": ["true"]}]"#)
        let refused = box.ramp(["submit", clash, "--now", t(24 * 60 + 3)])
        #expect(refused.status == 3)
        #expect(refused.stderr.contains(#"notify[0].name: "oncall" names a store-wide target already"#))
        let planned = Self.plan(box, "team", notify: #"[{"name": "team", "type": "command", "command": ["true"]}]"#)
        #expect(box.ramp(["submit", planned, "--now", t(24 * 60 + 3)]).status == 0)
        let taken = box.ramp(["config", "notify", #"[{"name": "team", "type": "command", "command": ["true"]}]"#])
        #expect(taken.status == 5)
        #expect(taken.stderr.contains(#"notify: "team" names a target of flag team's plan already"#), "\(taken.stderr)")
    }

    /// Alerts that are not transitions: each fires once, when its condition is first met.
    @Test func alertsFireOnceEach() throws {
        let box = Sandbox()
        box.write(
            "sink.sh",
            "#!/bin/sh\ncat >> \"$(dirname \"$0\")/alerts.jsonl\"\necho >> \"$(dirname \"$0\")/alerts.jsonl\"\n",
            executable: true)
        let notify =
            #"[{"name": "sink", "type": "command", "command": ["./sink.sh"], "events": ["gate_unhealthy", "max_hold_near", "approval_waiting"]}]"#
        // An erroring gate (its value file is gone), 3 checks in a row; max_hold 2h, warned 30m before.
        let plan = box.plan(
            "alerting", steps: [(5, "10m", false), (50, "0s", true), (100, "0s", false)],
            extra:
                #", "notify": \#(notify), "alerts": {"unhealthy_checks": 3, "max_hold_warning": "30m", "approval_waiting": "1h"}, "max_hold": {"after": "2h"}"#
        )
        box.ramp(["submit", plan, "--now", t(0)])
        box.ramp(["tick", "--now", t(0)])
        try FileManager.default.removeItem(at: box.dir.appendingPathComponent("value-latency.txt"))
        for minute in 1...100 { box.ramp(["tick", "--now", t(Int64(minute))]) }
        box.setMetric("latency", "120")
        for minute in 101...104 { box.ramp(["tick", "--now", t(Int64(minute))]) }  // passes: bake done, approval
        for minute in stride(from: 110, through: 200, by: 10) { box.ramp(["tick", "--now", t(Int64(minute))]) }
        let text = (try? String(contentsOf: box.dir.appendingPathComponent("alerts.jsonl"), encoding: .utf8)) ?? ""
        let alerts = text.split(separator: "\n").compactMap { try? JSONParser.parse(String($0)) }
        #expect(
            alerts.map { $0["event"]?.stringValue ?? "" } == ["gate_unhealthy", "max_hold_near", "approval_waiting"])
        #expect(
            alerts.first?["reason"]?.stringValue?.hasPrefix("gate latency has been error for 3 checks in a row") == true
        )
        #expect(alerts.first?["at"]?.stringValue == t(3))
        #expect(alerts.dropFirst().first?["at"]?.stringValue == t(90), "30 minutes before the 2h max_hold")
        #expect(alerts.allSatisfy { $0["alert"] == .bool(true) && $0["audit_seq"] == .null })
    }

    @Test func badTargetsAreRefusedNamingTheField() {
        let box = Sandbox()
        let cases: [(String, String)] = [
            (
                #"[{"name": "s", "type": "slack", "url": "https://hooks.slack.com/services/T/B/X"}]"#,
                #"notify[0].url: a Slack webhook URL is a secret: give it with url_env or url_file"#
            ),
            (
                #"[{"name": "w", "type": "webhook", "url_env": "U", "events": ["rolback"]}]"#,
                #"notify[0].events[0]: unknown event "rolback" (did you mean "rollback"?)"#
            ),
            (
                #"[{"name": "w", "type": "webhook"}]"#,
                #"notify[0]: a webhook target needs url_env or url_file (or url)"#
            ),
            (
                #"[{"name": "w", "type": "webhook", "url": "https://u:p@example.com/x"}]"#,
                #"notify[0].url: has credentials in it: give the URL with url_env or url_file"#
            ),
            (
                #"[{"name": "w", "type": "email", "url_env": "U"}]"#,
                #"notify[0].type: unknown target type "email" (known: webhook, slack, command)"#
            ),
            (
                #"[{"name": "c", "type": "command", "command": ["x"]}, {"name": "c", "type": "command", "command": ["y"]}]"#,
                #"notify[1].name: "c" names another target already"#
            ),
            (
                #"[{"name": "w", "type": "webhook", "url": "https://example.com/hook?token=abc"}]"#,
                #"notify[0].url: has a query string, where tokens go: give the URL with url_env or url_file"#
            ),
            (
                #"[{"name": "c", "type": "slack", "url_env": "U", "secret_env": "K"}]"#,
                #"notify[0].secret_env: only a webhook signs its body"#
            ),
        ]
        for (notify, message) in cases {
            let plan = Self.plan(box, "bad", notify: notify)
            let ran = box.ramp(["plan", "validate", plan])
            #expect(ran.status == 3)
            #expect(ran.stderr.contains("bad.json: " + message), "\(ran.stderr)")
            let config = box.ramp(["config", "notify", notify])
            #expect(config.status == 3)
            #expect(config.stderr.contains("config: " + message), "\(config.stderr)")
        }
        #expect(!box.storeExists(), "a refused setting makes no store")
    }

    @Test func validateWarnsAboutWhatATargetWillMissWhereItRuns() {
        let box = Sandbox()
        let plan = Self.plan(
            box, "warned",
            notify:
                #"[{"name": "hook", "type": "webhook", "url_env": "NO_SUCH_URL_VAR", "secret_env": "NO_SUCH_KEY"}, {"name": "run", "type": "command", "command": ["./missing.sh"]}, {"name": "file", "type": "slack", "url_file": "/nonexistent/url"}]"#
        )
        let ran = box.ramp(["plan", "validate", plan])
        #expect(ran.status == 0, "warnings, not refusals: \(ran.stderr)")
        for warning in [
            "notify hook: environment variable NO_SUCH_URL_VAR is not set here",
            "notify hook: environment variable NO_SUCH_KEY is not set here",
            "notify run: command \(box.dir.standardizedFileURL.path)/missing.sh is not an executable",
            "notify file: url_file /nonexistent/url cannot be read",
        ] {
            #expect(ran.stdout.contains(warning), "\(ran.stdout)")
        }
    }
}
