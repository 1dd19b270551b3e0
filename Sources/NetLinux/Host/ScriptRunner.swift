#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import SystemPackage

/// How a script ended, as `wait(2)` reports it.
public enum ScriptExitStatus: Sendable, Hashable, CustomStringConvertible {
    /// It called `exit` with this code.
    case exited(Int32)
    /// A signal ended it.
    case signaled(Int32)

    public var description: String {
        switch self {
        case .exited(let code): return "exited with status \(code)"
        case .signaled(let s): return "killed by signal \(s) (\(ScriptExitStatus.signalName(s)))"
        }
    }

    static func signalName(_ s: Int32) -> String {
        switch s {
        case SIGTERM: "SIGTERM"
        case SIGKILL: "SIGKILL"
        case SIGINT: "SIGINT"
        case SIGHUP: "SIGHUP"
        case SIGSEGV: "SIGSEGV"
        case SIGABRT: "SIGABRT"
        case SIGPIPE: "SIGPIPE"
        case SIGQUIT: "SIGQUIT"
        case SIGUSR1: "SIGUSR1"
        case SIGUSR2: "SIGUSR2"
        default: "signal \(s)"
        }
    }
}

/// Why a run ended.
public enum ScriptEnding: Sendable, Hashable {
    /// The script ended on its own.
    case completed
    /// It ran past its timeout and was stopped: SIGTERM to its process group, then SIGKILL.
    case timedOut
    /// The task running it was cancelled (kad is stopping), and the script was stopped the same way.
    case cancelled
}

/// The outcome of one run.
public struct ScriptResult: Sendable, Hashable, CustomStringConvertible {
    public var processID: pid_t
    public var status: ScriptExitStatus
    public var ending: ScriptEnding
    /// From start to exit.
    public var duration: Duration
    /// What the script wrote, up to the runner's output limit.
    public var standardOutput: String
    public var standardError: String
    /// Whether either output went beyond the limit (the rest was dropped).
    public var outputTruncated: Bool

    /// keepalived's test for tracking scripts: exit status 0, within the timeout.
    public var succeeded: Bool { ending == .completed && status == .exited(0) }

    public var description: String {
        switch ending {
        case .completed: return status.description
        case .timedOut: return "timed out, \(status)"
        case .cancelled: return "stopped, \(status)"
        }
    }
}

/// Something that happened to a running script, for the log.
public struct ScriptEvent: Sendable, Hashable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        case started
        /// One line of output (without its newline).
        case output(ScriptOutputStream, String)
        /// The output went beyond the limit; the rest of that stream is dropped.
        case outputTruncated(ScriptOutputStream, limit: Int)
        /// The timeout passed; SIGTERM goes to the script's process group.
        case timedOut(after: Duration)
        case finished(ScriptExitStatus, ScriptEnding)
    }

    /// ``Script/name``.
    public var script: String
    /// 0 before the process exists.
    public var processID: pid_t
    public var kind: Kind

    public var description: String {
        let who = "\(script) (pid \(processID))"
        switch kind {
        case .started: return "\(who) started"
        case .output(let s, let line): return "\(who) \(s.rawValue): \(line)"
        case .outputTruncated(let s, let limit): return "\(who) \(s.rawValue): more than \(limit) bytes, the rest is dropped"
        case .timedOut(let d): return "\(who) timed out after \(d), sending SIGTERM to its process group"
        case .finished(let status, .completed): return "\(who) \(status)"
        case .finished(let status, .timedOut): return "\(who) timed out, \(status)"
        case .finished(let status, .cancelled): return "\(who) stopped, \(status)"
        }
    }
}

/// Why a script could not be started.
public enum ScriptLaunchError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The task was cancelled before the script started.
    case cancelled
    /// No pipe for its output (`pipe2(2)` failed).
    case pipe(Errno)
    /// Spawning failed; `detail` names the step (`fork`, `setresuid`, `execve`, ...).
    case spawnFailed(script: String, executable: String, user: String, Errno?, detail: String)

    public var description: String {
        switch self {
        case .cancelled:
            return "cancelled before the script started"
        case .pipe(let e):
            return "creating a pipe for script output: \(plainDescription(e))"
        case .spawnFailed(let script, let executable, let user, let e, let detail):
            var s = "starting \(script) (\(executable)) as \(user)"
            s += ": \(detail)"
            if let e {
                s += ": \(plainDescription(e))"
                if e == .notPermitted { s += " (switching user needs CAP_SETUID and CAP_SETGID)" }
            }
            return s
        }
    }
}

/// Runs notify and tracking scripts.
///
/// Each run:
/// - waits for one of `maximumConcurrentScripts` slots;
/// - starts the program in a new session and process group, as the script's user and group
///   (supplementary groups replaced), with the working directory `/` and a minimal
///   environment (`PATH`, `HOME`, `USER`, `LOGNAME`, `SHELL`, plus
///   ``Configuration/environment``), standard input from `/dev/null`;
/// - captures standard output and error, hands each line to the log callback and keeps up to
///   `outputLimit` bytes of each for the result;
/// - on timeout, or when the calling task is cancelled, sends SIGTERM to the whole process
///   group, then SIGKILL after `terminationGracePeriod` (and SIGKILL to the group once more
///   when the script itself has gone, for children that ignored SIGTERM);
/// - always reaps the script (no zombie), and reports how it ended as a ``ScriptResult``.
///
/// Scripts are started by ``ScriptProcess`` (fork, setsid, the user switch through the raw
/// system calls, execve) and watched through a pidfd. Their pipes and pidfds are watched, and
/// the signals sent, by the process's shared ``PollThread`` (not by Dispatch sources, which
/// could crash libdispatch when a killed script's descriptors were closed).
/// `Docs/scripts.md` describes all this in the user's terms.
///
/// ```swift
/// let runner = ScriptRunner(log: { event in logger.info("\(event)") })
/// let result = try await runner.run(script, arguments: ["INSTANCE", "VI_1", "MASTER", "100"])
/// ```
public final class ScriptRunner: Sendable {
    public struct Configuration: Sendable {
        /// At most this many scripts run at once; others wait their turn.
        public var maximumConcurrentScripts = 32
        /// Between SIGTERM and SIGKILL.
        public var terminationGracePeriod: Duration = .seconds(2)
        /// Bytes of each output kept per run (lines beyond it are dropped).
        public var outputLimit = 16 * 1024
        /// How long to wait, once the script has exited, for the rest of its output (a
        /// background child may hold the pipe open).
        public var outputDrainTime: Duration = .milliseconds(200)
        /// `$PATH` for scripts.
        public var searchPath = Script.defaultSearchPath
        /// Added to (or replacing) the minimal environment.
        public var environment: [String: String] = [:]
        public init() {}
    }

    public let configuration: Configuration
    let slots: AsyncSemaphore
    let log: @Sendable (ScriptEvent) -> Void
    let active = Atomic<Int>(0)

    /// - Parameters:
    ///   - configuration: limits and environment.
    ///   - log: receives every ``ScriptEvent``; called from any thread.
    public init(configuration: Configuration = Configuration(), log: @escaping @Sendable (ScriptEvent) -> Void = { _ in }) {
        self.configuration = configuration
        self.slots = AsyncSemaphore(value: configuration.maximumConcurrentScripts)
        self.log = log
    }

    /// Scripts running now (not counting those waiting for a slot).
    public var running: Int { active.load(ordering: .relaxed) }

    /// The environment a script of `identity` gets.
    public func environment(for identity: ScriptIdentity) -> [String: String] {
        var env = ["PATH": configuration.searchPath, "HOME": identity.home, "USER": identity.userName,
                   "LOGNAME": identity.userName, "SHELL": identity.shell]
        for (k, v) in configuration.environment { env[k] = v }
        return env
    }

    /// Runs `script` with `arguments` appended to its command line and waits for it.
    ///
    /// - Parameters:
    ///   - arguments: added after the configured ones (the generic `notify` gets
    ///     `INSTANCE|GROUP NAME STATE PRIORITY`).
    ///   - timeout: nil waits as long as the script runs (notify scripts); otherwise the script
    ///     is stopped after this long and the result says ``ScriptEnding/timedOut``.
    /// - Returns: how it ended, with its output. A non-zero status is a result, not an error.
    /// - Throws: ``ScriptLaunchError`` when it could not start.
    public func run(_ script: Script, arguments: [String] = [], timeout: Duration? = nil) async throws(ScriptLaunchError) -> ScriptResult {
        do {
            try await slots.wait()
        } catch {
            throw .cancelled
        }
        defer { slots.signal() }
        active.add(1, ordering: .relaxed)
        defer { active.subtract(1, ordering: .relaxed) }
        return try await launch(script, arguments: arguments, timeout: timeout)
    }

    private func launch(_ script: Script, arguments extra: [String], timeout: Duration?) async throws(ScriptLaunchError) -> ScriptResult {
        let thread: PollThread
        do {
            thread = try PollThread.shared()
        } catch {
            throw .spawnFailed(script: script.name, executable: script.executable, user: script.identity.description,
                               error.errno, detail: error.operation)
        }
        let calls = SystemCalls.current
        var out: [CInt] = [-1, -1]
        var err: [CInt] = [-1, -1]
        guard calls.pipe(&out) == 0 else { throw .pipe(Errno(rawValue: errno)) }
        guard calls.pipe(&err) == 0 else {
            let e = Errno(rawValue: errno)
            _ = calls.close(out[0])
            _ = calls.close(out[1])
            throw .pipe(e)
        }
        let devNull = "/dev/null".withCString { calls.open($0, O_RDONLY | O_CLOEXEC) }
        let name = script.name
        let log = self.log
        let processID = ProcessIDBox()
        let capture = ScriptOutputCapture(standardOutput: out[0], standardError: err[0], limit: configuration.outputLimit,
                                          thread: thread) { [log] kind in
            log(ScriptEvent(script: name, processID: processID.value.load(ordering: .acquiring), kind: kind))
        }
        var environment = self.environment(for: script.identity).map { "\($0.key)=\($0.value)" }
        environment.sort()
        let switchIdentity = script.identity.uid != geteuid() || script.identity.gid != getegid()
        let launch = ScriptProcess.Launch(
            path: script.executable, arguments: script.commandLine.arguments + extra, environment: environment,
            directory: "/", standardInput: devNull, standardOutput: out[1], standardError: err[1],
            identity: switchIdentity ? script.identity : nil)
        let start = ContinuousClock.now
        let spawned = Result { () throws(ScriptProcess.SpawnFailure) in try ScriptProcess.spawn(launch, thread: thread) }
        // The child has its copies; without closing ours the pipes would never reach end-of-file.
        _ = calls.close(out[1])
        _ = calls.close(err[1])
        if devNull >= 0 { _ = calls.close(devNull) }
        let process: ScriptProcess
        switch spawned {
        case .success(let p):
            process = p
        case .failure(let failure):
            capture.cancel()
            throw .spawnFailed(script: name, executable: script.executable, user: script.identity.description,
                               failure.errno, detail: failure.step)
        }
        processID.value.store(process.pid, ordering: .releasing)
        log(ScriptEvent(script: name, processID: process.pid, kind: .started))
        capture.start()

        let grace = configuration.terminationGracePeriod
        let timer = timeout.map { limit in
            Task {
                try await Task.sleep(for: limit)
                if process.stop(.timedOut, grace: grace) {
                    log(ScriptEvent(script: name, processID: process.pid, kind: .timedOut(after: limit)))
                }
            }
        }
        let raw = await withTaskCancellationHandler {
            await process.waitForExit()
        } onCancel: {
            process.stop(.cancelled, grace: grace)
        }
        timer?.cancel()
        let duration = ContinuousClock.now - start
        // A timeout that fired logs `timedOut` before the end is logged and the result returned.
        _ = await timer?.result
        let status: ScriptExitStatus = raw & 0x7f == 0 ? .exited((raw >> 8) & 0xff) : .signaled(raw & 0x7f)
        let ending = process.stoppedBecause ?? .completed
        // Once the script has ended its output ends too, unless a background child holds it.
        _ = await capture.waitForEnd(within: ending == .completed ? configuration.outputDrainTime : .milliseconds(50))
        let kept = capture.snapshot()
        log(ScriptEvent(script: name, processID: process.pid, kind: .finished(status, ending)))
        return ScriptResult(processID: process.pid, status: status, ending: ending, duration: duration,
                            standardOutput: kept.standardOutput, standardError: kept.standardError, outputTruncated: kept.truncated)
    }

    /// The pid, for log events that the output reader sends.
    final class ProcessIDBox: Sendable {
        let value = Atomic<pid_t>(0)
    }
}
