import NetLinux
import VRRPCore

/// Takes one captured packet apart: link layer, IP, then VRRP, ARP or Neighbor Advertisement.
///
/// Every step reads only bytes it has checked are there, so any input yields a report.
struct PacketDissector {
    private(set) var report: PacketReport
    private var summaryParts: [String] = []
    /// What the link layer said, for the ARP/NA consistency notes.
    private var linkSource: MACAddress?
    private var linkDestination: MACAddress?

    static func dissect(_ packet: CapturedPacket) -> PacketReport {
        var d = PacketDissector(packet: packet)
        d.link(packet.linkType, packet.data[...], fcs: packet.fcsLength)
        d.report.summary = d.summaryParts.joined(separator: ", ")
        return d.report
    }

    private init(packet: CapturedPacket) {
        report = PacketReport(
            number: packet.number, timestamp: packet.timestamp?.iso8601, epochNanoseconds: packet.timestamp?.epochNanoseconds,
            fileOffset: packet.fileOffset, line: packet.line, capturedLength: packet.data.count,
            originalLength: packet.originalLength, kind: "skipped", summary: "")
        if packet.originalLength > packet.data.count {
            note("captured \(packet.data.count) of \(packet.originalLength) bytes (snapshot length)")
        }
    }

    private mutating func note(_ text: String) { report.notes = (report.notes ?? []) + [text] }

    private mutating func skip(_ what: String) {
        report.kind = "skipped"
        summaryParts.append(what + ": skipped")
        note(what + ": not VRRP, ARP or a Neighbor Advertisement, skipped")
    }

    private mutating func malformed(_ what: String) {
        report.kind = "malformed"
        summaryParts.append("malformed: " + what)
        note(what)
    }

    // MARK: Link layer

    private mutating func link(_ type: LinkType, _ data: ArraySlice<UInt8>, fcs: Int) {
        switch type {
        case .ethernet:
            let frame = fcs > 0 && data.count >= fcs ? data.dropLast(fcs) : data
            let header: EthernetHeader
            do throws(AnnouncementParseError) {
                header = try EthernetHeader.parse(Array(frame))
            } catch {
                report.link = LinkReport(type: "ethernet")
                return malformed("Ethernet frame: \(error)")
            }
            var l = LinkReport(type: "ethernet", source: header.source.description, destination: header.destination.description,
                               etherType: hex16(header.etherType))
            if !header.vlanTags.isEmpty { l.vlans = header.vlanTags.map { Int($0.vlanID) } }
            if let vr = header.source.virtualRouter { l.virtualRouterMACOfVRID = Int(vr.vrid) }
            if fcs > 0 { l.fcsBytes = fcs }
            report.link = l
            linkSource = header.source
            linkDestination = header.destination
            var text = "Ethernet \(header.source) > \(header.destination)"
            if let v = l.vlans { text += " vlan " + v.map(String.init).joined(separator: ",") }
            summaryParts.append(text)
            network(etherType: header.etherType, frame.dropFirst(header.length))
        case .linuxSLL, .linuxSLL2:
            let v2 = type == .linuxSLL2
            let size = v2 ? 20 : 16
            guard data.count >= size else {
                report.link = LinkReport(type: v2 ? "linux-sll2" : "linux-sll")
                return malformed("\(type.name) header truncated: \(data.count) of \(size) bytes")
            }
            let b = Array(data.prefix(size))
            let packetType = v2 ? UInt16(b[10]) : u16(b, 0)
            let addressLength = Int(v2 ? UInt16(b[11]) : u16(b, 4))
            let addressStart = v2 ? 12 : 6
            let proto = v2 ? u16(b, 0) : u16(b, 14)
            var l = LinkReport(type: v2 ? "linux-sll2" : "linux-sll", etherType: hex16(proto))
            l.packetType = ["host", "broadcast", "multicast", "otherhost", "outgoing"].indices.contains(Int(packetType))
                ? ["host", "broadcast", "multicast", "otherhost", "outgoing"][Int(packetType)] : "type \(packetType)"
            if v2 { l.interfaceIndex = Int(u16(b, 4)) << 16 | Int(u16(b, 6)) }
            if addressLength == 6 {
                let mac = MACAddress(bytes: b[addressStart..<(addressStart + 6)])!
                l.source = mac.description
                linkSource = mac
                if let vr = mac.virtualRouter { l.virtualRouterMACOfVRID = Int(vr.vrid) }
            } else if addressLength > 0 {
                l.source = b[addressStart..<(addressStart + min(addressLength, 8))].map(hexByte).joined(separator: ":")
            }
            report.link = l
            summaryParts.append("\(v2 ? "SLL2" : "SLL") \(l.packetType ?? "")" + (l.source.map { " from \($0)" } ?? ""))
            var payload = data.dropFirst(size)
            var etherType = proto
            // An 802.1Q tag left in place: TCI (2) and the inner protocol (2).
            while etherType == EthernetHeader.vlan || etherType == EthernetHeader.serviceVLAN {
                guard payload.count >= 4 else { return malformed("802.1Q tag truncated") }
                let vlans = (report.link?.vlans ?? []) + [Int(u16(payload, payload.startIndex) & 0x0FFF)]
                report.link?.vlans = vlans
                etherType = u16(payload, payload.startIndex + 2)
                payload = payload.dropFirst(4)
            }
            network(etherType: etherType, payload)
        case .rawIP:
            report.link = LinkReport(type: "raw-ip")
            guard let first = data.first else { return malformed("empty packet") }
            switch first >> 4 {
            case 4: ipv4(data)
            case 6: ipv6(data)
            default: malformed("raw IP packet with IP version \(first >> 4)")
            }
        case .ipv4:
            report.link = LinkReport(type: "ipv4")
            ipv4(data)
        case .ipv6:
            report.link = LinkReport(type: "ipv6")
            ipv6(data)
        case .arp:
            report.link = LinkReport(type: "arp")
            arp(data)
        case let .unsupported(code):
            report.link = LinkReport(type: "unknown")
            skip("link type \(code)")
        case .unrecognised:
            report.link = LinkReport(type: "unknown")
            skip("not recognised as an IPv4 datagram, an IPv6 packet, an Ethernet frame or an ARP packet")
        }
    }

    private mutating func network(etherType: UInt16, _ payload: ArraySlice<UInt8>) {
        switch etherType {
        case EthernetHeader.ipv4: ipv4(payload)
        case EthernetHeader.ipv6: ipv6(payload)
        case EthernetHeader.arp: arp(payload)
        case ..<0x0600: skip("IEEE 802.3 frame with an LLC header (length \(etherType))")
        default:
            let names: [UInt16: String] = [0x88CC: "LLDP", 0x8035: "RARP", 0x8809: "slow protocols (LACP)", 0x8847: "MPLS",
                                           0x8863: "PPPoE discovery", 0x8864: "PPPoE session", 0x88E5: "MACsec", 0x8100: "802.1Q",
                                           0x88A8: "802.1ad", 0x9000: "loopback"]
            skip("EtherType \(hex16(etherType))" + (names[etherType].map { " (\($0))" } ?? ""))
        }
    }

    // MARK: IPv4

    private mutating func ipv4(_ data: ArraySlice<UInt8>) {
        let b = Array(data)
        guard b.count >= 20 else { return malformed("IPv4 header truncated: \(b.count) of 20 bytes") }
        guard b[0] >> 4 == 4 else { return malformed("IP version \(b[0] >> 4) where IPv4 was expected") }
        let ihl = Int(b[0] & 0x0F) * 4
        guard ihl >= 20 else { return malformed("IPv4 header length \(ihl) is below 20 (IHL \(ihl / 4))") }
        guard ihl <= b.count else { return malformed("IPv4 header truncated: IHL says \(ihl) bytes, \(b.count) captured") }
        let total = Int(u16(b, 2))
        let source = IPAddress(bytes: b[12..<16])!
        let destination = IPAddress(bytes: b[16..<20])!
        var sum = InternetChecksum()
        b.withUnsafeBytes { sum.add(UnsafeRawBufferPointer(rebasing: $0[0..<ihl])) }
        let flags = u16(b, 6)
        let proto = b[9]
        var ip = IPReport(version: 4, source: source.description, destination: destination.description, hopLimit: Int(b[8]),
                          trafficClass: Int(b[1]), proto: Int(proto), totalLength: total, headerLength: ihl)
        ip.identification = Int(u16(b, 4))
        ip.dontFragment = flags & 0x4000 != 0
        ip.moreFragments = flags & 0x2000 != 0
        ip.fragmentOffset = Int(flags & 0x1FFF) * 8
        ip.headerChecksum = hex16(u16(b, 10))
        ip.headerChecksumValid = sum.sum == 0xFFFF
        report.ip = ip
        summaryParts.append("IPv4 \(source) > \(destination) ttl \(b[8])")

        // The IP payload: per the total length when it is sane, else what was captured.
        let end = total >= ihl ? min(total, b.count) : b.count
        var ipChecks: [CheckResult] = []
        if total < ihl {
            ipChecks.append(CheckResult(id: "ip_header", status: .fail, detail: "total length \(total) is smaller than the header length \(ihl)"))
        } else if total > b.count {
            ipChecks.append(CheckResult(id: "ip_header", status: .fail,
                                        detail: "total length \(total) but only \(b.count) bytes present (truncated packet)"))
        } else {
            let padding = b.count - total
            ipChecks.append(CheckResult(id: "ip_header", status: .pass,
                                        detail: "IPv4, header \(ihl) bytes, total length \(total)" + (padding > 0 ? " (+\(padding) bytes of link-layer padding)" : "")))
        }
        ipChecks.append(CheckResult(id: "ip_header_checksum", status: sum.sum == 0xFFFF ? .pass : .fail,
                                    detail: sum.sum == 0xFFFF ? "IPv4 header checksum \(hex16(u16(b, 10))) verifies"
                                        : "IPv4 header checksum \(hex16(u16(b, 10))) is wrong (expected \(hex16(expectedIPv4HeaderChecksum(b, ihl))))"))
        let fragmented = flags & 0x3FFF != 0
        ipChecks.append(CheckResult(id: "fragment", status: fragmented ? .fail : .pass,
                                    detail: fragmented ? "fragment (more-fragments \(flags & 0x2000 != 0 ? "set" : "clear"), offset \(Int(flags & 0x1FFF) * 8)): VRRP is never fragmented"
                                        : "not fragmented"))
        let payload = b[ihl..<end]
        let decode: () -> DecoderReport = {
            Self.decoderReport { () throws(VRRPDropReason) -> VRRPReceivedPacket in try VRRPAdvertisement.decodeIPv4Datagram(b) }
        }
        switch proto {
        case VRRPChecksum.ipProtocol:
            if flags & 0x1FFF != 0 { return skip("IPv4 fragment at offset \(Int(flags & 0x1FFF) * 8) of a VRRP datagram") }
            vrrp(family: .ipv4, source: source, destination: destination, hopLimit: b[8], message: payload,
                 ipChecks: ipChecks, ah: nil, decode: decode)
        case 51:
            guard let (ah, rest) = authenticationHeader(payload) else {
                return malformed("IPsec AH header truncated (\(payload.count) bytes)")
            }
            guard ah.nextHeader == Int(VRRPChecksum.ipProtocol) else { return skip("IPsec AH carrying protocol \(ah.nextHeader)") }
            report.ip?.authenticationHeader = ah
            vrrp(family: .ipv4, source: source, destination: destination, hopLimit: b[8], message: rest,
                 ipChecks: ipChecks, ah: ah, decode: decode)
        default:
            let names: [UInt8: String] = [1: "ICMP", 2: "IGMP", 6: "TCP", 17: "UDP", 50: "ESP", 89: "OSPF", 103: "PIM", 47: "GRE"]
            skip("IPv4 protocol \(proto)" + (names[proto].map { " (\($0))" } ?? ""))
        }
    }

    private func expectedIPv4HeaderChecksum(_ b: [UInt8], _ ihl: Int) -> UInt16 {
        var sum = InternetChecksum()
        b.withUnsafeBytes {
            sum.add(UnsafeRawBufferPointer(rebasing: $0[0..<10]))
            sum.add(UnsafeRawBufferPointer(rebasing: $0[12..<ihl]))
        }
        return sum.checksum
    }

    /// An AH header (RFC 4302 §2): next header (1), payload length in 4-byte words minus 2 (1),
    /// reserved (2), SPI (4), sequence number (4), ICV.
    private func authenticationHeader(_ payload: ArraySlice<UInt8>) -> (AHReport, ArraySlice<UInt8>)? {
        guard payload.count >= 12 else { return nil }
        let s = payload.startIndex
        let length = (Int(payload[s + 1]) + 2) * 4
        guard length >= 12, length <= payload.count else { return nil }
        let ah = AHReport(nextHeader: Int(payload[s]), length: length,
                          spi: "0x" + payload[(s + 4)..<(s + 8)].map(hexByte).joined(),
                          sequence: Int(u16(payload, s + 8)) << 16 | Int(u16(payload, s + 10)),
                          icv: payload[(s + 12)..<(s + length)].map(hexByte).joined())
        return (ah, payload.dropFirst(length))
    }

    // MARK: IPv6

    private mutating func ipv6(_ data: ArraySlice<UInt8>) {
        let b = Array(data)
        guard b.count >= 40 else { return malformed("IPv6 header truncated: \(b.count) of 40 bytes") }
        guard b[0] >> 4 == 6 else { return malformed("IP version \(b[0] >> 4) where IPv6 was expected") }
        let payloadLength = Int(u16(b, 4))
        let source = IPAddress(bytes: b[8..<24])!
        let destination = IPAddress(bytes: b[24..<40])!
        let end = min(40 + payloadLength, b.count)
        var next = b[6]
        var at = 40
        var extensions: [Int] = []
        var ah: AHReport?
        while [0, 43, 60, 51].contains(next) {
            guard at + 8 <= end else { break }
            extensions.append(Int(next))
            if next == 51 {
                guard let (header, _) = authenticationHeader(b[at..<end]) else { break }
                ah = header
                next = b[at]
                at += header.length
            } else {
                let length = (Int(b[at + 1]) + 1) * 8
                guard at + length <= end else { break }
                next = b[at]
                at += length
            }
        }
        var ip = IPReport(version: 6, source: source.description, destination: destination.description, hopLimit: Int(b[7]),
                          trafficClass: Int(u16(b, 0) >> 4 & 0xFF), proto: Int(next), totalLength: 40 + payloadLength, headerLength: at)
        ip.flowLabel = Int(u16(b, 1) & 0x0F) << 16 | Int(u16(b, 2))
        if !extensions.isEmpty { ip.extensionHeaders = extensions }
        ip.authenticationHeader = ah
        report.ip = ip
        summaryParts.append("IPv6 \(source) > \(destination) hlim \(b[7])")
        var ipChecks: [CheckResult] = []
        if 40 + payloadLength > b.count {
            ipChecks.append(CheckResult(id: "ip_header", status: .fail,
                                        detail: "payload length \(payloadLength) but only \(b.count - 40) bytes present (truncated packet)"))
        } else {
            let padding = b.count - 40 - payloadLength
            ipChecks.append(CheckResult(id: "ip_header", status: .pass,
                                        detail: "IPv6, payload length \(payloadLength)" + (padding > 0 ? " (+\(padding) bytes of link-layer padding)" : "")))
        }
        switch next {
        case VRRPChecksum.ipProtocol:
            let message = b[min(at, end)..<end]
            vrrp(family: .ipv6, source: source, destination: destination, hopLimit: b[7], message: message, ipChecks: ipChecks, ah: ah) {
                Self.decoderReport { () throws(VRRPDropReason) -> VRRPReceivedPacket in
                    try VRRPAdvertisement.decode(message: Array(message), source: source, destination: destination, hopLimit: b[7])
                }
            }
        case 58:
            guard at < end else { return malformed("ICMPv6 message missing") }
            let type = b[at]
            guard type == NeighborAdvertisement.icmpType else {
                let names: [UInt8: String] = [1: "destination unreachable", 2: "packet too big", 3: "time exceeded", 4: "parameter problem",
                                              128: "echo request", 129: "echo reply", 130: "MLD query", 131: "MLDv1 report", 132: "MLDv1 done",
                                              133: "router solicitation", 134: "router advertisement", 135: "neighbor solicitation",
                                              137: "redirect", 143: "MLDv2 report"]
                return skip("ICMPv6 type \(type)" + (names[type].map { " (\($0))" } ?? ""))
            }
            guard at == 40 else { return malformed("Neighbor Advertisement after IPv6 extension headers is not decoded") }
            neighborAdvertisement(b)
        case 44:
            skip("IPv6 fragment")
        default:
            let names: [UInt8: String] = [6: "TCP", 17: "UDP", 50: "ESP", 59: "no next header", 89: "OSPF", 103: "PIM"]
            skip("IPv6 next header \(next)" + (names[next].map { " (\($0))" } ?? ""))
        }
    }

    // MARK: VRRP

    private static func decoderReport(_ body: () throws(VRRPDropReason) -> VRRPReceivedPacket) -> DecoderReport {
        do throws(VRRPDropReason) {
            let packet = try body()
            return DecoderReport(accepted: true, checksumForm: formIdentifier(packet.checksumForm), dropReason: nil,
                                 message: "accepted (checksum \(packet.checksumForm))")
        } catch {
            return DecoderReport(accepted: false, checksumForm: nil, dropReason: error.identifier, message: "dropped: \(error)")
        }
    }

    private static func formIdentifier(_ form: VRRPChecksumForm) -> String {
        switch form {
        case .messageOnly: "message-only"
        case .pseudoHeader: "pseudo-header"
        case .pseudoHeaderMulticastGroup: "pseudo-header-multicast-group"
        }
    }

    private mutating func vrrp(family: IPAddressFamily, source: IPAddress, destination: IPAddress, hopLimit: UInt8,
                               message slice: ArraySlice<UInt8>, ipChecks: [CheckResult], ah: AHReport?,
                               decode: () -> DecoderReport) {
        let m = Array(slice)
        report.kind = "vrrp"
        guard let first = m.first else {
            summaryParts.append("VRRP: empty message")
            report.checks = ipChecks + [CheckResult(id: "length", status: .fail, detail: "the VRRP message is empty")]
            report.decoder = decode()
            return finishVerdict()
        }
        let version = Int(first >> 4)
        let type = Int(first & 0x0F)
        let isV2 = version == 2
        let size = family.addressSize
        let groupDestination = destination == IPAddress.vrrpMulticastGroup(family)
        var v = VRRPReport(version: version, type: type, addresses: [], messageLength: m.count,
                           destinationKind: groupDestination ? "multicast" : destination.isMulticast ? "multicast-other" : "unicast")
        if m.count >= 2 { v.vrid = Int(m[1]) }
        if m.count >= 3 {
            v.priority = Int(m[2])
            v.priorityMeaning = switch m[2] {
            case 255: "address owner"
            case 0: "master is resigning"
            default: "backup priority"
            }
        }
        let count = m.count >= 4 ? Int(m[3]) : nil
        v.count = count
        if m.count >= 6 {
            if isV2 {
                v.authType = Int(m[4])
                v.authTypeName = VRRPAuthenticationType(rawValue: m[4])?.description ?? "unknown"
                v.intervalCentiseconds = Int(m[5]) * 100
            } else {
                v.reservedBits = Int(m[4] >> 4)
                v.intervalCentiseconds = (Int(m[4]) << 8 | Int(m[5])) & 0x0FFF
            }
            v.intervalSeconds = Double(v.intervalCentiseconds!) / 100
        }
        if m.count >= 8 { v.checksum = hex16(u16(m, 6)) }
        var expectedLength: Int?
        if let count {
            let available = max(0, m.count - 8) / size
            for i in 0..<min(count, available) {
                v.addresses.append(IPAddress(bytes: m[(8 + i * size)..<(8 + (i + 1) * size)])!.description)
            }
            let expected = 8 + count * size + (isV2 ? 8 : 0)
            expectedLength = expected
            v.expectedLength = expected
            if m.count > expected { v.trailingBytes = m.count - expected }
            if isV2, m.count >= expected {
                let auth = m[(expected - 8)..<expected]
                v.authData = auth.map(hexByte).joined(separator: " ")
                if m[4] == VRRPAuthenticationType.password.rawValue {
                    v.authPassword = String(decoding: auth.prefix { $0 != 0 }, as: UTF8.self)
                }
            }
        }

        // Checks, each on its own.
        var checks = ipChecks
        // AH.
        if let ah {
            checks.append(CheckResult(id: "ah", status: .fail, detail: family == .ipv4
                ? "IPsec AH header (SPI \(ah.spi), keepalived's auth_type AH): not supported by kad"
                : "IPsec AH header over IPv6: keepalived ignores AH for IPv6 and kad does not support it"))
        } else if isV2, m.count >= 5, m[4] == VRRPAuthenticationType.authenticationHeader.rawValue {
            checks.append(CheckResult(id: "ah", status: .fail, detail: "auth type 2 (AH) but no IPsec AH header"))
        } else {
            checks.append(CheckResult(id: "ah", status: .pass, detail: "no IPsec AH header"))
        }
        // TTL / hop limit.
        let hopName = family == .ipv4 ? "TTL" : "hop limit"
        if hopLimit == 255 {
            checks.append(CheckResult(id: "hop_limit", status: .pass, detail: "\(hopName) 255"))
        } else if destination.isMulticast {
            checks.append(CheckResult(id: "hop_limit", status: .fail,
                                      detail: "\(hopName) \(hopLimit), must be 255 for multicast (RFC 5798 §7.1; the packet was routed or forged)"))
        } else {
            checks.append(CheckResult(id: "hop_limit", status: .notApplicable,
                                      detail: "\(hopName) \(hopLimit) to a unicast address: only a configured min_ttl/max_ttl applies"))
        }
        // Version.
        switch version {
        case 2 where family == .ipv6:
            checks.append(CheckResult(id: "version", status: .fail, detail: "VRRPv2 over IPv6 does not exist (RFC 5798 §5.2.1)"))
        case 2, 3:
            checks.append(CheckResult(id: "version", status: .pass, detail: "VRRPv\(version)"))
        default:
            checks.append(CheckResult(id: "version", status: .fail, detail: "version \(version), expected 2 or 3"))
        }
        // Type.
        checks.append(CheckResult(id: "type", status: type == 1 ? .pass : .fail,
                                  detail: type == 1 ? "type 1 (advertisement)" : "type \(type), only 1 (advertisement) is defined"))
        // Length.
        if m.count < 8 {
            checks.append(CheckResult(id: "length", status: .fail, detail: "\(m.count) bytes, shorter than the 8-byte VRRP header"))
        } else if let count, let expected = expectedLength {
            let formula = "8 + \(count) × \(size)" + (isV2 ? " + 8 (auth data)" : "")
            if m.count == expected {
                checks.append(CheckResult(id: "length", status: .pass, detail: "\(m.count) bytes = \(formula)"))
            } else {
                var detail = "\(m.count) bytes, but count \(count) needs \(expected) (\(formula))"
                if m.count > expected { detail += "; \(m.count - expected) extra bytes (a keepalived 2.4 auth_hmac trailer?)" }
                checks.append(CheckResult(id: "length", status: .fail, detail: detail))
            }
        }
        // Checksum.
        if m.count < 8 {
            checks.append(CheckResult(id: "checksum", status: .notApplicable, detail: "message shorter than the VRRP header"))
        } else {
            let codecVersion: VRRPVersion = isV2 ? .v2 : .v3
            let field = u16(m, 6)
            let form = m.withUnsafeBytes { VRRPChecksum.verify(message: $0, version: codecVersion, source: source, destination: destination) }
            var forms: [VRRPChecksumForm] = [.messageOnly]
            if !isV2 {
                forms = [.pseudoHeader]
                if family == .ipv4 { forms.append(.messageOnly) }
                if !destination.isMulticast { forms.append(.pseudoHeaderMulticastGroup) }
            }
            var expected: [String: String] = [:]
            for f in forms {
                expected[Self.formIdentifier(f)] = hex16(m.withUnsafeBytes {
                    VRRPChecksum.compute(message: $0, form: f, version: codecVersion, source: source, destination: destination)
                })
            }
            v.expectedChecksums = expected
            let versionNote = version == 2 || version == 3 ? "" : " (version \(version) unknown: computed as VRRPv3)"
            if let form {
                v.checksumForm = Self.formIdentifier(form)
                checks.append(CheckResult(id: "checksum", status: .pass, detail: "\(hex16(field)) verifies: \(form)\(versionNote)"))
            } else {
                let wanted = forms.map { "\(expected[Self.formIdentifier($0)]!) (\($0))" }.joined(separator: " or ")
                checks.append(CheckResult(id: "checksum", status: .fail, detail: "\(hex16(field)) matches no form; expected \(wanted)\(versionNote)"))
            }
        }
        // Count.
        if let count {
            if count != 0 {
                checks.append(CheckResult(id: "count", status: .pass, detail: "\(count) address\(count == 1 ? "" : "es")"))
            } else if isV2 {
                checks.append(CheckResult(id: "count", status: .notApplicable, detail: "count 0: not checked for VRRPv2 (keepalived logs an address-list mismatch)"))
            } else {
                checks.append(CheckResult(id: "count", status: .fail, detail: "count 0: a VRRPv3 advertisement carries at least one address (RFC 5798 erratum 8299)"))
            }
        } else {
            checks.append(CheckResult(id: "count", status: .notApplicable, detail: "not captured"))
        }
        // Interval.
        if let cs = v.intervalCentiseconds {
            let text = isV2 ? "\(cs / 100) s (\(cs) cs)" : "\(cs) cs (\(formatSeconds(cs)) s)"
            checks.append(CheckResult(id: "interval", status: cs != 0 ? .pass : .fail,
                                      detail: cs != 0 ? "interval \(text)" : "interval 0 (RFC 5798 erratum 8301)"))
        } else {
            checks.append(CheckResult(id: "interval", status: .notApplicable, detail: "not captured"))
        }
        // First IPv6 address link-local.
        if family == .ipv4 || !(version == 3) {
            checks.append(CheckResult(id: "first_address_link_local", status: .notApplicable, detail: "IPv6 VRRPv3 only"))
        } else if m.count >= 8 + size, (count ?? 0) >= 1 {
            let firstAddress = IPAddress(bytes: m[8..<(8 + size)])!
            checks.append(CheckResult(id: "first_address_link_local", status: firstAddress.isIPv6LinkLocal ? .pass : .fail,
                                      detail: firstAddress.isIPv6LinkLocal ? "first address \(firstAddress) is link-local"
                                          : "first address \(firstAddress) is not link-local (RFC 5798 erratum 8300)"))
        } else {
            checks.append(CheckResult(id: "first_address_link_local", status: .notApplicable, detail: "no address captured"))
        }
        // Auth type (VRRPv2).
        if isV2, m.count >= 5 {
            let known = m[4] <= 2
            checks.append(CheckResult(id: "auth_type", status: known ? .pass : .fail,
                                      detail: known ? "auth type \(m[4]) (\(VRRPAuthenticationType(rawValue: m[4])!))"
                                          : "unknown auth type \(m[4]) (keepalived drops it)"))
        } else {
            checks.append(CheckResult(id: "auth_type", status: .notApplicable, detail: isV2 ? "not captured" : "VRRPv3 has no authentication"))
        }
        report.checks = checks
        report.vrrp = v
        report.decoder = decode()

        var text = "VRRPv\(version)"
        text += type == 1 ? " advertisement" : " type \(type)"
        if let vrid = v.vrid { text += " vrid \(vrid)" }
        if let p = v.priority { text += " prio \(p)" }
        if let cs = v.intervalCentiseconds { text += isV2 ? " intvl \(cs / 100)s" : " intvl \(cs)cs" }
        if !v.addresses.isEmpty { text += " [" + v.addresses.joined(separator: ", ") + "]" }
        summaryParts.append(text)
        finishVerdict()
    }

    private mutating func finishVerdict() {
        let failed = (report.checks ?? []).filter { $0.status == .fail }.map(\.id)
        report.verdict = failed.isEmpty ? "valid" : "invalid"
        if !failed.isEmpty { report.failedChecks = failed }
        summaryParts.append(failed.isEmpty ? "valid" : "INVALID: " + failed.joined(separator: ", "))
    }

    // MARK: ARP

    private mutating func arp(_ data: ArraySlice<UInt8>) {
        let packet: ARPPacket
        do throws(AnnouncementParseError) {
            packet = try ARPPacket.parse(Array(data))
        } catch {
            return malformed("ARP: \(error)")
        }
        report.kind = "arp"
        let broadcast = linkDestination.map(\.isBroadcast) ?? true
        let fromSender = linkSource.map { $0 == packet.senderMAC } ?? true
        let keepalivedStyle = packet.operation == .request && packet.isGratuitous && broadcast && fromSender
        let meaning = switch packet.operation {
        case _ where packet.isGratuitous: "gratuitous: \(packet.senderIP) is-at \(packet.senderMAC)"
        case .request: "who-has \(packet.targetIP) tell \(packet.senderIP)"
        case .reply: "\(packet.senderIP) is-at \(packet.senderMAC)"
        default: "\(packet.operation) \(packet.senderIP) > \(packet.targetIP)"
        }
        report.arp = ARPReport(
            operation: Int(packet.operation.rawValue), operationName: packet.operation.description, meaning: meaning,
            hardwareType: Int(packet.hardwareType),
            senderMAC: packet.senderMAC.description, senderIP: packet.senderIP.description, targetMAC: packet.targetMAC.description,
            targetIP: packet.targetIP.description, gratuitous: packet.isGratuitous, keepalivedStyle: keepalivedStyle,
            checksum: "none (ARP has no checksum)")
        if keepalivedStyle {
            summaryParts.append("gratuitous ARP \(packet.senderIP) is-at \(packet.senderMAC)")
            note("gratuitous ARP as keepalived sends it: broadcast request, sender = target = \(packet.senderIP)")
        } else if packet.isGratuitous {
            summaryParts.append("gratuitous ARP \(packet.operation) \(packet.senderIP) is-at \(packet.senderMAC)")
            var differences: [String] = []
            if packet.operation != .request { differences.append("a \(packet.operation), not a request") }
            if !broadcast { differences.append("not broadcast") }
            if !fromSender { differences.append("the Ethernet source differs from the sender MAC") }
            note("gratuitous, but unlike keepalived's: " + differences.joined(separator: "; "))
        } else if packet.operation == .request {
            summaryParts.append("ARP who-has \(packet.targetIP) tell \(packet.senderIP)")
        } else if packet.operation == .reply {
            summaryParts.append("ARP reply \(packet.senderIP) is-at \(packet.senderMAC)")
        } else {
            summaryParts.append("ARP \(packet.operation) \(packet.senderIP) > \(packet.targetIP)")
        }
        if let vr = packet.senderMAC.virtualRouter {
            note("sender MAC \(packet.senderMAC) is the \(vr.family) virtual router MAC of VRID \(vr.vrid)")
        }
    }

    // MARK: Neighbor Advertisement

    private mutating func neighborAdvertisement(_ packet: [UInt8]) {
        let na: NeighborAdvertisement
        do throws(AnnouncementParseError) {
            na = try NeighborAdvertisement.parse(ipv6Packet: packet)
        } catch {
            return malformed("Neighbor Advertisement: \(error)")
        }
        report.kind = "neighbor-advertisement"
        report.neighborAdvertisement = NeighborAdvertisementReport(
            target: na.target.description, flags: na.flags.description, router: na.flags.contains(.router),
            solicited: na.flags.contains(.solicited), override: na.flags.contains(.override), reserved: Int(na.reserved),
            code: Int(na.code), options: na.options.map(\.description), targetLinkLayerAddress: na.targetLinkLayerAddress?.description,
            checksum: hex16(na.checksum), expectedChecksum: hex16(na.expectedChecksum), checksumValid: na.checksumIsValid,
            unsolicited: na.isUnsolicited, keepalivedStyle: false)
        // RFC 4861 §7.1.2, each on its own.
        var checks = report.checks ?? []
        checks.append(CheckResult(id: "hop_limit", status: na.hopLimit == 255 ? .pass : .fail,
                                  detail: na.hopLimit == 255 ? "hop limit 255" : "hop limit \(na.hopLimit), must be 255 (RFC 4861 §7.1.2)"))
        checks.append(CheckResult(id: "checksum", status: na.checksumIsValid ? .pass : .fail,
                                  detail: na.checksumIsValid ? "\(hex16(na.checksum)) verifies (ICMPv6 with the IPv6 pseudo-header)"
                                      : "\(hex16(na.checksum)) is wrong, expected \(hex16(na.expectedChecksum)) (ICMPv6 with the IPv6 pseudo-header)"))
        checks.append(CheckResult(id: "code", status: na.code == 0 ? .pass : .fail, detail: "code \(na.code)"))
        checks.append(CheckResult(id: "target_not_multicast", status: na.target.isMulticast ? .fail : .pass, detail: "target \(na.target)"))
        let solicitedBad = na.destination.isMulticast && na.flags.contains(.solicited)
        checks.append(CheckResult(id: "solicited_flag", status: solicitedBad ? .fail : .pass,
                                  detail: solicitedBad ? "Solicited flag set on an advertisement to a multicast address"
                                      : "Solicited flag \(na.flags.contains(.solicited) ? "set" : "clear")"))
        report.checks = checks
        let flags = "[\(na.flags)]"
        summaryParts.append("NA \(na.target) \(flags)" + (na.targetLinkLayerAddress.map { " tll \($0)" } ?? ""))
        // How it compares with keepalived's unsolicited NA.
        var differences: [String] = []
        if na.destination != UnsolicitedNeighborAdvertisement.allNodes { differences.append("destination is \(na.destination), not ff02::1") }
        if !na.flags.contains(.override) { differences.append("Override flag clear") }
        if na.flags.contains(.solicited) { differences.append("Solicited flag set") }
        if na.source != na.target { differences.append("source \(na.source) is not the target") }
        if na.targetLinkLayerAddress == nil { differences.append("no target link-layer address option") }
        if let mac = na.targetLinkLayerAddress, let src = linkSource, mac != src {
            differences.append("target link-layer address \(mac) differs from the Ethernet source \(src)")
        }
        report.neighborAdvertisement?.keepalivedStyle = differences.isEmpty
        note(differences.isEmpty ? "shaped like keepalived's unsolicited NA: to ff02::1, O set, S clear, source = target, with the MAC (Router flag \(na.flags.contains(.router) ? "set: forwarding on" : "clear"))"
                                 : "unlike keepalived's unsolicited NA: " + differences.joined(separator: "; "))
        if let mac = na.targetLinkLayerAddress, let vr = mac.virtualRouter {
            note("target link-layer address \(mac) is the \(vr.family) virtual router MAC of VRID \(vr.vrid)")
        }
        finishVerdict()
    }
}

// MARK: Helpers

func u16(_ b: [UInt8], _ at: Int) -> UInt16 { UInt16(b[at]) << 8 | UInt16(b[at + 1]) }
func u16(_ b: ArraySlice<UInt8>, _ at: Int) -> UInt16 { UInt16(b[at]) << 8 | UInt16(b[at + 1]) }

/// `0x0806`-style text.
func hex16(_ v: UInt16) -> String {
    let s = String(v, radix: 16)
    return "0x" + String(repeating: "0", count: 4 - s.count) + s
}

/// Centiseconds as seconds with up to two decimals: 100 → "1", 150 → "1.5", 5 → "0.05".
func formatSeconds(_ cs: Int) -> String {
    let whole = cs / 100, rest = cs % 100
    if rest == 0 { return "\(whole)" }
    return rest % 10 == 0 ? "\(whole).\(rest / 10)" : "\(whole).\(rest < 10 ? "0" : "")\(rest)"
}
