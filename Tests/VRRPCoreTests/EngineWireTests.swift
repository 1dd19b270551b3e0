import Testing
@testable import VRRPCore

@Suite("Engine: raw packets in")
struct EngineWireTests {
    @Test("an IPv4 datagram is decoded once and routed; a corrupt one is counted before any router sees it")
    func ipv4() throws {
        var e = try VRRPEngine(routers: [T.config(priority: 100)])
        _ = e.handle(.startup, now: .zero)
        let advert = T.advert(priority: 200).advertisement
        var bytes = advert.encodedIPv4Datagram(source: T.ip("192.0.2.2"), destination: T.ip("224.0.0.18"),
                                               checksumForm: .messageOnly)
        _ = e.handle(.ipv4Datagram(bytes, interface: "eth0"), now: .seconds(1))
        #expect(e.routers[0].counters.advertisementsReceived == 1)
        #expect(e.routers[0].masterAddress == T.ip("192.0.2.2"))
        bytes[bytes.count - 1] ^= 0xFF
        let out = e.handle(.ipv4Datagram(bytes, interface: "eth0"), now: .seconds(2))
        #expect(out == [.unrouted(.badChecksum, interface: "eth0", source: T.ip("192.0.2.2"))])
        #expect(e.unroutedDrops[Int(VRRPDropReason.badChecksum.rawValue)] == 1)
        let short = e.handle(.ipv4Datagram([0x45, 0], interface: "eth0"), now: .seconds(2))
        #expect(short == [.unrouted(.malformedIPHeader, interface: "eth0", source: nil)])
    }

    @Test("an IPv6 message with the kernel's hop limit is decoded and routed")
    func ipv6() throws {
        var e = try VRRPEngine(routers: [T.config(version: .v3, primary: "fe80::1", vips: ["fe80::53", "2001:db8::53"])])
        _ = e.handle(.startup, now: .zero)
        let a = T.advert(from: "fe80::2", priority: 200, version: .v3, addresses: ["fe80::53", "2001:db8::53"],
                         checksumForm: .pseudoHeader).advertisement
        let msg = a.encoded(source: T.ip("fe80::2"), destination: T.ip("ff02::12"), checksumForm: .pseudoHeader)
        _ = e.handle(.ipv6Message(msg, source: T.ip("fe80::2"), destination: T.ip("ff02::12"), hopLimit: 255,
                                  interface: "eth0"), now: .seconds(1))
        #expect(e.routers[0].counters.advertisementsReceived == 1)
        #expect(e.routers[0].counters.received(.pseudoHeader) == 1)
        _ = e.handle(.ipv6Message(msg, source: T.ip("fe80::2"), destination: T.ip("ff02::12"), hopLimit: 64,
                                  interface: "eth0"), now: .seconds(1))
        #expect(e.routers[0].counters.drops(.badHopLimit) == 1)
    }
}
