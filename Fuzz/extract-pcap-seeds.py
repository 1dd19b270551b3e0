#!/usr/bin/env python3
"""Extracts VRRP packets from pcap/pcapng captures as seeds for the VRRP fuzz targets.

    Fuzz/extract-pcap-seeds.py [--ipv4-out DIR] [--ipv6-out DIR] [PCAP...]

Without PCAP arguments it reads Tests/VRRPCoreTests/Fixtures/keepalived-2.2.7/*.pcap (the real
keepalived captures). Each IPv4 packet with protocol 112 (VRRP) or 51 (AH, keepalived's
`auth_type AH`) is written as the IPv4 datagram, cut at its total length as a raw socket delivers
it, to corpus-vrrp/ipv4-datagram/ (the FuzzVRRPDatagram input format). Each IPv6 packet whose
next header is 112 (after any hop-by-hop, routing or destination options headers) is written as
source (16 bytes) + destination (16) + hop limit (1) + the VRRP message to
corpus-vrrp/ipv6-message/ (the FuzzVRRPMessage input format).

Packets that differ only in the IPv4 identification and header checksum (keepalived counts the
identification up) are written once. Files are named keepalived-CAPTURE-N.bin. Standard library
only; link types Ethernet (with 802.1Q tags), Linux cooked v1/v2 and raw IP.
"""

import argparse
import glob
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
DEFAULT_GLOB = os.path.join(ROOT, "Tests/VRRPCoreTests/Fixtures/keepalived-2.2.7/*.pcap")

LINKTYPE_ETHERNET = 1
LINKTYPE_RAW = 101
LINKTYPE_LINUX_SLL = 113
LINKTYPE_IPV4 = 228
LINKTYPE_IPV6 = 229
LINKTYPE_LINUX_SLL2 = 276


def pcap_frames(data):
    """Yields (linktype, frame) from a classic pcap file (either byte order, µs or ns)."""
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        order = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        order = ">"
    else:
        raise ValueError("not a pcap file")
    linktype = struct.unpack(order + "I", data[20:24])[0] & 0x0FFFFFFF
    pos = 24
    while pos + 16 <= len(data):
        _, _, caplen, _ = struct.unpack(order + "IIII", data[pos:pos + 16])
        pos += 16
        yield linktype, data[pos:pos + caplen]
        pos += caplen


def pcapng_frames(data):
    """Yields (linktype, frame) from a pcapng file (enhanced and simple packet blocks)."""
    order = "<"
    linktypes = []
    pos = 0
    while pos + 12 <= len(data):
        if data[pos:pos + 4] == b"\x0a\x0d\x0d\x0a":  # section header: byte order, new interfaces
            order = "<" if data[pos + 8:pos + 12] == b"\x4d\x3c\x2b\x1a" else ">"
            linktypes = []
        btype, blen = struct.unpack(order + "II", data[pos:pos + 8])
        body = data[pos + 8:pos + blen - 4]
        if btype == 1:  # interface description
            linktypes.append(struct.unpack(order + "H", body[:2])[0])
        elif btype == 6:  # enhanced packet
            iface, _, _, caplen, _ = struct.unpack(order + "IIIII", body[:20])
            yield linktypes[iface], body[20:20 + caplen]
        elif btype == 3:  # simple packet
            yield linktypes[0], body[4:]
        if blen < 12:
            break
        pos += blen


def network_layer(linktype, frame):
    """(ethertype-like family, bytes) of the IP packet in a frame, or None."""
    if linktype == LINKTYPE_ETHERNET:
        pos, ethertype = 14, struct.unpack(">H", frame[12:14])[0] if len(frame) >= 14 else 0
        while ethertype in (0x8100, 0x88A8) and len(frame) >= pos + 4:  # VLAN tags
            ethertype = struct.unpack(">H", frame[pos + 2:pos + 4])[0]
            pos += 4
        return ethertype, frame[pos:]
    if linktype == LINKTYPE_LINUX_SLL and len(frame) >= 16:
        return struct.unpack(">H", frame[14:16])[0], frame[16:]
    if linktype == LINKTYPE_LINUX_SLL2 and len(frame) >= 20:
        return struct.unpack(">H", frame[0:2])[0], frame[20:]
    if linktype in (LINKTYPE_RAW, LINKTYPE_IPV4, LINKTYPE_IPV6) and frame:
        return (0x0800 if frame[0] >> 4 == 4 else 0x86DD), frame
    return None


def ipv4_seed(packet):
    """(seed, dedup key) for a VRRP or AH IPv4 datagram, or None."""
    if len(packet) < 20 or packet[0] >> 4 != 4 or packet[9] not in (112, 51):
        return None
    total = struct.unpack(">H", packet[2:4])[0]
    datagram = bytes(packet[:total]) if 20 <= total <= len(packet) else bytes(packet)
    key = datagram[:4] + b"\0\0" + datagram[6:10] + b"\0\0" + datagram[12:]
    return datagram, key


def ipv6_seed(packet):
    """(seed, dedup key) for a VRRP IPv6 packet, or None."""
    if len(packet) < 40 or packet[0] >> 4 != 6:
        return None
    payload_length = struct.unpack(">H", packet[4:6])[0]
    next_header, pos, end = packet[6], 40, min(len(packet), 40 + payload_length)
    while next_header in (0, 43, 60) and pos + 8 <= end:  # hop-by-hop, routing, destination options
        next_header, pos = packet[pos], pos + (packet[pos + 1] + 1) * 8
    if next_header != 112 or pos > end:
        return None
    seed = bytes(packet[8:24]) + bytes(packet[24:40]) + bytes([packet[7]]) + bytes(packet[pos:end])
    return seed, seed


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("pcaps", nargs="*", help="captures (default: %(default)s)", default=None)
    parser.add_argument("--ipv4-out", default=os.path.join(HERE, "corpus-vrrp/ipv4-datagram"))
    parser.add_argument("--ipv6-out", default=os.path.join(HERE, "corpus-vrrp/ipv6-message"))
    args = parser.parse_args()
    pcaps = args.pcaps or sorted(glob.glob(DEFAULT_GLOB))
    if not pcaps:
        print(f"extract-pcap-seeds.py: no captures match {DEFAULT_GLOB}", file=sys.stderr)
        return 1
    os.makedirs(args.ipv4_out, exist_ok=True)
    os.makedirs(args.ipv6_out, exist_ok=True)
    written = {4: 0, 6: 0}
    for path in pcaps:
        with open(path, "rb") as f:
            data = f.read()
        frames = pcapng_frames(data) if data[:4] == b"\x0a\x0d\x0d\x0a" else pcap_frames(data)
        name = os.path.splitext(os.path.basename(path))[0]
        seen, n = set(), 0
        for linktype, frame in frames:
            layer = network_layer(linktype, frame)
            if layer is None:
                continue
            ethertype, packet = layer
            family, found = (4, ipv4_seed(packet)) if ethertype == 0x0800 else (6, ipv6_seed(packet)) \
                if ethertype == 0x86DD else (0, None)
            if found is None or found[1] in seen:
                continue
            seen.add(found[1])
            out = args.ipv4_out if family == 4 else args.ipv6_out
            with open(os.path.join(out, f"keepalived-{name}-{n}.bin"), "wb") as f:
                f.write(found[0])
            n += 1
            written[family] += 1
        print(f"{path}: {n} distinct VRRP packets")
    print(f"wrote {written[4]} IPv4 datagrams to {args.ipv4_out}, {written[6]} IPv6 messages to {args.ipv6_out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
