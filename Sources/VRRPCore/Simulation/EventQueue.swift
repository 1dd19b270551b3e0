/// One scheduled event. Small and trivially copyable: payloads live in side tables.
struct SimulationEvent {
    enum Kind: UInt8 {
        /// A node's timer: `node`, epoch in `b`.
        case timer
        /// A packet arrives: `node`, interface index in `a`, frame slot in `b`.
        case deliver
        /// A scheduled fault: index into the fault table in `b`.
        case fault
        /// The settle deadline of component `a`.
        case settleCheck
        /// The deadline of pending timing check `b`.
        case pendingDeadline
    }

    /// Events at one instant run in class order: protocol (timers, packets) first, then
    /// injected faults, then invariant checks; within a class, in scheduling order.
    enum Class: UInt64 {
        case protocolEvent = 0, fault = 1, check = 2
    }

    var time: Int64
    var order: UInt64
    var kind: Kind
    var node: Int32
    var a: Int32
    var b: UInt32

    @inline(__always)
    static func < (x: SimulationEvent, y: SimulationEvent) -> Bool {
        x.time != y.time ? x.time < y.time : x.order < y.order
    }
}

/// A binary min-heap ordered by (time, class, sequence number): deterministic, no
/// allocation per event once the array has grown.
struct SimulationEventQueue {
    var heap: [SimulationEvent] = []
    var sequence: UInt64 = 0

    var isEmpty: Bool { heap.isEmpty }
    var count: Int { heap.count }
    var first: SimulationEvent? { heap.first }

    mutating func push(time: Int64, _ cls: SimulationEvent.Class, _ kind: SimulationEvent.Kind,
                       node: Int = 0, a: Int = 0, b: UInt32 = 0) {
        sequence &+= 1
        let e = SimulationEvent(time: time, order: cls.rawValue << 60 | sequence, kind: kind,
                                node: Int32(truncatingIfNeeded: node), a: Int32(truncatingIfNeeded: a), b: b)
        heap.append(e)
        var i = heap.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            if !(e < heap[parent]) { break }
            heap[i] = heap[parent]
            i = parent
        }
        heap[i] = e
    }

    mutating func pop() -> SimulationEvent? {
        guard let top = heap.first else { return nil }
        let last = heap.removeLast()
        if heap.isEmpty { return top }
        let n = heap.count
        var i = 0
        while true {
            let l = 2 * i + 1
            if l >= n { break }
            let r = l + 1
            let c = r < n && heap[r] < heap[l] ? r : l
            if !(heap[c] < last) { break }
            heap[i] = heap[c]
            i = c
        }
        heap[i] = last
        return top
    }
}
