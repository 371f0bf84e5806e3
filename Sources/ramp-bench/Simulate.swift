// `simulate`: the statistical gates on simulated traffic, checked at every look as ticks would.
// `record`: ingest of exposures and outcomes, batched against one transaction per event.
import Foundation
import RampCore
import RampEngine

func option(_ args: [String], _ name: String) -> String? {
    guard let i = args.firstIndex(of: "--\(name)"), i + 1 < args.count else { return nil }
    return args[i + 1]
}

func runSimulate(_ args: [String]) {
    let runs = Int(option(args, "runs") ?? "") ?? 2000
    let looks = Int(option(args, "looks") ?? "") ?? 100
    let perLook = Int(option(args, "per-look") ?? "") ?? 500
    let seed = UInt64(option(args, "seed") ?? "") ?? 1
    let alpha = Double(option(args, "alpha") ?? "") ?? 0.05
    let baselineRate = 0.01
    let sequential = Gate(
        name: "errors", source: "events",
        rule: .statistical(
            StatisticalSpec(
                test: .sequential, metric: .proportion, alpha: alpha, minSamples: Double(perLook),
                expectedSamples: Double(looks * perLook))))

    /// For each run, the look (1-based) at which each test first failed, or nil.
    func simulate(canaryRate: Double, seed: UInt64) -> (sequential: [Int?], naive: [Int?], fixed: [Bool]) {
        var random = SeededRandom(seed: seed)
        var seq: [Int?] = []
        var naive: [Int?] = []
        var fixed: [Bool] = []
        for _ in 0..<runs {
            var c = 0
            var b = 0
            var seqLook: Int?
            var naiveLook: Int?
            var n = 0
            for look in 1...looks {
                c += random.binomial(perLook, canaryRate)
                b += random.binomial(perLook, baselineRate)
                n += perLook
                let canary = ArmSummary.proportion(successes: Double(c), trials: Double(n))
                let baseline = ArmSummary.proportion(successes: Double(b), trials: Double(n))
                if seqLook == nil,
                    sequential.judge(canary: .summary(canary), baseline: .summary(baseline), share: 0.5).outcome
                        == .fail
                {
                    seqLook = look
                }
                if naiveLook == nil, c + b > 0,
                    FixedHorizon.proportions(canary: canary, baseline: baseline, worse: .higher).p <= alpha
                {
                    naiveLook = look
                }
                if look == looks {
                    fixed.append(
                        c + b > 0
                            && FixedHorizon.proportions(canary: canary, baseline: baseline, worse: .higher).p <= alpha)
                }
            }
            seq.append(seqLook)
            naive.append(naiveLook)
        }
        return (seq, naive, fixed)
    }

    func rate(_ hits: Int) -> String { wilson(hits, runs) }

    print(
        "simulate: \(runs) runs × \(looks) looks × \(perLook) users per arm per look, baseline 1%, alpha \(alpha), seed \(seed)"
    )
    let start = Date()
    let aa = simulate(canaryRate: baselineRate, seed: seed)
    print("A/A (canary 1% = baseline 1%): false rollbacks within \(looks) looks")
    print("  sequential gate (mSPRT), every look   \(rate(aa.sequential.compactMap { $0 }.count))")
    print("  naive z-test re-run every look        \(rate(aa.naive.compactMap { $0 }.count))")
    print("  z-test, one look at the end           \(rate(aa.fixed.filter { $0 }.count))")
    let ab = simulate(canaryRate: 2 * baselineRate, seed: seed &+ 1)
    func samples(_ looksToFail: [Int?]) -> String {
        let hits = looksToFail.compactMap { $0 }.sorted()
        guard !hits.isEmpty else { return "never" }
        let median = hits[hits.count / 2] * perLook
        let mean = Double(hits.reduce(0, +)) / Double(hits.count) * Double(perLook)
        return String(format: "median %6d, mean %8.0f users per arm; rolled back in %@", median, mean, rate(hits.count))
    }
    print("A/B (canary 2% vs baseline 1%): samples until rollback")
    print("  sequential gate (mSPRT)   \(samples(ab.sequential))")
    print("  naive z-test every look   \(samples(ab.naive))")
    print("  z-test at \(looks * perLook) per arm   detected in \(rate(ab.fixed.filter { $0 }.count))")
    print(String(format: "(%.1f s)", Date().timeIntervalSince(start)))
    runDesigns(runs: Int(option(args, "design-runs") ?? "") ?? runs, seed: seed, alpha: alpha)
}

func runRecord(_ args: [String]) {
    let count = Int(option(args, "events") ?? "") ?? 1_000_000
    let baselineCount = Int(option(args, "baseline-events") ?? "") ?? 5_000
    let rampBinary = option(args, "ramp")
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ramp-bench-record-\(getpid())")
    try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let now = Instant(seconds: 1_767_225_600)
    func store(_ name: String) throws -> (Ramp, String) {
        let path = dir.appendingPathComponent("\(name).db").path
        let ramp = try Ramp(storePath: path, create: true)
        _ = try ramp.submit(text: plain, file: "bench.json", baseDir: dir.path, actor: "bench", reason: nil, now: now)
        return (ramp, path)
    }
    // Half exposures, half outcomes (an error for a key exposed just before).
    func events(_ n: Int) -> [RecordedEvent] {
        (0..<n).map { i in
            i % 2 == 0
                ? .exposure(Exposure(flag: "plain", variant: i % 4 == 0 ? "on" : "off", key: "u\(i / 2)", at: now))
                : .outcome(Outcome(metric: "error", key: "u\(i / 2)", variant: nil, value: 1, at: now))
        }
    }
    do {
        // The baseline: one transaction per event, as a naive writer would do.
        let (single, _) = try store("single")
        let few = events(baselineCount)
        var start = DispatchTime.now().uptimeNanoseconds
        for event in few { try single.record([event]) }
        let perEventSingle = Double(DispatchTime.now().uptimeNanoseconds - start) / Double(baselineCount)
        let (batched, _) = try store("batched")
        let all = events(count)
        start = DispatchTime.now().uptimeNanoseconds
        try batched.record(all)
        let batchedSeconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let perEventBatched = batchedSeconds * 1e9 / Double(count)
        print("record: \(count) events through Ramp.record (\(Ramp.recordBatch) per transaction)")
        print(String(format: "  batched          %6.2f s  (%5.2f µs/event)", batchedSeconds, perEventBatched / 1000))
        print(
            String(
                format: "  one per event    %6.2f µs/event over %d events   ratio %.0f×", perEventSingle / 1000,
                baselineCount, perEventSingle / perEventBatched))
        // The CLI: JSON lines on standard input, parsed and checked, then written.
        if let rampBinary {
            let (_, cliStore) = try store("cli")
            let lines = (0..<count).map { i in
                i % 2 == 0
                    ? #"{"type":"exposure","flag":"plain","variant":"\#(i % 4 == 0 ? "on" : "off")","key":"u\#(i / 2)"}"#
                    : #"{"type":"outcome","metric":"error","value":1,"key":"u\#(i / 2)"}"#
            }
            let input = dir.appendingPathComponent("events.jsonl")
            try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: input)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = ["-c", "\"$0\" record - --store \"$1\" < \"$2\"", rampBinary, cliStore, input.path]
            process.standardOutput = FileHandle.nullDevice
            start = DispatchTime.now().uptimeNanoseconds
            try process.run()
            process.waitUntilExit()
            let cliSeconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            guard process.terminationStatus == 0 else { fail("ramp record - failed") }
            print(
                String(
                    format: "  ramp record - (CLI, JSON lines)  %6.2f s  (%5.2f µs/event)", cliSeconds,
                    cliSeconds * 1e6 / Double(count)))
        }
    } catch {
        fail("\(error)")
    }
}
