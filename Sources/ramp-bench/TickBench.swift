import Foundation
import RampCore
import RampEngine

/// `ramp-bench tick [--rollouts 1000,3000,10000]`: the cost of one tick as the number of active rollouts grows.
///
/// For each N it builds a store through the library, in a child process (N flags, each with a plan whose one gate
/// reads ramp's own events), then times four ticks of the same `Ramp` (one process, as `ramp run` would be): every rollout starting
/// (N transitions), every rollout holding on its bake (N holds), nothing due (a tick ten seconds later), and
/// `status` over every flag. The baseline, in the same run: a tick of an empty store, and the cost of one fsync
/// in the same folder (every transaction pays at least one). Peak RSS is the ticking process's (the highest so
/// far, so each row covers its N and the smaller ones before it).
func runTick(_ arguments: [String]) {
    var sizes = [1000, 3000, 10_000]
    var i = 0
    while i < arguments.count {
        switch arguments[i] {
        case "--rollouts" where i + 1 < arguments.count:
            let parsed = arguments[i + 1].split(separator: ",").compactMap { Int($0) }
            guard !parsed.isEmpty, parsed.allSatisfy({ $0 > 0 && $0 <= 100_000 }) else {
                fail("--rollouts takes numbers from 1 to 100000, comma-separated")
            }
            sizes = parsed
            i += 1
        default: fail("tick: unknown argument \(arguments[i]) (--rollouts N[,N...])")
        }
        i += 1
    }
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ramp-bench-tick-\(getpid())")
    try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let start = Clock.wallNow()
    do {
        let fsync = fsyncMilliseconds(in: dir)
        let empty = try Ramp(storePath: dir.appendingPathComponent("empty.db").path, create: true)
        _ = try empty.tick(now: start, actor: "bench")
        let emptyTick = try timed { _ = try empty.tick(now: start + TimeSpan(seconds: 60), actor: "bench") }
        print("one fsync here: \(String(format: "%.2f", fsync)) ms; a tick of an empty store: \(ms(emptyTick))")
        print("rollouts  setup      start (all)          hold (all)           nothing due   status     peak RSS")
        for n in sizes {
            let path = dir.appendingPathComponent("n\(n).db").path
            // The store is built by a child process, so that the peak memory below is the ticking process's own.
            let setup = timed { buildInChild(n: n, path: path, dir: dir.path, start: start) }
            let ramp = try Ramp(storePath: path, create: false)
            var outcomes: [TickOutcome] = []
            let starting = try timed { outcomes = try ramp.tick(now: start, actor: "bench") }
            let started = outcomes.filter { if case .transition = $0.kind { true } else { false } }.count
            let holding = try timed { outcomes = try ramp.tick(now: start + TimeSpan(seconds: 60), actor: "bench") }
            let held = outcomes.filter { if case .hold = $0.kind { true } else { false } }.count
            let idle = try timed {
                outcomes = try ramp.tick(now: start + TimeSpan(seconds: 70), actor: "bench", reportNotDue: false)
            }
            guard started == n, held == n, outcomes.isEmpty else {
                fail("expected \(n) starts and holds, then nothing due; got \(started), \(held), \(outcomes.count)")
            }
            let status = try timed { _ = try ramp.status(flag: nil, now: start + TimeSpan(seconds: 70)) }
            print(
                [
                    String(n).padding(toLength: 8, withPad: " ", startingAt: 0), ms(setup),
                    "\(ms(starting)) (\(perRollout(starting, n)))", "\(ms(holding)) (\(perRollout(holding, n)))",
                    ms(idle), ms(status), "\(peakMiB()) MiB",
                ].map { $0.padding(toLength: max(10, $0.count), withPad: " ", startingAt: 0) }.joined(separator: " "))
        }
    } catch {
        fail("\(error)")
    }
}

/// Builds the store of `runTick` (and `runPostgres`) in a child process: `ramp-bench tick-build N PATH DIR SECONDS`.
func buildInChild(n: Int, path: String, dir: String, start: Instant) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
    process.arguments = ["tick-build", String(n), path, dir, String(start.seconds)]
    do {
        try process.run()
    } catch {
        fail("cannot start \(CommandLine.arguments[0]) tick-build: \(error)")
    }
    process.waitUntilExit()
    guard process.terminationStatus == 0 else { fail("tick-build \(n) failed") }
}

/// `ramp-bench tick-build N PATH DIR SECONDS`: submits N rollouts of the tick benchmark's plan to a new store.
func runTickBuild(_ arguments: [String]) {
    guard arguments.count == 4, let n = Int(arguments[0]), n > 0, let seconds = Int64(arguments[3]) else {
        fail("tick-build N PATH DIR SECONDS")
    }
    let start = Instant(seconds: seconds)
    do {
        let ramp = try Ramp(storePath: arguments[1], create: true)
        try ramp.configure(.rehearsal, "on", actor: "bench", now: start)
        for k in 0..<n {
            _ = try ramp.submit(
                text: plan(flag: "flag-\(k)"), file: "bench.json", baseDir: arguments[2], actor: "bench", reason: nil,
                now: start)
        }
    } catch {
        fail("\(error)")
    }
}

/// A plan whose one gate is a sequential test over ramp's own events: with no events it holds, and a tick reads
/// the store for it (as an events gate does) without any outside process or server.
private func plan(flag: String) -> String {
    """
    {"flag": "\(flag)", "variants": {"on": true, "off": false}, "canary": "on", "baseline": "off",
     "steps": [{"percent": 5, "bake": "1h"}, {"percent": 100}],
     "sources": {"events": {"type": "events"}},
     "gates": [{"name": "errors", "source": "events", "kind": "statistical", "test": "sequential",
                "metric": "proportion", "query": "error", "min_samples": 100, "expected_samples": 1000}]}
    """
}

/// How long `body` takes, in milliseconds.
func timed(_ body: () throws -> Void) rethrows -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
}

func ms(_ milliseconds: Double) -> String {
    milliseconds >= 1000 ? String(format: "%.2f s", milliseconds / 1000) : String(format: "%.1f ms", milliseconds)
}

func perRollout(_ milliseconds: Double, _ n: Int) -> String {
    String(format: "%.3f ms/rollout", milliseconds / Double(n))
}

/// The process's peak resident memory so far, in MiB.
private func peakMiB() -> Int {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return usage.ru_maxrss / 1024
}

/// The median of 50 fsyncs of a one-byte write in `dir`, in milliseconds.
private func fsyncMilliseconds(in dir: URL) -> Double {
    let path = dir.appendingPathComponent("fsync.probe").path
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    guard fd >= 0 else { return .nan }
    defer {
        close(fd)
        unlink(path)
    }
    var samples: [Double] = []
    var byte: UInt8 = 0
    for _ in 0..<50 {
        _ = write(fd, &byte, 1)
        samples.append(timed { _ = fsync(fd) })
    }
    return samples.sorted()[samples.count / 2]
}
