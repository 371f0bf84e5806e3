import Foundation
import RampCore
import Testing

/// Runs one of Tests/Support's Python checks (scipy and friends, installed by Tests/run-all.sh) on a JSON input and
/// returns what it printed.
enum PythonCheck {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    static func run(_ script: String, input: JSONValue, python: String) throws -> String {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("check-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let inputFile = folder.appendingPathComponent("in.json")
        let outputFile = folder.appendingPathComponent("out.json")
        try Data(input.canonical.utf8).write(to: inputFile)
        _ = FileManager.default.createFile(atPath: outputFile.path, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [script]
        process.currentDirectoryURL = packageRoot
        process.standardInput = try FileHandle(forReadingFrom: inputFile)
        process.standardOutput = try FileHandle(forWritingTo: outputFile)
        try process.run()
        // Bounded: a check that hangs fails the test instead of the run.
        let deadline = Date().addingTimeInterval(300)
        while process.isRunning, Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "\(script) failed")
        return try String(contentsOf: outputFile, encoding: .utf8)
    }
}
