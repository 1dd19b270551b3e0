#if canImport(Glibc)
import Glibc
#endif
import SystemPackage

/// Network namespaces: run code (typically: open sockets) inside another namespace.
///
/// A socket stays in the namespace it was created in, whichever thread uses it later, so
/// kad opens its netlink and VRRP sockets inside the namespace and then uses them from
/// anywhere. `setns(2)` changes only the calling thread, so the work runs on a thread of
/// its own that ends afterwards; the caller's threads never change namespace.
public enum NetworkNamespace {
    /// The path iproute2 uses for a named namespace (`ip netns add NAME`).
    public static func path(named name: String) -> String { "/var/run/netns/\(name)" }

    /// Runs `body` on a new thread that has entered the network namespace at `path`.
    ///
    /// The corresponding C functions are `open(2)`, `setns(2)` and `pthread_create(3)`.
    /// - Throws: ``NetLinuxError`` when the namespace cannot be opened or entered, or
    ///   whatever `body` throws.
    public static func perform<R>(inNamespaceAt path: String, _ body: @escaping @Sendable () throws -> R) throws -> R {
        // The thread runs a type-erased body; the typed result is recovered afterwards.
        var typed: R?
        let box = NamespaceThreadBox(path: path) { typed = try body() }
        let context = Unmanaged.passRetained(box).toOpaque()
        var thread = pthread_t()
        let created = pthread_create(&thread, nil, { raw in
            let box = Unmanaged<NamespaceThreadBox>.fromOpaque(raw!).takeUnretainedValue()
            let fd = box.path.withCString { SystemCalls.current.open($0, O_RDONLY | O_CLOEXEC) }
            if fd < 0 {
                box.result = .failure(NetLinuxError("opening network namespace \(box.path)", Errno(rawValue: errno)))
                return nil
            }
            defer { _ = SystemCalls.current.close(fd) }
            if SystemCalls.current.setNetworkNamespace(fd) < 0 {
                box.result = .failure(NetLinuxError("entering network namespace \(box.path)", Errno(rawValue: errno)))
                return nil
            }
            box.result = Result { try box.body() }
            return nil
        }, context)
        if created != 0 {
            Unmanaged<NamespaceThreadBox>.fromOpaque(context).release()
            throw NetLinuxError("starting a thread for network namespace \(path)", Errno(rawValue: created))
        }
        pthread_join(thread, nil)
        let result = Unmanaged<NamespaceThreadBox>.fromOpaque(context).takeRetainedValue().result!
        try result.get()
        return typed!
    }
}

/// What the namespace thread needs; owned by ``NetworkNamespace/perform(inNamespaceAt:_:)``,
/// which joins the thread before reading `result`.
final class NamespaceThreadBox: @unchecked Sendable {
    let path: String
    let body: () throws -> Void
    var result: Result<Void, any Error>?
    init(path: String, body: @escaping () throws -> Void) {
        self.path = path
        self.body = body
    }
}
