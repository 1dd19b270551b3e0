// libFuzzer entry point: the input is a VRRP message as an IPv6 raw socket delivers it, with what
// the IP header and IPV6_HOPLIMIT said in front:
//
//   bytes 0–15    IPv6 source address
//   bytes 16–31   IPv6 destination address
//   byte 32       hop limit
//   bytes 33…     the VRRP message
//
// It is decoded twice, with `decode(message:source:destination:hopLimit:)` on a copy of the message
// and with `decode(message:offset:length:…)` in place; both must give the same result. Dropping it
// is fine; crashing is not. When it decodes, VRRPFuzzSupport checks that the advertisement describes
// the bytes and re-encodes to them (see RoundTrip.swift). Each input is decoded a second time with
// its VRRP checksum recomputed (the VRRPv3 form picked by the hop limit's low bits: 0 and 3
// pseudo-header, 1 message-only, 2 pseudo-header with the group), so that mutations get past the
// checksum. Inputs shorter than the 33-byte prefix are ignored.
//
//   FuzzVRRPMessage --write-seeds DIR      writes the encoder-made seeds (corpus-vrrp/ipv6-message)

import VRRPCore
import VRRPFuzzSupport
import FuzzDriver

private let prefixLength = 33

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzVRRPMessage(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard size >= prefixLength, let data else { return 0 }
    let input = Array(UnsafeBufferPointer(start: data, count: size))
    let (source, destination) = input.withUnsafeBytes {
        (IPAddress(family: .ipv6, from: $0, at: 0), IPAddress(family: .ipv6, from: $0, at: 16))
    }
    let hopLimit = input[32]
    let message = Array(input[prefixLength...])
    check(input: input, message: message, source: source, destination: destination, hopLimit: hopLimit)
    // Again with the checksum made valid, so that mutations reach the checks behind it.
    if let repaired = repairedMessage(message, source: source, destination: destination, hopLimit: hopLimit) {
        check(input: Array(input[..<prefixLength]) + repaired, message: repaired, source: source,
              destination: destination, hopLimit: hopLimit)
    }
    return 0
}

/// Decodes `message` (which is `input` after the prefix) both ways and checks the results;
/// returns whether it decoded.
@discardableResult
func check(input: [UInt8], message: [UInt8], source: IPAddress, destination: IPAddress, hopLimit: UInt8) -> Bool {
    let copied: Result<VRRPReceivedPacket, VRRPDropReason>
    do throws(VRRPDropReason) {
        copied = .success(try VRRPAdvertisement.decode(message: message, source: source, destination: destination,
                                                       hopLimit: hopLimit))
    } catch {
        copied = .failure(error)
    }
    let inPlace: Result<VRRPReceivedPacket, VRRPDropReason>
    do throws(VRRPDropReason) {
        inPlace = .success(try VRRPAdvertisement.decode(message: input, offset: prefixLength, length: message.count,
                                                        source: source, destination: destination, hopLimit: hopLimit))
    } catch {
        inPlace = .failure(error)
    }
    guard copied == inPlace else {
        fatalError("VRRP fuzz property violated: decoding a copy gave \(copied), in place \(inPlace)")
    }
    if case .success(let packet) = copied {
        message.withUnsafeBytes {
            checkDecoded(packet, message: $0, source: source, destination: destination, hopLimit: hopLimit)
        }
        return true
    }
    return false
}

/// Whether a whole input (prefix and message) decodes, with the checks.
func decodes(_ input: [UInt8]) -> Bool {
    guard input.count >= prefixLength else { return false }
    let (source, destination) = input.withUnsafeBytes {
        (IPAddress(family: .ipv6, from: $0, at: 0), IPAddress(family: .ipv6, from: $0, at: 16))
    }
    return check(input: input, message: Array(input[prefixLength...]), source: source, destination: destination,
                 hopLimit: input[32])
}

@_cdecl("FuzzVRRPMessage_main")
public func fuzzMain(
    _ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
) -> CInt {
    if writeSeedsIfAsked(argc, argv, ipv6MessageSeeds, decodes: decodes) { return 0 }
    return runLibFuzzer(argc, argv) { data, size in fuzzVRRPMessage(data, size) }
}
