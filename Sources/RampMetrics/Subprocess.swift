#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Runs a program without a shell and collects its output, with a hard deadline.
///
/// Pipes are created close-on-exec, so a child started concurrently never inherits another child's pipe (which
/// would hold it open). The child leads its own process group, so a timeout kills it and everything it started.
struct Subprocess {
    struct Result {
        var stdout: [UInt8]
        var stderr: [UInt8]
        /// Exit status when it exited; nil when a signal ended it.
        var exitStatus: Int32?
        var signal: Int32?
        var timedOut: Bool
    }

    enum Failure: Error, CustomStringConvertible {
        case cannotStart(String)
        var description: String {
            switch self {
            case .cannotStart(let why): why
            }
        }
    }

    static let outputLimit = 65_536

    static func run(
        executable: String, arguments: [String], environment: [String: String], directory: String,
        timeoutSeconds: Int64, stdin: [UInt8]? = nil
    ) throws(Failure) -> Result {
        // Standard input: /dev/null, or the bytes given, from an unlinked temporary file (no pipe to keep fed).
        var input: Int32 = -1
        if let stdin {
            var template = Array("/tmp/ramp-stdin-XXXXXX".utf8CString)
            input = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
            guard input >= 0 else { throw .cannotStart("temporary file: \(String(cString: strerror(errno)))") }
            template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
            _ = fcntl(input, F_SETFD, FD_CLOEXEC)
            var written = 0
            while written < stdin.count {
                let n = stdin[written...].withUnsafeBytes { write(input, $0.baseAddress, $0.count) }
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else {
                    close(input)
                    throw .cannotStart("temporary file: \(String(cString: strerror(errno)))")
                }
                written += n
            }
            lseek(input, 0, SEEK_SET)
        }
        defer { if input >= 0 { close(input) } }
        var outPipe: [Int32] = [-1, -1]
        var errPipe: [Int32] = [-1, -1]
        guard GNU.pipe2(&outPipe) == 0 else { throw .cannotStart("pipe: \(String(cString: strerror(errno)))") }
        guard GNU.pipe2(&errPipe) == 0 else {
            close(outPipe[0]); close(outPipe[1])
            throw .cannotStart("pipe: \(String(cString: strerror(errno)))")
        }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        if input >= 0 {
            posix_spawn_file_actions_adddup2(&actions, input, 0)
        } else {
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        }
        posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, errPipe[1], 2)
        _ = GNU.addChdir?(&actions, directory)
        // Only stdin, stdout and stderr reach the command: nothing ramp inherited leaks to it or its children.
        _ = GNU.addCloseFrom?(&actions, 3)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // Own process group; default handling for the signals `ramp run` ignores; nothing blocked.
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for sig in [SIGTERM, SIGINT, SIGPIPE, SIGHUP] { sigaddset(&defaults, sig) }
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(
            &attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        close(outPipe[1])
        close(errPipe[1])
        guard rc == 0 else {
            close(outPipe[0]); close(errPipe[0])
            throw .cannotStart(String(cString: strerror(rc)))
        }

        let deadline = monotonicMilliseconds() + timeoutSeconds * 1000
        var result = Result(stdout: [], stderr: [], exitStatus: nil, signal: nil, timedOut: false)
        var fds = [
            pollfd(fd: outPipe[0], events: Int16(POLLIN), revents: 0),
            pollfd(fd: errPipe[0], events: Int16(POLLIN), revents: 0),
        ]
        var open = 2
        var buffer = [UInt8](repeating: 0, count: 8192)
        while open > 0 {
            let remaining = deadline - monotonicMilliseconds()
            if remaining <= 0 {
                result.timedOut = true
                break
            }
            let ready = poll(&fds, 2, Int32(min(remaining, 1000)))
            if ready < 0 && errno == EINTR { continue }
            for i in 0..<2 where fds[i].fd >= 0 && fds[i].revents != 0 {
                let n = read(fds[i].fd, &buffer, buffer.count)
                if n > 0 {
                    if i == 0 {
                        if result.stdout.count < outputLimit { result.stdout += buffer[0..<n] }
                    } else if result.stderr.count < outputLimit {
                        result.stderr += buffer[0..<n]
                    }
                } else if n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN) {
                    close(fds[i].fd)
                    fds[i].fd = -1
                    open -= 1
                }
            }
        }
        for entry in fds where entry.fd >= 0 { close(entry.fd) }

        var status: Int32 = 0
        while !result.timedOut {
            let waited = waitpid(pid, &status, WNOHANG)
            if waited == pid { break }
            if waited < 0 && errno != EINTR { break }
            if monotonicMilliseconds() >= deadline {
                result.timedOut = true
                break
            }
            usleep(1000)
        }
        if result.timedOut {
            kill(-pid, SIGKILL)
            kill(pid, SIGKILL)
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
            return result
        }
        if status & 0x7f == 0 {
            result.exitStatus = (status >> 8) & 0xff
        } else {
            result.signal = status & 0x7f
        }
        return result
    }

    private static func monotonicMilliseconds() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
    }
}

/// glibc functions the Swift Glibc module does not export (they need _GNU_SOURCE), looked up at run time.
private enum GNU {
    private typealias Pipe2 = @convention(c) (UnsafeMutablePointer<Int32>?, Int32) -> Int32
    typealias AddChdir =
        @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>?, UnsafePointer<CChar>?) -> Int32

    private static let pipe2Function: Pipe2? = dlsym(nil, "pipe2").map { unsafeBitCast($0, to: Pipe2.self) }

    /// `posix_spawn_file_actions_addchdir_np` (glibc 2.29+): the child starts in the plan's folder.
    static let addChdir: AddChdir? = dlsym(nil, "posix_spawn_file_actions_addchdir_np")
        .map { unsafeBitCast($0, to: AddChdir.self) }

    typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>?, Int32) -> Int32

    /// `posix_spawn_file_actions_addclosefrom_np` (glibc 2.34+): close every descriptor from 3 up in the child.
    static let addCloseFrom: AddCloseFrom? = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np")
        .map { unsafeBitCast($0, to: AddCloseFrom.self) }

    /// A close-on-exec pipe, created atomically so no concurrently spawned child inherits it.
    static func pipe2(_ fds: UnsafeMutablePointer<Int32>) -> Int32 {
        if let pipe2Function { return pipe2Function(fds, O_CLOEXEC) }
        guard pipe(fds) == 0 else { return -1 }
        _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
        return 0
    }
}
