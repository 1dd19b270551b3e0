import Testing
@testable import VRRPCore

/// Builders shared by the state-machine tests.
enum T {
    static func ip(_ s: String) -> IPAddress { IPAddress(s)! }

    static func config(
        _ name: String = "VI_1", vrid: UInt8 = 51, priority: UInt8 = 100, version: VRRPVersion = .v2,
        interval: UInt16 = 100, primary: String = "192.0.2.1", vips: [String] = ["192.0.2.100"],
        interface: String = "eth0"
    ) -> VirtualRouterConfiguration {
        var c = VirtualRouterConfiguration(
            name: name, virtualRouterID: vrid, version: version, interface: interface,
            primaryAddress: ip(primary), addresses: vips.map { VirtualAddress(ip($0), prefixLength: 24) })
        c.priority = priority
        c.advertisementInterval = interval
        return c
    }

    /// A received advert as the codec would hand it over.
    static func advert(
        from source: String = "192.0.2.2", priority: UInt8, vrid: UInt8 = 51, version: VRRPVersion = .v2,
        interval: UInt16 = 100, addresses: [String] = ["192.0.2.100"], hopLimit: UInt8 = 255,
        destination: String? = nil, authType: UInt8 = 0, authData: UInt64 = 0,
        checksumForm: VRRPChecksumForm = .messageOnly
    ) -> VRRPReceivedPacket {
        let src = ip(source)
        let list = VRRPAddressList(family: src.family, addresses.map(ip))
        let a = VRRPAdvertisement(version: version, virtualRouterID: vrid, priority: priority,
                                  advertisementInterval: interval, addresses: list,
                                  authenticationType: authType, authenticationData: authData)
        return VRRPReceivedPacket(advertisement: a, source: src,
                                  destination: destination.map(ip) ?? IPAddress.vrrpMulticastGroup(src.family),
                                  hopLimit: hopLimit, checksumForm: checksumForm)
    }

    static func router(_ c: VirtualRouterConfiguration) -> VirtualRouter {
        try! VirtualRouter(configuration: c)
    }

    /// A router that has started and is BACKUP at t = 0.
    static func backup(_ c: VirtualRouterConfiguration = config()) -> VirtualRouter {
        var r = router(c)
        _ = r.handle(.startup, now: .zero)
        precondition(r.state == .backup)
        return r
    }

    /// A router that became MASTER through its down timer; returns it and the time it did.
    static func master(_ c: VirtualRouterConfiguration = config()) -> (VirtualRouter, VRRPInstant) {
        var r = router(c)
        _ = r.handle(.startup, now: .zero)
        if r.state == .master { return (r, .zero) }
        let t = r.nextDeadline!
        _ = r.handle(.timerFired, now: t)
        precondition(r.state == .master)
        return (r, t)
    }

    static func sends(_ actions: [VRRPAction]) -> [(priority: UInt8, destination: IPAddress)] {
        actions.compactMap {
            if case .sendAdvertisement(let a, let d, _) = $0 { return (a.priority, d) }
            return nil
        }
    }

    static func transitions(_ actions: [VRRPAction]) -> [(VRRPState, VRRPState)] {
        actions.compactMap {
            if case .transition(let f, let t, _) = $0 { return (f, t) }
            return nil
        }
    }

    static func drops(_ actions: [VRRPAction]) -> [VRRPDropReason] {
        actions.compactMap {
            if case .drop(let r, _) = $0 { return r }
            return nil
        }
    }

    static func ms(_ v: Double) -> VRRPInstant { .seconds(v / 1000) }
    static func ns(_ v: Int64) -> VRRPInstant { VRRPInstant(nanoseconds: v) }
}
