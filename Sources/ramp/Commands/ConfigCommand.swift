import Foundation
import RampCore
import RampEngine

enum ConfigCommand {
    static let command = Command(
        name: "config", usage: "config [KEY [VALUE | --unset]] [--actor NAME] [--json]",
        summary:
            "Show or change the store's settings (bucketing, flagd export, metrics file, rehearsal, notification targets)",
        details: """
            ramp config                 every setting, with its value or default
            ramp config KEY             one setting's value
            ramp config KEY VALUE       set it (recorded in the audit log, with --actor or the login user)
            ramp config KEY --unset     back to the default

            Settings:
            \(Setting.allCases.map { "  \($0.rawValue.padding(toLength: 18, withPad: " ", startingAt: 0))\($0.summary)" }.joined(separator: "\n"))

            bucketing cannot change while a flag serves its canary to part of its users (it would reshuffle them).
            With export.flagd set, every command that changes the store rewrites that file (atomically) when it
            differs, and every tick re-checks it; a failed write exits 1 after the change is committed.
            """,
        values: ["actor"], switches: ["unset", "json"]
    ) { context in
        let words = context.args.positionals
        guard words.count <= 2 else { throw Arguments.UsageError(description: "expected at most KEY and VALUE") }
        // Setting a value may create the store (as submit does), so a new store can be configured first; a value
        // that cannot be used is refused before any store is made.
        if words.count == 2, let setting = Setting(rawValue: words[0]) { _ = try Ramp.checked(setting, words[1]) }
        let ramp = try context.open(create: words.count == 2)
        guard let name = words.first else {
            let values = try ramp.settings()
            if context.json {
                Output.json(
                    JSONValue.object(
                        Dictionary(uniqueKeysWithValues: Setting.allCases.map { ($0.rawValue, value(of: $0, values)) })
                    ).canonical)
            } else {
                for setting in Setting.allCases {
                    Output.lines(["\(setting.rawValue) = \(value(of: setting, values).stringValue ?? "(unset)")"])
                }
            }
            return ExitCode.ok
        }
        guard let setting = Setting(rawValue: name) else {
            throw Arguments.UsageError(
                description:
                    "unknown setting \"\(name)\" (known: \(Setting.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        let unset = context.args.flag("unset")
        if words.count == 1 && !unset {
            let shown = value(of: setting, try ramp.settings())
            if context.json { Output.json(shown.canonical) } else { Output.lines([shown.stringValue ?? "(unset)"]) }
            return ExitCode.ok
        }
        if words.count == 2 && unset { throw Arguments.UsageError(description: "give a VALUE or --unset, not both") }
        let entry = try ramp.configure(
            setting, unset ? nil : words[1], actor: context.actor, now: try context.now())
        if context.json {
            Output.json((entry?.json ?? .null).canonical)
        } else {
            Output.lines([
                entry.map { "\(setting.rawValue) = \($0.evidence["to"]?.stringValue ?? "(unset)")" } ?? "unchanged"
            ])
        }
        return ExitCode.ok
    }

    /// A setting's value, or its default.
    private static func value(of setting: Setting, _ values: [Setting: String]) -> JSONValue {
        (values[setting] ?? setting.defaultValue).map(JSONValue.string) ?? .null
    }
}
