import Foundation
import RampCore
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// A real Prometheus (Debian's `prometheus`) on 127.0.0.1 at a free port, with history written by
/// `promtool tsdb create-blocks-from openmetrics` before it starts, so queries at `time=` see it at once.
final class PrometheusServer {
    let port: Int
    let url: String
    private let process: Process
    let dir: URL

    /// The history every test queries: samples every 15 s over three hours starting at `base`.
    static let base: Int64 = {
        let now = Int64(Date().timeIntervalSince1970)
        return (now / 3600) * 3600 - 6 * 3600
    }()

    /// Minutes after `base` as the RFC 3339 time ticks pass with --now.
    static func at(_ minutes: Int64) -> String { Instant(seconds: base + minutes * 60).description }

    /// Where `blocks` are made: one folder per test process, removed when it exits.
    nonisolated(unsafe) static var blocksFolder =
        FileManager.default.temporaryDirectory.appendingPathComponent("ramp-prom-blocks-\(getpid())").path

    /// Blocks made once per test run and copied into each server's data folder.
    private static let blocks: Result<URL, PrometheusError> = {
        guard let promtool = which("promtool") else { return .failure(.missing("promtool")) }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ramp-prom-blocks-\(getpid())")
        try! FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        atexit { try? FileManager.default.removeItem(atPath: blocksFolder) }
        let input = dir.appendingPathComponent("history.om")
        try! Data(history().utf8).write(to: input)
        let output = dir.appendingPathComponent("blocks")
        let (status, log) = runTool(promtool, ["tsdb", "create-blocks-from", "openmetrics", input.path, output.path])
        guard status == 0 else { return .failure(.tool("promtool failed: \(log)")) }
        return .success(output)
    }()

    enum PrometheusError: Error, CustomStringConvertible {
        case missing(String)
        case tool(String)
        var description: String {
            switch self {
            case .missing(let name): "\(name) is not installed (Tests/run-all.sh installs Debian's prometheus)"
            case .tool(let message): message
            }
        }
    }

    /// `scrapeTargets` (host:port) are scraped every second, as job `ramp`.
    init(scrapeTargets: [String] = []) throws {
        guard let binary = Self.which("prometheus") else { throw PrometheusError.missing("prometheus") }
        let blocks = try Self.blocks.get()
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("ramp-prom-\(UUID().uuidString)")
        let data = dir.appendingPathComponent("data")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: blocks, to: data)
        let config = dir.appendingPathComponent("prometheus.yml")
        let scrapes =
            scrapeTargets.isEmpty
            ? "scrape_configs: []\n"
            : "scrape_configs:\n  - job_name: ramp\n    scrape_interval: 1s\n    static_configs:\n      - targets: ["
                + scrapeTargets.map { "'\($0)'" }.joined(separator: ", ") + "]\n"
        try Data("global:\n  scrape_interval: 15s\n\(scrapes)".utf8).write(to: config)
        port = Self.freePort()
        url = "http://127.0.0.1:\(port)"
        process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = [
            "--config.file=\(config.path)", "--storage.tsdb.path=\(data.path)",
            "--web.listen-address=127.0.0.1:\(port)", "--storage.tsdb.retention.time=100y",
        ]
        let log = dir.appendingPathComponent("prometheus.log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        for _ in 0..<150 {
            if Self.get("\(url)/-/ready") == 200 { return }
            usleep(100_000)
        }
        stop()
        throw PrometheusError.tool(
            "prometheus did not become ready: \((try? String(contentsOf: log, encoding: .utf8)) ?? "")")
    }

    /// SIGTERM, and wait for it to exit.
    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        process.waitUntilExit()
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(at: dir)
    }

    // MARK: - History

    /// Per-second rates by flag and variant: requests, errors (a function of minutes after base), latency.
    static func history() -> String {
        struct Series {
            var flag: String
            var variant: String
            var requests: Double
            var errors: (Double) -> Double
            var latency: Double
        }
        let series: [Series] = [
            Series(flag: "checkout", variant: "on", requests: 10, errors: { _ in 0.1 }, latency: 0.21),
            Series(flag: "checkout", variant: "off", requests: 10, errors: { _ in 0.1 }, latency: 0.20),
            // The canary's error rate jumps from 1% to 10% an hour in.
            Series(flag: "payments", variant: "on", requests: 10, errors: { $0 < 60 ? 0.1 : 1.0 }, latency: 0.2),
            Series(flag: "payments", variant: "off", requests: 10, errors: { _ in 0.1 }, latency: 0.2),
            // Slower canary: 50% over its baseline.
            Series(flag: "latency", variant: "on", requests: 10, errors: { _ in 0 }, latency: 0.30),
            Series(flag: "latency", variant: "off", requests: 10, errors: { _ in 0 }, latency: 0.20),
            // No traffic at all: rate 0 / 0 is NaN.
            Series(flag: "idle", variant: "on", requests: 0, errors: { _ in 0 }, latency: 0.2),
            // An experiment's three arms: b converts 8% (its "errors" are conversions here), a and c 5%; c is slower.
            Series(flag: "copy", variant: "a", requests: 10, errors: { _ in 0.5 }, latency: 0.200),
            Series(flag: "copy", variant: "b", requests: 10, errors: { _ in 0.8 }, latency: 0.200),
            Series(flag: "copy", variant: "c", requests: 10, errors: { _ in 0.5 }, latency: 0.300),
        ]
        var out = ""
        let steps = 3 * 60 * 4  // every 15 s for three hours
        for (family, kind) in [
            ("app_requests", "counter"), ("app_errors", "counter"), ("app_latency_seconds", "gauge"),
        ] {
            out += "# TYPE \(family) \(kind)\n"
            for s in series {
                var total = 0.0
                for i in 0...steps {
                    let minute = Double(i) / 4
                    let value: Double
                    switch family {
                    case "app_requests": value = Double(i) * 15 * s.requests
                    case "app_errors":
                        if i > 0 { total += 15 * s.errors(minute - 0.25) }
                        value = total
                    default: value = s.latency
                    }
                    let name = kind == "counter" ? "\(family)_total" : family
                    out += "\(name){flag=\"\(s.flag)\",variant=\"\(s.variant)\"} \(value) \(base + Int64(i) * 15)\n"
                }
            }
        }
        return out + "# EOF\n"
    }

    // MARK: - Helpers

    static func which(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return (path.split(separator: ":").map { "\($0)/\(name)" } + ["/usr/bin/\(name)"])
            .first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    static func runTool(_ path: String, _ args: [String]) -> (Int32, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = args
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try! process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: output, as: UTF8.self))
    }

    /// A port nothing listens on now: bind port 0 on loopback, read it back, close.
    static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// The HTTP status of a GET, or nil when nothing answered.
    static func get(_ url: String) -> Int? {
        let done = DispatchSemaphore(value: 0)
        let status = StatusBox()
        URLSession.shared.dataTask(with: URL(string: url)!) { _, response, _ in
            status.value = (response as? HTTPURLResponse)?.statusCode
            done.signal()
        }.resume()
        _ = done.wait(timeout: .now() + 2)
        return status.value
    }
}

private final class StatusBox: @unchecked Sendable {  // written once before the semaphore signals, read after
    var value: Int?
    var body: Data?
}

extension PrometheusServer {
    /// The one number an instant query answers at `time`, straight from Prometheus' HTTP API; nil otherwise.
    func value(of query: String, at time: String) -> Double? {
        guard let encoded = query.addingPercentEncoding(withAllowedCharacters: .alphanumerics),
            let at = time.addingPercentEncoding(withAllowedCharacters: .alphanumerics),
            let url = URL(string: "\(self.url)/api/v1/query?query=\(encoded)&time=\(at)")
        else { return nil }
        let done = DispatchSemaphore(value: 0)
        let box = StatusBox()
        URLSession.shared.dataTask(with: url) { data, _, _ in
            box.body = data
            done.signal()
        }.resume()
        _ = done.wait(timeout: .now() + 5)
        guard let body = box.body, let json = try? JSONParser.parse(String(decoding: body, as: UTF8.self)),
            case .array(let results)? = json["data"]?["result"], results.count == 1,
            case .array(let pair)? = results[0]["value"], pair.count == 2, let text = pair[1].stringValue
        else { return nil }
        return Double(text)
    }
}
