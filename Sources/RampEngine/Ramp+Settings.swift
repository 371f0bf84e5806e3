import Foundation
public import RampCore
import RampStore

/// The store-wide settings `ramp config` reads and writes.
public enum Setting: String, Sendable, CaseIterable {
    /// Which bytes flagd's `fractional` hashes: `concat` (default) or `cbor`.
    case bucketing
    /// A flagd flag-definition file ramp rewrites after every change and re-checks on every tick.
    case exportFlagd = "export.flagd"
    /// `on` in a rehearsal store: times ahead of the system clock (a simulated clock) are allowed there.
    case rehearsal
    /// A `.prom` file every tick rewrites with `ramp metrics`, for node_exporter's textfile collector.
    case metricsTextfile = "metrics.textfile"
    /// Store-wide notification targets: a JSON array of targets, as in a plan's `notify`.
    case notify

    /// What an unset setting means.
    public var defaultValue: String? { self == .bucketing ? BucketingGeneration.concat.rawValue : nil }

    public var summary: String {
        switch self {
        case .bucketing:
            "fractional bucketing generation: "
                + BucketingGeneration.allCases.map { "\($0.rawValue) = \($0.summary)" }.joined(separator: "; ")
        case .exportFlagd:
            "flagd file kept current after every change and on every tick (a relative path is made absolute)"
        case .rehearsal:
            "on: a rehearsal store, where --now may be ahead of the system clock (set only while the store has no flags)"
        case .metricsTextfile:
            "a .prom file every tick rewrites with ramp's metrics, for node_exporter's textfile collector (made absolute)"
        case .notify:
            "store-wide notification targets, a JSON array as in a plan's \"notify\" (every rollout's events go to them)"
        }
    }
}

extension BucketingGeneration {
    /// The generation a stored `bucketing` setting names; the default when unset.
    init(stored text: String?) {
        self = text.flatMap(Self.init(rawValue:)) ?? Self(rawValue: Setting.bucketing.defaultValue!)!
    }
}

extension Ramp {
    /// Every setting that has a value.
    public func settings() throws(RampError) -> [Setting: String] {
        let stored = try run { () throws(StoreError) in try store.settings() }
        var all: [Setting: String] = [:]
        for (key, value) in stored { if let setting = Setting(rawValue: key) { all[setting] = value } }
        return all
    }

    /// The store's bucketing generation (default: the current Go flagd's).
    public func bucketing() throws(RampError) -> BucketingGeneration {
        let text = try run { () throws(StoreError) in try store.setting(Setting.bucketing.rawValue) }
        return BucketingGeneration(stored: text)
    }

    /// A setting's value checked and normalized (paths made absolute), before any store is opened.
    public static func checked(_ setting: Setting, _ value: String?) throws(RampError) -> String? {
        var value = value
        switch setting {
        case .bucketing:
            if let text = value, BucketingGeneration(rawValue: text) == nil {
                throw .badInput(
                    "bucketing: \"\(text)\" is not a generation (\(BucketingGeneration.allCases.map(\.rawValue).joined(separator: ", ")))"
                )
            }
        case .rehearsal:
            if let text = value, text != "on" { throw .badInput("rehearsal: \"\(text)\" is not on (or --unset)") }
        case .notify:
            if let text = value {
                let here = FileManager.default.currentDirectoryPath
                let targets: [NotifyTarget]
                do {
                    targets = try PlanParser.notifyTargets(text, baseDir: here)
                } catch {
                    throw .invalid(error)
                }
                // Stored in one canonical form, with a relative command path made absolute (cron runs elsewhere).
                value =
                    JSONValue.array(
                        targets.map { target in
                            var object = target.json.objectValue ?? [:]
                            object["base_dir"] = nil
                            if let first = target.command.first, first.contains("/"), !first.hasPrefix("/") {
                                object["command"] = .array(
                                    ([URL(fileURLWithPath: here).appendingPathComponent(first).standardizedFileURL.path]
                                        + target.command.dropFirst()).map(JSONValue.string))
                            }
                            return .object(object)
                        }
                    ).canonical
            }
        case .metricsTextfile:
            if let path = value {
                guard path.hasSuffix(".prom") else {
                    throw .badInput("metrics.textfile: \(path) must end in .prom (node_exporter reads only those)")
                }
                value = Self.absolute(path)
                let dir = URL(fileURLWithPath: value!).deletingLastPathComponent().path
                var isDirectory: ObjCBool = false
                guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDirectory), isDirectory.boolValue
                else { throw .badInput("metrics.textfile: \(dir) is not a folder") }
                if let problem = outputProblem(value!) { throw .badInput("metrics.textfile: \(value!) \(problem)") }
            }
        case .exportFlagd:
            if let path = value {
                guard !path.isEmpty else { throw .badInput("export.flagd: give a file path") }
                value = URL(fileURLWithPath: path).standardizedFileURL.path
                let dir = URL(fileURLWithPath: value!).deletingLastPathComponent().path
                var isDirectory: ObjCBool = false
                guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDirectory), isDirectory.boolValue
                else { throw .badInput("export.flagd: \(dir) is not a folder") }
                if let problem = outputProblem(value!) { throw .badInput("export.flagd: \(value!) \(problem)") }
            }
        }
        return value
    }

    /// Sets (or with nil, clears) a setting, with an audit entry. A new bucketing generation is refused while a flag
    /// is partway through a split, since it would move users in and out of the canary; an export path is made
    /// absolute so that cron, running elsewhere, writes the same file.
    @discardableResult
    public func configure(_ setting: Setting, _ value: String?, actor: String, now: Instant) throws(RampError)
        -> AuditEntry?
    {
        let value = try Self.checked(setting, value)
        let entry = try run { () throws(StoreError) in
            try store.immediate { () throws(StoreError) -> Result<AuditEntry?, RampError> in
                let before = try store.setting(setting.rawValue)
                // The same export path set again in a copied or moved store takes the export over for this store.
                let owner = try store.setting(Self.exportOwnerKey)
                let retakesExport =
                    setting == .exportFlagd && value != nil
                    && owner.map { !isThisStore($0) } == true
                if before == value, !retakesExport { return .success(nil) }
                if setting == .notify, let value {
                    let names = Set((try? PlanParser.notifyTargets(value, baseDir: "/"))?.map(\.name) ?? [])
                    for flag in try store.flags() {
                        guard let rollout = try store.latestRollout(flag: flag.key) else { continue }
                        if let clash = try planTargets(digest: rollout.planDigest).first(where: {
                            names.contains($0.name)
                        }) {
                            return .failure(
                                .conflict(
                                    "notify: \"\(clash.name)\" names a target of flag \(flag.key)'s plan already; "
                                        + "give the store's target another name"))
                        }
                    }
                }
                // Checked in the write transaction, so a plan submitted meanwhile cannot slip in.
                if setting == .rehearsal, case let count = try store.flags().count, count > 0 {
                    return .failure(
                        .conflict(
                            "rehearsal can only change in a store without flags (this one has \(count)): "
                                + "simulated time must never reach a live store"))
                }
                if setting == .bucketing,
                    let moving = try store.flags().first(where: {
                        !$0.killed && $0.canaryPercent > .zero && $0.canaryPercent < .full
                    })
                {
                    return .failure(
                        .conflict(
                            "cannot change bucketing while flag \"\(moving.key)\" serves its canary to \(moving.canaryPercent): "
                                + "it would move users in and out of the canary"))
                }
                try store.setSetting(setting.rawValue, value)
                var evidence: [String: JSONValue] = [
                    "setting": .string(setting.rawValue), "from": before.map(JSONValue.string) ?? .null,
                    "to": value.map(JSONValue.string) ?? .null,
                ]
                if setting == .exportFlagd {
                    // The export belongs to this store file: a copy elsewhere must not overwrite it.
                    let owner = value == nil ? nil : storeIdentity
                    try store.setSetting(Self.exportOwnerKey, owner)
                    evidence["store"] = owner.map(JSONValue.string) ?? .null
                }
                return .success(
                    try store.appendAudit(
                        AuditEntry(
                            seq: 0, at: now, actor: actor, rollout: nil, flag: "*",
                            event: .known(.configure),
                            fromState: nil, toState: nil, fromPercent: nil, toPercent: nil,
                            reason: "\(setting.rawValue) = \(value ?? "(unset)")",
                            evidence: .object(evidence), planDigest: nil)))
            }
        }.get()
        if entry != nil { exportAfterCommit() }
        return entry
    }

    /// What `syncFlagdExport` did.
    public enum ExportSync: Sendable, Equatable {
        case notConfigured
        case unchanged(path: String)
        case written(path: String)
    }

    /// The setting that names the store file an export was configured in.
    static let exportOwnerKey = "export.flagd.store"

    /// The path with symbolic links resolved, so one file reached two ways is one store.
    static func absolute(_ path: String) -> String {
        URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path
    }

    /// What tells this store from any other, however it is reached: a file's absolute path with links resolved,
    /// or "PostgreSQL store " and the id its schema was created with (`Store.storeID`).
    var storeIdentity: String {
        if let id = store.storeID { return "PostgreSQL store \(id)" }
        return Self.absolute(store.path)
    }

    /// Whether an export's recorded owner (`storeIdentity` when it was configured) is this store.
    func isThisStore(_ owner: String) -> Bool {
        owner.hasPrefix("PostgreSQL store ") ? owner == storeIdentity : Self.absolute(owner) == storeIdentity
    }

    /// Makes the configured flagd file match the store: rewritten atomically when it differs, left alone otherwise.
    /// A store copied or moved to another path does not write the export file its original configured.
    @discardableResult
    public func syncFlagdExport() throws(RampError) -> ExportSync {
        guard let path = try settings()[.exportFlagd] else { return .notConfigured }
        let owner = try run { () throws(StoreError) in try store.setting(Self.exportOwnerKey) }
        if let owner, !isThisStore(owner) {
            throw .conflict(
                "\(path) is the flagd export of the store at \(owner), and this store is \(storeIdentity) "
                    + "(a copy, or moved): not overwriting it; run `ramp config export.flagd PATH` to export this one")
        }
        // One writer at a time, each reading the store after it holds the lock: a slower process can never
        // rename an older document over a newer one.
        let url = URL(fileURLWithPath: path)
        let lockPath = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).lock").path
        let lock = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard lock >= 0 else { throw .system("\(lockPath): cannot open: \(String(cString: strerror(errno)))") }
        defer { close(lock) }
        while flock(lock, LOCK_EX) != 0 {
            guard errno == EINTR else { throw .system("\(lockPath): cannot lock: \(String(cString: strerror(errno)))") }
        }
        let document = try flagdDocument()
        if let current = FileManager.default.contents(atPath: path), current.elementsEqual(document.utf8) {
            return .unchanged(path: path)
        }
        try Self.writeAtomically(document, to: path)
        return .written(path: path)
    }

    /// After a commit: brings the export up to date. A failure is kept in `exportFailure` (the change itself is
    /// committed) and the next tick tries again.
    func exportAfterCommit() {
        do {
            try syncFlagdExport()
            exportFailure = nil
        } catch {
            exportFailure = "the change is committed, but the flagd export failed: \(error); every tick retries it"
        }
    }
}
