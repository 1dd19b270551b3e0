/// Why a received packet was not processed: every receive check has its own reason.
///
/// The codec's checks (the [W] items of the conformance checklist) come first, then the
/// per-instance checks ([C] items) made once the packet has reached its virtual router.
/// Reasons are counted per instance (``VRRPCounters``) and never thrown across the loop.
public enum VRRPDropReason: UInt8, Sendable, Hashable, CaseIterable, CustomStringConvertible, Error {
    // MARK: IP layer
    /// Shorter than an IPv4 header, or the IPv4 header is inconsistent (version, IHL, total length).
    case malformedIPHeader
    /// The IP protocol or next header is not 112.
    case notVRRP
    /// An IPsec AH packet (keepalived's `auth_type AH`): recognised, not supported.
    case authenticationHeaderUnsupported
    /// The IPv4 TTL or IPv6 hop limit is not 255 (multicast), or outside the configured
    /// unicast range (checklist 14).
    case badHopLimit
    /// An IPv4 packet with a non-zero fragment offset or the more-fragments flag.
    case fragmented

    // MARK: VRRP header ([W])
    /// Shorter than the 8-byte VRRP header.
    case truncatedHeader
    /// The version field is neither 2 nor 3, or VRRPv2 over IPv6 (checklist 15).
    case unsupportedVersion
    /// The type field is not 1 (checklist 16).
    case badType
    /// The length does not match header + count × address size (+ 8 for v2) (checklist 17).
    case lengthMismatch
    /// The checksum is wrong in every accepted form (checklist 18).
    case badChecksum
    /// VRRPv3 with count 0 (checklist 22, erratum 8299).
    case zeroAddressCount
    /// VRRPv3 with interval 0 (checklist 23, erratum 8301); VRRPv2 with interval 0 seconds.
    case zeroInterval
    /// VRRPv3 over IPv6 whose first address is not link-local (checklist 24, erratum 8300).
    case firstAddressNotLinkLocal

    // MARK: Per instance ([C])
    /// No instance is configured for this (interface, family, VRID) (checklist 19).
    case unknownVirtualRouter
    /// The version is not the instance's configured version (checklist 15).
    case versionMismatch
    /// VRRPv2: the interval differs from ours (checklist 20). v3 only logs this.
    case intervalMismatch
    /// VRRPv2: the Auth Type is unknown or differs from ours (checklist 21).
    case authenticationTypeMismatch
    /// VRRPv2 PASS: the password differs from ours.
    case authenticationFailure
    /// The destination is multicast for a unicast instance, or unicast for a multicast one.
    case destinationMismatch
    /// `check_unicast_src`: the source is not one of the configured unicast peers.
    case unicastSourceNotPeer
    /// The instance is the address owner and ignores adverts (`owner_ignore_adverts`,
    /// `vrrp_strict`; checklist 26, published RFC text).
    case ownerIgnoresAdverts
    /// The address list differs from ours and the sender is not the owner, with the
    /// RFC 3768 optional check enabled (checklist 25). By default a mismatch is only counted.
    case addressListMismatch
    /// The packet is our own advertisement (our source address), looped back.
    case ownAdvertisement
    /// The instance is not running (INIT, FAULT or STOP) and does not process adverts.
    case notRunning

    public var description: String {
        switch self {
        case .malformedIPHeader: "malformed IP header"
        case .notVRRP: "not VRRP (IP protocol is not 112)"
        case .authenticationHeaderUnsupported: "IPsec AH authentication is not supported"
        case .badHopLimit: "TTL/hop limit not accepted"
        case .fragmented: "fragmented IPv4 packet"
        case .truncatedHeader: "shorter than the VRRP header"
        case .unsupportedVersion: "unsupported VRRP version"
        case .badType: "VRRP type is not 1 (advertisement)"
        case .lengthMismatch: "length does not match the address count"
        case .badChecksum: "bad checksum"
        case .zeroAddressCount: "address count is 0"
        case .zeroInterval: "advertisement interval is 0"
        case .firstAddressNotLinkLocal: "first IPv6 address is not link-local"
        case .unknownVirtualRouter: "no virtual router with this VRID on the interface"
        case .versionMismatch: "VRRP version differs from ours"
        case .intervalMismatch: "advertisement interval differs from ours (VRRPv2)"
        case .authenticationTypeMismatch: "authentication type differs from ours"
        case .authenticationFailure: "authentication password differs from ours"
        case .destinationMismatch: "multicast/unicast destination does not match the instance"
        case .unicastSourceNotPeer: "source is not a configured unicast peer"
        case .ownerIgnoresAdverts: "address owner ignores adverts"
        case .addressListMismatch: "address list differs from ours"
        case .ownAdvertisement: "our own advertisement"
        case .notRunning: "instance is not running"
        }
    }

    /// A stable snake_case name for metrics labels and JSON.
    public var identifier: String {
        switch self {
        case .malformedIPHeader: "malformed_ip_header"
        case .notVRRP: "not_vrrp"
        case .authenticationHeaderUnsupported: "ah_unsupported"
        case .badHopLimit: "bad_hop_limit"
        case .fragmented: "fragmented"
        case .truncatedHeader: "truncated_header"
        case .unsupportedVersion: "unsupported_version"
        case .badType: "bad_type"
        case .lengthMismatch: "length_mismatch"
        case .badChecksum: "bad_checksum"
        case .zeroAddressCount: "zero_address_count"
        case .zeroInterval: "zero_interval"
        case .firstAddressNotLinkLocal: "first_address_not_link_local"
        case .unknownVirtualRouter: "unknown_vrid"
        case .versionMismatch: "version_mismatch"
        case .intervalMismatch: "interval_mismatch"
        case .authenticationTypeMismatch: "auth_type_mismatch"
        case .authenticationFailure: "auth_failure"
        case .destinationMismatch: "destination_mismatch"
        case .unicastSourceNotPeer: "unicast_source_not_peer"
        case .ownerIgnoresAdverts: "owner_ignores_adverts"
        case .addressListMismatch: "address_list_mismatch"
        case .ownAdvertisement: "own_advertisement"
        case .notRunning: "not_running"
        }
    }
}

/// A decoded VRRP packet together with what its IP header said.
public struct VRRPReceivedPacket: Sendable, Hashable {
    public var advertisement: VRRPAdvertisement
    public var source: IPAddress
    public var destination: IPAddress
    /// The IPv4 TTL or the IPv6 hop limit (from `IPV6_HOPLIMIT` for raw IPv6 sockets).
    public var hopLimit: UInt8
    /// Which checksum form verified.
    public var checksumForm: VRRPChecksumForm

    public init(advertisement: VRRPAdvertisement, source: IPAddress, destination: IPAddress,
                hopLimit: UInt8, checksumForm: VRRPChecksumForm) {
        self.advertisement = advertisement
        self.source = source
        self.destination = destination
        self.hopLimit = hopLimit
        self.checksumForm = checksumForm
    }
}
