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
        let shown =
            ConnectionString.isPostgres(storePath)
            ? ConnectionString.redacted(storePath) : URL(fileURLWithPath: storePath).standardizedFileURL.path
        Output.error("created a new store at \(shown)")
    }

    /// `--store`, else `$RAMP_STORE`, else `./ramp.db`.
    var storePath: String {
        args["store"] ?? ProcessInfo.processInfo.environment["RAMP_STORE"] ?? "ramp.db"
    }

    /// Refuses a store that names nothing (empty), libpq's key=value form (ramp would take it for a file name),
    /// and a PostgreSQL password in `--store`: the command line is there for anyone on the host to read (`ps`).
    /// libpq reads the password from PGPASSWORD or ~/.pgpass; `$RAMP_STORE` may hold it too.
    func checkStoreArgument() throws(RampError) {
        if let given = args["store"] {
            try Self.checkStore(given, option: "--store", commandLine: true)
        } else if let environment = ProcessInfo.processInfo.environment["RAMP_STORE"] {
            try Self.checkStore(environment, option: "RAMP_STORE", commandLine: false)
        }
    }

    static func checkStore(_ value: String, option: String, commandLine: Bool) throws(RampError) {
        guard !value.isEmpty else {
            throw .badInput("\(option) is empty: name a store file or a postgres:// connection string")
        }
        if ConnectionString.isKeywordForm(value) {
            throw .badInput(
                "\(option): \(ConnectionString.redacted(value)) is libpq's key=value form, which ramp does not take; "
                    + "write it as postgres://USER@HOST:PORT/DATABASE")
        }
        if commandLine, ConnectionString.isPostgres(value), ConnectionString.redacted(value) != value {
            throw .badInput(
                "\(option): \(ConnectionString.redacted(value)) has a password, which the command line shows to "
                    + "anyone on this host (ps); put it in ~/.pgpass or PGPASSWORD, or the whole string in RAMP_STORE")
        }
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
        try checkStoreArgument()
        // Only a command that may create the store asks whether it exists (on PostgreSQL, one more connection).
        let existed = create ? Self.exists(storePath) : true
        if create, !existed, let given = try injectedNow() { try Ramp.admitInNewStore(time: given) }
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

extension Context {
    /// Whether a store is there already: a file, or a PostgreSQL database with a ramp schema (or anything else
    /// that opening it would refuse).
    static func exists(_ store: String) -> Bool {
        guard ConnectionString.isPostgres(store) else { return FileManager.default.fileExists(atPath: store) }
        do {
            _ = try Ramp(storePath: store, create: false)
            return true
        } catch .store(.missing) {
            return false
        } catch {
            return true
        }
    }
}

/// Output helpers shared by the commands.
enum Output {
    /// Prints the command's own lines. A control character inside a line (from text that came from outside: a
    /// source's message, an actor, a path) is escaped, so no output hides a terminal code; text that may hold a
    /// line break goes through `lines`, which escapes each line whole, so no line can be forged.
    static func print(_ text: String, newline: Bool = true) {
        let escaped =
            text.unicodeScalars.contains { $0 != "\n" && $0 != "\t" && Escape.isControl($0) }
            ? text.split(separator: "\n", omittingEmptySubsequences: false)
                .map { Escape.line(String($0), keepingTabs: true) }.joined(separator: "\n")
            : text
        raw(escaped, newline: newline)
    }

    /// Prints one JSON document: characters a terminal would act on, which JSON allows raw inside strings (DEL, C1,
    /// the line separators, the invisible format characters), are written as `\uXXXX` escapes, the same document.
    static func json(_ text: String) { raw(jsonSafe(text)) }

    /// `text` (JSON) with those characters written as `\uXXXX`.
    static func jsonSafe(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: Escape.isControl) else { return text }
        var out = ""
        for scalar in text.unicodeScalars {
            if Escape.isControl(scalar) {
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// Prints each element as exactly one line, whatever it holds.
    static func lines(_ lines: [String]) {
        raw(lines.map { Escape.line($0) }.joined(separator: "\n"))
    }

    /// Prints text as it is: generated documents (completions, the man page, a report) and terminal codes of our own.
    static func raw(_ text: String, newline: Bool = true) {
        FileHandle.standardOutput.write(Data((newline ? text + "\n" : text).utf8))
    }

    /// One line on stderr, whatever the message holds (untrusted text is escaped).
    static func error(_ text: String) {
        // Bounded: a message that quotes a megabyte of input is still one readable line.
        let limit = 2_000
        let shown =
            text.unicodeScalars.count <= limit
            ? text
            : String(String.UnicodeScalarView(text.unicodeScalars.prefix(limit)))
                + "… (\(text.unicodeScalars.count - limit) more characters)"
        FileHandle.standardError.write(Data(("ramp: " + Escape.line(shown) + "\n").utf8))
    }

    /// A 20-cell bar: `[█████···············]`.
    static func bar(_ percent: Percent) -> String {
        let filled = Int((Double(percent.basisPoints) / Double(Percent.scale) * 20).rounded(.up))
        return "[" + String(repeating: "█", count: filled) + String(repeating: "·", count: 20 - filled) + "]"
    }

    static func percent(_ p: Percent?) -> String { p?.description ?? "–" }

    /// One transition as a line: time, flag, event, state and share change, reason.
    static func transition(_ e: AuditEntry) -> String {
        if e.rollout == nil, e.fromState == nil, e.toState == nil {
            return Escape.line("\(e.at)  \(e.flag)  \(e.event): \(e.reason)")
        }
        let states = "\(e.fromState ?? "–") → \(e.toState ?? "–")"
        return Escape.line(
            "\(e.at)  \(e.flag)  \(e.event): \(states), \(percent(e.fromPercent)) → \(percent(e.toPercent))  (\(e.reason))"
        )
    }
}
