import Foundation
public import RampCore

/// Where "now" comes from: the wall clock, or a fixed start that `run` advances by its interval without sleeping.
public enum Clock: Sendable {
    case system
    case simulated(start: Instant)

    public static func wallNow() -> Instant { Instant(seconds: Int64(Date().timeIntervalSince1970)) }
}

/// Set by SIGTERM/SIGINT; the run loop finishes its current tick and stops.
public final class StopSignal: @unchecked Sendable {  // `stopped` is only touched under `lock`
    private let lock = NSLock()
    private var stopped = false
    private let wake = DispatchSemaphore(value: 0)

    public init() {}

    public var isStopped: Bool { lock.withLock { stopped } }

    public func stop() {
        lock.withLock { stopped = true }
        wake.signal()
    }

    /// Sleeps up to `seconds`, returning early when stopped.
    func sleep(seconds: Int64) {
        guard !isStopped, seconds > 0 else { return }
        _ = wake.wait(timeout: .now() + .seconds(Int(seconds)))
    }
}

extension Ramp {
    /// Ticks every `interval` until stopped, or until no rollout can move on its own (`untilSettled`) — and, with
    /// `awaitExperiments`, no experiment runs (a rehearsal that simulates their users; elsewhere an experiment
    /// waits for events from outside, like a paused rollout for an operator, so it counts as settled).
    /// With a simulated clock it never sleeps: time jumps by `interval` after each tick.
    public func runLoop(
        interval: TimeSpan, untilSettled: Bool, awaitExperiments: Bool = false, clock: Clock, maxTicks: Int?,
        actor: String, concurrency: Int = 8,
        checkRetention: TimeSpan? = Ramp.defaultCheckRetention, reportNotDue: Bool = true, stop: StopSignal,
        onTick: (Instant, [TickOutcome]) -> Void
    ) throws(RampError) -> Int {
        var simulated: Instant? = if case .simulated(let start) = clock { start } else { nil }
        var ticks = 0
        while !stop.isStopped {
            let now = simulated ?? Clock.wallNow()
            onTick(
                now,
                try tick(
                    now: now, actor: actor, concurrency: concurrency, checkRetention: checkRetention,
                    reportNotDue: reportNotDue))
            ticks += 1
            if untilSettled, try !hasMovingRollouts() {
                if !awaitExperiments { break }
                if try !hasRunningExperiments() { break }
            }
            if let maxTicks, ticks >= maxTicks { break }
            if let current = simulated {
                simulated = current + interval
            } else {
                stop.sleep(seconds: interval.seconds)
            }
        }
        return ticks
    }
}
