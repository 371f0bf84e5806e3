import Foundation
import RampCore
import RampEngine
import RampStore
import Synchronization
import Testing

/// The in-process evaluator: a read-only snapshot, refreshed when the store's data_version moves.
@Suite struct FlagEvaluatorTests {
    static let plan = """
        {"flag": "checkout", "variants": {"on": true, "off": false}, "canary": "on", "baseline": "off",
         "segments": {"internal": {"ends_with": [{"var": "email"}, "@example.com"]}},
         "rules": [{"when": {"==": [{"var": "region"}, "blocked"]}, "variant": "off"}],
         "steps": [{"segment": "internal", "bake": "1h"}, {"percent": 50, "bake": "1h"}, {"percent": 100}]}
        """

    func makeRamp() throws -> (Ramp, String) {
        let path = temporaryDirectory().appendingPathComponent("ramp.db").path
        let ramp = try Ramp(storePath: path, create: true)
        _ = try ramp.submit(text: Self.plan, file: "p.json", baseDir: "/", actor: "t", reason: nil, now: now)
        _ = try ramp.tick(now: now, actor: "t")
        return (ramp, path)
    }

    @Test func evaluatesRulesSegmentsAndTheSplitLikeRampEval() throws {
        let (ramp, path) = try makeRamp()
        let flags = try FlagEvaluator(storePath: path)
        let insider = flags.evaluate("checkout", targetingKey: "u1", attributes: ["email": "ana@example.com"])
        #expect(insider.variant == "on" && insider.value == true && insider.reason == .targetingMatch)
        let outsider = flags.evaluate("checkout", targetingKey: "u1", attributes: ["email": "bo@else.org"])
        #expect(outsider.variant == "off" && outsider.reason == .default)
        let blocked = flags.evaluate(
            "checkout", targetingKey: "u1", attributes: ["email": "ana@example.com", "region": "blocked"])
        #expect(blocked.variant == "off" && blocked.reason == .targetingMatch)
        #expect(flags.evaluate("nope", targetingKey: "u1").errorCode == .flagNotFound)
        #expect(flags.evaluate("checkout", targetingKey: "u1", type: .string).errorCode == .typeMismatch)
        for i in 0..<200 {
            let context = EvaluationContext(targetingKey: "k\(i)", attributes: ["email": .string("k\(i)@else.org")])
            #expect(
                flags.evaluate("checkout", context: context)
                    == (try ramp.resolve(flag: "checkout", context: context, now: now)))
        }
    }

    /// Flags with any number of variants — a plan's base weights, an imported flagd flag — evaluate in process
    /// exactly as `ramp eval` resolves them.
    @Test func evaluatesWeightedAndImportedFlagsLikeRampEval() throws {
        let path = temporaryDirectory().appendingPathComponent("ramp.db").path
        let ramp = try Ramp(storePath: path, create: true)
        let plan = """
            {"flag": "ranker", "variants": {"v1": "bm25", "v2": "dense", "v3": "hybrid"}, "canary": "v2",
             "baseline": "v1", "weights": {"v1": 3, "v3": 1}, "steps": [{"percent": 50, "bake": "1h"}, {"percent": 100}]}
            """
        _ = try ramp.submit(text: plan, file: "p.json", baseDir: "/", actor: "t", reason: nil, now: now)
        _ = try ramp.tick(now: now, actor: "t")
        let flagd = """
            {"flags": {"model": {"state": "ENABLED", "defaultVariant": "a", "variants": {"a": 1, "b": 2, "c": 3},
              "targeting": {"fractional": [["a", 10], ["b", 20], ["c", 70]]}}}}
            """
        _ = try ramp.importFlagd(
            try Ramp.readFlagd(flagd, file: "f.json"), file: "f.json", actor: "t", reason: nil, now: now)
        let flags = try FlagEvaluator(storePath: path)
        var seen: [String: Set<String>] = [:]
        for i in 0..<400 {
            let context = EvaluationContext(targetingKey: "k\(i)", attributes: [:])
            for key in ["ranker", "model"] {
                let answer = flags.evaluate(key, context: context)
                #expect(answer == (try ramp.resolve(flag: key, context: context, now: now)))
                seen[key, default: []].insert(answer.variant ?? "")
            }
        }
        #expect(seen == ["ranker": ["v1", "v2", "v3"], "model": ["a", "b", "c"]])
    }

    /// The evaluator's clock is what `$flagd.timestamp` reads: a fixed one answers as of its time. The typed
    /// accessors give the value, or the caller's default when there is none of that type.
    @Test func aFixedClockDecidesTimedRulesAndTypedAccessorsFallBack() throws {
        let path = temporaryDirectory().appendingPathComponent("ramp.db").path
        let ramp = try Ramp(storePath: path, create: true)
        let plan = """
            {"flag": "launch", "variants": {"on": "new", "off": "old"}, "canary": "on", "baseline": "off",
             "rules": [{"when": {">=": [{"var": "$flagd.timestamp"}, 1900000000]}, "variant": "on"}],
             "steps": [{"percent": 100}]}
            """
        _ = try ramp.submit(text: plan, file: "p.json", baseDir: "/", actor: "t", reason: nil, now: now)
        let before = try FlagEvaluator(storePath: path, clock: .simulated(start: Instant(seconds: 1_899_999_999)))
        let after = try FlagEvaluator(storePath: path, clock: .simulated(start: Instant(seconds: 1_900_000_000)))
        #expect(before.evaluate("launch", targetingKey: "u").variant == "off")
        #expect(after.evaluate("launch", targetingKey: "u").variant == "on")
        #expect(after.string("launch", default: "fallback", targetingKey: "u") == "new")
        #expect(after.bool("launch", default: true, targetingKey: "u"))
        #expect(after.int("missing", default: 7, targetingKey: "u") == 7)
        #expect(after.double("launch", default: 0.5, targetingKey: "u") == 0.5)
    }

    /// A handle answers exactly as the key does, before and after the snapshot changes, and for a flag that
    /// appears only later; a handle from another evaluator still answers for its key.
    @Test func aHandleAnswersAsItsKeyAcrossSnapshots() throws {
        let (ramp, path) = try makeRamp()
        let flags = try FlagEvaluator(storePath: path, refreshInterval: .seconds(3600))
        let other = try FlagEvaluator(storePath: path, refreshInterval: .seconds(3600))
        let checkout = flags.handle("checkout")
        let later = flags.handle("later")
        let foreign = other.handle("checkout")
        func same() {
            for i in 0..<100 {
                let context = EvaluationContext(targetingKey: "k\(i)", attributes: ["email": .string("k\(i)@x.org")])
                #expect(flags.evaluate(checkout, context: context) == flags.evaluate("checkout", context: context))
                #expect(flags.evaluate(foreign, context: context) == flags.evaluate("checkout", context: context))
                #expect(flags.evaluate(later, context: context) == flags.evaluate("later", context: context))
            }
        }
        same()
        #expect(flags.evaluate(later, context: EvaluationContext(targetingKey: "k")).errorCode == .flagNotFound)
        let plan = Self.plan.replacingOccurrences(of: #""flag": "checkout""#, with: #""flag": "later""#)
        _ = try ramp.submit(text: plan, file: "p.json", baseDir: "/", actor: "t", reason: nil, now: now)
        _ = try ramp.tick(now: now + TimeSpan(seconds: 3600), actor: "t")
        #expect(try flags.refresh())
        #expect(flags.evaluate(later, context: EvaluationContext(targetingKey: "k")).errorCode == nil)
        same()
    }

    @Test func sampledExposuresAreBufferedAndWrittenOnFlushForTheSameKeysEveryTime() throws {
        let (_, path) = try makeRamp()
        let flags = try FlagEvaluator(storePath: path, refreshInterval: .seconds(3600), exposureSampling: 0.1)
        let keys = (0..<2000).map { "user-\($0)" }
        for _ in 0..<3 {
            for key in keys { _ = flags.evaluate("checkout", targetingKey: key, attributes: ["email": "x@else.org"]) }
        }
        _ = flags.evaluate("nope", targetingKey: "user-1")  // no variant, nothing to record
        let store = try Store(path: path, create: false)
        #expect(try store.eventCounts().exposures == 0)  // nothing written on the calling thread
        let written = try flags.flushExposures()
        let window = EventWindow(since: Instant(seconds: 0), until: Instant(seconds: Int64(time(nil)) + 1))
        let units =
            try store.exposedUnits(flag: "checkout", variant: "on", in: window)
            + store.exposedUnits(flag: "checkout", variant: "off", in: window)
        // About a tenth of the keys, each sampled at all three of its evaluations.
        #expect(units > 150 && units < 250)
        #expect(Double(written) == 3 * units)
        #expect(try flags.flushExposures() == 0)
        #expect(flags.droppedExposures == 0)
        #expect(throws: RampError.self) { try FlagEvaluator(storePath: path, exposureSampling: 1.5) }
    }

    @Test func aCommittedChangeReachesTheSnapshotOnRefreshAndNotBefore() throws {
        let (ramp, path) = try makeRamp()
        let flags = try FlagEvaluator(storePath: path, refreshInterval: .seconds(3600))
        let keys = (0..<400).map { "user-\($0)" }
        func canaryCount() -> Int { keys.filter { flags.evaluate("checkout", targetingKey: $0).variant == "on" }.count }
        #expect(canaryCount() == 0)
        #expect(try flags.refresh() == false)  // nothing changed: the snapshot stays
        _ = try ramp.tick(now: now + TimeSpan(seconds: 3601), actor: "t")  // → 50%
        #expect(canaryCount() == 0)  // no I/O on the hot path: the old snapshot until a refresh
        #expect(try flags.refresh() == true)
        #expect((150..<250).contains(canaryCount()))
        _ = try ramp.kill(flag: "checkout", actor: "t", reason: nil, now: now + TimeSpan(seconds: 3700))
        #expect(try flags.refresh() == true)
        #expect(canaryCount() == 0)
        #expect(flags.evaluate("checkout", targetingKey: "x", attributes: ["email": "a@example.com"]).reason == .static)
    }

    @Test func theBackgroundTimerPicksUpChanges() throws {
        let (ramp, path) = try makeRamp()
        let flags = try FlagEvaluator(storePath: path, refreshInterval: .milliseconds(50))
        _ = try ramp.kill(flag: "checkout", actor: "t", reason: nil, now: now)
        let internalUser = { flags.evaluate("checkout", targetingKey: "u", attributes: ["email": "a@example.com"]) }
        var waited = 0
        while internalUser().variant == "on", waited < 200 {
            Thread.sleep(forTimeInterval: 0.05)
            waited += 1
        }
        #expect(internalUser().variant == "off")
    }

    @Test func manyThreadsEvaluateWhileTheSnapshotIsSwapped() throws {
        let path = try makeRamp().1
        let flags = try FlagEvaluator(storePath: path, refreshInterval: .seconds(3600))
        let failures = Mutex(0)
        let swaps = Mutex(0)
        let seen = Mutex(Set<String>())
        DispatchQueue.concurrentPerform(iterations: 8) { worker in
            if worker == 0 {
                guard let ramp = try? Ramp(storePath: path, create: false) else { return failures.withLock { $0 += 1 } }
                for i in 0..<20 {
                    let at = now + TimeSpan(seconds: Int64(i) * 10)
                    _ =
                        try?
                        (i % 2 == 0
                        ? ramp.kill(flag: "checkout", actor: "t", reason: nil, now: at)
                        : ramp.unkill(flag: "checkout", actor: "t", reason: nil, now: at))
                    if (try? flags.refresh()) == true { swaps.withLock { $0 += 1 } }
                    Thread.sleep(forTimeInterval: 0.002)
                }
                return
            }
            var variants = Set<String>()
            for i in 0..<20_000 {
                let result = flags.evaluate(
                    "checkout", targetingKey: "w\(worker)-\(i)", attributes: ["email": "a@example.com"])
                if result.variant != "on" && result.variant != "off" { failures.withLock { $0 += 1 } }
                if let variant = result.variant { variants.insert(variant) }
            }
            seen.withLock { $0.formUnion(variants) }
        }
        #expect(failures.withLock { $0 } == 0)
        // Every kill and unkill was picked up by a swap while the workers were reading.
        #expect(swaps.withLock { $0 } == 20)
        #expect(!seen.withLock { $0 }.isEmpty)
    }
}
