import Foundation
import SystemPackage
import IntegrationSupport
import Testing
@testable import NetLinux

extension HostAccessSuites {
@Suite("Network namespaces", .serialized)
struct NamespaceTests {
    @Test("code run in a namespace sees that namespace's interfaces; the caller's thread does not move")
    func perform() throws {
        guard Integration.available() else { return }
        let lan = try TestLAN(nodes: 1)
        defer { lan.remove() }
        let inside = try NetworkNamespace.perform(inNamespaceAt: lan.path(0)) { NetworkInterface.index(named: "eth0") }
        #expect(inside != nil)
        let hostHasBridgePort = NetworkInterface.index(named: "p0")
        #expect(hostHasBridgePort == nil, "the test's own thread stayed in the host namespace")
    }

    @Test("a missing namespace is a located error")
    func missing() {
        #expect {
            try NetworkNamespace.perform(inNamespaceAt: "/var/run/netns/kadt-no-such-namespace") { 1 }
        } throws: { error in
            "\(error)".hasPrefix("opening network namespace /var/run/netns/kadt-no-such-namespace: no such file or directory")
                || "\(error)".contains("kadt-no-such-namespace")
        }
    }

    @Test("a forced errno from the system-call table surfaces as a typed error")
    func mockedSyscall() {
        var calls = SystemCalls.live
        // Only the call under test fails: a raw socket for protocol 112.
        let live = SystemCalls.live
        calls.socket = { domain, type, proto in
            guard proto == 112 && domain == AF_INET else { return live.socket(domain, type, proto) }
            errno = EPERM
            return -1
        }
        SystemCalls.withOverride(calls) {
            #expect(throws: Errno.notPermitted) { _ = try SocketDescriptor.open(domain: AF_INET, type: CInt(SOCK_RAW.rawValue), protocol: 112) }
        }
        #expect(NetLinuxError("adding 192.0.2.100/24 to eth0", .fileExists).description
                == "adding 192.0.2.100/24 to eth0: already exists")
    }
}
}
