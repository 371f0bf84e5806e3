import Dispatch
import Foundation
public import RampCore
import RampStore

extension Ramp {
    /// ramp's own metrics in Prometheus' text exposition format: each flag's rollout state, share and step, each
    /// gate's last outcome, value and streak, transitions by event, audit entries, and the last tick.
    public func metricsText(now: Instant) throws(RampError) -> String {
        var m = MetricsExposition()
        let statuses = try status(flag: nil, now: now)
        let (counts, head, runtime) = try run { () throws(StoreError) in
            (try store.auditEventCounts(), try store.auditHead(), try store.runtime())
        }

        m.describe("ramp_rollout_state", .gauge, "1 for the state of each flag's latest rollout, 0 for the others.")
        for s in statuses {
            guard let rollout = s.rollout else { continue }
            for state in RolloutState.allCases {
                m.add(
                    "ramp_rollout_state", [("flag", s.flag.key), ("state", state.rawValue)],
                    rollout.state == state ? 1 : 0)
            }
        }
        m.describe(
            "ramp_canary_percent", .gauge, "The share of users served the canary now (0 when killed or disabled).")
        for s in statuses { m.add("ramp_canary_percent", [("flag", s.flag.key)], s.servedPercent.value) }
        m.describe("ramp_rollout_step", .gauge, "The latest rollout's current step, 1-based (0 before the first).")
        for s in statuses {
            if let r = s.rollout { m.add("ramp_rollout_step", [("flag", s.flag.key)], Double(r.step + 1)) }
        }
        m.describe("ramp_flag_killed", .gauge, "1 while the flag's kill switch is on.")
        for s in statuses { m.add("ramp_flag_killed", [("flag", s.flag.key)], s.flag.killed ? 1 : 0) }
        m.describe("ramp_flag_disabled", .gauge, "1 while the flag is disabled.")
        for s in statuses { m.add("ramp_flag_disabled", [("flag", s.flag.key)], s.flag.disabled ? 1 : 0) }
        m.describe(
            "ramp_max_hold_timestamp_seconds", .gauge,
            "When the current step's max_hold acts if the rollout is still held (progressing rollouts).")
        for s in statuses {
            if let at = s.maxHoldAt {
                m.add("ramp_max_hold_timestamp_seconds", [("flag", s.flag.key)], Double(at.seconds))
            }
        }

        var checks: [(flag: Flag, check: GateCheck)] = []
        for s in statuses where s.rollout?.state.isActive == true {
            guard case .array(let list)? = s.lastCheck?.evidence["checks"] else { continue }
            checks += list.compactMap(GateCheck.init(json:)).map { (s.flag, $0) }
        }
        m.describe("ramp_gate_outcome", .gauge, "1 for each gate's outcome at its last check, 0 for the others.")
        for (flag, check) in checks {
            for outcome in GateOutcome.allCases {
                m.add(
                    "ramp_gate_outcome", [("flag", flag.key), ("gate", check.gate), ("outcome", outcome.rawValue)],
                    check.outcome == outcome ? 1 : 0)
            }
        }
        m.describe("ramp_gate_value", .gauge, "Each gate's value at its last check, per variant read.")
        for (flag, check) in checks {
            if let value = check.value {
                m.add("ramp_gate_value", [("flag", flag.key), ("gate", check.gate), ("variant", flag.canary)], value)
            }
            if let value = check.baseline {
                m.add("ramp_gate_value", [("flag", flag.key), ("gate", check.gate), ("variant", flag.baseline)], value)
            }
        }
        m.describe("ramp_gate_streak", .gauge, "How many checks in a row each gate has had its last outcome.")
        for (flag, check) in checks {
            m.add("ramp_gate_streak", [("flag", flag.key), ("gate", check.gate)], Double(check.streak))
        }

        m.describe("ramp_transitions_total", .counter, "Audit entries by event (transitions, submits, settings).")
        for event in counts.keys.sorted() {
            m.add("ramp_transitions_total", [("event", event)], Double(counts[event]!))
        }
        m.describe("ramp_audit_entries_total", .counter, "Entries in the audit log.")
        m.add("ramp_audit_entries_total", [], Double(head?.seq ?? 0))
        m.describe(
            "ramp_last_tick_timestamp_seconds", .gauge,
            "When the last tick that ran to its end was (its clock), in Unix seconds.")
        if let at = runtime[Self.lastTickKey].flatMap(Instant.init(rfc3339:)) {
            m.add("ramp_last_tick_timestamp_seconds", [], Double(at.seconds))
        }
        m.describe(
            "ramp_notifications", .gauge,
            "Notifications in the outbox by state: pending (queued or to retry), failed (gave up), delivered (kept as long as gate checks)."
        )
        let outbox = try notificationCounts()
        for state in [OutboxItem.State.pending, .failed, .delivered] {
            m.add("ramp_notifications", [("state", state.rawValue)], Double(outbox[state] ?? 0))
        }
        m.describe("ramp_tick_duration_seconds", .gauge, "How long the last tick took, from start to commit.")
        if let seconds = runtime[Self.tickSecondsKey].flatMap(Double.init), seconds.isFinite {
            m.add("ramp_tick_duration_seconds", [], seconds)
        }
        return m.text
    }

    /// Changes whenever another connection commits to the store (SQLite's `PRAGMA data_version`).
    public func dataVersion() throws(RampError) -> Int64 {
        try run { () throws(StoreError) in try store.dataVersion() }
    }

    static let lastTickKey = "last_tick_at"
    static let tickSecondsKey = "last_tick_seconds"

    /// After a tick that ran to its end: when it was and how long it took, then the metrics file if configured.
    /// A failure here is reported (exit 1) but never hides the tick's committed transitions.
    func recordTick(now: Instant, seconds: Double) {
        do throws(RampError) {
            try run { () throws(StoreError) in
                try store.setRuntime([
                    Self.lastTickKey: now.description,
                    Self.tickSecondsKey: JSONValue.format((seconds * 1e6).rounded() / 1e6),
                ])
            }
            guard let path = try settings()[.metricsTextfile] else { return }
            try Self.writeAtomically(try metricsText(now: now), to: path)
        } catch {
            let failure = "the tick is committed, but its metrics could not be written: \(error); every tick retries it"
            exportFailure = exportFailure.map { $0 + "; " + failure } ?? failure
        }
    }
}
