// libFuzzer entry point: the input bytes are an IPv4 datagram as an IPv4 raw socket delivers it
// (header included), given to `VRRPAdvertisement.decodeIPv4Datagram(_:)`. Dropping it with any
// VRRPDropReason is fine; crashing is not. When it decodes, VRRPFuzzSupport checks that the
// advertisement describes the bytes and re-encodes to them (see RoundTrip.swift). Each input is
// decoded a second time with its IPv4 header checksum and VRRP checksum recomputed (the VRRPv3 form
// picked by the low bits of byte 4, the identification's high byte: 0 and 3 pseudo-header,
// 1 message-only, 2 pseudo-header with the group), so that mutations get past the checksums.
//
//   FuzzVRRPDatagram --write-seeds DIR     writes the encoder-made seeds (corpus-vrrp/ipv4-datagram)

import VRRPCore
import VRRPFuzzSupport
import FuzzDriver

/// Decodes `datagram`; on success checks the round-trip properties. Every drop reason is a valid outcome.
func decodeAndCheck(_ datagram: [UInt8]) -> Int {
    do throws(VRRPDropReason) {
        let packet = try VRRPAdvertisement.decodeIPv4Datagram(datagram)
        checkDecodedDatagram(packet, datagram: datagram)
        return 1
    } catch {
        return error.identifier.utf8.count
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzVRRPDatagram(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let datagram = size > 0 && data != nil ? Array(UnsafeBufferPointer(start: data, count: size)) : []
    var n = decodeAndCheck(datagram)
    // Again with the checksums made valid, so that mutations reach the checks behind them.
    if let repaired = repairedDatagram(datagram) { n &+= decodeAndCheck(repaired) }
    return n == -1 ? 1 : 0
}

@_cdecl("FuzzVRRPDatagram_main")
public func fuzzMain(
    _ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
) -> CInt {
    if writeSeedsIfAsked(argc, argv, ipv4DatagramSeeds, decodes: { decodeAndCheck($0) == 1 }) { return 0 }
    return runLibFuzzer(argc, argv) { data, size in fuzzVRRPDatagram(data, size) }
}
