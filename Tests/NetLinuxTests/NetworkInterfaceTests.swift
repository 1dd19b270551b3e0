import Testing
@testable import NetLinux

@Suite struct NetworkInterfaceTests {
    @Test func loopbackHasAnIndex() {
        #expect(NetworkInterface.index(named: "lo") != nil)
    }

    @Test func missingAndInvalidNamesHaveNone() {
        #expect(NetworkInterface.index(named: "kad-no-such-if0") == nil)
        #expect(NetworkInterface.index(named: "") == nil)
        #expect(NetworkInterface.index(named: String(repeating: "x", count: 40)) == nil)
    }
}
