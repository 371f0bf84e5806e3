import Foundation

/// A private PostgreSQL server for one test: `initdb` into a temporary folder, started as a plain process on a free
/// 127.0.0.1 port (as the `postgres` user when the tests run as root: PostgreSQL refuses root), stopped by `stop()`.
/// Every wait is bounded (`pg_ctl -w -t 60`).
final class PostgresServer {
    let folder: URL
    let port: Int
    private let bin: String

    /// The connection string of its `postgres` database, as the trusted user `ramp`.
    var url: String { "postgres://ramp@127.0.0.1:\(port)/postgres" }

    init() throws {
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []
        guard let version = versions.sorted(by: { (Int($0) ?? 0) > (Int($1) ?? 0) }).first else {
            throw Failure("PostgreSQL is not installed (Tests/run-all.sh installs the postgresql package)")
        }
        bin = "/usr/lib/postgresql/\(version)/bin"
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("ramp-pg-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        port = try Self.freePort()
        if getuid() == 0 { try Self.run("/bin/chown", ["-R", "postgres", folder.path]) }
        try runAsServer(
            "initdb",
            [
                "-D", folder.appendingPathComponent("data").path, "-A", "trust", "-U", "ramp",
                "-E", "UTF8", "--no-sync",
            ])
        try runAsServer(
            "pg_ctl",
            [
                "-D", folder.appendingPathComponent("data").path, "-w", "-t", "60",
                "-l", folder.appendingPathComponent("server.log").path,
                "-o", "-c listen_addresses=127.0.0.1 -p \(port) -k \(folder.path)", "start",
            ])
    }

    /// Stops the server at once (as a crash would: no shutdown checkpoint) and starts it again on the same port.
    func restart() throws {
        try runAsServer(
            "pg_ctl",
            [
                "-D", folder.appendingPathComponent("data").path, "-m", "immediate", "-w", "-t", "60",
                "-l", folder.appendingPathComponent("server.log").path,
                "-o", "-c listen_addresses=127.0.0.1 -p \(port) -k \(folder.path)", "restart",
            ])
    }

    func stop() {
        try? runAsServer(
            "pg_ctl", ["-D", folder.appendingPathComponent("data").path, "-m", "fast", "-w", "-t", "60", "stop"])
        try? FileManager.default.removeItem(at: folder)
    }

    private func runAsServer(_ tool: String, _ arguments: [String]) throws {
        if getuid() == 0 {
            try Self.run("/usr/sbin/runuser", ["-u", "postgres", "--", "\(bin)/\(tool)"] + arguments)
        } else {
            try Self.run("\(bin)/\(tool)", arguments)
        }
    }

    /// Runs a tool to its end with posix_spawn and waitpid (Foundation's Process can miss the end of a child whose
    /// own child — the server `pg_ctl start` leaves running — outlives it). Output goes to a log file.
    private static func run(_ executable: String, _ arguments: [String]) throws {
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("ramp-pg-\(UUID().uuidString).log")
        defer { try? FileManager.default.removeItem(at: log) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, log.path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for arg in argv { free(arg) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, executable, &actions, nil, argv, environ)
        guard spawned == 0 else { throw Failure("cannot start \(executable): error \(spawned)") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0, errno == EINTR {}
        let exited = status & 0x7f == 0 && (status >> 8) & 0xff == 0
        guard exited else {
            let message = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            throw Failure("\(executable) \(arguments.joined(separator: " ")): \(message)")
        }
    }

    /// A port nothing listens on now: bound to port 0, read back, released.
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure("socket failed") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                bind(fd, socketAddress, length) == 0 && getsockname(fd, socketAddress, &length) == 0
            }
        }
        guard bound else { throw Failure("bind failed") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }
}
