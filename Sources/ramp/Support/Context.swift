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

    func open(create: Bool = false) throws(RampError) -> Ramp {
        if let ramp = opened.ramp { return ramp }
        let ramp = try Ramp(storePath: storePath, create: create)
        opened.ramp = ramp
        return ramp
    }
}

/// Output helpers shared by the commands.
enum Output {
    static func print(_ text: String) {
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }

    static func error(_ text: String) {
        FileHandle.standardError.write(Data(("ramp: " + text + "\n").utf8))
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
        return
            "\(e.at)  \(e.flag)  \(e.event): \(states), \(percent(e.fromPercent)) → \(percent(e.toPercent))  (\(e.reason))"
    }
}
