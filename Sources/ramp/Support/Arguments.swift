import RampCore

/// A command line split into positionals and `--options`, checked against what the command accepts.
struct Arguments {
    var positionals: [String] = []
    var values: [String: String] = [:]
    var switches: Set<String> = []

    struct UsageError: Error, CustomStringConvertible {
        var description: String
    }

    /// Options every command takes.
    static let globalValues: Set<String> = ["store", "now"]

    /// Parses `words`; `valueOptions` take a value (`--x v` or `--x=v`), `switchOptions` do not.
    init(_ words: [String], values valueOptions: Set<String>, switches switchOptions: Set<String>) throws(UsageError) {
        let valueOptions = valueOptions.union(Self.globalValues)
        var i = 0
        var onlyPositionals = false
        while i < words.count {
            let word = words[i]
            i += 1
            if onlyPositionals || !word.hasPrefix("--") || word == "-" {
                if !onlyPositionals, word.hasPrefix("-"), word != "-", word.count > 1 {
                    throw UsageError(description: "unknown option \(word)")
                }
                positionals.append(word)
                continue
            }
            if word == "--" {
                onlyPositionals = true
                continue
            }
            var name = String(word.dropFirst(2))
            var inline: String?
            if let eq = name.firstIndex(of: "=") {
                inline = String(name[name.index(after: eq)...])
                name = String(name[..<eq])
            }
            if valueOptions.contains(name) {
                if let inline {
                    values[name] = inline
                } else {
                    guard i < words.count else { throw UsageError(description: "--\(name) needs a value") }
                    values[name] = words[i]
                    i += 1
                }
            } else if switchOptions.contains(name) || name == "help" {
                if inline != nil { throw UsageError(description: "--\(name) takes no value") }
                switches.insert(name)
            } else {
                let known = valueOptions.union(switchOptions).union(["help"])
                throw UsageError(
                    description: "unknown option --\(name)"
                        + (Spelling.suggestion(for: name, among: known).map { " (did you mean \"--\($0)\"?)" } ?? ""))
            }
        }
    }

    func flag(_ name: String) -> Bool { switches.contains(name) }
    subscript(_ name: String) -> String? { values[name] }

    /// Exactly `count` positionals, named in the message when missing.
    func expect(_ names: [String]) throws(UsageError) {
        if positionals.count < names.count {
            throw UsageError(description: "missing \(names[positionals.count].uppercased())")
        }
        if positionals.count > names.count {
            throw UsageError(description: "unexpected argument \"\(positionals[names.count])\"")
        }
    }
}
