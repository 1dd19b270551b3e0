import NetLinux
import SystemPackage
import VRRPCore
@testable import IPVSControl

/// An in-memory IPVS table that behaves like Linux 6.1's for the commands the reconciler
/// sends: listings carry the `hashed` flag, a direct-routing or tunnelled destination of an
/// address service takes the service's port, and errors are those the kernel gives
/// (EEXIST, ESRCH, ENOENT), worded by the real client's `explain`. `refuse` makes chosen
/// requests fail; `calls` records every changing request.
final class FakeIPVSKernel: IPVSKernelTable, @unchecked Sendable {
    var entries: [(service: IPVSService, destinations: [IPVSDestination])] = []
    var calls: [String] = []
    /// How many reading requests (service listings, one service, destination listings) came.
    var reads = 0
    /// Returns an errno to make a request fail.
    var refuse: (IPVSRequest) -> Errno? = { _ in nil }

    private func index(_ key: IPVSService.Key) -> Int? { entries.firstIndex { $0.service.key == key } }

    private func fail(_ request: IPVSRequest, _ errno: Errno) -> NetLinuxError {
        IPVSClient.explain(NetLinuxError(request.operation, errno), request)
    }

    private func check(_ request: IPVSRequest) throws(NetLinuxError) {
        if let errno = refuse(request) { throw fail(request, errno) }
    }

    private func record(_ request: IPVSRequest) { calls.append(request.operation) }

    func services() throws(NetLinuxError) -> [IPVSServiceEntry] {
        reads += 1
        try check(.getServices)
        return entries.map {
            var s = $0.service
            s.flags.insert(.hashed)
            return IPVSServiceEntry(service: s)
        }
    }

    func service(_ key: IPVSService.Key) throws(NetLinuxError) -> IPVSServiceEntry {
        reads += 1
        try check(.getService(key))
        guard let i = index(key) else { throw fail(.getService(key), .noSuchProcess) }
        var s = entries[i].service
        s.flags.insert(.hashed)
        return IPVSServiceEntry(service: s)
    }

    func destinations(of key: IPVSService.Key) throws(NetLinuxError) -> [IPVSDestinationEntry] {
        reads += 1
        try check(.getDestinations(service: key))
        guard let i = index(key) else { throw fail(.getDestinations(service: key), .noSuchProcess) }
        return entries[i].destinations.map { IPVSDestinationEntry(destination: $0) }
    }

    func addService(_ service: IPVSService) throws(NetLinuxError) {
        let request = IPVSRequest.newService(service)
        record(request)
        try check(request)
        guard index(service.key) == nil else { throw fail(request, .fileExists) }
        entries.append((service, []))
    }

    func updateService(_ service: IPVSService) throws(NetLinuxError) {
        let request = IPVSRequest.setService(service)
        record(request)
        try check(request)
        guard let i = index(service.key) else { throw fail(request, .noSuchProcess) }
        entries[i].service = service
    }

    func deleteService(_ key: IPVSService.Key) throws(NetLinuxError) {
        let request = IPVSRequest.deleteService(key)
        record(request)
        try check(request)
        guard let i = index(key) else { throw fail(request, .noSuchProcess) }
        entries.remove(at: i)
    }

    /// What the kernel stores: DR and tunnel take the service's port.
    private func stored(_ d: IPVSDestination, _ key: IPVSService.Key) -> IPVSDestination {
        var d = d
        if case let .address(_, _, port) = key, d.forwarding == .directRouting || d.forwarding == .tunnel { d.port = port }
        return d
    }

    func addDestination(_ destination: IPVSDestination, to key: IPVSService.Key) throws(NetLinuxError) {
        let request = IPVSRequest.newDestination(destination, service: key)
        record(request)
        try check(request)
        guard let i = index(key) else { throw fail(request, .noSuchProcess) }
        let d = stored(destination, key)
        guard !entries[i].destinations.contains(where: { $0.key == d.key }) else { throw fail(request, .fileExists) }
        entries[i].destinations.append(d)
    }

    func updateDestination(_ destination: IPVSDestination, in key: IPVSService.Key) throws(NetLinuxError) {
        let request = IPVSRequest.setDestination(destination, service: key)
        record(request)
        try check(request)
        guard let i = index(key) else { throw fail(request, .noSuchProcess) }
        let d = stored(destination, key)
        guard let j = entries[i].destinations.firstIndex(where: { $0.key == d.key }) else { throw fail(request, .noSuchFileOrDirectory) }
        entries[i].destinations[j] = d
    }

    func deleteDestination(address: IPAddress, port: UInt16, from key: IPVSService.Key) throws(NetLinuxError) {
        let request = IPVSRequest.deleteDestination(address: address, port: port, service: key)
        record(request)
        try check(request)
        guard let i = index(key) else { throw fail(request, .noSuchProcess) }
        guard let j = entries[i].destinations.firstIndex(where: { $0.address == address && $0.port == port }) else {
            throw fail(request, .noSuchFileOrDirectory)
        }
        entries[i].destinations.remove(at: j)
    }

    func flush() throws(NetLinuxError) {
        record(.flush)
        try check(.flush)
        entries = []
    }

    /// The whole table as a snapshot (every service with its destinations).
    var table: IPVSTable {
        IPVSTable(entries.map { entry in
            var s = entry.service
            s.flags.insert(.hashed)
            return IPVSTable.Entry(service: s, destinations: entry.destinations)
        })
    }
}
