import Synchronization

/// A counting semaphore for tasks: at most `value` holders at a time, the rest wait in order.
///
/// ```swift
/// let slots = AsyncSemaphore(value: 4)
/// try await slots.withPermit { try await work() }
/// ```
public final class AsyncSemaphore: Sendable {
    struct Waiter {
        var id: UInt64
        var continuation: CheckedContinuation<Void, any Error>
    }
    struct State {
        var available: Int
        var waiters: [Waiter] = []
        var nextID: UInt64 = 0
    }
    let state: Mutex<State>

    /// - Parameter value: how many holders may proceed at once (at least 1).
    public init(value: Int) {
        state = Mutex(State(available: max(1, value)))
    }

    /// Holders that may still proceed without waiting.
    public var available: Int { state.withLock { $0.available } }
    /// Tasks waiting for a permit.
    public var waiting: Int { state.withLock { $0.waiters.count } }

    /// Waits for a permit.
    /// - Throws: `CancellationError` when the task is cancelled while waiting (no permit taken).
    public func wait() async throws(CancellationError) {
        let id: UInt64? = state.withLock { s in
            if s.available > 0 {
                s.available -= 1
                return nil
            }
            s.nextID += 1
            return s.nextID
        }
        guard let id else { return }
        do {
            try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, any Error>) in
                    let cancelled = state.withLock { s -> Bool in
                        if Task.isCancelled { return true }
                        s.waiters.append(Waiter(id: id, continuation: c))
                        return false
                    }
                    if cancelled { c.resume(throwing: CancellationError()) }
                }
            } onCancel: {
                let waiter = state.withLock { s -> Waiter? in
                    guard let i = s.waiters.firstIndex(where: { $0.id == id }) else { return nil }
                    return s.waiters.remove(at: i)
                }
                waiter?.continuation.resume(throwing: CancellationError())
            }
        } catch {
            throw CancellationError()
        }
    }

    /// Returns a permit, waking the longest waiter.
    public func signal() {
        let waiter = state.withLock { s -> Waiter? in
            if s.waiters.isEmpty {
                s.available += 1
                return nil
            }
            return s.waiters.removeFirst()
        }
        waiter?.continuation.resume()
    }

    /// Runs `body` holding a permit.
    public func withPermit<R: Sendable>(_ body: () async throws -> R) async throws -> R {
        try await wait()
        defer { signal() }
        return try await body()
    }
}
