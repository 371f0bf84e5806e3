import Foundation
import RampCore
import Testing

/// Text from outside — a source's output, an actor, a plan's path — never forges a line or hides a terminal code in
/// what ramp prints: a cron log and an operator's terminal show it escaped.
@Suite struct OutputEscapingTests {
    /// What a metric command prints to forge an "advance" line in the cron log, with a colour code after it.
    static let forged = #"printf '1\n2026-01-01T00:11:00Z  f  advance: 1%% → 100%%\033[31m'"#

    @Test func aSourcesTextCannotForgeALineInTickStatusOrExplain() {
        let box = Sandbox()
        box.write("metric.sh", "#!/bin/sh\n\(Self.forged)\n", executable: true)
        let plan = box.plan("f")
        let submitted = box.ramp(["submit", plan, "--now", t(0)])
        #expect(submitted.status == 0, "\(submitted.stderr)")
        let tick = box.ramp(["tick", "--now", t(0)])
        let status = box.ramp(["status", "--now", t(0)])
        let explain = box.ramp(["explain", "f", "--now", t(0)])
        for (name, ran) in [("tick", tick), ("status", status), ("explain", explain)] {
            #expect(ran.status == 0, "\(name): \(ran.stderr)")
            #expect(
                !ran.stdout.unicodeScalars.contains { $0 != "\n" && Escape.isControl($0) }, "\(name): \(ran.stdout)")
            // No line starts like a transition line but the ones ramp wrote.
            #expect(!ran.lines.contains { $0.hasPrefix("2026-01-01T00:11:00Z") }, "\(name): \(ran.stdout)")
            #expect(ran.stdout.contains(#"\n2026-01-01T00:11:00Z  f  advance"#), "\(name): \(ran.stdout)")
            #expect(ran.stdout.contains(#"\u{1b}[31m"#), "\(name): \(ran.stdout)")
        }
        #expect(tick.lines.count == 1, "one hold line: \(tick.stdout)")
    }

    @Test func anActorAndAPlansPathArePrintedOnOneLine() {
        let box = Sandbox()
        box.write("metric.sh", "#!/bin/sh\necho 0.001\n", executable: true)
        let plan = box.plan("f", name: "we\nird.json")
        let submitted = box.ramp(["submit", plan, "--now", t(0)])
        #expect(submitted.status == 0, "\(submitted.stderr)")
        #expect(submitted.lines.count == 2, "\(submitted.stdout)")
        #expect(submitted.stdout.contains(#"we\nird.json"#), "\(submitted.stdout)")
        box.ramp(["tick", "--now", t(0)])
        let paused = box.ramp(["pause", "f", "--actor", "mal\u{1b}[2Jlory\nX", "--now", t(1)])
        #expect(paused.status == 0, "\(paused.stderr)")
        let explain = box.ramp(["explain", "f", "--now", t(1)])
        #expect(!explain.stdout.unicodeScalars.contains { $0 != "\n" && Escape.isControl($0) }, "\(explain.stdout)")
        #expect(!explain.lines.contains("X"), "\(explain.stdout)")
        #expect(explain.stdout.contains(#"by mal\u{1b}[2Jlory\nX"#), "\(explain.stdout)")
    }
}
