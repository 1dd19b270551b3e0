/// A Swift task executor on one ``PollThread`` of its own: a task created with
/// `Task(executorPreference:)` runs its non-isolated code there, never on Swift's shared pool.
///
/// The daemon runs VRRP's runner loop and its timer on one (`kad-vrrp`), so that nothing else
/// the process does on the shared pool (checkers that run in tasks, the control socket, logging)
/// can delay an advert or a timer.
///
/// ```swift
/// let executor = try PollThreadExecutor(name: "kad-vrrp")
/// Task(executorPreference: executor) { await runner.run() }
/// ```
@available(macOS 15.0, *)
public final class PollThreadExecutor: TaskExecutor, Sendable {
    private let thread: PollThread

    /// Starts the thread (it lives as long as the process).
    /// - Parameter name: the thread's name as `ps -L` shows it (15 bytes at most).
    public init(name: String) throws(NetLinuxError) {
        thread = try PollThread(name: name)
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        thread.execute { job.runSynchronously(on: executor) }
    }

    /// The thread's kernel id (`gettid(2)`).
    public var threadID: Int32 { thread.threadID }
}
