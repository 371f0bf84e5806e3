public import RampCore
import RampStore

extension Ramp {
    /// The times ramp keeps: from the Unix epoch to the last second of 9999.
    public static let calendar: ClosedRange<Int64> = 0...253_402_300_799

    /// How far ahead of the system clock a given time may be in a live store.
    public static let futureAllowance = TimeSpan(seconds: 300)

    /// Whether this is a rehearsal store (`ramp demo`'s, or `ramp config rehearsal on` while it had no flags).
    public func isRehearsal() throws(RampError) -> Bool { try settings()[.rehearsal] == "on" }

    /// Refuses, in a live store, a time more than `futureAllowance` ahead of the system clock: a mistaken `--now`
    /// would date entries in the future and make real ticks skip the rollout until then.
    public func admit(time: Instant, clock: Instant = Clock.wallNow()) throws(RampError) {
        // Stored times are Unix seconds from 1970 (a rollout's next check starts at 0) written as years up to 9999,
        // in any store.
        try Self.requireCalendar(time)
        guard time.seconds > clock.seconds + Self.futureAllowance.seconds, try !isRehearsal() else { return }
        throw Self.aheadOfClock(time, clock)
    }

    /// The same check for a store that does not exist yet (a new store is live), made before it is created, so a
    /// refused command leaves no store behind.
    public static func admitInNewStore(time: Instant, clock: Instant = Clock.wallNow()) throws(RampError) {
        try requireCalendar(time)
        guard time.seconds > clock.seconds + futureAllowance.seconds else { return }
        throw aheadOfClock(time, clock)
    }

    /// Refuses a time outside `calendar`, in any store.
    static func requireCalendar(_ time: Instant) throws(RampError) {
        guard calendar.contains(time.seconds) else {
            throw .badInput("the time \(time) is outside the years ramp keeps (1970 to 9999)")
        }
    }

    static func aheadOfClock(_ time: Instant, _ clock: Instant) -> RampError {
        .badInput(
            "the time \(time) is \(TimeSpan(seconds: time.seconds - clock.seconds)) ahead of this machine's clock "
                + "(\(clock)); a live store takes no future times (simulate in a rehearsal store: ramp demo, or "
                + "ramp config rehearsal on in a new store)")
    }

    /// With the system clock as the time source, an entry that would be dated before the newest (the clock
    /// stepped back) takes the newest entry's time; a time given by hand that early is refused.
    public var clampsEarlierTimes: Bool {
        get { store.earlierTimes == .clamp }
        set { store.earlierTimes = newValue ? .clamp : .refuse }
    }
}
