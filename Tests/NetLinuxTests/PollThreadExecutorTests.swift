import CNetLinux
import Glibc
import Synchronization
import Testing
@testable import NetLinux

@Suite("PollThreadExecutor: tasks on a thread of their own")
struct PollThreadExecutorTests {
    @Test("a task that prefers it runs on its thread, before and after suspending; others do not")
    func tasksRunOnTheThread() async throws {
        let executor = try PollThreadExecutor(name: "kad-test-exec")
        let threadID = await withCheckedContinuation { (c: CheckedContinuation<Int32, Never>) in
            executor.onThread { c.resume(returning: cnl_gettid()) }
        }
        let seen = await Task(executorPreference: executor) { () -> [Int32] in
            var ids = [cnl_gettid()]
            try? await Task.sleep(for: .milliseconds(20))
            ids.append(cnl_gettid())
            await Task.yield()
            ids.append(cnl_gettid())
            return ids
        }.value
        #expect(seen == [threadID, threadID, threadID])
        let elsewhere = await Task.detached { cnl_gettid() }.value
        #expect(elsewhere != threadID)
        // The thread carries its name.
        let name = try String(contentsOfFile: "/proc/self/task/\(threadID)/comm", encoding: .utf8)
        #expect(name.hasPrefix("kad-test-exec"))
    }
}
