#if canImport(Glibc)
import Glibc
#endif
import CNetLinux
import Dispatch
import Synchronization
import SystemPackage

/// One started script: its process (leader of its own session and process group), how to wait
/// for it, and how to stop it. Every process-control step runs on one serial queue, so the
/// final SIGKILL to the group and the reaping never race.
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
    }

    let pid: pid_t
    let queue: DispatchQueue
    let state = Mutex(State())
    let source: Mutex<SourceBox?> = Mutex(nil)

    /// Dispatch objects, only ever cancelled from other threads.
    struct SourceBox: @unchecked Sendable {
        var source: any DispatchSourceProtocol
    }

    private init(pid: pid_t, queue: DispatchQueue) {
        self.pid = pid
        self.queue = queue
    }

    /// Starts the program. The corresponding C function is `cnl_spawn` (fork, setsid,
    /// setgroups/setresgid/setresuid, dup2, execve) and `pidfd_open(2)`.
    static func spawn(_ launch: Launch, queue: DispatchQueue) throws(SpawnFailure) -> ScriptProcess {
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
        let process = ScriptProcess(pid: result.pid, queue: queue)
        process.monitor(pidfd: result.pidfd)
        return process
    }

    /// Watches for the exit: the pidfd becomes readable when the process has ended (a zombie,
    /// not yet reaped); without a pidfd, polls every 10 ms.
    private func monitor(pidfd: CInt) {
        if pidfd >= 0 {
            let s = DispatchSource.makeReadSource(fileDescriptor: pidfd, queue: queue)
            s.setEventHandler { [self] in exited() }
            s.setCancelHandler { _ = SystemCalls.current.close(pidfd) }
            source.withLock { $0 = SourceBox(source: s) }
            s.resume()
        } else {
            let t = DispatchSource.makeTimerSource(queue: queue)
            t.schedule(deadline: .now() + .milliseconds(10), repeating: .milliseconds(10))
            t.setEventHandler { [self] in exited() }
            source.withLock { $0 = SourceBox(source: t) }
            t.resume()
        }
    }

    /// Runs on `queue` when the process may have ended: sweeps the group if kad was stopping
    /// it, then reaps it.
    private func exited() {
        if state.withLock({ $0.status != nil }) { return }
        var status: CInt = 0
        // While the leader is an unreaped zombie its pid cannot name another group, so the
        // sweep reaches only what is left of this script.
        if state.withLock({ $0.stoppedBecause != nil }) { _ = SystemCalls.current.kill(-pid, SIGKILL) }
        let r = SystemCalls.current.waitpid(pid, &status, WNOHANG)
        if r == 0 { return }  // still running (polling, or a spurious wake-up)
        if r < 0 && errno == EINTR { return }
        if r < 0 { status = 0x7f00 }  // ECHILD: someone else reaped it; report "exit 127"
        source.withLock { s in
            s?.source.cancel()
            s = nil
        }
        let waiter = state.withLock { s -> CheckedContinuation<CInt, Never>? in
            s.status = status
            defer { s.waiter = nil }
            return s.waiter
        }
        waiter?.resume(returning: status)
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
        queue.async { [self] in
            guard state.withLock({ $0.status == nil }) else { return }
            _ = SystemCalls.current.kill(-pid, SIGTERM)
        }
        let ms = Int(grace.components.seconds * 1000 + grace.components.attoseconds / 1_000_000_000_000_000)
        queue.asyncAfter(deadline: .now() + .milliseconds(max(0, ms))) { [self] in
            guard state.withLock({ $0.status == nil }) else { return }
            _ = SystemCalls.current.kill(-pid, SIGKILL)
        }
        return true
    }

    /// Why kad stopped it, if it did.
    var stoppedBecause: ScriptEnding? { state.withLock { $0.stoppedBecause } }
}
