#if canImport(Glibc)
import Glibc
#endif

/// Looks up network interfaces of the host (or of the network namespace the process is in).
///
/// The rest of NetLinux (rtnetlink, VRRP sockets, GARP/NA, VMAC, capabilities, scripts)
/// arrives with issue #4.
public enum NetworkInterface {
    /// The kernel's index of the interface named `name`, or `nil` when no such interface exists.
    ///
    /// The corresponding C function is `if_nametoindex(3)`.
    public static func index(named name: String) -> UInt32? {
        guard !name.isEmpty, name.utf8.count < 16 else { return nil }
        let index = if_nametoindex(name)
        return index == 0 ? nil : UInt32(index)
    }
}
