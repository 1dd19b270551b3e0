import Synchronization
import VRRPCore

/// What a VMAC (`use_vmac`) looks like.
public struct VirtualMACConfiguration: Sendable, Hashable {
    /// Where the VMAC's IPv6 link-local address comes from.
    public enum LinkLocal: Sendable, Hashable {
        /// The parent's first link-local address, copied (with `nodad`): each router keeps a
        /// link-local address of its own, as RFC 5798 needs for the advert source, although all
        /// routers share the virtual MAC.
        case copyFromParent
        /// This address (fe80::/64, `nodad`).
        case address(IPAddress)
        /// None.
        case none
    }

    /// The interface the macvlan sits on.
    public var parent: String
    public var virtualRouterID: UInt8
    /// The address family of the instance: the MAC is 00:00:5e:00:01:VRID for IPv4 and
    /// 00:00:5e:00:02:VRID for IPv6.
    public var family: IPAddressFamily
    /// The macvlan's name: `vrrp.VRID` by default, as keepalived (the same on every node).
    public var name: String
    /// The macvlan's MAC (the virtual router MAC unless overridden).
    public var address: MACAddress
    public var linkLocal: LinkLocal

    /// - Parameters:
    ///   - linkLocal: by default ``LinkLocal/copyFromParent`` for IPv6 and ``LinkLocal/none`` for IPv4.
    public init(parent: String, virtualRouterID: UInt8, family: IPAddressFamily = .ipv4, name: String? = nil,
                address: MACAddress? = nil, linkLocal: LinkLocal? = nil) {
        self.parent = parent
        self.virtualRouterID = virtualRouterID
        self.family = family
        self.name = name ?? "vrrp.\(virtualRouterID)"
        self.address = address ?? MACAddress.virtualRouterMAC(family: family, vrid: virtualRouterID)
        self.linkLocal = linkLocal ?? (family == .ipv6 ? .copyFromParent : .none)
    }
}

/// A VMAC: a macvlan in private mode carrying the virtual router MAC, with the kernel
/// settings keepalived makes for it, undone by ``remove()``.
///
/// ``create(_:routeNetlink:sysctls:log:)``, in order:
/// 1. looks the parent up; a leftover macvlan of the same name on the same parent (a
///    previous run that did not clean up) is deleted, any other link of that name is an error;
/// 2. creates the macvlan, down, in private mode with the virtual MAC (`RTM_NEWLINK`);
/// 3. sets `addrgenmode none`, so the kernel does not derive a link-local address from the
///    shared MAC — every router would get the same one, and duplicate address detection
///    would fail on all but one;
/// 4. sysctls (through ``SysctlSettings``, originals remembered): on the VMAC `arp_ignore=1`,
///    `accept_local=1`, `rp_filter=0`; on the parent `arp_ignore=1`, `arp_filter=1` (only the
///    VMAC answers ARP for the VIPs); `all` and `default` `rp_filter=0`, because the kernel
///    uses the larger of `all` and the interface's value — interfaces whose own `rp_filter`
///    was below the old `all` value are first raised to it, so their effective filtering does
///    not change (keepalived lowers all/default the same way);
/// 5. brings the VMAC up;
/// 6. adds the link-local address (see ``VirtualMACConfiguration/LinkLocal``).
/// A failure undoes the steps already made.
public final class VirtualMAC: Sendable {
    public let configuration: VirtualMACConfiguration
    /// The macvlan as the kernel reported it after creation (its index and MAC).
    public let link: LinkInfo
    /// The IPv6 link-local address put on the VMAC, if any.
    public let linkLocalAddress: IPAddress?

    let routeNetlink: RouteNetlink
    let sysctls: SysctlSettings
    let log: @Sendable (String) -> Void
    /// The sysctl keys held, in the order they were set; emptied by ``remove()``.
    let held: Mutex<[String]?>

    private init(configuration: VirtualMACConfiguration, link: LinkInfo, linkLocalAddress: IPAddress?, routeNetlink: RouteNetlink,
                 sysctls: SysctlSettings, held: [String], log: @escaping @Sendable (String) -> Void) {
        self.configuration = configuration
        self.link = link
        self.linkLocalAddress = linkLocalAddress
        self.routeNetlink = routeNetlink
        self.sysctls = sysctls
        self.held = Mutex(held)
        self.log = log
    }

    /// Creates the VMAC (see the type's description).
    ///
    /// - Parameters:
    ///   - routeNetlink: the rtnetlink socket of the namespace the VMAC goes in.
    ///   - sysctls: the settings of the same namespace, shared by every VMAC of the process
    ///     (so that several VMACs on one parent share the parent's settings).
    ///   - log: told about what was found and repaired (a leftover VMAC, a parent without a
    ///     link-local address).
    /// - Throws: ``NetLinuxError`` "creating VMAC vrrp.51 on eth0: ...".
    public static func create(_ configuration: VirtualMACConfiguration, routeNetlink: RouteNetlink, sysctls: SysctlSettings,
                              log: @escaping @Sendable (String) -> Void = { _ in }) throws(NetLinuxError) -> VirtualMAC {
        let name = configuration.name
        let operation = "creating VMAC \(name) on \(configuration.parent)"
        func failing(_ error: NetLinuxError) -> NetLinuxError {
            error.operation.hasPrefix(operation) ? error
                : NetLinuxError(operation, error.errno, detail: error.operation + (error.detail.map { ": \($0)" } ?? ""))
        }
        let parent: LinkInfo
        do { parent = try routeNetlink.link(named: configuration.parent) } catch { throw failing(error) }

        // A leftover of an earlier run, or someone else's interface?
        if let existing = try? routeNetlink.link(named: name) {
            guard existing.kind == "macvlan", existing.lowerIndex == parent.index else {
                throw NetLinuxError(operation, .fileExists,
                                    detail: "interface \(name) exists and is not a macvlan on \(configuration.parent)")
            }
            log("\(operation): deleting the leftover macvlan \(name) (index \(existing.index))")
            do { try routeNetlink.deleteLink(index: existing.index, name: name) } catch { throw failing(error) }
        }

        let link: LinkInfo
        do {
            link = try routeNetlink.createMacvlan(named: name, parent: configuration.parent, address: configuration.address,
                                                  mode: .private)
        } catch {
            throw failing(error)
        }
        var held: [String] = []
        do throws(NetLinuxError) {
            try routeNetlink.setIPv6AddressGenerationMode(.none, index: link.index, name: name)
            func set(_ key: String, _ value: String) throws(NetLinuxError) {
                try sysctls.set(key, to: value)
                held.append(key)
            }
            try set(SysctlSettings.ipv4Conf(name, "arp_ignore"), "1")
            try set(SysctlSettings.ipv4Conf(name, "accept_local"), "1")
            try set(SysctlSettings.ipv4Conf(name, "rp_filter"), "0")
            try set(SysctlSettings.ipv4Conf(configuration.parent, "arp_ignore"), "1")
            try set(SysctlSettings.ipv4Conf(configuration.parent, "arp_filter"), "1")
            try lowerReversePathFiltering(sysctls: sysctls, except: name, set: set)
            try routeNetlink.setLink(index: link.index, name: name, up: true)
            let linkLocal = try addLinkLocal(configuration, link: link, parent: parent, routeNetlink: routeNetlink, log: log)
            let current = (try? routeNetlink.link(index: link.index)) ?? link
            return VirtualMAC(configuration: configuration, link: current, linkLocalAddress: linkLocal, routeNetlink: routeNetlink,
                              sysctls: sysctls, held: held, log: log)
        } catch {
            try? routeNetlink.deleteLink(index: link.index, name: name)
            for key in held.reversed() { try? sysctls.release(key) }
            throw failing(error)
        }
    }

    /// Deletes the macvlan and puts the sysctls back (newest first). Idempotent; a VMAC that
    /// is already gone is not an error.
    /// - Throws: the first ``NetLinuxError`` met; every step is tried anyway.
    public func remove() throws(NetLinuxError) {
        guard let keys = held.withLock({ h -> [String]? in
            defer { h = nil }
            return h
        }) else { return }
        var first: NetLinuxError?
        do {
            try routeNetlink.deleteLink(index: link.index, name: configuration.name)
        } catch {
            if error.errno == .operationNotSupportedByDevice || error.errno == .noSuchAddressOrDevice {
                log("deleting VMAC \(configuration.name): already gone")
            } else {
                first = error
            }
        }
        for key in keys.reversed() {
            do { try sysctls.release(key) } catch { first = first ?? error }
        }
        if let first { throw first }
    }

    // MARK: Private

    /// Sets all/default `rp_filter` to 0, first raising interfaces below the old `all` value.
    private static func lowerReversePathFiltering(sysctls: SysctlSettings, except vmac: String,
                                                  set: (String, String) throws(NetLinuxError) -> Void) throws(NetLinuxError) {
        let allKey = SysctlSettings.ipv4Conf("all", "rp_filter")
        let defaultKey = SysctlSettings.ipv4Conf("default", "rp_filter")
        if let lowered = sysctls.pending.first(where: { $0.key == allKey }) {
            // Another VMAC lowered it: hold what it raised too, so that its removal keeps them.
            let raised = sysctls.pending.filter {
                $0.key.hasSuffix("/rp_filter") && $0.key != allKey && $0.key != defaultKey && $0.value == lowered.original
            }
            for change in raised { try set(change.key, change.value) }
        } else if let all = Int(try sysctls.value(of: allKey)), all > 0 {
            for interface in try sysctls.ipv4Interfaces() where interface != vmac {
                let key = SysctlSettings.ipv4Conf(interface, "rp_filter")
                guard let own = Int((try? sysctls.value(of: key)) ?? ""), own < all else { continue }
                try set(key, String(all))
            }
        }
        try set(allKey, "0")
        try set(defaultKey, "0")
    }

    /// Adds the configured link-local address to the VMAC; returns it.
    private static func addLinkLocal(_ configuration: VirtualMACConfiguration, link: LinkInfo, parent: LinkInfo,
                                     routeNetlink: RouteNetlink, log: @Sendable (String) -> Void) throws(NetLinuxError) -> IPAddress? {
        let address: IPAddress
        switch configuration.linkLocal {
        case .none:
            return nil
        case let .address(a):
            address = a
        case .copyFromParent:
            let found = try routeNetlink.addresses(family: .ipv6, interfaceIndex: parent.index).first { $0.address.isIPv6LinkLocal }
            guard let found else {
                log("VMAC \(configuration.name): \(configuration.parent) has no IPv6 link-local address to copy; the VMAC gets none")
                return nil
            }
            address = found.address
        }
        let virtual = VirtualAddress(address, prefixLength: 64, scope: 253, flags: [.noDAD])
        try routeNetlink.addAddress(virtual, interfaceIndex: link.index, interfaceName: configuration.name)
        return address
    }
}
