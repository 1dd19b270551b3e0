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
        // The id the thread recorded itself; its name below shows it is the executor's thread.
        let threadID = executor.threadID
        #expect(threadID > 0)
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

@Suite("ThreadScheduling: nice value, SCHED_RR and CPUs of one thread")
struct ThreadSchedulingTests {
    /// Fields of /proc/self/task/TID/stat after the command name: [0] is field 3 (state).
    private func stat(_ tid: Int32) throws -> [Substring] {
        let text = try String(contentsOfFile: "/proc/self/task/\(tid)/stat", encoding: .utf8)
        return text[text.index(after: text.lastIndex(of: ")")!)...].split(separator: " ")
    }

    @Test("applied to another thread by its id, read back from /proc; bad CPU numbers are named")
    func applyAndReadBack() throws {
        guard getuid() == 0 else { return }   // SCHED_RR and negative nice need CAP_SYS_NICE
        let executor = try PollThreadExecutor(name: "kad-test-sched")
        let tid = executor.threadID
        #expect(tid > 0)
        #expect(ThreadScheduling(niceness: 5, realtimePriority: 7, cpus: [0]).apply(toThread: tid).isEmpty)
        var fields = try stat(tid)
        #expect(fields[37] == "7" && fields[38] == "2", "rt_priority \(fields[37]), policy \(fields[38]) (2: SCHED_RR)")
        let status = try String(contentsOfFile: "/proc/self/task/\(tid)/status", encoding: .utf8)
        #expect(status.contains("Cpus_allowed_list:\t0\n"), "\(status.split(separator: "\n").filter { $0.hasPrefix("Cpus_allowed_list") })")
        // Back to the normal policy; the nice value shows once the thread is not realtime.
        #expect(ThreadScheduling(niceness: 3).apply(toThread: tid).isEmpty)
        fields = try stat(tid)
        #expect(fields[38] == "0" && fields[16] == "3", "policy \(fields[38]), nice \(fields[16])")
        let bad = ThreadScheduling(cpus: [0, 99_999]).apply(toThread: tid)
        #expect(bad.count == 1 && bad[0].contains("99999"), "\(bad)")
        #expect(ThreadScheduling().isDefault && !ThreadScheduling(cpus: [1]).isDefault)
    }
}
