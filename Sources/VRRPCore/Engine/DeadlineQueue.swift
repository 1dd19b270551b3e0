/// Every router's next deadline, with the earliest one at hand: an indexed binary min-heap.
///
/// A deadline changes with almost every input (a backup pushes its master-down timer back with
/// every advert it hears, and the router that heard least recently, the one holding the earliest
/// deadline, is usually the next to hear). Keeping the minimum in a heap costs O(log n) per
/// change instead of a pass over every router. `.max` means no deadline.
struct DeadlineQueue: Sendable {
    /// Each router's deadline in nanoseconds, by router index.
    private var deadlines: [Int64]
    /// Router indices, heap-ordered by deadline (ties by index, so the order is deterministic).
    private var heap: [Int32]
    /// Where each router sits in `heap`.
    private var position: [Int32]

    /// `count` routers, none with a deadline.
    init(count: Int) {
        deadlines = Array(repeating: .max, count: count)
        heap = (0..<Int32(count)).map { $0 }
        position = heap
    }

    /// The earliest deadline (`.max` when none).
    var earliest: Int64 { heap.isEmpty ? .max : deadlines[Int(heap[0])] }

    /// Sets router `i`'s deadline.
    mutating func set(_ i: Int, _ d: Int64) {
        let old = deadlines[i]
        guard old != d else { return }
        deadlines[i] = d
        let p = Int(position[i])
        if d < old { siftUp(p) } else { siftDown(p) }
    }

    /// The routers whose deadline is at or before `now`, in index order.
    func due(_ now: Int64) -> [Int] {
        var out: [Int] = []
        var stack: [Int] = heap.isEmpty ? [] : [0]
        while let p = stack.popLast() {
            let r = Int(heap[p])
            guard deadlines[r] <= now else { continue }
            out.append(r)
            let l = 2 * p + 1
            if l < heap.count { stack.append(l) }
            if l + 1 < heap.count { stack.append(l + 1) }
        }
        return out.sorted()
    }

    private func before(_ a: Int32, _ b: Int32) -> Bool {
        let da = deadlines[Int(a)], db = deadlines[Int(b)]
        return da < db || (da == db && a < b)
    }

    private mutating func swapAt(_ p: Int, _ q: Int) {
        heap.swapAt(p, q)
        position[Int(heap[p])] = Int32(p)
        position[Int(heap[q])] = Int32(q)
    }

    private mutating func siftUp(_ start: Int) {
        var p = start
        while p > 0 {
            let parent = (p - 1) / 2
            guard before(heap[p], heap[parent]) else { return }
            swapAt(p, parent)
            p = parent
        }
    }

    private mutating func siftDown(_ start: Int) {
        var p = start
        while true {
            let l = 2 * p + 1, r = l + 1
            var best = p
            if l < heap.count && before(heap[l], heap[best]) { best = l }
            if r < heap.count && before(heap[r], heap[best]) { best = r }
            if best == p { return }
            swapAt(p, best)
            p = best
        }
    }
}
