import Foundation
import RampCore
import Testing

/// ramp's own metrics: `ramp metrics`, checked by promtool, and the textfile a real node_exporter serves to a
/// real Prometheus.
@Suite struct MetricsEndToEndTests {
    static func run(_ tool: String, _ args: [String], stdin: String? = nil) throws -> (Int32, String) {
        guard let path = PrometheusServer.which(tool) else {
            throw PrometheusServer.PrometheusError.missing(tool)
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = args
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = output
        try process.run()
        if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
        try input.fileHandleForWriting.close()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, text)
    }

    @Test func metricsDescribeRolloutsGatesTransitionsAndTicksAndPassPromtool() throws {
        let box = Sandbox()
        box.ramp(["submit", box.plan("f"), "--now", t(0)])
        box.ramp(["tick", "--now", t(0)])
        box.setMetric("latency", "")
        box.ramp(["tick", "--now", t(1)])
        box.ramp(["tick", "--now", t(2)])
        let ran = box.ramp(["metrics", "--now", t(3)])
        #expect(ran.status == 0)
        let lines = Set(ran.lines)
        for expected in [
            #"ramp_rollout_state{flag="f",state="progressing"} 1"#, #"ramp_rollout_state{flag="f",state="pending"} 0"#,
            #"ramp_canary_percent{flag="f"} 1"#, #"ramp_rollout_step{flag="f"} 1"#, #"ramp_flag_killed{flag="f"} 0"#,
            #"ramp_max_hold_timestamp_seconds{flag="f"} \#(Instant(rfc3339: t(24 * 60))!.seconds)"#,
            #"ramp_gate_outcome{flag="f",gate="latency",outcome="no_data"} 1"#,
            #"ramp_gate_outcome{flag="f",gate="errors",outcome="pass"} 1"#,
            #"ramp_gate_value{flag="f",gate="errors",variant="on"} 0.002"#,
            #"ramp_gate_streak{flag="f",gate="latency"} 2"#,
            #"ramp_transitions_total{event="start"} 1"#, #"ramp_transitions_total{event="submit"} 1"#,
            "ramp_audit_entries_total 2", "ramp_last_tick_timestamp_seconds \(Instant(rfc3339: t(2))!.seconds)",
            "# TYPE ramp_transitions_total counter",
        ] {
            #expect(lines.contains(expected), "\(expected) missing from:\n\(ran.stdout)")
        }
        #expect(ran.lines.contains { $0.hasPrefix("ramp_tick_duration_seconds ") })
        let (status, said) = try Self.run("promtool", ["check", "metrics"], stdin: ran.stdout)
        #expect(status == 0, "\(said)")
    }

    @Test func theShippedAlertRulesAreValid() throws {
        let rules = Sandbox.packageRoot.appendingPathComponent("examples/prometheus/ramp-alerts.yml").path
        let (status, said) = try Self.run("promtool", ["check", "rules", rules])
        #expect(status == 0, "\(said)")
        #expect(said.contains("SUCCESS: 6 rules found"), "\(said)")
    }

    @Test func everyTickRewritesTheTextfileThatNodeExporterServesToPrometheus() throws {
        let box = Sandbox()
        let folder = box.dir.appendingPathComponent("textfile")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let file = folder.appendingPathComponent("ramp.prom").path
        #expect(
            box.ramp(["config", "metrics.textfile", folder.appendingPathComponent("ramp.txt").path, "--now", t(0)])
                .status == 3)
        #expect(box.ramp(["config", "metrics.textfile", file, "--now", t(0)]).status == 0)
        box.ramp(["submit", box.plan("f"), "--now", t(0)])
        box.ramp(["tick", "--now", t(0)])
        let written = try String(contentsOfFile: file, encoding: .utf8)
        #expect(written.contains(#"ramp_canary_percent{flag="f"} 1"#), "\(written)")

        guard let binary = PrometheusServer.which("prometheus-node-exporter") else {
            Issue.record("prometheus-node-exporter is not installed (Tests/run-all.sh installs it)")
            return
        }
        let port = PrometheusServer.freePort()
        let exporter = Process()
        exporter.executableURL = URL(fileURLWithPath: binary)
        exporter.arguments = [
            "--web.listen-address=127.0.0.1:\(port)", "--collector.disable-defaults", "--collector.textfile",
            "--collector.textfile.directory=\(folder.path)",
        ]
        exporter.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        exporter.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try exporter.run()
        defer {
            kill(exporter.processIdentifier, SIGKILL)
            exporter.waitUntilExit()
        }
        let prometheus = try PrometheusServer(scrapeTargets: ["127.0.0.1:\(port)"])
        // Scrape targets are applied on a timer of about 5 s, then scraped every second: wait up to 60 s.
        var seen: String?
        for _ in 0..<120 {
            let url = "\(prometheus.url)/api/v1/query?query=ramp_canary_percent"
            if let body = try? String(contentsOf: URL(string: url)!, encoding: .utf8), body.contains(#""flag":"f""#) {
                seen = body
                break
            }
            usleep(500_000)
        }
        let body = try #require(seen, "Prometheus never scraped ramp_canary_percent through node_exporter")
        #expect(body.contains(#""value":["#) && body.contains(#","1"]"#), "\(body)")
    }
}
