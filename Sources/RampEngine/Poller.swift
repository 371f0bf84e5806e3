import Dispatch
import Foundation
import RampCore
import RampMetrics

/// Reads many sources at once with a bound, so N gates against a slow source take about as long as the slowest.
enum Poller {
    struct Job {
        var source: any MetricSource
        var query: String?
        var context: MetricContext
    }

    struct Result {
        var reading: Reading
        var query: String?
        var seconds: Double
    }

    /// The readings in the order of `jobs`, read by up to `concurrency` threads of our own.
    ///
    /// Sources block (a process, an HTTP request), so they get real threads: Dispatch's default pool on Linux is
    /// as wide as the machine has cores, which would read only two sources at once on a two-core host.
    static func poll(_ jobs: [Job], concurrency: Int) -> [Result] {
        let results = Results(count: jobs.count)
        let next = Counter()
        let done = DispatchGroup()
        for _ in 0..<min(max(1, concurrency), jobs.count) {
            done.enter()
            let worker = Thread {
                while let i = next.take(below: jobs.count) {
                    let job = jobs[i]
                    let start = DispatchTime.now().uptimeNanoseconds
                    let reading = Self.safe(
                        job.source.read(query: job.query, context: job.context), secrets: job.context.secrets)
                    let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
                    results.set(i, Result(reading: reading, query: job.query, seconds: seconds))
                }
                done.leave()
            }
            worker.start()
        }
        done.wait()
        return results.all
    }
}

extension Poller {
    /// What any source returned, made safe to judge and to store: values that are not finite numbers taken out,
    /// and anything that looks like a credential taken out of the message (a command's stderr, a server's echo).
    static func safe(_ reading: Reading, secrets: [String] = []) -> Reading {
        switch reading.finite {
        case .value(let v): .value(v)
        case .noData(let why): .noData(Redaction.apply(why, secrets: secrets))
        case .error(let why): .error(Redaction.apply(why, secrets: secrets))
        }
    }
}

/// Hands out job indices to worker threads.
private final class Counter: @unchecked Sendable {  // `value` is only touched under `lock`
    private let lock = NSLock()
    private var value = 0

    func take(below limit: Int) -> Int? {
        lock.withLock {
            guard value < limit else { return nil }
            defer { value += 1 }
            return value
        }
    }
}

/// Poll results filled in by worker threads.
private final class Results: @unchecked Sendable {  // every access holds `lock`
    private let lock = NSLock()
    private var values: [Poller.Result]

    init(count: Int) {
        values = Array(repeating: Poller.Result(reading: .noData("not polled"), seconds: 0), count: count)
    }
    func set(_ i: Int, _ value: Poller.Result) { lock.withLock { values[i] = value } }
    var all: [Poller.Result] { lock.withLock { values } }
}
