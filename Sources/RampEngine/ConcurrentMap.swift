import Dispatch

/// Each item's `transform`, worked out side by side on the machine's cores and returned in the items' order. For
/// pure work only: a store connection belongs to one thread, so `transform` must not touch it.
func concurrentMap<Item: Sendable, Value>(_ items: [Item], _ transform: @Sendable (Item) -> Value) -> [Value] {
    let slots = Slots<Value>(count: items.count)
    DispatchQueue.concurrentPerform(iterations: items.count) { i in slots[i] = transform(items[i]) }
    return slots.values
}

/// Values written by index from several threads, each index by exactly one of them, so no slot is shared.
private final class Slots<Value>: @unchecked Sendable {
    private let base: UnsafeMutablePointer<Value?>
    private let count: Int

    init(count: Int) {
        self.count = count
        base = .allocate(capacity: max(count, 1))
        base.initialize(repeating: nil, count: count)
    }

    deinit {
        base.deinitialize(count: count)
        base.deallocate()
    }

    subscript(index: Int) -> Value? {
        get { base[index] }
        set { base[index] = newValue }
    }

    /// Every value, in index order (read after the writers are done; each slot was written).
    var values: [Value] { (0..<count).compactMap { base[$0] } }
}
