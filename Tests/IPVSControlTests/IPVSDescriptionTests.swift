import NetLinux
import SystemPackage
import Testing
import VRRPCore
@testable import IPVSControl

// ipvsadm's notation, compared with lines `ipvsadm -Ln` (1.31) printed in the IPVS VM for the
// same services, and the wording of the client's errors.

@Suite("IPVS descriptions and error wording")
struct IPVSDescriptionTests {
    @Test("services print as ipvsadm -Ln lines")
    func services() {
        var persistent = IPVSService(.address(protocol: .tcp, address: IPAddress("192.0.2.10")!, port: 80), scheduler: .roundRobin)
        persistent.persistenceTimeout = 360
        #expect(persistent.description == "TCP  192.0.2.10:80 rr persistent 360")
        persistent.netmask = .ipv4(prefixLength: 24)
        #expect(persistent.description == "TCP  192.0.2.10:80 rr persistent 360 mask 255.255.255.0")
        let sh = IPVSService(.address(protocol: .udp, address: IPAddress("2001:db8::1")!, port: 53), scheduler: .sourceHashing,
                             flags: [.shFallback, .shPort, .onePacket])
        #expect(sh.description == "UDP  [2001:db8::1]:53 sh (sh-fallback,sh-port) ops")
        var mh = IPVSService(.firewallMark(7, family: .ipv6), scheduler: .maglevHashing, flags: [.mhPort], netmask: .ipv6(prefixLength: 64))
        mh.persistenceTimeout = 60
        #expect(mh.description == "FWM  7 IPv6 mh (mh-port) persistent 60 mask 64")
        var sctp = IPVSService(.address(protocol: .sctp, address: IPAddress("192.0.2.11")!, port: 9), scheduler: .leastConnection,
                               persistenceEngine: "sip")
        sctp.persistenceTimeout = 10
        #expect(sctp.description == "SCTP 192.0.2.11:9 lc persistent 10 pe sip")
        #expect(IPVSService(.firewallMark(8, family: .ipv4)).description == "FWM  8 wlc")
        #expect(IPVSService(.firewallMark(8, family: .ipv4), scheduler: .roundRobin, flags: [.schedulerFlag1, .schedulerFlag3])
            .description == "FWM  8 rr (flag-1,flag-3)")
    }

    @Test("destinations print as ipvsadm's arrow lines, tunnels as --tun-info shows them")
    func destinations() {
        #expect(IPVSDestination(address: IPAddress("198.51.100.2")!, port: 80).description == "-> 198.51.100.2:80 Masq 1")
        #expect(IPVSDestination(address: IPAddress("198.51.100.2")!, port: 80, forwarding: .directRouting, weight: 3,
                                upperThreshold: 100, lowerThreshold: 10).description
            == "-> 198.51.100.2:80 Route 3 uthreshold 100 lthreshold 10")
        #expect(IPVSDestination(address: IPAddress("2001:db8::2")!, port: 53, forwarding: .tunnel, tunnelType: .gue,
                                tunnelPort: 6080).description == "-> [2001:db8::2]:53 Tunnel 1 gue:6080:-c")
        #expect(IPVSDestination(address: IPAddress("198.51.100.9")!, port: 53, forwarding: .tunnel, tunnelType: .gre,
                                tunnelFlags: [.checksum]).tunnelDescription == "gre:+c")
        #expect(IPVSDestination(address: IPAddress("198.51.100.9")!, port: 53, forwarding: .tunnel, tunnelType: .gre,
                                tunnelFlags: [.remoteChecksum]).tunnelDescription == "gre:r+c")
        #expect(IPVSDestination(address: IPAddress("198.51.100.9")!, port: 53, forwarding: .tunnel).tunnelDescription == "ipip")
        #expect(IPVSForwardingMethod.local.description == "Local" && IPVSForwardingMethod.bypass.description == "Bypass")
    }

    @Test("schedulers: the known names are accepted, others are not (but decode as they come)")
    func schedulers() {
        for name in ["rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "fo", "ovf", "mh", "twos"] {
            #expect(IPVSScheduler(name)?.rawValue == name)
        }
        #expect(IPVSScheduler.known.count == 14)
        #expect(IPVSScheduler("fastest") == nil)
        #expect(IPVSScheduler(rawValue: "none").isKnown == false)
    }

    @Test("flags: header values, aliases, persistence helper")
    func flags() {
        #expect(IPVSServiceFlags.persistent.rawValue == 0x1 && IPVSServiceFlags.hashed.rawValue == 0x2)
        #expect(IPVSServiceFlags.onePacket.rawValue == 0x4 && IPVSServiceFlags.schedulerFlag3.rawValue == 0x20)
        #expect(IPVSServiceFlags.shFallback == .schedulerFlag1 && IPVSServiceFlags.mhPort == .schedulerFlag2)
        var s = IPVSService(.firewallMark(1, family: .ipv4))
        #expect(s.persistenceTimeout == nil)
        s.persistenceTimeout = 0
        #expect(s.flags.contains(.persistent) && s.timeout == 0)
        s.persistenceTimeout = nil
        #expect(!s.flags.contains(.persistent))
        #expect(IPVSNetmask.ipv4(prefixLength: 0) == .ipv4(mask: 0))
        #expect(IPVSNetmask.ipv4(prefixLength: 20).description == "255.255.240.0")
    }

    @Test("kernel errors are explained for the request they answer")
    func errorWording() {
        let key = IPVSService.Key.address(protocol: .tcp, address: IPAddress("192.0.2.10")!, port: 80)
        let d = IPVSDestination(address: IPAddress("198.51.100.2")!, port: 80)
        let add = IPVSRequest.newDestination(d, service: key)
        #expect(IPVSClient.explain(NetLinuxError(add.operation, .fileExists), add).description
            == "adding destination 198.51.100.2:80 to TCP 192.0.2.10:80: already exists (the service already has this destination)")
        let delete = IPVSRequest.deleteService(key)
        #expect(IPVSClient.explain(NetLinuxError(delete.operation, .noSuchProcess), delete).description
            == "deleting service TCP 192.0.2.10:80: no such object (no such service)")
        let service = IPVSService(key, scheduler: IPVSScheduler(rawValue: "twos"))
        let new = IPVSRequest.newService(service)
        #expect(IPVSClient.explain(NetLinuxError(new.operation, .noSuchFileOrDirectory, detail: "kernel text"), new).description
            == "adding service TCP 192.0.2.10:80: no such file or directory (unknown scheduler \"twos\", or its module is not available; kernel text)")
        let other = IPVSRequest.flush
        #expect(IPVSClient.explain(NetLinuxError(other.operation, .ioError), other) == NetLinuxError(other.operation, .ioError))
    }
}
