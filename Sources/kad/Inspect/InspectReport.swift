// What `kad inspect` says about one packet: one model, printed as text or encoded as JSON.

/// The verdict of one check.
enum CheckStatus: String, Codable, Sendable {
    case pass
    case fail
    /// Not applicable to this packet, or not decidable from what was captured.
    case notApplicable = "n/a"
}

/// One independent validation check.
struct CheckResult: Codable, Sendable {
    /// A stable snake_case name (`hop_limit`, `checksum`, ...).
    var id: String
    var status: CheckStatus
    var detail: String
}

/// The link layer of a packet.
struct LinkReport: Codable, Sendable {
    /// `ethernet`, `linux-sll`, `linux-sll2`, `raw-ip`, `ipv4`, `ipv6`, `arp`, `unknown`.
    var type: String
    var source: String?
    var destination: String?
    /// VLAN identifiers of 802.1Q/802.1ad tags, outermost first.
    var vlans: [Int]?
    /// `0x0800`-style text.
    var etherType: String?
    /// Linux cooked captures: host, broadcast, multicast, otherhost, outgoing.
    var packetType: String?
    var interfaceIndex: Int?
    /// The source MAC is the virtual router MAC of this VRID (00:00:5e:00:01:xx or :02:xx).
    var virtualRouterMACOfVRID: Int?
    var fcsBytes: Int?
}

/// The IP header of a packet.
struct IPReport: Codable, Sendable {
    /// 4 or 6.
    var version: Int
    var source: String
    var destination: String
    /// TTL (IPv4) or hop limit (IPv6).
    var hopLimit: Int
    /// IPv4 TOS or IPv6 traffic class.
    var trafficClass: Int
    /// IP protocol (IPv4) or the final next header (IPv6).
    var proto: Int
    /// IPv4 total length, or 40 + IPv6 payload length.
    var totalLength: Int
    var headerLength: Int
    var identification: Int?
    var dontFragment: Bool?
    var moreFragments: Bool?
    var fragmentOffset: Int?
    var headerChecksum: String?
    var headerChecksumValid: Bool?
    var flowLabel: Int?
    /// IPv6 extension headers crossed before the payload (next-header values).
    var extensionHeaders: [Int]?
    /// IPsec AH (protocol 51) found before the VRRP message.
    var authenticationHeader: AHReport?
}

/// An IPsec AH header (RFC 4302), as keepalived's `auth_type AH` sends it.
struct AHReport: Codable, Sendable {
    var nextHeader: Int
    var length: Int
    var spi: String
    var sequence: Int
    var icv: String
}

/// The VRRP message's fields, as far as they were captured.
struct VRRPReport: Codable, Sendable {
    var version: Int
    var type: Int
    var vrid: Int?
    var priority: Int?
    var priorityMeaning: String?
    var count: Int?
    /// Centiseconds (v3's 12-bit field, or v2's seconds × 100).
    var intervalCentiseconds: Int?
    var intervalSeconds: Double?
    /// VRRPv3: the 4 reserved bits before the interval.
    var reservedBits: Int?
    /// VRRPv2.
    var authType: Int?
    var authTypeName: String?
    /// VRRPv2: the 8 Auth Data bytes in hex.
    var authData: String?
    /// VRRPv2 PASS: the printable password (up to the first NUL).
    var authPassword: String?
    var addresses: [String]
    var checksum: String?
    /// The checksum form that verified: `message-only`, `pseudo-header`, `pseudo-header-multicast-group`, or absent.
    var checksumForm: String?
    /// What each applicable form would have needed.
    var expectedChecksums: [String: String]?
    var messageLength: Int
    var expectedLength: Int?
    /// Bytes after the addresses (and v2 auth data) that the count does not explain.
    var trailingBytes: Int?
    /// multicast (the VRRP group), multicast-other, unicast.
    var destinationKind: String
}

/// What VRRPCore's decoder (the daemon's receive path) made of the packet.
struct DecoderReport: Codable, Sendable {
    var accepted: Bool
    var checksumForm: String?
    /// The VRRPDropReason identifier when rejected.
    var dropReason: String?
    var message: String
}

struct ARPReport: Codable, Sendable {
    var operation: Int
    var operationName: String
    /// `who-has 192.0.2.2 tell 192.0.2.1`, `192.0.2.2 is-at 02:00:00:00:00:02`, `gratuitous: ...`.
    var meaning: String
    var hardwareType: Int
    var senderMAC: String
    var senderIP: String
    var targetMAC: String
    var targetIP: String
    var gratuitous: Bool
    /// Broadcast request, sender = target = the address, from the sender's MAC.
    var keepalivedStyle: Bool
    var checksum: String
}

struct NeighborAdvertisementReport: Codable, Sendable {
    var target: String
    var flags: String
    var router: Bool
    var solicited: Bool
    var override: Bool
    var reserved: Int
    var code: Int
    var options: [String]
    var targetLinkLayerAddress: String?
    var checksum: String
    var expectedChecksum: String
    var checksumValid: Bool
    var unsolicited: Bool
    /// To ff02::1, O set, S clear, source = target, with a target link-layer address option
    /// matching the Ethernet source: the unsolicited NA keepalived sends (hop limit and checksum are checks).
    var keepalivedStyle: Bool
}

/// Everything said about one packet.
struct PacketReport: Codable, Sendable {
    var number: Int
    var timestamp: String?
    var epochNanoseconds: Int64?
    var fileOffset: Int?
    var line: Int?
    var capturedLength: Int
    var originalLength: Int
    /// `vrrp`, `arp`, `neighbor-advertisement`, `skipped`, `malformed`.
    var kind: String
    var summary: String
    var link: LinkReport?
    var ip: IPReport?
    var vrrp: VRRPReport?
    var arp: ARPReport?
    var neighborAdvertisement: NeighborAdvertisementReport?
    var checks: [CheckResult]?
    var decoder: DecoderReport?
    /// `valid` when no check failed, `invalid` otherwise (VRRP and NA).
    var verdict: String?
    var failedChecks: [String]?
    /// Why the packet was skipped or is malformed, or remarks.
    var notes: [String]?
}
