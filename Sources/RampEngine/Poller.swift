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

    /// The readings in the order of `jobs`.
    static func poll(_ jobs: [Job], concurrency: Int) -> [Result] {
        let results = Results(count: jobs.count)
        let slots = DispatchSemaphore(value: max(1, concurrency))
        let group = DispatchGroup()
        let queue = DispatchQueue(label: "ramp.poll", attributes: .concurrent)
        for (i, job) in jobs.enumerated() {
            slots.wait()
            queue.async(group: group) {
                let start = DispatchTime.now().uptimeNanoseconds
                let reading = job.source.read(query: job.query, context: job.context)
                let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
                results.set(i, Result(reading: reading, query: job.query, seconds: seconds))
                slots.signal()
            }
        }
        group.wait()
        return results.all
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
