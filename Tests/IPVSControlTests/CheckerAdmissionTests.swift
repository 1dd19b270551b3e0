import NIOCore
import NIOPosix
import Synchronization
import Testing
@testable import IPVSControl

@Suite("CheckerAdmission: how many event-loop checks run at once")
struct CheckerAdmissionTests {
    /// Waits (up to 5 s) until `condition` holds.
    private func eventually(_ condition: @Sendable () -> Bool) async -> Bool {
        for _ in 0..<500 where !condition() { try? await Task.sleep(for: .milliseconds(10)) }
        return condition()
    }

    @Test("at most `limit` run at once; the others start in the order they came, as earlier ones end")
    func limitAndOrder() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { Task { try? await group.shutdownGracefully() } }
        let loop = group.next()
        let admission = CheckerAdmission(group: group, limit: 2)
        let started = Mutex<[Int]>([])
        let dones = Mutex<[Int: @Sendable () -> Void]>([:])
        for i in 0..<5 {
            try await loop.submit {
                admission.enter(on: loop) { done in
                    dones.withLock { $0[i] = done }
                    started.withLock { $0.append(i) }
                }
            }.get()
        }
        #expect(started.withLock { $0 } == [0, 1])
        #expect(admission.load.first?.running == 2 && admission.load.first?.waiting == 3)
        // Ending one (twice: the second call is ignored) lets exactly one more start.
        let first = try #require(dones.withLock { $0[0] })
        first()
        first()
        #expect(await eventually { started.withLock { $0 } == [0, 1, 2] })
        try await Task.sleep(for: .milliseconds(50))
        #expect(started.withLock { $0 } == [0, 1, 2])
        // (Each next one starts from the loop's queue, so wait for it before ending it.)
        for i in [1, 2, 3, 4] {
            #expect(await eventually { dones.withLock { $0[i] != nil } })
            dones.withLock { $0[i] }?()
        }
        #expect(started.withLock { $0 } == [0, 1, 2, 3, 4])
        #expect(await eventually { admission.load.first.map { $0.running == 0 && $0.waiting == 0 } == true })
    }

    @Test("ten thousand checks that end at once, one at a time: all run, without deep recursion")
    func immediateEnds() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { Task { try? await group.shutdownGracefully() } }
        let loop = group.next()
        let admission = CheckerAdmission(group: group, limit: 1)
        let count = Mutex(0)
        try await loop.submit {
            for _ in 0..<10_000 {
                admission.enter(on: loop) { done in
                    count.withLock { $0 += 1 }
                    done()
                }
            }
        }.get()
        #expect(await eventually { count.withLock { $0 } == 10_000 })
        #expect(admission.load.first.map { $0.running == 0 && $0.waiting == 0 } == true)
    }

    @Test("a loop outside the group has no limit")
    func otherLoop() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let other = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer {
            Task {
                try? await group.shutdownGracefully()
                try? await other.shutdownGracefully()
            }
        }
        let admission = CheckerAdmission(group: group, limit: 1)
        let loop = other.next()
        let started = Mutex(0)
        try await loop.submit {
            for _ in 0..<3 { admission.enter(on: loop) { _ in started.withLock { $0 += 1 } } }
        }.get()
        #expect(started.withLock { $0 } == 3)
    }
}
