#if canImport(Glibc)
import Glibc
#endif
import CNetLinux
import Synchronization
import SystemPackage

/// One started script: its process (leader of its own session and process group), how to wait
/// for it, and how to stop it. Every process-control step (the signals, the reaping) runs on the
/// runner's ``PollThread``, so the final SIGKILL to the group and the reaping never race.
///
/// Why not swift-subprocess (1.0.2), which was tried first: it has a process group, uid/gid
/// and supplementary groups, and a TERM-then-KILL teardown to the group, but
/// - its Linux child is made with a raw `clone3` (for the pidfd), after which glibc still
///   believes the parent's threads exist: the child's `setgroups`/`setgid`/`setuid` (glibc
///   signals every thread for those) then waited forever whenever another thread was being
///   created at that moment — seen here within a few dozen runs, a hung half-started child;
/// - its `Environment.custom([[UInt8]])` copies entries without their terminating NUL;
/// - its teardown skips the final SIGKILL to the group once the leader has exited after
///   SIGTERM, leaving children that ignore SIGTERM.
/// posix_spawn cannot switch users. So the child is made by `cnl_spawn` (glibc's `fork`, then
/// raw system calls only), and this type does the waiting and the teardown.
final class ScriptProcess: Sendable {
    /// What `cnl_spawn` needs, kept alive until it returns.
    struct Launch {
        var path: String
        /// argv, argv[0] included.
        var arguments: [String]
        /// `NAME=value` entries.
        var environment: [String]
        var directory: String
        var standardInput: CInt
        var standardOutput: CInt
        var standardError: CInt
        /// nil: keep kad's own user and groups.
        var identity: ScriptIdentity?
    }

    /// Why spawning failed, and at which step.
    struct SpawnFailure: Error {
        var errno: Errno
        var step: String
    }

    struct State {
        /// The wait status, once reaped.
        var status: CInt?
        var waiter: CheckedContinuation<CInt, Never>?
        /// Set when kad stopped it (timeout or cancellation).
        var stoppedBecause: ScriptEnding?
        /// The SIGKILL to come once the grace period has passed.
        var escalation: PollThread.Timer?
        /// Without a pidfd: the timer that looks for the exit.
        var polling: PollThread.Timer?
    }

    let pid: pid_t
    let thread: PollThread
    let state = Mutex(State())

    private init(pid: pid_t, thread: PollThread) {
        self.pid = pid
        self.thread = thread
    }

    /// Starts the program. The corresponding C function is `cnl_spawn` (fork, setsid,
    /// setgroups/setresgid/setresuid, dup2, execve) and `pidfd_open(2)`.
    static func spawn(_ launch: Launch, thread: PollThread) throws(SpawnFailure) -> ScriptProcess {
        let argv = launch.arguments.map { strdup($0) } + [nil]
        let envp = launch.environment.map { strdup($0) } + [nil]
        defer {
            for p in argv { free(p) }
            for p in envp { free(p) }
        }
        let groups = launch.identity?.supplementaryGroups ?? []
        var result = cnl_spawn_result()
        let r: CInt = launch.path.withCString { path in
            launch.directory.withCString { dir in
                groups.withUnsafeBufferPointer { g in
                    argv.withUnsafeBufferPointer { a in
                        envp.withUnsafeBufferPointer { e in
                            var request = cnl_spawn_request(
                                path: path, argv: a.baseAddress, envp: e.baseAddress, directory: dir,
                                stdin_fd: launch.standardInput, stdout_fd: launch.standardOutput, stderr_fd: launch.standardError,
                                switch_identity: launch.identity == nil ? 0 : 1, uid: launch.identity?.uid ?? 0,
                                gid: launch.identity?.gid ?? 0, groups: g.baseAddress, group_count: CInt(g.count))
                            return SystemCalls.current.spawn(&request, &result)
                        }
                    }
                }
            }
        }
        if r != 0 {
            let steps = [1: "pipe", 2: "fork", 3: "setsid", 4: "setgroups", 5: "setresgid", 6: "setresuid",
                         7: "redirecting output", 8: "chdir", 9: "execve"]
            throw SpawnFailure(errno: Errno(rawValue: r), step: steps[Int(result.failed_step)] ?? "spawn")
        }
        let process = ScriptProcess(pid: result.pid, thread: thread)
        process.monitor(pidfd: result.pidfd)
        return process
    }

    /// Watches for the exit: the pidfd becomes readable when the process has ended (a zombie,
    /// not yet reaped); without a pidfd, polls every 10 ms. The pidfd is closed once the
    /// process is reaped (by the handler, which then removes the watch).
    private func monitor(pidfd: CInt) {
        if pidfd >= 0 {
            thread.watch(pidfd) { [self] _ in
                guard exited() else { return .keep }
                _ = SystemCalls.current.close(pidfd)
                return .remove
            }
        } else {
            // Registered under the lock, so that a fast exit cannot miss the timer to cancel.
            state.withLock { s in
                s.polling = thread.schedule(after: .milliseconds(10), repeating: .milliseconds(10)) { [self] in
                    _ = exited()
                }
            }
        }
    }

    /// Runs on the thread when the process may have ended: sweeps the group if kad was
    /// stopping it, then reaps it.
    /// - Returns: whether it has been reaped (now or before).
    private func exited() -> Bool {
        if state.withLock({ $0.status != nil }) { return true }
        var status: CInt = 0
        // While the leader is an unreaped zombie its pid cannot name another group, so the
        // sweep reaches only what is left of this script.
        if state.withLock({ $0.stoppedBecause != nil }) { _ = SystemCalls.current.kill(-pid, SIGKILL) }
        let r = SystemCalls.current.waitpid(pid, &status, WNOHANG)
        if r == 0 { return false }  // still running (polling, or a spurious wake-up)
        if r < 0 && errno == EINTR { return false }
        if r < 0 { status = 0x7f00 }  // ECHILD: someone else reaped it; report "exit 127"
        let (waiter, timers) = state.withLock { s -> (CheckedContinuation<CInt, Never>?, [PollThread.Timer]) in
            s.status = status
            defer {
                s.waiter = nil
                s.escalation = nil
                s.polling = nil
            }
            return (s.waiter, [s.escalation, s.polling].compactMap { $0 })
        }
        for t in timers { thread.cancel(t) }
        waiter?.resume(returning: status)
        return true
    }

    /// Waits until the process has ended and been reaped; returns the wait status. Not
    /// cancellable: a script is always reaped.
    func waitForExit() async -> CInt {
        await withCheckedContinuation { (c: CheckedContinuation<CInt, Never>) in
            let done = state.withLock { s -> CInt? in
                if let st = s.status { return st }
                s.waiter = c
                return nil
            }
            if let done { c.resume(returning: done) }
        }
    }

    /// Stops the script: SIGTERM to its process group now, SIGKILL after `grace` if it is
    /// still there. Only the first call counts.
    /// - Returns: false when it had already ended or was already being stopped.
    @discardableResult
    func stop(_ reason: ScriptEnding, grace: Duration) -> Bool {
        let first = state.withLock { s -> Bool in
            guard s.status == nil, s.stoppedBecause == nil else { return false }
            s.stoppedBecause = reason
            return true
        }
        guard first else { return false }
        thread.execute { [self] in
            // On the thread, like the reaping: the process cannot be reaped in between, and the
            // grace period starts when SIGTERM has actually gone out (however busy the thread was).
            guard state.withLock({ $0.status == nil }) else { return }
            _ = SystemCalls.current.kill(-pid, SIGTERM)
            let escalation = thread.schedule(after: grace) { [self] in
                guard state.withLock({ $0.status == nil }) else { return }
                _ = SystemCalls.current.kill(-pid, SIGKILL)
            }
            state.withLock { $0.escalation = escalation }
        }
        return true
    }

    /// Why kad stopped it, if it did.
    var stoppedBecause: ScriptEnding? { state.withLock { $0.stoppedBecause } }
}
