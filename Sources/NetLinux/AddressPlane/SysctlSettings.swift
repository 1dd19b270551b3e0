#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import SystemPackage

/// Kernel settings under `/proc/sys` that kad changes and puts back: the values VMACs need
/// (`arp_ignore`, `arp_filter`, `accept_local`, `rp_filter`).
///
/// The first ``set(_:to:)`` of a key remembers its original value; later ones (another VMAC
/// on the same parent wants the same setting) only count a holder. ``release(_:)`` drops a
/// holder and writes the original back when the last one goes; ``restoreAll()`` writes back
/// every original, in the reverse order of the changes. A key whose file has disappeared
/// (the interface was deleted) needs no restoring.
///
/// Files under `/proc/sys/net` belong to the network namespace of the thread that opens
/// them, so with a namespace every read and write runs on a thread that has entered it
/// (``NetworkNamespace/perform(inNamespaceAt:_:)``).
///
/// ```swift
/// let sysctls = SysctlSettings()
/// try sysctls.set(SysctlSettings.ipv4Conf("eth0", "arp_ignore"), to: "1")
/// ...
/// for error in sysctls.restoreAll() { log(error) }
/// ```
public final class SysctlSettings: Sendable {
    /// A changed key: its original value, and how many holders want the new one.
    public struct Change: Sendable, Hashable {
        public var key: String
        public var original: String
        public var value: String
        public var holders: Int
    }

    /// The namespace the settings live in (`nil`: the process's).
    public let namespace: String?
    private let changes = Mutex<[Change]>([])

    public init(inNamespaceAt namespace: String? = nil) {
        self.namespace = namespace
    }

    /// `net/ipv4/conf/INTERFACE/NAME`: an IPv4 per-interface setting (`all` and `default`
    /// are interfaces here). Keys are paths under `/proc/sys`, so that interface names with
    /// dots ("vrrp.51") need no escaping.
    public static func ipv4Conf(_ interface: String, _ name: String) -> String { "net/ipv4/conf/\(interface)/\(name)" }

    /// The changes in force, oldest first.
    public var pending: [Change] { changes.withLock { $0 } }

    /// The current value of `key` (a path under `/proc/sys`), without its trailing newline.
    public func value(of key: String) throws(NetLinuxError) -> String {
        let path = "/proc/sys/" + key
        return try inNamespace("reading \(path)") { () throws(Errno) in try Self.read(path) }
    }

    /// Sets `key` to `value`, remembering the original value the first time.
    /// - Throws: ``NetLinuxError`` "setting /proc/sys/net/ipv4/conf/eth9/arp_ignore to 1: no
    ///   such file or directory".
    public func set(_ key: String, to value: String) throws(NetLinuxError) {
        let path = "/proc/sys/" + key
        try changes.withLock { (list: inout [Change]) throws(NetLinuxError) in
            if let i = list.firstIndex(where: { $0.key == key }) {
                if list[i].value != value {
                    try inNamespace("setting \(path) to \(value)") { () throws(Errno) in try Self.write(path, value) }
                    list[i].value = value
                }
                list[i].holders += 1
                return
            }
            let original = try inNamespace("setting \(path) to \(value)") { () throws(Errno) -> String in
                let original = try Self.read(path)
                if original != value { try Self.write(path, value) }
                return original
            }
            list.append(Change(key: key, original: original, value: value, holders: 1))
        }
    }

    /// Drops one holder of `key`; the last one writes the original value back. A key never
    /// set, or whose file is gone, is not an error.
    public func release(_ key: String) throws(NetLinuxError) {
        try changes.withLock { (list: inout [Change]) throws(NetLinuxError) in
            guard let i = list.firstIndex(where: { $0.key == key }) else { return }
            list[i].holders -= 1
            guard list[i].holders <= 0 else { return }
            let change = list.remove(at: i)
            try restore(change)
        }
    }

    /// Writes back every original value, newest change first, whatever the holders; returns
    /// the failures (a file that is gone is not one).
    @discardableResult
    public func restoreAll() -> [NetLinuxError] {
        let list = changes.withLock { list -> [Change] in
            defer { list.removeAll() }
            return list
        }
        var errors: [NetLinuxError] = []
        for change in list.reversed() {
            do { try restore(change) } catch { errors.append(error) }
        }
        return errors
    }

    /// The interfaces with IPv4 settings (the directories of `/proc/sys/net/ipv4/conf`, `all`
    /// and `default` left out).
    public func ipv4Interfaces() throws(NetLinuxError) -> [String] {
        try inNamespace("listing /proc/sys/net/ipv4/conf") { () throws(Errno) -> [String] in
            guard let dir = opendir("/proc/sys/net/ipv4/conf") else { throw Errno(rawValue: errno) }
            defer { closedir(dir) }
            var names: [String] = []
            while let entry = readdir(dir) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                    String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
                }
                if name.hasPrefix(".") || name == "all" || name == "default" { continue }
                names.append(name)
            }
            return names.sorted()
        }
    }

    // MARK: Private

    private func restore(_ change: Change) throws(NetLinuxError) {
        let path = "/proc/sys/" + change.key
        try inNamespace("restoring \(path) to \(change.original)") { () throws(Errno) in
            do throws(Errno) {
                try Self.write(path, change.original)
            } catch {
                if error != .noSuchFileOrDirectory { throw error }
            }
        }
    }

    /// Runs `body` in the namespace (on a thread of its own) or here.
    private func inNamespace<R>(_ operation: String, _ body: @escaping @Sendable () throws(Errno) -> R) throws(NetLinuxError) -> R {
        guard let namespace else {
            do { return try body() } catch { throw NetLinuxError(operation, error) }
        }
        do {
            return try NetworkNamespace.perform(inNamespaceAt: namespace) { () throws -> R in try body() }
        } catch let error as NetLinuxError {
            throw error
        } catch let error as Errno {
            throw NetLinuxError(operation, error)
        } catch {
            throw NetLinuxError(operation, .ioError, detail: "\(error)")
        }
    }

    /// The file's content up to its first newline.
    static func read(_ path: String) throws(Errno) -> String {
        let bytes = try HostFile.read(path, limit: 4096)
        return String(decoding: bytes.prefix { $0 != 0x0A }, as: UTF8.self)
    }

    /// Writes `value` and a newline in one `write(2)`, as `sysctl -w` does.
    /// The corresponding C functions are `open(2)`, `write(2)` and `close(2)`.
    static func write(_ path: String, _ value: String) throws(Errno) {
        let calls = SystemCalls.current
        let fd = try retryingOnInterrupt { path.withCString { calls.open($0, O_WRONLY | O_CLOEXEC | O_NOCTTY) } }
        defer { _ = calls.close(fd) }
        let bytes = Array((value + "\n").utf8)
        let n = try retryingOnInterrupt { bytes.withUnsafeBytes { calls.write(fd, $0.baseAddress!, $0.count) } }
        if n != bytes.count { throw .ioError }
    }
}
