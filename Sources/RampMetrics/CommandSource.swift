import Dispatch
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

    public func read(_ context: MetricContext) -> Reading {
        guard let executable = Self.resolve(argv[0], baseDir: context.baseDir) else {
            return .error("command \(argv[0]): not found")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = Array(argv.dropFirst())
        process.currentDirectoryURL = URL(fileURLWithPath: context.baseDir)
        process.environment = ProcessInfo.processInfo.environment.merging(context.environment) { _, ours in ours }
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        process.standardInput = FileHandle.nullDevice
        let exited = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in exited.signal() }
        do {
            try process.run()
        } catch {
            return .error("command \(argv[0]): cannot start: \(error.localizedDescription)")
        }
        let output = Drain(stdout.fileHandleForReading)
        let errors = Drain(stderr.fileHandleForReading)
        if exited.wait(timeout: .now() + .seconds(Int(timeout.seconds))) == .timedOut {
            kill(process.processIdentifier, SIGKILL)
            exited.wait()
            return .error("command \(argv[0]): killed after its \(timeout) timeout")
        }
        let text = output.text(waiting: 2)
        let errorText = errors.text(waiting: 2)
        if process.terminationReason == .uncaughtSignal {
            return .error("command \(argv[0]): killed by signal \(process.terminationStatus)" + Self.tail(errorText))
        }
        if process.terminationStatus != 0 {
            return .error("command \(argv[0]): exit status \(process.terminationStatus)" + Self.tail(errorText))
        }
        return Self.parse(text, command: argv[0])
    }

    /// Turns a command's stdout into a reading.
    static func parse(_ text: String, command: String) -> Reading {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.isEmpty { return .noData("command \(command) printed nothing") }
        if trimmed.lowercased() == "nan" { return .noData("command \(command) printed NaN") }
        guard let value = Double(trimmed), value.isFinite else {
            let shown = trimmed.count > 60 ? String(trimmed.prefix(60)) + "…" : trimmed
            return .error("command \(command) printed \"\(shown)\", not a number")
        }
        return .value(value)
    }

    /// stderr kept as evidence, truncated.
    private static func tail(_ text: String) -> String {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { return "" }
        let line = trimmed.split(separator: "\n").suffix(3).joined(separator: " | ")
        return ": " + (line.count > 200 ? String(line.suffix(200)) : line)
    }

    /// An absolute path for the executable: as given, relative to the plan's folder, or found on PATH.
    static func resolve(_ name: String, baseDir: String) -> String? {
        let files = FileManager.default
        if name.hasPrefix("/") { return files.isExecutableFile(atPath: name) ? name : nil }
        if name.contains("/") {
            let path = URL(fileURLWithPath: baseDir).appendingPathComponent(name).standardized.path
            return files.isExecutableFile(atPath: path) ? path : nil
        }
        let searchPath = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for dir in searchPath.split(separator: ":") {
            let path = "\(dir)/\(name)"
            if files.isExecutableFile(atPath: path) { return path }
        }
        return nil
    }
}

/// Reads a pipe to its end on a background thread, so a chatty child never blocks on a full pipe.
private final class Drain: @unchecked Sendable {  // guarded by `lock`
    private let lock = NSLock()
    private var data = Data()
    private let done = DispatchSemaphore(value: 0)

    init(_ handle: FileHandle) {
        DispatchQueue.global().async {
            let read = handle.readDataToEndOfFile()
            self.lock.withLock { self.data = read }
            self.done.signal()
        }
    }

    /// The text read, waiting up to `seconds` for the pipe to close (a grandchild may still hold it).
    func text(waiting seconds: Int) -> String {
        _ = done.wait(timeout: .now() + .seconds(seconds))
        return lock.withLock { String(decoding: data.prefix(65_536), as: UTF8.self) }
    }
}
