import Foundation
import RampCore
import RampEngine
import RampStore
import Testing

/// One folder for this test process's stores, removed when the process exits.
let temporaryRoot: URL = {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("ramp-store-tests-\(getpid())")
    try! FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    atexit { try? FileManager.default.removeItem(atPath: temporaryRoot.path) }
    return url
}()

/// A fresh folder per test (Swift Testing runs tests in parallel), inside `temporaryRoot`.
func temporaryDirectory() -> URL {
    let url = temporaryRoot.appendingPathComponent(UUID().uuidString)
    try! FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

let now = Instant(seconds: 1_767_225_600)

func makeStore() throws -> Store {
    try Store(path: temporaryDirectory().appendingPathComponent("ramp.db").path, create: true)
}

@Suite struct StoreTests {
    @Test func aFlagsTargetingRoundTripsAndAReadOnlyStoreSeesItWithoutWriting() throws {
        let path = temporaryDirectory().appendingPathComponent("ramp.db").path
        let store = try Store(path: path, create: true)
        var flag = Flag(key: "f", variants: ["on": true, "off": false], baseline: "off", canary: "on")
        flag.rules = [
            TargetingRule(when: .segment("blocked"), variant: "off"),
            TargetingRule(when: .logic(["==": [["var": "plan"], "pro"]]), variant: "on"),
        ]
        flag.segments = [
            "blocked": ["in": [["var": "region"], ["cn-1"]]], "internal": ["ends_with": [["var": "email"], "@x.io"]],
        ]
        flag.canarySegments = ["internal"]
        flag.metadata = ["owner": "payments", "ticket": 1234, "experimental": true]
        flag.weights = ["off": 1, "on": 3]
        flag.canaryPercent = Percent(5)!
        try store.insertFlag(flag, now: now)
        try store.setSetting("bucketing", "cbor")
        let reader = try Store(readingOnly: path)
        let version = try reader.dataVersion()
        #expect(try reader.flag("f") == flag)
        #expect(try reader.setting("bucketing") == "cbor")
        #expect(throws: StoreError.self) { try reader.executeRaw("DELETE FROM settings") }
        try store.setSetting("bucketing", nil)
        #expect(try reader.dataVersion() != version)
        #expect(try reader.setting("bucketing") == nil)
    }

    @Test func createsTheSchemaOnceAndReopensWithoutChange() throws {
        let path = temporaryDirectory().appendingPathComponent("ramp.db").path
        let first = try Store(path: path, create: true)
        try first.insertFlag(Flag(key: "f", variants: ["a": 1, "b": 2], baseline: "a", canary: "b"), now: now)
        let before = try first.dump()
        #expect(before.hasPrefix("user_version=13\n"))
        let again = try Store(path: path, create: true)
        #expect(try again.dump() == before)
        #expect(try again.flag("f")?.variants == ["a": 1, "b": 2])
        #expect(try again.integrityCheck() == "ok")
    }

    /// A store from before flag metadata and weights (version 10) gains both columns, every flag with none, and
    /// the experiments table and exposure attributes (version 13), every exposure without attributes.
    @Test func aVersion10StoreGainsFlagMetadataWeightsAndExperiments() throws {
        let path = temporaryDirectory().appendingPathComponent("ramp.db").path
        let old = try Store(path: path, create: true)
        try old.insertFlag(Flag(key: "f", variants: ["a": 1, "b": 2], baseline: "a", canary: "b"), now: now)
        try old.executeRaw(
            """
            ALTER TABLE flags DROP COLUMN weights; ALTER TABLE flags DROP COLUMN metadata;
            DROP TABLE experiments; ALTER TABLE exposures DROP COLUMN attributes;
            INSERT INTO exposures(flag, variant, key, at) VALUES ('f', 'a', 'u1', 0);
            PRAGMA user_version = 10
            """)
        let upgraded = try Store(path: path, create: true)
        #expect(try upgraded.dump().hasPrefix("user_version=13\n"))
        #expect(try upgraded.flag("f")?.metadata == [:])
        #expect(try upgraded.flag("f")?.weights == [:])
        #expect(try upgraded.latestExperiment(flag: "f") == nil)
        let window = EventWindow(since: Instant(seconds: 0), until: Instant(seconds: 10))
        let exposures = try upgraded.exposureAttributes(flag: "f", in: window)
        #expect(exposures.count == 1 && exposures[0].key == "u1" && exposures[0].attributes == nil)
    }

    /// Weights past flagd's range in a store edited by hand are a malformed store, not an overflow.
    @Test func weightsOutOfRangeAreRefusedWhenRead() throws {
        let path = temporaryDirectory().appendingPathComponent("ramp.db").path
        let store = try Store(path: path, create: true)
        try store.insertFlag(Flag(key: "f", variants: ["a": 1, "b": 2], baseline: "a", canary: "b"), now: now)
        for weights in [#"{"a":1e15}"#, #"{"a":-1}"#, #"{"a":2147483647,"b":1}"#, #"{"a":0.5}"#] {
            try store.executeRaw("UPDATE flags SET weights = '\(weights)'")
            #expect(throws: StoreError.self) { try store.flag("f") }
        }
    }

    @Test func readingAMissingStoreCreatesNothing() throws {
        let path = temporaryDirectory().appendingPathComponent("absent.db").path
        #expect(throws: StoreError.self) { try Store(path: path, create: false) }
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    @Test func refusesAFileThatIsNotAStoreAndLeavesItAlone() throws {
        let url = temporaryDirectory().appendingPathComponent("notes.db")
        let garbage = Data("this is not a database, it is a shopping list\n".utf8 + Array(repeating: 0x41, count: 5000))
        try garbage.write(to: url)
        for create in [false, true] {
            do {
                _ = try Store(path: url.path, create: create)
                Issue.record("opened a file that is not a store")
            } catch {
                #expect(error.description.hasPrefix("\(url.path): not a usable ramp store"), "\(error)")
            }
        }
        #expect(try Data(contentsOf: url) == garbage)
    }

    @Test func refusesAStoreFromANewerRamp() throws {
        let path = temporaryDirectory().appendingPathComponent("ramp.db").path
        try Store(path: path, create: true).executeRaw("PRAGMA user_version = 99")
        do {
            _ = try Store(path: path, create: true)
            Issue.record("opened a newer store")
        } catch {
            #expect(error.description.contains("store schema version 99 is newer than this ramp understands (13)"))
        }
    }

    @Test(arguments: ["UPDATE audit SET reason = 'nothing happened'", "DELETE FROM audit"])
    func theAuditLogRefusesUpdatesAndDeletes(sql: String) throws {
        let store = try makeStore()
        try store.immediate { () throws(StoreError) in
            try store.appendAudit(
                AuditEntry(
                    seq: 0, at: now, actor: "a", rollout: nil, flag: "f", event: "kill", fromState: nil, toState: nil,
                    fromPercent: nil, toPercent: nil, reason: "r", evidence: [:], planDigest: nil))
        }
        let before = try store.dump()
        #expect(throws: StoreError.self) { try store.executeRaw(sql) }
        #expect(try store.dump() == before)
    }

    @Test func compareAndSetWritesOnlyOverTheExpectedVersion() throws {
        let store = try makeStore()
        try store.insertFlag(Flag(key: "f", variants: ["a": 1, "b": 2], baseline: "a", canary: "b"), now: now)
        try store.insertPlan(
            StoredPlan(digest: "d", flag: "f", file: "p.json", baseDir: "/", body: "{}", submittedAt: now))
        let id = try store.insertRollout(Rollout(id: 0, flag: "f", planDigest: "d"), now: now)
        var next = try #require(try store.rollout(id: id))
        next.state = .progressing
        next.step = 0
        next.version = 2
        #expect(try store.compareAndSet(next, expectedVersion: 1, now: now))
        var stale = next
        stale.state = .paused
        stale.version = 2
        #expect(try !store.compareAndSet(stale, expectedVersion: 1, now: now))
        #expect(try store.rollout(id: id)?.state == .progressing)
    }

    /// The tick reads a hold's cause and each gate's streak from their own columns; a row written before they
    /// existed (schema 9: both NULL) gives the same answer from its evidence.
    @Test func theLastCheckReadsTheSameFromItsColumnsAndFromOlderEvidence() throws {
        let store = try makeStore()
        try store.insertFlag(Flag(key: "f", variants: ["a": 1, "b": 2], baseline: "a", canary: "b"), now: now)
        try store.insertPlan(
            StoredPlan(digest: "d", flag: "f", file: "p.json", baseDir: "/", body: "{}", submittedAt: now))
        let id = try store.insertRollout(Rollout(id: 0, flag: "f", planDigest: "d"), now: now)
        var errors = GateCheck(gate: "errors", source: "s", value: 0.5, bound: "max 0.1", outcome: .fail, message: "m")
        errors.streak = 3
        let latency = GateCheck(gate: "lat\"ency", source: "s", value: nil, bound: "", outcome: .noData, message: "")
        let checks = [errors, latency]
        let evidence = ObservationRecord.evidence(checks: checks.map(\.json.canonical), holdCause: "progressing bake")
        #expect(
            evidence
                == JSONValue.object(["checks": .array(checks.map(\.json)), "hold_cause": "progressing bake"]).canonical)
        let streaks = [
            "errors": GateStreak(outcome: .fail, count: 3), "lat\"ency": GateStreak(outcome: .noData, count: 1),
        ]
        try store.recordObservation(
            rollout: id,
            ObservationRecord(
                checkedAt: now, reason: "hold", evidence: evidence, holdCause: "progressing bake", streaks: streaks),
            next: now + TimeSpan(seconds: 60), due: now + TimeSpan(seconds: 54))
        let expected = LastCheck(checkedAt: now, holdCause: "progressing bake", streaks: streaks)
        #expect(try store.lastCheck(rollout: id) == expected)
        #expect(try store.versionAndCheckTime(rollout: id)?.checkedAt == now)
        try store.executeRaw("UPDATE observations SET hold_cause = NULL, streaks = NULL")
        #expect(try store.lastCheck(rollout: id) == expected)
        #expect(try store.lastCheck(rollout: id + 1) == nil)
    }

    /// A transition writes only the flag's share and segments; its variants and rules stay as they were.
    @Test func aFlagShareIsWrittenWithoutTouchingTheRestOfTheFlag() throws {
        let store = try makeStore()
        var flag = Flag(key: "f", variants: ["a": 1, "b": 2], baseline: "a", canary: "b")
        flag.segments = ["internal": ["in": [["var": "email"], "x"]]]
        try store.insertFlag(flag, now: now)
        var share = try #require(try store.flagShare("f"))
        #expect(share == FlagShare(canaryPercent: .zero, canarySegments: [], killed: false, disabled: false))
        share.canaryPercent = Percent(basisPoints: 500)
        share.canarySegments = ["internal"]
        try store.setFlagShare("f", share, now: now)
        #expect(try store.flagShare("f") == share)
        var expected = flag
        expected.canaryPercent = Percent(basisPoints: 500)
        expected.canarySegments = ["internal"]
        #expect(try store.flag("f") == expected)
        #expect(try store.flagShare("missing") == nil)
    }

    @Test func aFlagHasAtMostOneActiveRolloutEvenWithoutTheEngine() throws {
        let store = try makeStore()
        try store.insertFlag(Flag(key: "f", variants: ["a": 1, "b": 2], baseline: "a", canary: "b"), now: now)
        try store.insertPlan(
            StoredPlan(digest: "d", flag: "f", file: "p.json", baseDir: "/", body: "{}", submittedAt: now))
        _ = try store.insertRollout(Rollout(id: 0, flag: "f", planDigest: "d"), now: now)
        #expect(throws: StoreError.self) {
            try store.insertRollout(Rollout(id: 0, flag: "f", planDigest: "d"), now: now)
        }
        _ = try store.insertRollout(Rollout(id: 0, flag: "f", planDigest: "d", state: .completed), now: now)
    }

    @Test func aFailedTransactionLeavesNothingBehind() throws {
        let store = try makeStore()
        let before = try store.dump()
        #expect(throws: StoreError.self) {
            try store.immediate { () throws(StoreError) in
                try store.insertFlag(Flag(key: "f", variants: ["a": 1, "b": 2], baseline: "a", canary: "b"), now: now)
                try store.insertFlag(Flag(key: "f", variants: ["a": 1, "b": 2], baseline: "a", canary: "b"), now: now)
            }
        }
        #expect(try store.dump() == before)
    }

    /// A refusal from SQLite keeps its extended result code (here SQLITE_CONSTRAINT_PRIMARYKEY, 1555).
    @Test func sqliteErrorsKeepTheirResultCode() throws {
        let store = try makeStore()
        let flag = Flag(key: "f", variants: ["a": 1, "b": 2], baseline: "a", canary: "b")
        try store.insertFlag(flag, now: now)
        do {
            try store.insertFlag(flag, now: now)
            Issue.record("a second flag with the same key was inserted")
        } catch {
            guard case .sql(_, let message, let code) = error else {
                Issue.record("expected an SQL error, got \(error)")
                return
            }
            #expect(code == 1555)
            #expect(message.contains("UNIQUE constraint failed: flags.key"))
            #expect(error.description.hasSuffix("(SQLite code 1555)"))
        }
    }

    /// A body that refuses (returns `.failure`) after writing rolls its transaction back: nothing it wrote is kept.
    @Test func aRefusalRollsBackWhatTheBodyWrote() throws {
        struct Refused: Error {}
        let store = try makeStore()
        let before = try store.dump()
        let result = try store.immediate { () throws(StoreError) -> Result<Int, Refused> in
            try store.insertFlag(Flag(key: "f", variants: ["a": 1, "b": 2], baseline: "a", canary: "b"), now: now)
            return .failure(Refused())
        }
        #expect(throws: Refused.self) { try result.get() }
        #expect(try store.dump() == before)
        let kept = try store.immediate { () throws(StoreError) -> Result<Int, Refused> in
            try store.insertFlag(Flag(key: "g", variants: ["a": 1, "b": 2], baseline: "a", canary: "b"), now: now)
            return .success(1)
        }
        #expect(try kept.get() == 1)
        #expect(try store.flag("g") != nil)
    }

    /// The query names its partial index (INDEXED BY), so SQLite fails rather than scan history if it cannot use it.
    @Test func activeRolloutsComeFromThePartialIndexWhateverTheHistory() throws {
        let store = try makeStore()
        try store.immediate { () throws(StoreError) in
            for i in 0..<300 {
                try store.insertFlag(
                    Flag(key: "f\(i)", variants: ["a": 1, "b": 2], baseline: "a", canary: "b"), now: now)
                if i == 0 {
                    try store.insertPlan(
                        StoredPlan(digest: "d", flag: "f0", file: "p.json", baseDir: "/", body: "{}", submittedAt: now))
                }
                let state: RolloutState = i % 100 == 7 ? .progressing : (i % 2 == 0 ? .completed : .rolledBack)
                _ = try store.insertRollout(Rollout(id: 0, flag: "f\(i)", planDigest: "d", state: state), now: now)
            }
        }
        #expect(try store.activeRollouts().map(\.rollout.flag) == ["f107", "f207", "f7"])
    }
}
