/// Everything one virtual router (a keepalived `vrrp_instance`) needs to run.
///
/// Build one in code, or let `kad` translate a keepalived.conf. Defaults are
/// keepalived's. Call ``validate()`` (the engine does) to reject impossible values
/// with a message naming the field.
///
/// ```swift
/// var config = VirtualRouterConfiguration(
///     name: "VI_1", virtualRouterID: 51, interface: "eth0",
///     primaryAddress: IPAddress("192.0.2.1")!,
///     addresses: [VirtualAddress(IPAddress("192.0.2.100")!, prefixLength: 24)])
/// config.priority = 150
/// var router = try VirtualRouter(configuration: config)
/// ```
public struct VirtualRouterConfiguration: Sendable, Hashable {
    /// The instance name, used in notifications and logs (`vrrp_instance NAME`).
    public var name: String
    /// `virtual_router_id`, 1–255.
    public var virtualRouterID: UInt8
    /// IPv4 or IPv6 (from the addresses when not given).
    public var family: IPAddressFamily
    /// VRRPv2 (keepalived's default for IPv4) or VRRPv3 (always for IPv6).
    public var version: VRRPVersion
    /// The interface the adverts are sent and received on (after VMAC resolution).
    public var interface: String
    /// The source of our adverts, and the address compared when priorities tie:
    /// `unicast_src_ip` / `mcast_src_ip`, else the interface's primary (IPv4) or
    /// link-local (IPv6) address.
    public var primaryAddress: IPAddress
    /// Base priority: 255 = address owner, else 1–254 (default 100).
    public var priority: UInt8 = 100
    /// Advertisement interval in centiseconds (`advert_int` × 100). v2: whole seconds only.
    public var advertisementInterval: UInt16 = 100
    /// `state MASTER` in the configuration (only the owner acts on it at startup).
    public var initialStateMaster: Bool = false
    /// Preempt_Mode; `nopreempt` sets it false.
    public var preempt: Bool = true
    /// keepalived's `preempt_delay` (not RFC): lower-priority adverts are accepted for this
    /// long after the first one arrives.
    public var preemptDelay: Duration? = nil
    /// The addresses carried in adverts and installed on MASTER (`virtual_ipaddress`).
    public var addresses: [VirtualAddress] = []
    /// Installed on MASTER but not advertised (`virtual_ipaddress_excluded`).
    public var excludedAddresses: [VirtualAddress] = []
    /// Routes installed on MASTER (`virtual_routes`).
    public var routes: [VirtualRoute] = []
    /// Rules installed on MASTER (`virtual_rules`).
    public var rules: [VirtualRule] = []
    /// Unicast peers; empty means multicast.
    public var unicastPeers: [UnicastPeer] = []
    /// The multicast group (`mcast_dst`); `nil` means 224.0.0.18 / ff02::12.
    public var multicastGroup: IPAddress? = nil
    /// `check_unicast_src`: drop unicast adverts from addresses not in ``unicastPeers``.
    public var checkUnicastSource: Bool = false
    /// VRRPv2 authentication (`auth_type PASS`); `nil` means none.
    public var password: VRRPPassword? = nil
    /// How VRRPv3-over-IPv4 checksums are sent: the pseudo-header (keepalived's default)
    /// or message-only (`v3_checksum_as_v2`, RFC 9568). Receiving accepts both.
    public var checksumForm: VRRPChecksumForm = .pseudoHeader
    /// Accept_Mode (`accept` / `no_accept`); the owner always accepts.
    public var acceptMode: Bool = true
    /// `down_timer_adverts`: the multiplier in Master_Down_Interval (RFC: 3).
    public var downTimerAdverts: UInt8 = 3
    /// `lower_prio_no_advert`: a MASTER hearing a lower priority does not advertise at once
    /// (RFC 3768/5798 behaviour instead of RFC 9568's).
    public var lowerPriorityNoAdvert: Bool = false
    /// `higher_prio_send_advert`: a MASTER hearing a higher priority sends one advert first.
    public var higherPrioritySendAdvert: Bool = false
    /// `owner_ignore_adverts`: the owner drops all adverts (published RFC text, checklist 26).
    /// Off by default (erratum 8298: process and log).
    public var ownerIgnoresAdverts: Bool = false
    /// RFC 3768's optional address-list check: drop adverts whose addresses differ from
    /// ours unless they come from the owner (checklist 25). Off by default: a mismatch is
    /// counted and reported, as keepalived 2.3.3+ and RFC 9568 do.
    public var dropAddressListMismatch: Bool = false
    /// `vrrp_strict`: forces `lowerPriorityNoAdvert`, no `higherPrioritySendAdvert`,
    /// owner ignores adverts, `downTimerAdverts` 3 (see ``effective``).
    public var strict: Bool = false
    /// `dont_track_primary`: the own interface going down does not fault the instance.
    public var dontTrackPrimary: Bool = false
    /// The gratuitous ARP / NA schedule.
    public var garp: AnnouncementSchedule = AnnouncementSchedule()
    /// `vrrp_startup_delay`: wait this long after startup before running.
    public var startupDelay: Duration = .zero
    /// Tracked objects and their weights (`track_interface`, `track_script`, ...).
    public var trackers: [TrackerBinding] = []
    /// Ignore tracker weights (only weight-0 fault semantics apply), as keepalived does
    /// for sync-group members unless `sync_group_tracking_weight` is set.
    public var ignoreTrackerWeights: Bool = false

    /// A configuration with keepalived's defaults; family and version follow the addresses (IPv6 is VRRPv3, IPv4 VRRPv2).
    public init(name: String, virtualRouterID: UInt8, family: IPAddressFamily? = nil, version: VRRPVersion? = nil,
                interface: String, primaryAddress: IPAddress, addresses: [VirtualAddress] = []) {
        self.name = name
        self.virtualRouterID = virtualRouterID
        let fam = family ?? addresses.first?.address.family ?? primaryAddress.family
        self.family = fam
        self.version = version ?? (fam == .ipv6 ? .v3 : .v2)
        self.interface = interface
        self.primaryAddress = primaryAddress
        self.addresses = addresses
    }

    /// Whether this router owns the addresses (priority 255).
    @inlinable public var isOwner: Bool { priority == 255 }

    /// Multicast mode (no unicast peers).
    @inlinable public var isMulticast: Bool { unicastPeers.isEmpty }

    /// The destination group in multicast mode.
    public var group: IPAddress { multicastGroup ?? IPAddress.vrrpMulticastGroup(family) }

    /// The configuration with `vrrp_strict`'s forced values applied (what the engine runs).
    public var effective: VirtualRouterConfiguration {
        guard strict else { return self }
        var c = self
        c.lowerPriorityNoAdvert = true
        c.higherPrioritySendAdvert = false
        if c.isOwner { c.ownerIgnoresAdverts = true }
        c.downTimerAdverts = 3
        return c
    }

    /// Rejects values no virtual router can run with.
    /// - Throws: ``VRRPConfigurationError`` naming the instance and the field.
    public func validate() throws(VRRPConfigurationError) {
        func fail(_ field: String, _ message: String) -> VRRPConfigurationError {
            VRRPConfigurationError(instance: name, field: field, message: message)
        }
        if virtualRouterID == 0 { throw fail("virtual_router_id", "must be 1–255") }
        if priority == 0 { throw fail("priority", "must be 1–255 (0 is reserved for a resigning master)") }
        if version == .v2 && family == .ipv6 { throw fail("version", "VRRPv2 is IPv4 only; IPv6 needs version 3") }
        switch version {
        case .v2:
            if advertisementInterval % 100 != 0 || advertisementInterval < 100 || advertisementInterval > 25500 {
                throw fail("advert_int", "VRRPv2 needs whole seconds, 1–255 (got \(Double(advertisementInterval) / 100) s)")
            }
        case .v3:
            if advertisementInterval < 1 || advertisementInterval > 4095 {
                throw fail("advert_int", "VRRPv3 needs 0.01–40.95 s (got \(Double(advertisementInterval) / 100) s)")
            }
        }
        if primaryAddress.family != family {
            throw fail("primary address", "\(primaryAddress) is not \(family)")
        }
        for a in addresses where a.address.family != family {
            throw fail("virtual_ipaddress", "\(a.address) is not \(family); an advert never mixes families")
        }
        if addresses.count > 255 { throw fail("virtual_ipaddress", "at most 255 addresses fit in an advert") }
        for p in unicastPeers where p.address.family != family {
            throw fail("unicast_peer", "\(p.address) is not \(family)")
        }
        if downTimerAdverts < 1 || downTimerAdverts > 100 { throw fail("down_timer_adverts", "must be 1–100") }
        if password != nil && version == .v3 {
            throw fail("authentication", "VRRPv3 has no authentication")
        }
        if strict {
            if !unicastPeers.isEmpty { throw fail("unicast_peer", "vrrp_strict forbids unicast") }
            if password != nil { throw fail("authentication", "vrrp_strict forbids authentication") }
            if preemptDelay != nil { throw fail("preempt_delay", "vrrp_strict forbids preempt_delay") }
            if addresses.isEmpty && version == .v3 { throw fail("virtual_ipaddress", "vrrp_strict needs at least one address") }
            if family == .ipv6, let first = addresses.first, !first.address.isIPv6LinkLocal {
                throw fail("virtual_ipaddress", "vrrp_strict needs a link-local first IPv6 address")
            }
            if initialStateMaster && !isOwner { throw fail("state", "vrrp_strict allows state MASTER only with priority 255") }
        }
        if let d = preemptDelay, d < .zero { throw fail("preempt_delay", "must not be negative") }
        if startupDelay < .zero { throw fail("vrrp_startup_delay", "must not be negative") }
    }
}

/// A unicast peer with its optional accepted TTL range (`unicast_peer { ADDR min_ttl N max_ttl M }`).
public struct UnicastPeer: Sendable, Hashable {
    /// The peer's address.
    public var address: IPAddress
    /// `min_ttl`: lower TTLs are dropped.
    public var minimumTTL: UInt8?
    /// `max_ttl`: higher TTLs are dropped.
    public var maximumTTL: UInt8?
    /// A peer, with an optional TTL range.
    public init(_ address: IPAddress, minimumTTL: UInt8? = nil, maximumTTL: UInt8? = nil) {
        self.address = address
        self.minimumTTL = minimumTTL
        self.maximumTTL = maximumTTL
    }
}

/// The gratuitous ARP / unsolicited NA schedule (keepalived's `garp_*` keywords).
public struct AnnouncementSchedule: Sendable, Hashable {
    /// Announcements per address right after becoming MASTER (`garp_master_repeat`, 5).
    public var masterRepeat: Int = 5
    /// Delay of the second burst (`garp_master_delay`, 5 s); zero means no second burst.
    public var masterDelay: Duration = .seconds(5)
    /// Period of refresh bursts while MASTER (`garp_master_refresh`); `nil` means none.
    public var masterRefresh: Duration? = nil
    /// Announcements per refresh (`garp_master_refresh_repeat`, 1).
    public var masterRefreshRepeat: Int = 1
    /// Announcements when a MASTER hears a lower priority (`garp_lower_prio_repeat`);
    /// `nil` means ``masterRepeat``.
    public var lowerPriorityRepeat: Int? = nil
    /// Delay of the second lower-priority burst (`garp_lower_prio_delay`); `nil` means
    /// ``masterDelay``, zero means no second burst.
    public var lowerPriorityDelay: Duration? = nil
    /// keepalived's defaults.
    public init() {}

    /// ``lowerPriorityRepeat`` with its default applied.
    public var effectiveLowerPriorityRepeat: Int { lowerPriorityRepeat ?? masterRepeat }
    /// ``lowerPriorityDelay`` with its default applied.
    public var effectiveLowerPriorityDelay: Duration { lowerPriorityDelay ?? masterDelay }
}

/// A configuration value no virtual router can run with (a local error: thrown, not counted).
public struct VRRPConfigurationError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The instance's name.
    public var instance: String
    /// The keyword or field at fault.
    public var field: String
    /// What is wrong with it.
    public var message: String
    /// An error about `field` of `instance`.
    public init(instance: String, field: String, message: String) {
        self.instance = instance
        self.field = field
        self.message = message
    }
    public var description: String { "vrrp_instance \(instance): \(field): \(message)" }
}
