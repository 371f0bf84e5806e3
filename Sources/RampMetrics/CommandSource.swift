import Foundation
public import RampCore

/// Runs an executable without a shell; its stdout is one number.
///
/// Empty output or `NaN` is no data; a non-zero exit, a timeout, or text that is not a number is an error.
public struct CommandSource: MetricSource {
    public var argv: [String]
    public var timeout: TimeSpan

    public init(argv: [String], timeout: TimeSpan) {
        self.argv = argv
        self.timeout = timeout
    }

    public func read(query: String?, context: MetricContext) -> Reading {
        let argv = argv.map(context.render)
        guard let executable = Self.resolve(argv[0], baseDir: context.baseDir) else {
            return .error("command \(argv[0]): not found")
        }
        let environment = ProcessInfo.processInfo.environment.merging(context.environment) { _, ours in ours }
        let result: Subprocess.Result
        do {
            result = try Subprocess.run(
                executable: executable, arguments: Array(argv.dropFirst()), environment: environment,
                directory: context.baseDir, timeoutSeconds: timeout.seconds)
        } catch {
            return .error("command \(argv[0]): cannot start: \(error)")
        }
        let errorText = String(decoding: result.stderr, as: UTF8.self)
        if result.timedOut { return .error("command \(argv[0]): killed after its \(timeout) timeout") }
        if let signal = result.signal {
            return .error("command \(argv[0]): killed by signal \(signal)" + Self.tail(errorText, context.secrets))
        }
        if let status = result.exitStatus, status != 0 {
            return .error("command \(argv[0]): exit status \(status)" + Self.tail(errorText, context.secrets))
        }
        return Self.parse(String(decoding: result.stdout, as: UTF8.self), command: argv[0])
    }

    /// Turns a command's stdout into a reading.
    static func parse(_ text: String, command: String) -> Reading {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.isEmpty { return .noData("command \(command) printed nothing") }
        if ["nan", "-nan", "+nan"].contains(trimmed.lowercased()) {
            return .noData("command \(command) printed NaN")
        }
        guard let value = DecimalText.parse(trimmed), value.isFinite else {
            let shown = trimmed.count > 60 ? String(trimmed.prefix(60)) + "…" : trimmed
            return .error("command \(command) printed \"\(shown)\", not a number")
        }
        return .value(value)
    }

    /// stderr kept as evidence: its last three lines, with the plan's secrets and anything like a credential
    /// taken out before they are shortened to 200 characters (a cut inside a credential would hide it from the
    /// patterns that find it).
    static func tail(_ text: String, _ secrets: [String]) -> String {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { return "" }
        // Each line on its own: a credential's value ends at its line, not at the separator the lines are joined by.
        let line = trimmed.split(separator: "\n").suffix(3).map { Redaction.apply(String($0), secrets: secrets) }
            .joined(separator: " | ")
        return ": " + (line.count > 200 ? String(line.suffix(200)) : line)
    }

    /// An absolute path for the executable: as given, relative to the plan's folder, or found on PATH.
    static func resolve(_ name: String, baseDir: String) -> String? {
        if name.hasPrefix("/") { return isExecutable(name) ? name : nil }
        if name.contains("/") {
            let path = URL(fileURLWithPath: baseDir).appendingPathComponent(name).standardized.path
            return isExecutable(path) ? path : nil
        }
        let searchPath = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for dir in searchPath.split(separator: ":") {
            let path = "\(dir)/\(name)"
            if isExecutable(path) { return path }
        }
        return nil
    }

    /// An executable file (a directory has the same permission bits but cannot be run).
    static func isExecutable(_ path: String) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && !isDirectory.boolValue
            && FileManager.default.isExecutableFile(atPath: path)
    }
}
