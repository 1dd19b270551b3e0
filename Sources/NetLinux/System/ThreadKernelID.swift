#if canImport(Glibc)
import Glibc
#endif
import CNetLinux
import Synchronization

/// The kernel id (`gettid(2)`) of a thread NetLinux starts, recorded by the thread itself when
/// it begins, read by anyone.
final class ThreadKernelID: Sendable {
    private let id = Atomic<Int32>(0)

    /// Called first thing on the thread.
    func record() { id.store(cnl_gettid(), ordering: .releasing) }

    /// The id; waits up to a second for the thread to have recorded it (0 if it has not).
    var value: Int32 {
        for _ in 0..<1000 {
            let v = id.load(ordering: .acquiring)
            if v != 0 { return v }
            usleep(1000)
        }
        return 0
    }
}
