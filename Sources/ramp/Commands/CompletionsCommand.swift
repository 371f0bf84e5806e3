import RampCore
import RampEngine

enum CompletionsCommand {
    static let command = Command(
        name: "completions", usage: "completions (bash | zsh | fish | flags)",
        summary: "Print shell completions (generated from the same table as --help), or the store's flag keys",
        details: """
            bash    source <(ramp completions bash)            (or save it in your bash-completion folder)
            zsh     source <(ramp completions zsh)             (or save it as _ramp on your $fpath)
            fish    ramp completions fish | source             (or save it as ~/.config/fish/completions/ramp.fish)
            flags   the flag keys of the store (--store, $RAMP_STORE, else ./ramp.db), one per line; nothing and
                    exit 0 when there is no store: the completions call it to complete FLAG arguments.
            The man page comes from the same table: ramp help --man > ramp.1; man -l ramp.1
            """
    ) { context in
        try context.args.expect(["shell"])
        switch context.args.positionals[0] {
        case "bash": Output.raw(Completions.bash, newline: false)
        case "zsh": Output.raw(Completions.zsh, newline: false)
        case "fish": Output.raw(Completions.fish, newline: false)
        case "flags":
            guard let ramp = try? context.open() else { return ExitCode.ok }
            for status in (try? ramp.status(flag: nil, now: Clock.wallNow())) ?? [] { Output.print(status.flag.key) }
        case let other:
            throw Arguments.UsageError(description: "\"\(other)\" is not bash, zsh, fish or flags")
        }
        return ExitCode.ok
    }
}
