import Foundation
public import RampCore
import RampStore
import Synchronization

/// Evaluates ramp's flags inside an application, with no I/O on the hot path.
///
/// It opens the store read-only and keeps an immutable snapshot of every flag with its targeting compiled. A
/// background timer asks the store whether it changed (SQLite's `PRAGMA data_version`; on PostgreSQL the
/// transaction ids of the flag and setting rows, `Store.flagsVersion`) and swaps in a new snapshot when it did, so a rollout step or a kill
/// reaches the application within `refreshInterval`. On a PostgreSQL store (`postgres://…`) it also listens for
/// the store's notifications (`LISTEN ramp_changes`, sent at every commit that changes flags or settings) and
/// refreshes at once, so a change reaches every evaluator on every host within milliseconds; when that connection
/// drops, the timer's polling carries on, the listener reconnects by itself, and the last snapshot keeps being
/// served meanwhile. Safe to call from any number of threads.
///
/// ```swift
/// let flags = try FlagEvaluator(storePath: "/var/lib/ramp/ramp.db")
/// let result = flags.evaluate("checkout-v2", targetingKey: user.id, attributes: ["email": .string(user.email)])
/// if result.variant == "on" { showNewCheckout() }
/// ```
///
/// With `exposureSampling` above 0 it also records exposures for statistical gates over the events source: the
/// evaluations of a sampled share of targeting keys (the same keys every time, chosen by hash, so a sampled
/// user's outcomes always have their exposure) are buffered in memory and written to the store by the background
/// timer, one transaction per flush, never on the calling thread.
public final class FlagEvaluator: Sendable {
    /// One consistent view of the store: every flag compiled, and the bucketing generation.
    final class Snapshot: Sendable {
        let flags: [String: CompiledFlag]
        /// The same flags by their `KeyIndex` number, for `Handle`s.
        let byIndex: [CompiledFlag?]
        let bucketing: BucketingGeneration
        let dataVersion: Int64

        init(flags: [String: CompiledFlag], keys: KeyIndex, bucketing: BucketingGeneration, dataVersion: Int64) {
            self.flags = flags
            let numbers = keys.numbers(for: flags.keys)
            var byIndex = [CompiledFlag?](repeating: nil, count: numbers.count)
            for (key, compiled) in flags {
                if let number = numbers[key] { byIndex[number] = compiled }
            }
            self.byIndex = byIndex
            self.bucketing = bucketing
            self.dataVersion = dataVersion
        }
    }

    /// Every flag key this evaluator has seen, numbered once for good (flags are never deleted), so that a
    /// `Handle` finds its flag in any later snapshot by number, without hashing the key.
    final class KeyIndex: Sendable {
        private let numbers = Mutex<[String: Int]>([:])

        /// The numbers of every key seen so far, `keys` included (numbered now when new).
        func numbers(for keys: some Sequence<String>) -> [String: Int] {
            numbers.withLock { numbers in
                for key in keys where numbers[key] == nil { numbers[key] = numbers.count }
                return numbers
            }
        }
    }

    /// A flag looked up once, for evaluations that skip hashing its key (`evaluate(_:context:type:)` with a
    /// handle). A handle works only with the evaluator that made it; a flag that does not exist yet answers
    /// `FLAG_NOT_FOUND` until a refresh brings it.
    public struct Handle: Sendable {
        public let key: String
        let number: Int
        let owner: ObjectIdentifier
    }

    private let keys: KeyIndex

    private let snapshot: Mutex<Snapshot>
    /// The reading connection; nil after a PostgreSQL connection failed, reopened by the next refresh.
    private let reader: Mutex<Store?>
    /// On a PostgreSQL store, the thread that listens for its change notifications.
    private let listener = Mutex<ChangeListener?>(nil)
    private let lastError = Mutex<String?>(nil)
    private let timer: Mutex<any DispatchSourceTimer>

    /// How often the background timer checks the store for changes.
    public let refreshInterval: Duration
    /// The share of targeting keys whose exposures are recorded (0: none).
    public let exposureSampling: Double
    /// Sampled exposures not yet written, and how many were dropped because the buffer was full.
    private let pending = Mutex<(exposures: [Exposure], dropped: Int)>(([], 0))
    /// A writable connection, opened at the first flush.
    private let writer = Mutex<Store?>(nil)
    private let storePath: String
    /// Where evaluation time comes from.
    public let clock: Clock
    /// Exposures kept in memory at most between flushes; beyond it new ones are dropped (and counted).
    public static let exposureBufferLimit = 1_000_000

    /// `init(storePath:…)` by another name: `store` is a file path or a `postgres://` connection string.
    public convenience init(
        store: String, refreshInterval: Duration = .seconds(1), exposureSampling: Double = 0, clock: Clock = .system
    ) throws(RampError) {
        try self.init(
            storePath: store, refreshInterval: refreshInterval, exposureSampling: exposureSampling, clock: clock)
    }

    /// Opens `storePath` (a file, or a `postgres://` connection string) read-only and loads every flag; fails when
    /// the store cannot be read. `exposureSampling` (0 to 1) is the share of targeting keys whose exposures are
    /// recorded.
    ///
    /// `clock` gives `$flagd.timestamp` and the time of recorded exposures: the system clock, or a fixed time
    /// (`.simulated(start:)`, for tests and replays).
    public init(
        storePath: String, refreshInterval: Duration = .seconds(1), exposureSampling: Double = 0,
        clock: Clock = .system
    ) throws(RampError) {
        guard exposureSampling >= 0, exposureSampling <= 1 else {
            throw .badInput("exposureSampling \(exposureSampling) is not between 0 and 1")
        }
        self.exposureSampling = exposureSampling
        self.storePath = storePath
        self.clock = clock
        let store: Store
        do {
            store = try Store(readingOnly: storePath)
        } catch {
            throw .store(error)
        }
        let keys = KeyIndex()
        self.keys = keys
        let first = try Self.load(store, keys: keys)
        snapshot = Mutex(first)
        reader = Mutex(store)
        self.refreshInterval = refreshInterval
        let source = DispatchSource.makeTimerSource(queue: DispatchQueue.global(qos: .utility))
        timer = Mutex(source)
        let nanoseconds =
            refreshInterval.components.seconds * 1_000_000_000 + refreshInterval.components.attoseconds / 1_000_000_000
        let interval = DispatchTimeInterval.nanoseconds(Int(max(nanoseconds, 1_000_000)))
        timer.withLock { source in
            source.schedule(deadline: .now() + interval, repeating: interval)
            source.setEventHandler { [weak self] in
                _ = try? self?.refresh()
                _ = try? self?.flushExposures()
            }
            source.resume()
        }
        if ConnectionString.isPostgres(storePath) {
            let fresh = ChangeListener(store: storePath) { [weak self] in _ = try? self?.refresh() }
            listener.withLock { $0 = fresh }
        }
    }

    /// Whether this evaluator hears the store's change notifications now (a PostgreSQL store whose listening
    /// connection is up); false on SQLite, where the timer's polling is the only way.
    public var isListening: Bool { listener.withLock { $0?.isConnected ?? false } }

    deinit {
        listener.withLock { $0?.stop() }
        timer.withLock { $0.cancel() }
        _ = try? flushExposures()
    }

    /// What `flag` serves to this caller. Never throws: an unknown flag is `ERROR`/`FLAG_NOT_FOUND`, a value of
    /// another type than `type` is `TYPE_MISMATCH`.
    public func evaluate(
        _ flag: String, context: EvaluationContext, type: Resolution.ValueType? = nil
    ) -> Resolution {
        let current = snapshot.withLock { $0 }
        guard let compiled = current.flags[flag] else {
            return .error(.flagNotFound, "unknown flag \"\(flag)\"")
        }
        return evaluate(compiled, in: current, key: flag, context: context, type: type)
    }

    /// A handle on `flag`, for evaluations that skip looking its key up.
    public func handle(_ flag: String) -> Handle {
        Handle(key: flag, number: keys.numbers(for: [flag])[flag] ?? -1, owner: ObjectIdentifier(keys))
    }

    /// What the handle's flag serves to this caller, as `evaluate(_:context:type:)` answers for its key.
    public func evaluate(_ handle: Handle, context: EvaluationContext, type: Resolution.ValueType? = nil)
        -> Resolution
    {
        guard handle.owner == ObjectIdentifier(keys) else { return evaluate(handle.key, context: context, type: type) }
        let current = snapshot.withLock { $0 }
        guard current.byIndex.indices.contains(handle.number), let compiled = current.byIndex[handle.number] else {
            return .error(.flagNotFound, "unknown flag \"\(handle.key)\"")
        }
        return evaluate(compiled, in: current, key: handle.key, context: context, type: type)
    }

    private func evaluate(
        _ compiled: CompiledFlag, in current: Snapshot, key flag: String, context: EvaluationContext,
        type: Resolution.ValueType?
    ) -> Resolution {
        let now: Int64
        switch clock {
        case .system: now = Int64(time(nil))
        case .simulated(let start): now = start.seconds
        }
        var result = compiled.resolve(context, timestamp: now, bucketing: current.bucketing)
        if type != nil { result = result.expecting(type) }
        if exposureSampling > 0, let variant = result.variant, let key = context.targetingKey,
            key.utf8.count <= Ramp.keyLimit, isSampled(key)
        {
            let exposure = Exposure(flag: flag, variant: variant, key: key, at: Instant(seconds: now))
            pending.withLock { buffer in
                if buffer.exposures.count < Self.exposureBufferLimit {
                    buffer.exposures.append(exposure)
                } else {
                    buffer.dropped += 1
                }
            }
        }
        return result
    }

    /// Whether `key`'s exposures are recorded: its murmur3 hash (salted, so it is independent of any flag's
    /// bucketing) below the sampling share.
    private func isSampled(_ key: String) -> Bool {
        exposureSampling >= 1
            || Double(Bucketing.hash("ramp-exposure-sample/" + key, generation: .concat)) < exposureSampling
                * 4_294_967_296
    }

    /// Writes the buffered exposures to the store in one transaction; the background timer calls this every
    /// `refreshInterval`. Returns how many were written. On failure they stay buffered for the next flush.
    @discardableResult
    public func flushExposures() throws(RampError) -> Int {
        let batch = pending.withLock { buffer in
            defer { buffer.exposures = [] }
            return buffer.exposures
        }
        guard !batch.isEmpty else { return 0 }
        let failure: StoreError? = writer.withLock { store in
            do {
                if store == nil { store = try Store(path: storePath, create: false) }
                try store!.immediate { () throws(StoreError) in try store!.record(exposures: batch, outcomes: []) }
                return nil
            } catch let error as StoreError {
                // A PostgreSQL connection that failed is opened afresh at the next flush.
                if store?.backend == .postgres { store = nil }
                return error
            } catch {
                return StoreError.sql(path: storePath, message: "\(error)")
            }
        }
        if let failure {
            pending.withLock { buffer in
                let room = max(0, Self.exposureBufferLimit - buffer.exposures.count)
                buffer.exposures.insert(contentsOf: batch.prefix(room), at: 0)
                buffer.dropped += max(0, batch.count - room)
            }
            throw .store(failure)
        }
        return batch.count
    }

    /// Sampled exposures dropped because the buffer was full (the store unwritable for too long).
    public var droppedExposures: Int { pending.withLock { $0.dropped } }

    /// What `flag` serves to `targetingKey` with these attributes.
    public func evaluate(
        _ flag: String, targetingKey: String?, attributes: [String: JSONValue] = [:],
        type: Resolution.ValueType? = nil
    ) -> Resolution {
        evaluate(flag, context: EvaluationContext(targetingKey: targetingKey, attributes: attributes), type: type)
    }

    /// `flag`'s value when it is a boolean; `fallback` when the flag is unknown, disabled, failed or of another type.
    public func bool(
        _ flag: String, default fallback: Bool, targetingKey: String?, attributes: [String: JSONValue] = [:]
    ) -> Bool {
        evaluate(flag, targetingKey: targetingKey, attributes: attributes).bool(default: fallback)
    }

    /// `flag`'s value when it is a string, else `fallback`.
    public func string(
        _ flag: String, default fallback: String, targetingKey: String?, attributes: [String: JSONValue] = [:]
    ) -> String {
        evaluate(flag, targetingKey: targetingKey, attributes: attributes).string(default: fallback)
    }

    /// `flag`'s value when it is a number that is exactly an `Int`, else `fallback`.
    public func int(
        _ flag: String, default fallback: Int, targetingKey: String?, attributes: [String: JSONValue] = [:]
    ) -> Int {
        evaluate(flag, targetingKey: targetingKey, attributes: attributes).int(default: fallback)
    }

    /// `flag`'s value when it is a number, else `fallback`.
    public func double(
        _ flag: String, default fallback: Double, targetingKey: String?, attributes: [String: JSONValue] = [:]
    ) -> Double {
        evaluate(flag, targetingKey: targetingKey, attributes: attributes).double(default: fallback)
    }

    /// Checks the store now and swaps in a new snapshot if it changed; true when it did. The background timer
    /// calls this; an application may too (after it changed the store itself, say). A failure keeps the last good
    /// snapshot and is kept in `lastRefreshError`.
    @discardableResult
    public func refresh() throws(RampError) -> Bool {
        let result: Result<Snapshot?, RampError> = reader.withLock { reading in
            // A PostgreSQL connection that failed (the server restarted, the backend was ended) is opened afresh
            // and the refresh tried once more on it.
            let postgres = ConnectionString.isPostgres(storePath)
            var attempt = 0
            while true {
                attempt += 1
                let reopened = reading == nil
                do {
                    let current = snapshot.withLock { $0 }
                    let store = try reading ?? Store(readingOnly: storePath)
                    reading = store
                    guard try store.flagsVersion() != current.dataVersion else { return .success(nil) }
                    // Swapped in while the reader is held: a refresh from the timer and one from the listener
                    // never put an older snapshot over a newer one.
                    let fresh = try Self.load(store, keys: keys)
                    snapshot.withLock { $0 = fresh }
                    return .success(fresh)
                } catch {
                    if postgres { reading = nil }
                    if postgres, !reopened, attempt == 1 { continue }
                    if let error = error as? RampError { return .failure(error) }
                    if let error = error as? StoreError { return .failure(.store(error)) }
                    return .failure(.badInput("\(error)"))
                }
            }
        }
        switch result {
        case .success(nil):
            lastError.withLock { $0 = nil }
            return false
        case .success:
            lastError.withLock { $0 = nil }
            return true
        case .failure(let error):
            lastError.withLock { $0 = error.description }
            throw error
        }
    }

    /// Why the last refresh failed, or nil when it worked.
    public var lastRefreshError: String? { lastError.withLock { $0 } }

    /// The flags in the current snapshot.
    public var flagKeys: [String] { snapshot.withLock { $0 }.flags.keys.sorted() }

    /// Reads every flag and the bucketing generation in one read transaction, so the snapshot is consistent.
    private static func load(_ store: Store, keys: KeyIndex) throws(RampError) -> Snapshot {
        do {
            let (version, flags, bucketing) = try store.reading { () throws(StoreError) in
                (
                    try store.flagsVersion(), try store.flags(),
                    BucketingGeneration(stored: try store.setting(Setting.bucketing.rawValue))
                )
            }
            return Snapshot(
                flags: Dictionary(uniqueKeysWithValues: flags.map { ($0.key, CompiledFlag($0)) }), keys: keys,
                bucketing: bucketing, dataVersion: version)
        } catch {
            throw .store(error)
        }
    }
}
