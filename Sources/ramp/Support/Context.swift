import Foundation
import RampCore
import RampEngine

/// What every command needs: where the store is, what time it is, who is acting, how to print.
struct Context {
    let args: Arguments
    /// The store this command opened, kept so that the CLI can report a failed export after the command.
    let opened = Opened()

    final class Opened {
        var ramp: Ramp?
        /// Set when this command created the store: it says so when it succeeds.
        var created = false
    }

    /// After the command: a store this command created is announced (on stderr, so stdout stays the command's).
    /// A store is never removed again, even when the command then fails: another process may already have written
    /// to it. Plans and settings are checked before a store is made, so a refused one makes none.
    func finish(succeeded: Bool) {
        guard opened.created, succeeded else { return }
        Output.error("created a new store at \(URL(fileURLWithPath: storePath).standardizedFileURL.path)")
    }

    /// `--store`, else `$RAMP_STORE`, else `./ramp.db`.
    var storePath: String {
        args["store"] ?? ProcessInfo.processInfo.environment["RAMP_STORE"] ?? "ramp.db"
    }

    /// `--now` or `$RAMP_NOW` when given (an injected clock), else nil.
    func injectedNow() throws(RampError) -> Instant? {
        guard let text = args["now"] ?? ProcessInfo.processInfo.environment["RAMP_NOW"] else { return nil }
        guard let instant = Instant(rfc3339: text) else {
            throw .badInput("--now: \"\(text)\" is not a time like 2026-01-01T00:00:00Z")
        }
        return instant
    }

    func now() throws(RampError) -> Instant { try injectedNow() ?? Clock.wallNow() }

    /// `--actor`, else the login user.
    var actor: String {
        if let actor = args["actor"], !actor.isEmpty { return actor }
        let env = ProcessInfo.processInfo.environment
        return env["USER"] ?? env["LOGNAME"] ?? ProcessInfo.processInfo.userName
    }

    /// The actor of automatic transitions: `tick@host`.
    var tickActor: String { args["actor"] ?? "tick@\(ProcessInfo.processInfo.hostName)" }

    var reason: String? { args["reason"] }
    var json: Bool { args.flag("json") }

    /// Opens the store (creating it when `create` is set, and saying so on stderr with its absolute path), checks
    /// a given time against the system clock, and clamps earlier times to the log's when the clock is the system's.
    func open(create: Bool = false) throws(RampError) -> Ramp {
        if let ramp = opened.ramp { return ramp }
        let existed = FileManager.default.fileExists(atPath: storePath)
        let ramp = try Ramp(storePath: storePath, create: create)
        opened.ramp = ramp
        ramp.onDelivery = NotifyCommands.report
        if create, !existed { opened.created = true }
        if let given = try injectedNow() {
            try ramp.admit(time: given)
        } else {
            ramp.clampsEarlierTimes = true
        }
        return ramp
    }
}

/// Output helpers shared by the commands.
enum Output {
    static func print(_ text: String, newline: Bool = true) {
        FileHandle.standardOutput.write(Data((newline ? text + "\n" : text).utf8))
    }

    /// One line on stderr, whatever the message holds (untrusted text is escaped).
    static func error(_ text: String) {
        FileHandle.standardError.write(Data(("ramp: " + Escape.line(text) + "\n").utf8))
    }

    /// A 20-cell bar: `[█████···············]`.
    static func bar(_ percent: Percent) -> String {
        let filled = Int((Double(percent.basisPoints) / Double(Percent.scale) * 20).rounded(.up))
        return "[" + String(repeating: "█", count: filled) + String(repeating: "·", count: 20 - filled) + "]"
    }

    static func percent(_ p: Percent?) -> String { p?.description ?? "–" }

    /// One transition as a line: time, flag, event, state and share change, reason.
    static func transition(_ e: AuditEntry) -> String {
        let states = "\(e.fromState ?? "–") → \(e.toState ?? "–")"
        return Escape.line(
            "\(e.at)  \(e.flag)  \(e.event): \(states), \(percent(e.fromPercent)) → \(percent(e.toPercent))  (\(e.reason))"
        )
    }
}
