import Foundation
import Testing

/// Completions and the man page, generated from the command table, checked by the real shells and man.
@Suite struct ShellCompletionTests {
    /// Runs `shell -c script` in the sandbox with the built ramp first on PATH; stdout and stderr together.
    static func run(_ box: Sandbox, _ shell: String, _ script: String) throws -> (Int32, String) {
        guard let path = PrometheusServer.which(shell) else {
            Issue.record("\(shell) is not installed (Tests/run-all.sh installs it)")
            return (-1, "")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = ["-c", script]
        process.currentDirectoryURL = box.dir
        var environment = ProcessInfo.processInfo.environment
        environment["PATH"] =
            URL(fileURLWithPath: Sandbox.binary).deletingLastPathComponent().path + ":"
            + (environment["PATH"] ?? "/usr/bin:/bin")
        environment["RAMP_STORE"] = box.store
        environment["HOME"] = box.dir.path
        process.environment = environment
        let out = box.dir.appendingPathComponent("shell-\(UUID().uuidString).txt")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        let handle = try FileHandle(forWritingTo: out)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        process.waitUntilExit()
        return (process.terminationStatus, try String(contentsOf: out, encoding: .utf8))
    }

    static func sandboxWithFlags() -> Sandbox {
        let box = Sandbox()
        box.ramp(["submit", box.plan("checkout"), "--now", t(0)])
        box.ramp(["submit", box.plan("search"), "--now", t(0)])
        return box
    }

    @Test func bashCompletesCommandsSubcommandsOptionsAndFlagNamesFromTheStore() throws {
        let box = Self.sandboxWithFlags()
        let (status, output) = try Self.run(
            box, "bash",
            #"""
            source <(ramp completions bash)
            complete -p ramp
            try() { COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _ramp; echo "${COMPREPLY[*]}"; }
            try ramp pa
            try ramp pause ""
            try ramp audit v
            try ramp tick --verb
            try ramp status s
            """#)
        #expect(status == 0, "\(output)")
        #expect(output == "complete -F _ramp ramp\npause\ncheckout search\nverify\n--verbose\nsearch\n", "\(output)")
    }

    @Test func fishCompletesTheSameFromTheSameTable() throws {
        let box = Self.sandboxWithFlags()
        let (status, output) = try Self.run(
            box, "fish",
            #"""
            ramp completions fish | source
            complete -C "ramp pa"; echo ---; complete -C "ramp kill "; echo ---; complete -C "ramp audit ch"
            """#)
        #expect(status == 0, "\(output)")
        let parts = output.components(separatedBy: "---\n")
        #expect(parts.count == 3, "\(output)")
        #expect(parts.first?.hasPrefix("pause\t") == true, "\(output)")
        #expect(parts.dropFirst().first == "checkout\nsearch\n", "\(output)")
        #expect(parts.last?.hasPrefix("checkpoint\t") == true, "\(output)")
    }

    @Test func zshLoadsTheCompletionFunction() throws {
        let box = Self.sandboxWithFlags()
        let (status, output) = try Self.run(
            box, "zsh",
            """
            ramp completions zsh > _ramp && zsh -n _ramp && autoload -U compinit && compinit -u -D \
              && source ./_ramp && print -r -- $_comps[ramp]
            """)
        #expect(status == 0, "\(output)")
        #expect(output.hasSuffix("_ramp\n"), "\(output)")
    }

    @Test func theManPageRendersWithoutWarningsAndListsEveryCommand() throws {
        let box = Sandbox()
        let (status, output) = try Self.run(
            box, "bash",
            "ramp help --man > ramp.1 && MANWIDTH=100 man --warnings -E UTF-8 -l ramp.1 > page.txt 2> said.txt; "
                + "cat said.txt; echo ---; cat page.txt")
        #expect(status == 0, "\(output)")
        let parts = output.components(separatedBy: "---\n")
        #expect(parts.first == "", "man and groff said: \(parts.first ?? "")")
        let page = parts.last ?? ""
        for verb in ["ramp submit FILE", "ramp tick", "ramp audit checkpoint", "ramp metrics", "ramp completions"] {
            #expect(page.contains(verb), "\(verb) missing from the man page")
        }
    }
}
