// The text form of `kad inspect`'s reports.

extension PacketReport {
    /// Several lines for VRRP, ARP and NA; one line for skipped and malformed packets.
    var text: String {
        var head = "#\(number)"
        if let timestamp { head += "  \(timestamp)" }
        if let line { head += "  line \(line)" }
        head += "  \(capturedLength) bytes"
        if originalLength > capturedLength { head += " of \(originalLength)" }
        if let fileOffset { head += "  @\(fileOffset)" }
        if kind == "skipped" || kind == "malformed" {
            var out = head + "  " + summary
            if kind == "malformed", let notes, notes.count > 1 { out += "\n" + notes.dropLast().map { "    note: \($0)" }.joined(separator: "\n") }
            return out
        }
        var lines = [head]
        func row(_ label: String, _ values: [String]) {
            for (i, v) in values.enumerated() {
                lines.append("  " + (i == 0 ? label : "").padding(9) + " " + v)
            }
        }
        if let link, link.type != "ipv4", link.type != "ipv6", link.type != "raw-ip", link.type != "arp" {
            var t = link.type == "ethernet" ? "Ethernet" : link.type == "linux-sll" ? "Linux SLL" : link.type == "linux-sll2" ? "Linux SLL2" : link.type
            if let p = link.packetType { t += " \(p)" }
            if let s = link.source { t += " \(s)" }
            if let d = link.destination { t += " > \(d)" }
            if let v = link.vlans { t += ", VLAN " + v.map(String.init).joined(separator: ",") }
            if let e = link.etherType { t += ", EtherType \(e)" }
            if let i = link.interfaceIndex { t += ", ifindex \(i)" }
            if let vrid = link.virtualRouterMACOfVRID { t += " (source is the virtual router MAC of VRID \(vrid))" }
            row("link", [t])
        }
        if let ip {
            var t: String
            if ip.version == 4 {
                t = "IPv4 \(ip.source) > \(ip.destination), TTL \(ip.hopLimit), TOS 0x\(hexByte(UInt8(truncatingIfNeeded: ip.trafficClass)))"
                t += ", id \(ip.identification ?? 0), length \(ip.totalLength), protocol \(ip.proto)"
                if ip.moreFragments == true || (ip.fragmentOffset ?? 0) != 0 { t += ", fragment offset \(ip.fragmentOffset ?? 0)\(ip.moreFragments == true ? " +MF" : "")" }
                if ip.dontFragment == true { t += ", DF" }
                if let c = ip.headerChecksum { t += ", header checksum \(c) \(ip.headerChecksumValid == true ? "ok" : "BAD")" }
            } else {
                t = "IPv6 \(ip.source) > \(ip.destination), hop limit \(ip.hopLimit), traffic class 0x\(hexByte(UInt8(truncatingIfNeeded: ip.trafficClass)))"
                t += ", flow label \(ip.flowLabel ?? 0), payload length \(ip.totalLength - 40), next header \(ip.proto)"
                if let e = ip.extensionHeaders { t += ", extension headers " + e.map(String.init).joined(separator: ",") }
            }
            var values = [t]
            if let ah = ip.authenticationHeader {
                values.append("IPsec AH: next header \(ah.nextHeader), length \(ah.length), SPI \(ah.spi), sequence \(ah.sequence), ICV \(ah.icv)")
            }
            row("ip", values)
        }
        if let v = vrrp {
            var values: [String] = []
            var first = "VRRPv\(v.version) " + (v.type == 1 ? "advertisement" : "type \(v.type)")
            if let vrid = v.vrid { first += ", VRID \(vrid)" }
            if let p = v.priority { first += ", priority \(p)" + (v.priorityMeaning.map { " (\($0))" } ?? "") }
            if let c = v.count { first += ", count \(c)" }
            values.append(first)
            if let cs = v.intervalCentiseconds {
                var t = v.version == 2 ? "interval \(cs / 100) s (\(cs) cs)" : "interval \(cs) cs (\(formatSeconds(cs)) s)"
                if let r = v.reservedBits, r != 0 { t += ", reserved bits \(r) (ignored)" }
                values.append(t)
            }
            if let at = v.authType {
                var t = "auth type \(at) (\(v.authTypeName ?? "?"))"
                if let d = v.authData { t += ", auth data \(d)" }
                if let p = v.authPassword { t += " (\"\(p)\")" }
                values.append(t)
            }
            values.append("addresses " + (v.addresses.isEmpty ? "(none)" : v.addresses.joined(separator: ", ")))
            if let t = v.trailingBytes { values.append("\(t) bytes after the addresses\(v.version == 2 ? " and auth data" : "")") }
            if let c = v.checksum {
                if let f = v.checksumForm {
                    values.append("checksum \(c), verified as \(f)")
                } else {
                    let wanted = (v.expectedChecksums ?? [:]).sorted { $0.key < $1.key }.map { "\($0.value) (\($0.key))" }.joined(separator: ", ")
                    values.append("checksum \(c), verified by no form; expected \(wanted)")
                }
            }
            values.append("destination: " + (v.destinationKind == "multicast" ? "the VRRP multicast group" : v.destinationKind == "unicast" ? "unicast" : "another multicast group"))
            row("vrrp", values)
        }
        if let a = arp {
            row("arp", [
                "\(a.meaning) (op \(a.operation) \(a.operationName), hardware type \(a.hardwareType))",
                "sender \(a.senderMAC) \(a.senderIP)",
                "target \(a.targetMAC) \(a.targetIP)",
                "checksum: \(a.checksum)",
            ])
        }
        if let na = neighborAdvertisement {
            var values = ["Neighbor Advertisement, target \(na.target), flags \(na.flags) (R=\(na.router ? 1 : 0) S=\(na.solicited ? 1 : 0) O=\(na.override ? 1 : 0))" + (na.code != 0 ? ", code \(na.code)" : "")]
            values.append("options: " + (na.options.isEmpty ? "none" : na.options.joined(separator: "; ")))
            values.append("checksum \(na.checksum), " + (na.checksumValid ? "verified (pseudo-header)" : "BAD, expected \(na.expectedChecksum)"))
            row("ndisc", values)
        }
        if let checks {
            let width = checks.map(\.id.count).max() ?? 0
            row("checks", checks.map { c in
                let status = c.status == .fail ? "FAIL" : c.status.rawValue
                return status.padding(4) + "  " + c.id.padding(width) + "  " + c.detail
            })
        }
        if let decoder { row("decoder", [decoder.message + (decoder.dropReason.map { " [\($0)]" } ?? "")]) }
        if let notes { row("note", notes) }
        if let verdict { row("verdict", [verdict == "valid" ? "valid" : "INVALID: " + (failedChecks ?? []).joined(separator: ", ")]) }
        return lines.joined(separator: "\n")
    }
}

extension String {
    /// Left-aligned in `width` columns.
    func padding(_ width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }
}
