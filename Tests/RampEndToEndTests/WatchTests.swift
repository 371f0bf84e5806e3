import Foundation
import RampCore
import Testing

/// `ramp status --watch`: a live view that follows the store, in a pipe and in a real terminal (util-linux `script`).
@Suite struct WatchTests {
    static func quickPlan(_ box: Sandbox) -> String {
        box.write(
            "w.json",
            #"{"flag": "w", "variants": {"on": 1, "off": 0}, "canary": "on", "baseline": "off", "steps": [{"percent": 10}, {"percent": 100}]}"#
        )
        return box.dir.appendingPathComponent("w.json").path
    }

    /// Polls `condition` every 100 ms for at most `seconds`.
    static func waitFor(_ seconds: Double, _ condition: () -> Bool) -> Bool {
        for _ in 0..<Int(seconds * 10) {
            if condition() { return true }
            usleep(100_000)
        }
        return condition()
    }

    @Test func inAPipeItPrintsEachChangeAndStopsOnceTheRolloutSettles() throws {
        let box = Sandbox()
        box.ramp(["submit", Self.quickPlan(box), "--now", t(0)])
        let watch = box.start(["status", "--watch", "w"])
        let out = watch.out
        func printed() -> String { (try? String(contentsOf: out, encoding: .utf8)) ?? "" }
        #expect(Self.waitFor(10) { printed().contains("w  pending") }, "\(printed())")
        box.ramp(["tick", "--now", t(0)])
        #expect(Self.waitFor(10) { printed().contains("w  progressing (step 1/2)  10% on") }, "\(printed())")
        box.ramp(["tick", "--now", t(1)])
        box.ramp(["tick", "--now", t(2)])
        #expect(Self.waitFor(10) { !watch.process.isRunning }, "the watch stops once the rollout has completed")
        if watch.process.isRunning { kill(watch.process.processIdentifier, SIGKILL) }
        let ran = watch.wait()
        #expect(ran.status == 0)
        #expect(ran.stdout.contains("w  completed  100% on"))
        #expect(ran.stdout.contains("complete: progressing → completed, 100% → 100%"))
        #expect(!ran.stdout.contains("\u{1b}["), "no terminal escapes in a pipe")
    }

    /// In a real pseudo-terminal (util-linux `script`), the view is redrawn from the top of the screen, and the
    /// Ctrl-C typed at the terminal stops it cleanly.
    @Test func inATerminalItRedrawsInPlaceAndStopsOnCtrlC() throws {
        guard let script = PrometheusServer.which("script") else {
            Issue.record("script (util-linux) is not installed")
            return
        }
        let box = Sandbox()
        box.ramp(["submit", Self.quickPlan(box), "--now", t(0)])
        box.ramp(["tick", "--now", t(0)])
        let out = box.dir.appendingPathComponent("terminal.txt")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: script)
        process.arguments = [
            "-q", "-e", "-f", "-c", "exec '\(Sandbox.binary)' status --watch w --store '\(box.store)'", "/dev/null",
        ]
        // `exec`: the Ctrl-C must reach ramp alone, not a shell waiting for it (whichever shell $SHELL names).
        var environment = ProcessInfo.processInfo.environment
        environment["SHELL"] = "/bin/sh"
        process.environment = environment
        let keyboard = Pipe()
        process.standardInput = keyboard
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        defer {
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
        func screen() -> String { (try? String(contentsOf: out, encoding: .utf8)) ?? "" }
        #expect(Self.waitFor(10) { screen().contains("w  progressing (step 1/2)  10% on") }, "\(screen())")
        #expect(screen().contains("\u{1b}[H\u{1b}[2Jramp status --watch w — "), "drawn from the top: \(screen())")
        box.ramp(["tick", "--now", t(1)])
        #expect(Self.waitFor(10) { screen().contains("w  progressing (step 2/2)  100% on") }, "\(screen())")
        keyboard.fileHandleForWriting.write(Data([0x03]))  // Ctrl-C
        #expect(Self.waitFor(10) { !process.isRunning }, "Ctrl-C stops it")
        if !process.isRunning { #expect(process.terminationStatus == 0, "it stops cleanly") }
    }
}
