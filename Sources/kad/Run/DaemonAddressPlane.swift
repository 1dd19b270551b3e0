import NetLinux
import Synchronization
import VRRPCore

/// The daemon's address plane: NetLinux's, plus `-V/--dont-release-vrrp`, under which the
/// addresses, routes and rules of the instances stay in place when the daemon stops.
///
/// Once ``stopping`` is set with `keepOnStop`, removals are skipped (and logged once); every
/// other call goes straight to ``LinuxAddressPlane``.
final class DaemonAddressPlane: VRRPAddressPlane {
    let plane: LinuxAddressPlane
    let keepOnStop: Bool
    let stoppingFlag = Atomic<Bool>(false)
    let log: @Sendable (String) -> Void

    init(plane: LinuxAddressPlane, keepOnStop: Bool, log: @escaping @Sendable (String) -> Void) {
        self.plane = plane
        self.keepOnStop = keepOnStop
        self.log = log
    }

    /// Called just before the shutdown input is submitted.
    func stopping() {
        if keepOnStop, !stoppingFlag.exchange(true, ordering: .relaxed) {
            log("-V/--dont-release-vrrp: leaving the virtual addresses, routes and rules in place")
        }
    }

    private var keeping: Bool { keepOnStop && stoppingFlag.load(ordering: .relaxed) }

    func add(_ addresses: [VirtualAddress], interface: String) async throws { try await plane.add(addresses, interface: interface) }
    func remove(_ addresses: [VirtualAddress], interface: String) async throws {
        if keeping { return }
        try await plane.remove(addresses, interface: interface)
    }
    func add(_ routes: [VirtualRoute]) async throws { try await plane.add(routes) }
    func remove(_ routes: [VirtualRoute]) async throws {
        if keeping { return }
        try await plane.remove(routes)
    }
    func add(_ rules: [VirtualRule]) async throws { try await plane.add(rules) }
    func remove(_ rules: [VirtualRule]) async throws {
        if keeping { return }
        try await plane.remove(rules)
    }
    func setAcceptMode(_ accept: Bool, addresses: [VirtualAddress], interface: String) async throws {
        try await plane.setAcceptMode(accept, addresses: addresses, interface: interface)
    }
}
