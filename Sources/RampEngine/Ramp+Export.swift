import Foundation
import RampCore
import RampStore

extension Ramp {
    /// Every flag as a flagd flag-definition document (compact JSON with sorted keys).
    public func flagdDocument() throws(RampError) -> String {
        var entries: [FlagdDocument.Entry] = []
        for flag in try run({ () throws(StoreError) in try store.flags() }) {
            let rollout = try run { () throws(StoreError) in try store.latestRollout(flag: flag.key) }
            let steps = try rollout.map { (r) throws(RampError) in try plan(for: r).0.steps.count } ?? 0
            entries.append(FlagdDocument.Entry(flag: flag, rollout: rollout, stepCount: steps))
        }
        return FlagdDocument.render(entries).canonical + "\n"
    }

    /// Writes `text` to `path` atomically: a temporary file beside it, fsync, rename, fsync of the folder.
    /// Readers see the old file or the new one, never a part.
    public static func writeAtomically(_ text: String, to path: String) throws(RampError) {
        if let problem = outputProblem(path) { throw .system("\(path): \(problem)") }
        // Through a link to the file it names: the rename replaces that file, not the link.
        let url = URL(fileURLWithPath: path).resolvingSymlinksInPath()
        let path = url.path
        let dir = url.deletingLastPathComponent().path
        let temp = "\(dir)/.\(url.lastPathComponent).\(getpid()).tmp"
        let fd = open(temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .system("\(path): cannot write: \(String(cString: strerror(errno)))") }
        let bytes = Array(text.utf8)
        var written = 0
        while written < bytes.count {
            let n = bytes[written...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                close(fd)
                unlink(temp)
                throw .system("\(path): cannot write: \(String(cString: strerror(errno)))")
            }
            written += n
        }
        guard fsync(fd) == 0, close(fd) == 0, rename(temp, path) == 0 else {
            unlink(temp)
            throw .system("\(path): cannot write: \(String(cString: strerror(errno)))")
        }
        let dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dirfd >= 0 {
            fsync(dirfd)
            close(dirfd)
        }
    }

    /// Why ramp must not replace what is at `path` with a file it writes, or nil: a folder or a device (a rename
    /// would put a file in its place), or an SQLite database — a store, this one or another, whose audit log would
    /// be gone.
    public static func outputProblem(_ path: String) -> String? {
        let target = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
        // SQLite's files beside a database (its write-ahead log, shared memory, rollback journal) are the database.
        for suffix in ["-wal", "-shm", "-journal"] where target.hasSuffix(suffix) {
            let database = String(target.dropLast(suffix.count))
            if isDatabase(database) { return "belongs to the SQLite database \(database): not overwritten" }
        }
        var status = stat()
        guard stat(target, &status) == 0 else { return nil }
        if (status.st_mode & S_IFMT) == S_IFDIR { return "is a folder, not a file" }
        if (status.st_mode & S_IFMT) != S_IFREG { return "is not a regular file (a device?): not replaced" }
        return isDatabase(target) ? "is an SQLite database (a ramp store?): not overwritten" : nil
    }

    private static func isDatabase(_ path: String) -> Bool {
        guard let handle = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? handle.close() }
        return (try? handle.read(upToCount: 16)) == Data("SQLite format 3\0".utf8)
    }
}
