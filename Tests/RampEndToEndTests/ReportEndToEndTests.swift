import Foundation
import RampCore
import RampStore
import Testing

/// `ramp report` rendered by a real headless Chromium (Debian `chromium`, driven by Tests/Support/chromium_check.py):
/// the rendered DOM holds the timeline's points and labels, the gate checks and the audit entries, correctly.
@Suite struct ReportEndToEndTests {
    /// Runs `js` (one expression) in Chromium on `html`, returning its value, and takes a screenshot.
    static func render(_ html: String, _ js: String, in box: Sandbox) throws -> (value: JSONValue, page: JSONValue) {
        let script = Sandbox.packageRoot.appendingPathComponent("Tests/Support/chromium_check.py").path
        box.write("query.js", js)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "python3", script, "--html", html, "--js", box.dir.appendingPathComponent("query.js").path,
            "--screenshot", box.dir.appendingPathComponent("shot.png").path, "--width", "1100", "--timeout", "90",
        ]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "chromium_check.py: \(String(decoding: data, as: UTF8.self))")
        let page = try JSONParser.parse(String(decoding: data, as: UTF8.self))
        return (page["value"] ?? .null, page)
    }

    static let query = """
        (() => {
          const num = (e, a) => Number(e.getAttribute(a));
          const box = e => e.getBoundingClientRect();
          return {
            transitions: [...document.querySelectorAll('svg.timeline g.transition')].map(g => ({
              seq: num(g, 'data-seq'), event: g.getAttribute('data-event'), percent: num(g, 'data-percent'),
              at: g.getAttribute('data-at'), label: g.querySelector('text.event-label')?.textContent ?? null,
              x: box(g.querySelector('circle')).x, y: box(g.querySelector('circle')).y,
              visible: box(g.querySelector('circle')).width > 0, title: g.querySelector('title')?.textContent ?? ''})),
            checks: [...document.querySelectorAll('svg.gate-chart circle.check')].map(c => ({
              gate: c.closest('svg').getAttribute('data-gate'), at: c.getAttribute('data-at'),
              value: c.hasAttribute('data-value') ? num(c, 'data-value') : null,
              outcome: [...c.classList].find(k => k.startsWith('outcome-')), y: box(c).y})),
            bounds: [...document.querySelectorAll('svg.gate-chart g.bound')].map(b => ({
              gate: b.closest('svg').getAttribute('data-gate'), limit: num(b, 'data-limit'),
              y: box(b.querySelector('line')).y})),
            audit: [...document.querySelectorAll('table.audit tr[data-seq]')].map(r => Number(r.getAttribute('data-seq'))),
            verified: document.querySelector('div.verification')?.getAttribute('data-ok'),
            scripts: document.querySelectorAll('script').length,
            text: document.body.innerText,
            width: document.documentElement.scrollWidth
          };
        })()
        """

    @Test func aRolledBackRolloutReadsCorrectlyInARealBrowser() throws {
        let box = Sandbox()
        box.ramp([
            "submit", box.plan("shop", steps: [(1, "10m", false), (5, "10m", false), (100, "0s", false)]), "--now",
            t(0),
        ])
        for minute in 0...10 { box.ramp(["tick", "--now", t(Int64(minute))]) }
        box.ramp(["pause", "shop", "--reason", "<script>alert(1)</script> & \"quotes\"", "--now", t(12)])
        box.ramp(["resume", "shop", "--now", t(13)])
        box.setMetric("errors", "0.2")
        box.ramp(["tick", "--now", t(14)])
        let html = box.dir.appendingPathComponent("shop.html").path
        let ran = box.ramp(["report", "shop", "--out", html, "--now", t(20)])
        #expect(ran.status == 0, "\(ran.stderr)")

        let (value, page) = try Self.render(html, Self.query, in: box)
        #expect(page["requests"] == .array([]), "the report fetches nothing")
        #expect(page["console_errors"] == .array([]))
        let audit = box.ramp(["audit", "log", "--json", "--flag", "shop"]).json
        let transitions = value["transitions"]?.arrayValue ?? []
        // One point per audit entry of the rollout, with its event, share and time.
        #expect(transitions.map { $0["seq"]?.numberValue } == audit.map { $0["seq"]?.numberValue })
        #expect(transitions.map { $0["event"]?.stringValue } == audit.map { $0["event"]?.stringValue })
        #expect(
            transitions.map { $0["event"]?.stringValue }
                == ["submit", "start", "advance", "pause", "resume", "rollback"])
        #expect(transitions.map { $0["percent"]?.numberValue } == [0, 1, 5, 5, 5, 0])
        #expect(transitions.map { $0["at"]?.stringValue } == audit.map { $0["at"]?.stringValue })
        #expect(transitions.allSatisfy { $0["visible"] == .bool(true) })
        #expect(transitions.map { $0["label"]?.stringValue } == transitions.map { $0["event"]?.stringValue })
        // Drawn left to right in time, higher for a larger share.
        let xs = transitions.compactMap { $0["x"]?.numberValue }
        #expect(zip(xs, xs.dropFirst()).allSatisfy { $0 <= $1 }, "\(xs)")
        #expect(xs.last! > xs.first! + 300)
        let ys = transitions.compactMap { $0["y"]?.numberValue }
        #expect(ys[2] < ys[1] && ys[1] < ys[0], "5% above 1% above 0%: \(ys)")
        #expect(ys[5] > ys[2], "the rollback drops to 0%")
        let pause = transitions[3]["title"]?.stringValue ?? ""
        #expect(pause.contains("<script>alert(1)</script> & \"quotes\""), "the reason is shown as text: \(pause)")
        #expect(pause.contains("tester"), "the actor: \(pause)")
        #expect(value["scripts"] == .number(0), "no script ran or was injected")

        // Every check of both gates, coloured by outcome; the failing one above the bound, the rest below.
        let checks = value["checks"]?.arrayValue ?? []
        let errors = checks.filter { $0["gate"]?.stringValue == "errors" }
        #expect(errors.count == 12, "one check per tick: \(errors.count)")
        #expect(errors.filter { $0["outcome"]?.stringValue == "outcome-fail" }.count == 1)
        #expect(errors.last?["value"]?.numberValue == 0.2)
        #expect(errors.last?["at"]?.stringValue == t(14))
        let bound = (value["bounds"]?.arrayValue ?? []).first { $0["gate"]?.stringValue == "errors" }
        #expect(bound?["limit"]?.numberValue == 0.01)
        let boundY = bound?["y"]?.numberValue ?? 0
        #expect((errors.last?["y"]?.numberValue ?? .infinity) < boundY, "0.2 is drawn above max 0.01")
        #expect(errors.dropLast().allSatisfy { ($0["y"]?.numberValue ?? 0) > boundY })
        #expect(checks.filter { $0["gate"]?.stringValue == "latency" }.count == 12)

        #expect(value["audit"]?.arrayValue?.map(\.numberValue) == audit.map { $0["seq"]?.numberValue })
        #expect(value["verified"] == .string("true"))
        let text = value["text"]?.stringValue ?? ""
        #expect(text.contains("Audit log verified"))
        #expect(text.contains("gate errors failed: 0.2 > max 0.01"))
        #expect((value["width"]?.numberValue ?? 9999) <= 1100, "nothing overflows the page sideways")
        let png = try Data(contentsOf: box.dir.appendingPathComponent("shot.png"))
        #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]) && png.count > 20_000, "a real screenshot")
    }

    @Test func aTamperedLogSaysSoInTheReport() throws {
        let box = Sandbox()
        box.ramp(["submit", box.plan("t"), "--now", t(0)])
        box.ramp(["tick", "--now", t(0)])
        // Change what is served behind the log's back.
        let db = try Store(path: box.store, create: false)
        try db.executeRaw("UPDATE flags SET canary_bp = 5000 WHERE key = 't'")
        let html = box.dir.appendingPathComponent("t.html").path
        #expect(box.ramp(["report", "t", "--out", html, "--now", t(1)]).status == 0)
        let (value, _) = try Self.render(html, Self.query, in: box)
        #expect(value["verified"] == .string("false"))
        #expect(value["text"]?.stringValue?.contains("audit verify FAILED") == true)
    }

    @Test func badInputIsRefused() {
        let box = Sandbox()
        box.ramp(["submit", box.plan("r"), "--now", t(0)])
        let unknown = box.ramp(["report", "nope"])
        #expect(unknown.status == 4)
        #expect(unknown.stderr == "ramp: unknown flag \"nope\"\n")
        let rollout = box.ramp(["report", "r", "--rollout", "9"])
        #expect(rollout.status == 4)
        #expect(rollout.stderr == "ramp: flag r has no rollout #9\n")
        #expect(box.ramp(["report", "r", "--rollout", "x"]).status == 3)
        let printed = box.ramp(["report", "r", "--now", t(1)])
        #expect(printed.stdout.hasPrefix("<!DOCTYPE html>"))
    }

    /// A statistical gate's estimate is drawn with its interval at every check, narrowing as users arrive.
    @Test func aStatisticalGatesIntervalsNarrowAsTheSampleGrows() throws {
        let box = Sandbox()
        box.write("p.json", StatisticsEndToEndTests.plan)
        box.ramp(["submit", "p.json", "--now", t(0)])
        box.ramp(["tick", "--now", t(0)])
        for (index, users) in [0..<600, 600..<1400, 1400..<2400].enumerated() {
            let minute = Int64(index * 2 + 1)
            box.ramp(
                ["record", "-"],
                stdin: StatisticsEndToEndTests.events(users: users, canaryEvery: 50, baselineEvery: 50, time: t(minute))
            )
            box.ramp(["tick", "--now", t(minute + 1)])
        }
        let html = box.dir.appendingPathComponent("stats.html").path
        #expect(box.ramp(["report", "checkout", "--out", html, "--now", t(8)]).status == 0)
        let js = """
            (() => [...document.querySelectorAll('svg.gate-chart[data-gate="errors"] circle.check[data-lower]')].map(c => ({
              at: c.getAttribute('data-at'), lower: Number(c.getAttribute('data-lower')),
              upper: Number(c.getAttribute('data-upper')), value: Number(c.getAttribute('data-value'))})))()
            """
        let (value, page) = try Self.render(html, js, in: box)
        #expect(page["console_errors"] == .array([]))
        let drawn = value.arrayValue ?? []
        #expect(drawn.map { $0["at"]?.stringValue } == [t(2), t(4), t(6)], "\(drawn)")
        let widths = drawn.compactMap { d in
            d["upper"]?.numberValue.flatMap { u in d["lower"]?.numberValue.map { u - $0 } }
        }
        #expect(widths.count == 3 && widths[0] > widths[1] && widths[1] > widths[2], "narrowing: \(widths)")
        #expect(
            drawn.allSatisfy { d in
                let (v, lo, hi) = (
                    d["value"]?.numberValue ?? .nan, d["lower"]?.numberValue ?? .nan, d["upper"]?.numberValue ?? .nan
                )
                return lo <= v && v <= hi
            }, "each estimate lies in its interval")
    }
}
