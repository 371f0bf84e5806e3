import Foundation
import RampCore
import RampEngine

/// `ramp-bench verify [--entries 100000,1000000] --ramp .build/release/ramp`: how fast `ramp audit verify`
/// checks a log, and whether its memory stays flat as the log grows.
///
/// For each size it builds a store through the library: rollouts of a plan with 50 steps (1% … 49%, then 100%)
/// and a one-minute bake, 1,000 in flight at a time, ticked a minute apart until the log holds the entries asked
/// for — so every entry is a real transition with its evidence, replayed by verify under its plan. Then it runs `ramp audit verify` (the
/// CLI, a process of its own: integrity check, hash chain, replay of every transition) and reports entries per
/// second and the process's peak memory. The baseline in the same run: reading the store's file and hashing
/// every byte of it with SHA-256 — what checking the whole file at disk speed (from the page cache) costs.
func runVerify(_ arguments: [String]) {
    var sizes = [100_000, 1_000_000]
    var rampBinary: String?
    var i = 0
    while i < arguments.count {
        switch arguments[i] {
        case "--entries" where i + 1 < arguments.count:
            let parsed = arguments[i + 1].split(separator: ",").compactMap { Int($0) }
            guard !parsed.isEmpty, parsed.allSatisfy({ $0 >= 100 && $0 <= 10_000_000 }) else {
                fail("--entries takes numbers from 100 to 10000000, comma-separated")
            }
            sizes = parsed
            i += 1
        case "--ramp" where i + 1 < arguments.count:
            rampBinary = arguments[i + 1]
            i += 1
        default: fail("verify: unknown argument \(arguments[i]) (--entries N[,N...], --ramp PATH)")
        }
        i += 1
    }
    guard let rampBinary, FileManager.default.isExecutableFile(atPath: rampBinary) else {
        fail("verify: give the ramp binary to time: --ramp .build/release/ramp")
    }
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ramp-bench-verify-\(getpid())")
    try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    print("entries    store      build      ramp audit verify            peak RSS   read + SHA-256 of the file   ratio")
    for n in sizes {
        let path = dir.appendingPathComponent("verify-\(n).db").path
        do {
            let built = try timed { try buildLog(path: path, entries: n, dir: dir) } / 1000
            let bytes = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
            let (seconds, peak, output) = runChild(rampBinary, ["audit", "verify", "--store", path])
            guard output.hasPrefix("audit log ok") else { fail("ramp audit verify did not say ok: \(output)") }
            let entries = Int(output.split(separator: " ").dropFirst(3).first ?? "") ?? n
            let baseline =
                try timed {
                    let data = try Data(contentsOf: URL(fileURLWithPath: path))
                    _ = SHA256.hash(data)
                } / 1000
            print(
                [
                    String(entries), String(format: "%.0f MB", Double(bytes) / 1e6), String(format: "%.1f s", built),
                    String(format: "%.2f s (%.0f entries/s)", seconds, Double(entries) / seconds), "\(peak) MiB",
                    String(format: "%.3f s (%.0f MB/s)", baseline, Double(bytes) / 1e6 / baseline),
                    String(format: "%.0f×", seconds / baseline),
                ].map { $0.padding(toLength: max(10, $0.count), withPad: " ", startingAt: 0) }.joined(separator: " "))
        } catch {
            fail("\(error)")
        }
        try? FileManager.default.removeItem(atPath: path)
    }
}

/// Submits rollouts of a 50-step plan and ticks them a minute apart until the log holds `entries` entries: in waves
/// of 1,000 rollouts in flight at once (a central ramp's log is a long history of rollouts, not all at once).
private func buildLog(path: String, entries: Int, dir: URL) throws {
    let ramp = try Ramp(storePath: path, create: true)
    let start = Clock.wallNow()
    try ramp.configure(.rehearsal, "on", actor: "bench", now: start)
    let perRollout = 51  // the submit and 50 transitions
    let rollouts = max(1, (entries - 1) / perRollout)
    let steps = (1...49).map { #"{"percent": \#($0), "bake": "1m"}"# } + [#"{"percent": 100}"#]
    var now = start
    var submitted = 0
    while submitted < rollouts {
        for _ in 0..<min(1000, rollouts - submitted) {
            let plan = """
                {"flag": "flag-\(submitted)", "variants": {"on": true, "off": false}, "canary": "on",
                 "baseline": "off", "interval": "1m", "steps": [\(steps.joined(separator: ", "))]}
                """
            _ = try ramp.submit(
                text: plan, file: "bench.json", baseDir: dir.path, actor: "bench", reason: nil, now: now)
            submitted += 1
        }
        while true {
            let outcomes = try ramp.tick(now: now, actor: "bench", reportNotDue: false)
            now = now + TimeSpan(seconds: 60)
            if !outcomes.contains(where: { if case .transition = $0.kind { true } else { false } }) { break }
        }
    }
}

/// Runs `binary` with `arguments`; its wall time in seconds, its peak resident memory in MiB, and its output.
private func runChild(_ binary: String, _ arguments: [String]) -> (Double, Int, String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: binary)
    process.arguments = arguments
    let out = Pipe()
    process.standardOutput = out
    let started = DispatchTime.now().uptimeNanoseconds
    do { try process.run() } catch { fail("cannot run \(binary): \(error)") }
    let data = out.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
    var usage = rusage()
    getrusage(RUSAGE_CHILDREN.rawValue, &usage)
    return (seconds, usage.ru_maxrss / 1024, String(decoding: data, as: UTF8.self))
}
