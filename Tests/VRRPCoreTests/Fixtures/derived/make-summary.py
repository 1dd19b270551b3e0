#!/usr/bin/env python3
"""Decodes every packet of the keepalived 2.2.7 fixture pcaps and writes summary.json.

This is an independent decoder (no Swift, no scapy/dpkt, nothing but the standard library) so
kad's Swift decoder can be checked against a second reading of the same bytes. Every field is
read at a fixed offset straight from the RFCs:

  pcap      global header 24 bytes, record header 16 bytes (libpcap format, link type 1)
  Ethernet  14 bytes, optional 802.1Q tag (4 bytes)
  IPv4      RFC 791 (IHL honoured), AH RFC 4302 (keepalived's VRRPv2 "auth_type AH")
  IPv6      RFC 8200 (the fixtures carry no extension headers; any would be reported)
  VRRP      RFC 3768 (v2) and RFC 9568 (v3)
  ARP       RFC 826;  ICMPv6 NS/NA  RFC 4861

It also checks every checksum it can (IPv4 header, VRRP, ICMPv6) and, for AH, the
HMAC-MD5-96 ICV with the password from the fixture's config, and records which checksum
form made the VRRP checksum valid. It fails loudly on anything it does not understand.

Usage: make-summary.py [FIXTURE_DIR [OUTPUT_JSON]]
"""
import hashlib
import hmac
import ipaddress
import json
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "keepalived-2.2.7")

# auth_pass values from the configs, for the AH ICV check (keepalived keys HMAC-MD5 with the
# 8-byte, NUL-padded password buffer).
AH_KEYS = {"v2-ah.pcap": b"secret12"}


def inet_sum(data: bytes, start: int = 0) -> int:
    """RFC 1071 ones'-complement sum of 16-bit big-endian words, folded to 16 bits."""
    if len(data) % 2:
        data += b"\0"
    s = start
    for (w,) in struct.iter_unpack("!H", data):
        s += w
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s


def inet_checksum(data: bytes, start: int = 0) -> int:
    """The value to put in a checksum field (the field itself zero in data)."""
    return ~inet_sum(data, start) & 0xFFFF


def verifies(data: bytes, start: int = 0) -> bool:
    """A message carrying its checksum verifies when the complemented sum is zero."""
    return inet_checksum(data, start) == 0


def pseudo4(src: bytes, dst: bytes, proto: int, length: int) -> int:
    return inet_sum(src + dst + struct.pack("!BBH", 0, proto, length))


def pseudo6(src: bytes, dst: bytes, nh: int, length: int) -> int:
    return inet_sum(src + dst + struct.pack("!I3xB", length, nh))


def mac(b: bytes) -> str:
    return ":".join(f"{x:02x}" for x in b)


def ip4(b: bytes) -> str:
    return str(ipaddress.IPv4Address(b))


def ip6(b: bytes) -> str:
    return str(ipaddress.IPv6Address(b))


def read_pcap(path):
    with open(path, "rb") as f:
        data = f.read()
    magic = data[:4]
    if magic == b"\xd4\xc3\xb2\xa1":
        e, ts_div = "<", 1_000_000
    elif magic == b"\xa1\xb2\xc3\xd4":
        e, ts_div = ">", 1_000_000
    elif magic == b"\x4d\x3c\xb2\xa1":
        e, ts_div = "<", 1_000_000_000
    elif magic == b"\xa1\xb2\x3c\x4d":
        e, ts_div = ">", 1_000_000_000
    else:
        raise SystemExit(f"{path}: not a libpcap file (magic {magic.hex()})")
    _, vmaj, vmin, _, _, snaplen, linktype = struct.unpack(e + "IHHiIII", data[:24])
    if linktype != 1:
        raise SystemExit(f"{path}: link type {linktype}, expected 1 (Ethernet)")
    off, records = 24, []
    while off < len(data):
        sec, frac, incl, orig = struct.unpack(e + "IIII", data[off:off + 16])
        frame = data[off + 16:off + 16 + incl]
        if len(frame) != incl or incl != orig:
            raise SystemExit(f"{path}: truncated record at offset {off}")
        records.append((sec, frac, ts_div, frame))
        off += 16 + incl
    return {"version": f"{vmaj}.{vmin}", "snaplen": snaplen, "linktype": linktype}, records


def decode_vrrp(msg: bytes, fam: int, src: bytes, dst: bytes) -> dict:
    """msg is the VRRP message exactly (IPv4 total length / IPv6 payload length bound it)."""
    vt, vrid, prio, count = msg[0], msg[1], msg[2], msg[3]
    version, typ = vt >> 4, vt & 0x0F
    alen = 4 if fam == 4 else 16
    r = {"version": version, "type": typ, "vrid": vrid, "priority": prio, "count": count}
    if version == 2:
        auth_type, adver_int, csum = msg[4], msg[5], struct.unpack("!H", msg[6:8])[0]
        addrs = msg[8:8 + count * alen]
        auth = msg[8 + count * alen:]
        if len(addrs) != count * alen or len(auth) != 8:
            raise SystemExit(f"VRRPv2 message length {len(msg)} does not fit count {count}")
        r.update(auth_type=auth_type, interval=adver_int, interval_unit="s",
                 auth_data=auth.hex(), checksum=csum)
        ok = verifies(msg)
        r["checksum_form"] = "message" if ok else "invalid"
    elif version == 3:
        word = struct.unpack("!H", msg[4:6])[0]
        csum = struct.unpack("!H", msg[6:8])[0]
        addrs = msg[8:]
        if len(addrs) != count * alen:
            raise SystemExit(f"VRRPv3 message length {len(msg)} does not fit count {count}")
        r.update(reserved=word >> 12, interval=word & 0x0FFF, interval_unit="cs",
                 auth_type=None, checksum=csum)
        ph = pseudo4(src, dst, 112, len(msg)) if fam == 4 else pseudo6(src, dst, 112, len(msg))
        with_ph, msg_only = verifies(msg, ph), verifies(msg)
        if with_ph and msg_only:
            raise SystemExit("both checksum forms verify: cannot tell them apart")
        r["checksum_form"] = "pseudo-header" if with_ph else "message" if msg_only else "invalid"
        # What each form would put in the field, for tests that build packets.
        zeroed = msg[:6] + b"\0\0" + msg[8:]
        r["checksum_pseudo_header"] = inet_checksum(zeroed, ph)
        r["checksum_message_only"] = inet_checksum(zeroed)
    else:
        raise SystemExit(f"unknown VRRP version {version}")
    r["checksum_hex"] = f"0x{csum:04x}"
    r["addresses"] = [ip4(addrs[i:i + 4]) if fam == 4 else ip6(addrs[i:i + 16])
                      for i in range(0, len(addrs), alen)]
    r["message_hex"] = msg.hex()
    return r


def decode_nd_options(b: bytes) -> list:
    opts = []
    while b:
        t, ln = b[0], b[1] * 8
        if ln == 0 or ln > len(b):
            raise SystemExit("malformed ND option")
        o = {"type": t, "length_octets": ln}
        if t in (1, 2):  # source / target link-layer address
            o["name"] = "source-link-layer" if t == 1 else "target-link-layer"
            o["mac"] = mac(b[2:8])
        else:
            o["data_hex"] = b[2:ln].hex()
        opts.append(o)
        b = b[ln:]
    return opts


def decode_frame(frame: bytes, fname: str) -> dict:
    p = {"frame_length": len(frame), "eth_dst": mac(frame[0:6]), "eth_src": mac(frame[6:12])}
    et, off = struct.unpack("!H", frame[12:14])[0], 14
    if et == 0x8100:
        p["vlan_id"] = struct.unpack("!H", frame[14:16])[0] & 0x0FFF
        et, off = struct.unpack("!H", frame[16:18])[0], 18
    p["ethertype"] = f"0x{et:04x}"
    body = frame[off:]

    if et == 0x0806:
        htype, ptype, hlen, plen, op = struct.unpack("!HHBBH", body[:8])
        if (htype, ptype, hlen, plen) != (1, 0x0800, 6, 4):
            raise SystemExit(f"{fname}: unexpected ARP hardware/protocol {htype}/{ptype:#x}")
        sha, spa, tha, tpa = body[8:14], body[14:18], body[18:24], body[24:28]
        p.update(kind="arp", arp_op=op, arp_op_name={1: "request", 2: "reply"}.get(op, "?"),
                 sender_mac=mac(sha), sender_ip=ip4(spa), target_mac=mac(tha), target_ip=ip4(tpa),
                 gratuitous=spa == tpa, trailing_bytes=len(body) - 28)
        return p

    if et == 0x0800:
        ihl = (body[0] & 0x0F) * 4
        if body[0] >> 4 != 4 or ihl < 20:
            raise SystemExit(f"{fname}: bad IPv4 header")
        tos, total, ident, ff, ttl, proto, hcs = struct.unpack("!xBHHHBBH", body[:12])
        src, dst = body[12:16], body[16:20]
        p.update(family=4, src=ip4(src), dst=ip4(dst), ttl=ttl, tos=tos, ip_id=ident,
                 df=bool(ff & 0x4000), mf=bool(ff & 0x2000), frag_offset=ff & 0x1FFF,
                 ip_total_length=total, ip_header_length=ihl, ip_proto=proto,
                 ip_header_checksum=hcs, ip_header_checksum_ok=verifies(body[:ihl]),
                 trailing_bytes=len(body) - total)
        payload = body[ihl:total]
        if proto == 51:  # IPsec AH in front of VRRPv2 (keepalived auth_type AH)
            nh, plen, _, spi, seq = struct.unpack("!BBHII", payload[:12])
            ah_len = (plen + 2) * 4
            icv = payload[12:ah_len]
            ah = {"next_header": nh, "payload_len": plen, "spi": spi, "spi_hex": f"0x{spi:08x}",
                  "spi_as_ipv4": ip4(payload[4:8]), "sequence": seq, "icv": icv.hex()}
            key = AH_KEYS.get(fname)
            if key is not None:
                # ICV input: IP header with TOS, flags/fragment offset and header checksum
                # zeroed (keepalived keeps TTL in multicast mode), AH with the ICV zeroed, VRRP.
                m = bytearray(body[:total])
                m[1] = 0
                m[6:8] = b"\0\0"
                m[10:12] = b"\0\0"
                m[ihl + 12:ihl + ah_len] = bytes(len(icv))
                want = hmac.new(key.ljust(8, b"\0")[:8], bytes(m), hashlib.md5).digest()[:len(icv)]
                ah["icv_ok"] = want == icv
            p["ah"] = ah
            proto, payload = nh, payload[ah_len:]
        if proto != 112:
            raise SystemExit(f"{fname}: unexpected IPv4 protocol {proto}")
        p["kind"] = "vrrp"
        p["vrrp"] = decode_vrrp(payload, 4, src, dst)
        return p

    if et == 0x86DD:
        vtf, plen, nh, hlim = struct.unpack("!IHBB", body[:8])
        src, dst = body[8:24], body[24:40]
        p.update(family=6, src=ip6(src), dst=ip6(dst), hop_limit=hlim,
                 traffic_class=(vtf >> 20) & 0xFF, flow_label=vtf & 0xFFFFF,
                 payload_length=plen, next_header=nh, trailing_bytes=len(body) - 40 - plen)
        payload = body[40:40 + plen]
        if nh == 112:
            p["kind"] = "vrrp"
            p["vrrp"] = decode_vrrp(payload, 6, src, dst)
            return p
        if nh == 58:
            typ, code, csum = struct.unpack("!BBH", payload[:4])
            ck_ok = verifies(payload, pseudo6(src, dst, 58, len(payload)))
            if typ == 136:
                flags = payload[4]
                p.update(kind="icmpv6-na", icmp_type=typ, icmp_code=code, icmp_checksum=csum,
                         icmp_checksum_ok=ck_ok, flag_router=bool(flags & 0x80),
                         flag_solicited=bool(flags & 0x40), flag_override=bool(flags & 0x20),
                         target=ip6(payload[8:24]), options=decode_nd_options(payload[24:]))
                return p
            if typ == 135:
                p.update(kind="icmpv6-ns", icmp_type=typ, icmp_code=code, icmp_checksum=csum,
                         icmp_checksum_ok=ck_ok, target=ip6(payload[8:24]),
                         options=decode_nd_options(payload[24:]))
                return p
            raise SystemExit(f"{fname}: unexpected ICMPv6 type {typ}")
        raise SystemExit(f"{fname}: unexpected IPv6 next header {nh}")

    raise SystemExit(f"{fname}: unexpected ethertype {et:#06x}")


def dump(summary: dict) -> str:
    """JSON with one line per packet, so the file stays small and diffs stay readable."""
    one = lambda v: json.dumps(v, separators=(", ", ": "))
    lines = ["{"]
    for k in ("generator", "source", "notes"):
        lines.append(f' {one(k)}: {json.dumps(summary[k], indent=None)},')
    lines.append(' "files": {')
    names = list(summary["files"])
    for n, name in enumerate(names):
        fs = summary["files"][name]
        lines.append(f'  {one(name)}: {{')
        for k in ("pcap", "packet_count", "counts"):
            lines.append(f'   {one(k)}: {one(fs[k])},')
        lines.append('   "packets": [')
        for i, p in enumerate(fs["packets"]):
            lines.append("    " + one(p) + ("," if i + 1 < len(fs["packets"]) else ""))
        lines.append("   ]")
        lines.append("  }" + ("," if n + 1 < len(names) else ""))
    lines.append(" }")
    lines.append("}")
    text = "\n".join(lines) + "\n"
    assert json.loads(text) == summary
    return text


def main():
    fixtures = sys.argv[1] if len(sys.argv) > 1 else FIXTURES
    out = sys.argv[2] if len(sys.argv) > 2 else os.path.join(HERE, "summary.json")
    summary = {
        "generator": "Tests/VRRPCoreTests/Fixtures/derived/make-summary.py",
        "source": "Tests/VRRPCoreTests/Fixtures/keepalived-2.2.7/*.pcap (keepalived 2.2.7, Debian 12)",
        "notes": [
            "index: 0-based record number in the pcap; t: seconds since the file's first record",
            "vrrp.interval: raw field; unit s for v2 (Adver Int), cs for v3 (Max Adver Int)",
            "vrrp.checksum_form: which computation the received checksum verifies under: "
            "'message' (VRRP message only: v2, and RFC 9568 v3 over IPv4), 'pseudo-header' "
            "(IPv4/IPv6 pseudo-header + message: keepalived 2.2.7 v3 default, and v3 over IPv6), "
            "or 'invalid'",
            "vrrp.checksum_pseudo_header / checksum_message_only (v3): the value each form puts "
            "in the field for this message",
            "trailing_bytes: bytes after the IP datagram / ARP body (Ethernet padding); 0 here "
            "because the capture is taken on the bridge, before any padding",
        ],
        "files": {},
    }
    for name in sorted(os.listdir(fixtures)):
        if not name.endswith(".pcap"):
            continue
        hdr, records = read_pcap(os.path.join(fixtures, name))
        t0 = records[0][0] + records[0][1] / records[0][2] if records else 0
        packets = []
        for i, (sec, frac, div, frame) in enumerate(records):
            p = {"index": i, "t": round(sec + frac / div - t0, 6)}
            p.update(decode_frame(frame, name))
            packets.append(p)
        counts = {}
        for p in packets:
            k = p["kind"]
            if k == "vrrp":
                k = f"vrrp-v{p['vrrp']['version']}"
                if p["vrrp"]["priority"] == 0:
                    k += "-priority0"
            elif k == "arp" and p["gratuitous"]:
                k = "arp-gratuitous"
            counts[k] = counts.get(k, 0) + 1
        summary["files"][name] = {"pcap": hdr, "packet_count": len(packets),
                                  "counts": dict(sorted(counts.items())), "packets": packets}
    with open(out, "w") as f:
        f.write(dump(summary))

    # Self-checks: everything keepalived and the kernels sent must be well formed.
    bad = []
    for name, fs in summary["files"].items():
        for p in fs["packets"]:
            where = f"{name}#{p['index']}"
            if p.get("family") == 4 and not p["ip_header_checksum_ok"]:
                bad.append(f"{where}: IPv4 header checksum")
            if "vrrp" in p and p["vrrp"]["checksum_form"] == "invalid":
                bad.append(f"{where}: VRRP checksum")
            if "icmp_checksum_ok" in p and not p["icmp_checksum_ok"]:
                bad.append(f"{where}: ICMPv6 checksum")
            if "ah" in p and p["ah"].get("icv_ok") is False:
                bad.append(f"{where}: AH ICV")
    if bad:
        raise SystemExit("checks failed:\n  " + "\n  ".join(bad))
    for name, fs in summary["files"].items():
        print(f"{name}: {fs['packet_count']} packets {fs['counts']}")


if __name__ == "__main__":
    main()
