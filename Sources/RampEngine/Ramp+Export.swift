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
        let url = URL(fileURLWithPath: path)
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
}
