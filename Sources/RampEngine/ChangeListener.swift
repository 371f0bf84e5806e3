import Foundation
import RampStore
import Synchronization

/// Listens on a PostgreSQL store's `ramp_changes` channel, on a thread of its own, and calls `onChange` for every
/// notification (the store's triggers notify at each commit that changes flags or settings) and after every
/// (re)connection, since changes made while it was away sent nothing it heard. A lost connection is retried with a
/// growing pause (0.1 s up to 2 s); meanwhile the evaluator's polling timer keeps refreshing.
final class ChangeListener: Sendable {
    private final class State: Sendable {
        let stopped = Mutex(false)
        let connected = Mutex(false)
    }
    private let state = State()

    init(store: String, onChange: @escaping @Sendable () -> Void) {
        let state = self.state
        let thread = Thread {
            var connection: PostgresConnection?
            var pause = 0.1
            while !state.stopped.withLock({ $0 }) {
                guard let listening = connection else {
                    do {
                        let fresh = try PostgresConnection(store)
                        try fresh.listen("ramp_changes")
                        connection = fresh
                        state.connected.withLock { $0 = true }
                        pause = 0.1
                        onChange()
                    } catch {
                        // Sleep in short slices, so that stopping is never held up by the pause.
                        let until = Date().addingTimeInterval(pause)
                        while Date() < until, !state.stopped.withLock({ $0 }) { usleep(20_000) }
                        pause = min(pause * 2, 2)
                    }
                    continue
                }
                do {
                    if try listening.awaitNotifications(milliseconds: 100) > 0 { onChange() }
                } catch {
                    connection = nil
                    state.connected.withLock { $0 = false }
                }
            }
        }
        thread.name = "ramp-flag-listener"
        thread.start()
    }

    /// Whether the listening connection is up now.
    var isConnected: Bool { state.connected.withLock { $0 } }

    /// Ends the thread within about 100 ms (it holds no reference to the evaluator).
    func stop() { state.stopped.withLock { $0 = true } }
}
