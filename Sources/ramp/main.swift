import Foundation

// Arguments are text compared byte for byte: one that is not valid UTF-8 would be read with U+FFFD in place of its
// bad bytes, so two different keys could become one. Refuse it instead, naming where it is.
var words: [String] = []
for index in 1..<Int(CommandLine.argc) {
    guard let raw = CommandLine.unsafeArgv[index], let word = String(validatingCString: raw) else {
        Output.error("argument \(index) is not valid UTF-8 text")
        exit(ExitCode.invalid)
    }
    words.append(word)
}
exit(CLI.main(words))
