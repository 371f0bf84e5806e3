import Dispatch
import Foundation
import RampCore
import RampMetrics

/// Reads many sources at once with a bound, so N gates against a slow source take about as long as the slowest.
enum Poller {
    struct Job {
        var source: any MetricSource
        var context: MetricContext
    }

    static func poll(_ jobs: [Job], concurrency: Int) -> [(reading: Reading, seconds: Double)] {
        let results = Results(count: jobs.count)
        let slots = DispatchSemaphore(value: max(1, concurrency))
        let group = DispatchGroup()
        let queue = DispatchQueue(label: "ramp.poll", attributes: .concurrent)
        for (i, job) in jobs.enumerated() {
            slots.wait()
            queue.async(group: group) {
                let start = DispatchTime.now().uptimeNanoseconds
                let reading = job.source.read(job.context)
                let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
                results.set(i, (reading, seconds))
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
    private var values: [(reading: Reading, seconds: Double)]

    init(count: Int) { values = Array(repeating: (.noData("not polled"), 0), count: count) }
    func set(_ i: Int, _ value: (Reading, Double)) { lock.withLock { values[i] = value } }
    var all: [(reading: Reading, seconds: Double)] { lock.withLock { values } }
}
