import NetLinux

/// `MISC_CHECK`: runs `misc_path` through NetLinux's ``ScriptRunner`` and reads its exit status.
///
/// Exit 0 is up, 1 (or anything else without `misc_dynamic`) is down. With `misc_dynamic`,
/// 2...255 is up with weight `status - 2`. A script that runs past `misc_timeout` is stopped
/// (SIGTERM to its process group, then SIGKILL) and counts as a failure.
///
/// Failure reasons: "misc_path exited with status 1", "misc_path timed out after 5 s",
/// "misc_path killed by signal 9 (SIGKILL)", or why it could not be started.
public struct MiscCheck: HealthCheck {
    public var script: Script
    public var runner: ScriptRunner
    /// `misc_timeout`; the caller resolves the default (the checker's delay_loop).
    public var timeout: Duration
    /// `misc_dynamic`.
    public var dynamic: Bool

    public init(script: Script, runner: ScriptRunner, timeout: Duration, dynamic: Bool = false) {
        self.script = script
        self.runner = runner
        self.timeout = timeout
        self.dynamic = dynamic
    }

    public var name: String { "MISC_CHECK \(script.commandLine)" }

    public func check() async -> CheckResult {
        let result: ScriptResult
        do {
            result = try await runner.run(script, timeout: timeout)
        } catch {
            return .failure(reason: "misc_path could not be run: \(error)")
        }
        return Self.verdict(result, dynamic: dynamic, timeout: timeout)
    }

    /// The check result for a finished script.
    public static func verdict(_ result: ScriptResult, dynamic: Bool, timeout: Duration) -> CheckResult {
        switch result.ending {
        case .timedOut: return .failure(reason: "misc_path timed out after \(timeout.checkerText)")
        case .cancelled: return .failure(reason: "misc_path stopped (cancelled)")
        case .completed: break
        }
        switch result.status {
        case .exited(0): return .success
        case .exited(let code) where dynamic && (2...255).contains(code): return .weighted(Int(code) - 2)
        case .exited(let code): return .failure(reason: "misc_path exited with status \(code)")
        case .signaled: return .failure(reason: "misc_path \(result.status)")
        }
    }
}
