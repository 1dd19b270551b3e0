#if canImport(Glibc)
import Glibc
#endif

/// How ``IPVSClient`` gets the `ip_vs` kernel module loaded when the kernel has no `IPVS`
/// generic netlink family (as keepalived does: load the module, then try once more).
///
/// ```swift
/// let client = try IPVSClient(moduleLoader: .none)       // never load anything
/// let custom = IPVSModuleLoader { "not allowed here" }   // a hook: nil means loaded
/// ```
public struct IPVSModuleLoader: Sendable {
    /// Loads the module; returns `nil` on success, else why it failed, in words.
    public let load: @Sendable () -> String?

    public init(_ load: @Sendable @escaping () -> String?) { self.load = load }

    /// Runs `modprobe -q ip_vs` (from `/sbin`, `/usr/sbin` or `/bin`, through
    /// `posix_spawn(3)` with standard input and output on `/dev/null`) and waits for it.
    public static let modprobe = IPVSModuleLoader { runModprobe(module: "ip_vs") }

    /// Loads nothing: a missing family is reported as it is.
    public static let none = IPVSModuleLoader { "loading modules is disabled" }

    /// `modprobe -q MODULE`; nil when it exits 0.
    static func runModprobe(module: String) -> String? {
        let candidates = ["/sbin/modprobe", "/usr/sbin/modprobe", "/bin/modprobe", "/usr/bin/modprobe"]
        guard let path = candidates.first(where: { access($0, X_OK) == 0 }) else { return "modprobe not found" }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for fd in [CInt(0), 1, 2] {
            posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", fd == 0 ? O_RDONLY : O_WRONLY, 0)
        }
        let arguments = [path, "-q", module]
        let environment = ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"]
        var argv = arguments.map { strdup($0) } + [nil]
        var envp = environment.map { strdup($0) } + [nil]
        defer {
            for p in argv { free(p) }
            for p in envp { free(p) }
        }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, path, &actions, nil, &argv, &envp)
        guard spawned == 0 else { return "\(path) could not be started (errno \(spawned))" }
        var status: CInt = 0
        while waitpid(pid, &status, 0) < 0 {
            if errno != EINTR { return "waiting for \(path) failed (errno \(errno))" }
        }
        // WIFEXITED / WEXITSTATUS are macros: exited normally when the low 7 bits are 0.
        if status & 0x7F == 0 {
            let code = (status >> 8) & 0xFF
            return code == 0 ? nil : "\(path) -q \(module) exited \(code)"
        }
        return "\(path) -q \(module) was killed by signal \(status & 0x7F)"
    }
}
