#if canImport(Glibc)
import Glibc
#endif
import CNetLinux

/// How a thread is scheduled: keepalived's `vrrp_priority` (a nice value), `vrrp_rt_priority`
/// (the realtime round-robin policy, `SCHED_RR`) and `vrrp_cpu_affinity` (the CPUs it may run
/// on), applied by kad to its VRRP threads.
///
/// ```swift
/// let s = ThreadScheduling(realtimePriority: 50, cpus: [1])
/// let problems = s.apply(toThread: transport.receiveThreadID ?? 0)   // [] when all applied
/// ```
public struct ThreadScheduling: Sendable, Hashable {
    /// -20 (most favoured) … 19; nil leaves the nice value alone.
    public var niceness: Int32?
    /// 1 … 99 for `SCHED_RR`; nil is the normal policy (`SCHED_OTHER`).
    public var realtimePriority: Int32?
    /// The CPUs (numbered from 0) the thread may run on; empty leaves them alone.
    public var cpus: [Int]

    public init(niceness: Int32? = nil, realtimePriority: Int32? = nil, cpus: [Int] = []) {
        self.niceness = niceness
        self.realtimePriority = realtimePriority
        self.cpus = cpus
    }

    /// Whether it changes nothing.
    public var isDefault: Bool { niceness == nil && realtimePriority == nil && cpus.isEmpty }

    /// Applies every setting to the thread with kernel id `tid` (0: the calling thread); the
    /// policy is always set, so a realtime thread goes back to `SCHED_OTHER` when
    /// ``realtimePriority`` is nil. The C functions are `sched_setscheduler(2)`,
    /// `setpriority(2)` and `sched_setaffinity(2)`.
    /// - Returns: what could not be applied, in words (empty: everything was).
    public func apply(toThread tid: Int32) -> [String] {
        var problems: [String] = []
        var param = sched_param()
        param.sched_priority = realtimePriority ?? 0
        let policy = realtimePriority == nil ? SCHED_OTHER : SCHED_RR
        if sched_setscheduler(tid, policy, &param) != 0 {
            problems.append("\(realtimePriority.map { "SCHED_RR priority \($0)" } ?? "SCHED_OTHER"): \(String(cString: strerror(errno)))")
        }
        if let n = niceness, setpriority(__priority_which_t(PRIO_PROCESS.rawValue), id_t(max(tid, 0)), n) != 0 {
            problems.append("nice \(n): \(String(cString: strerror(errno)))")
        }
        if !cpus.isEmpty, cnl_set_affinity(tid, cpus.map { CInt(clamping: $0) }, cpus.count) != 0 {
            problems.append("CPUs \(cpus.map(String.init).joined(separator: ",")): \(String(cString: strerror(errno)))")
        }
        return problems
    }
}
