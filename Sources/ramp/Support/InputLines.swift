import RampEngine

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Standard input, line by line, as exact bytes: a line that is not valid UTF-8 is reported as such rather than
/// decoded with replacement characters (which would make two different keys one).
enum InputLines {
    /// Calls `each` with the 1-based line number and the line (without its `\n` or `\r\n`), or nil when the line is
    /// not valid UTF-8.
    /// A read error (not the end of input) is an error, so a batch is never taken as complete when it was cut off.
    static func read(_ each: (Int, String?) throws -> Void) throws {
        // A stream of our own over fd 0 (stdio's `stdin` is a global that strict concurrency will not share).
        guard let stream = fdopen(STDIN_FILENO, "r") else { return }
        var buffer: UnsafeMutablePointer<CChar>?
        var capacity = 0
        defer { free(buffer) }
        var number = 0
        while true {
            let count = getline(&buffer, &capacity, stream)
            guard count >= 0, let buffer else {
                if ferror(stream) != 0 {
                    throw RampError.system("standard input: cannot read: \(String(cString: strerror(errno)))")
                }
                return
            }
            number += 1
            var bytes = UnsafeRawBufferPointer(start: buffer, count: count).map { $0 }
            if bytes.last == 0x0A { bytes.removeLast() }
            if bytes.last == 0x0D { bytes.removeLast() }
            try each(number, String(validating: bytes, as: UTF8.self))
        }
    }
}
