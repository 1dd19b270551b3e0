#!/usr/bin/env python3
"""Derives RFC 9568 "message-only" VRRPv3-over-IPv4 test vectors from keepalived's captures.

keepalived 2.2.7 computes the VRRPv3 checksum over IPv4 with a pseudo-header (source,
actual destination, zero, protocol 112, VRRP length) in front of the message, and has no
option to do otherwise. RFC 9568 section 5.2.8 says the IPv4 checksum covers the VRRP message
only (which is what Cisco and Juniper send, and what keepalived's later `v3_checksum_as_v2`
produces). To give kad a vector in that form taken from real traffic, this script:

  1. reads every VRRPv3/IPv4 advert in v3-ipv4-multicast.pcap, v3-ipv4-unicast.pcap and
     v3-ipv4-fast.pcap;
  2. recomputes the pseudo-header checksum itself and asserts it equals what keepalived sent
     (this proves the arithmetic below against another implementation);
  3. recomputes the checksum over the VRRP message only and writes the whole IPv4 datagram
     with that checksum to v3-ipv4-message-only.hex (the IPv4 header is untouched: its own
     checksum covers only the header, so it stays valid);
  4. also checks that the VRRPv3/IPv6 adverts (whose checksum the kernel computes through
     IPV6_CHECKSUM) verify with the IPv6 pseudo-header, i.e. are already in RFC 9568 form, so
     nothing needs deriving for IPv6.

Standard library only; the RFC 1071 sum is the few lines of inet_sum() below.
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "keepalived-2.2.7")
V4_SOURCES = ["v3-ipv4-multicast.pcap", "v3-ipv4-unicast.pcap", "v3-ipv4-fast.pcap"]
V6_SOURCES = ["v3-ipv6-multicast.pcap", "v3-ipv6-unicast.pcap"]
OUT = os.path.join(HERE, "v3-ipv4-message-only.hex")


def inet_sum(data: bytes, acc: int = 0) -> int:
    """RFC 1071: ones'-complement sum of big-endian 16-bit words, carries folded back in."""
    if len(data) % 2:
        data += b"\0"
    for i in range(0, len(data), 2):
        acc += (data[i] << 8) | data[i + 1]
    while acc > 0xFFFF:
        acc = (acc & 0xFFFF) + (acc >> 16)
    return acc


def checksum(data: bytes, acc: int = 0) -> int:
    return (~inet_sum(data, acc)) & 0xFFFF


def frames(path):
    """Yields (record index, Ethernet frame) from a little-endian microsecond libpcap file."""
    with open(path, "rb") as f:
        data = f.read()
    assert data[:4] == b"\xd4\xc3\xb2\xa1", f"{path}: expected a little-endian libpcap file"
    assert struct.unpack("<I", data[20:24])[0] == 1, f"{path}: link type is not Ethernet"
    off, i = 24, 0
    while off < len(data):
        incl = struct.unpack("<I", data[off + 8:off + 12])[0]
        yield i, data[off + 16:off + 16 + incl]
        off += 16 + incl
        i += 1


def l3(frame: bytes):
    """(ethertype, L3 bytes), skipping one optional 802.1Q tag."""
    et, off = struct.unpack("!H", frame[12:14])[0], 14
    if et == 0x8100:
        et, off = struct.unpack("!H", frame[16:18])[0], 18
    return et, frame[off:]


def main():
    header = [
        "# VRRPv3 over IPv4 adverts in the RFC 9568 (section 5.2.8) checksum form: the checksum",
        "# covers the VRRP message only, no pseudo-header.",
        "#",
        "# Derived by Tests/VRRPCoreTests/Fixtures/derived/make-rfc9568-vectors.py from the",
        "# keepalived 2.2.7 captures in ../keepalived-2.2.7/ (" + ", ".join(V4_SOURCES) + ").",
        "# keepalived 2.2.7 sends the pseudo-header form; for every advert the script first",
        "# asserted that its own pseudo-header computation reproduces keepalived's checksum,",
        "# then replaced the VRRP checksum field (bytes 6-7 of the VRRP message) with the",
        "# message-only checksum. Nothing else changed: the IPv4 header, and so its header",
        "# checksum, is byte-for-byte what keepalived sent.",
        "#",
        "# Format: lines starting with '#' are comments. Each packet is preceded by one comment",
        "# line 'source-file #record: vrid V, dst D, pseudo-header 0xPPPP -> message-only 0xMMMM'",
        "# and is one line of lowercase hex: the whole IPv4 datagram (no Ethernet header).",
        "#",
    ]
    out = []
    n4 = 0
    for name in V4_SOURCES:
        for idx, frame in frames(os.path.join(FIXTURES, name)):
            et, ip = l3(frame)
            if et != 0x0800 or ip[9] != 112:
                continue
            ihl = (ip[0] & 0x0F) * 4
            total = struct.unpack("!H", ip[2:4])[0]
            ip = ip[:total]
            src, dst, msg = ip[12:16], ip[16:20], ip[ihl:]
            assert msg[0] >> 4 == 3, f"{name}#{idx}: not VRRPv3"
            sent = struct.unpack("!H", msg[6:8])[0]
            zeroed = msg[:6] + b"\0\0" + msg[8:]

            pseudo = src + dst + bytes([0, 112]) + struct.pack("!H", len(msg))
            ph_form = checksum(zeroed, inet_sum(pseudo))
            assert ph_form == sent, (f"{name}#{idx}: pseudo-header checksum {ph_form:#06x} != "
                                     f"keepalived's {sent:#06x}")
            mo_form = checksum(zeroed)
            assert mo_form != sent, f"{name}#{idx}: the two forms coincide; useless vector"

            new_msg = msg[:6] + struct.pack("!H", mo_form) + msg[8:]
            assert inet_sum(new_msg) == 0xFFFF                 # message-only verifies
            assert inet_sum(new_msg, inet_sum(pseudo)) != 0xFFFF  # pseudo-header form no longer does
            assert inet_sum(ip[:ihl]) == 0xFFFF                # IPv4 header checksum still valid
            datagram = ip[:ihl] + new_msg
            out.append(f"# {name} #{idx}: vrid {msg[1]}, dst {'.'.join(map(str, dst))}, "
                       f"pseudo-header {sent:#06x} -> message-only {mo_form:#06x}")
            out.append(datagram.hex())
            n4 += 1

    n6 = 0
    for name in V6_SOURCES:
        for idx, frame in frames(os.path.join(FIXTURES, name)):
            et, ip = l3(frame)
            if et != 0x86DD or ip[6] != 112:
                continue
            plen = struct.unpack("!H", ip[4:6])[0]
            src, dst, msg = ip[8:24], ip[24:40], ip[40:40 + plen]
            pseudo = src + dst + struct.pack("!I", len(msg)) + bytes([0, 0, 0, 112])
            assert inet_sum(msg, inet_sum(pseudo)) == 0xFFFF, f"{name}#{idx}: IPv6 checksum"
            n6 += 1

    assert n4 > 0 and n6 > 0
    with open(OUT, "w") as f:
        f.write("\n".join(header + out) + "\n")
    print(f"{n4} VRRPv3/IPv4 adverts: keepalived's pseudo-header checksums reproduced, "
          f"message-only vectors written to {os.path.relpath(OUT)}")
    print(f"{n6} VRRPv3/IPv6 adverts: checksum verifies with the IPv6 pseudo-header "
          f"(already RFC 9568 form; nothing to derive)")


if __name__ == "__main__":
    main()
