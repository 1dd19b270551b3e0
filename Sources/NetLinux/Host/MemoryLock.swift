import SystemPackage
#if canImport(Glibc)
import Glibc
#endif

/// keepalived's `vrrp_no_swap` / `checker_no_swap`: keeps every page of the process in memory,
/// present and future, so that no advert or check waits for a page to come back from swap.
///
/// ```swift
/// try MemoryLock.lockAll()   // mlockall(MCL_CURRENT | MCL_FUTURE); needs CAP_IPC_LOCK
/// ```
public enum MemoryLock {
    /// Locks the current and future pages of the process. The corresponding C function is
    /// `mlockall(2)`.
    /// - Throws: ``NetLinuxError`` (`EPERM` without CAP_IPC_LOCK, `ENOMEM` over
    ///   `RLIMIT_MEMLOCK`).
    public static func lockAll() throws(NetLinuxError) {
        guard mlockall(MCL_CURRENT | MCL_FUTURE) == 0 else { throw NetLinuxError("mlockall", Errno(rawValue: errno)) }
    }
}
