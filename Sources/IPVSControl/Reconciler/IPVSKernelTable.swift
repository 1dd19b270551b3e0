import NetLinux
import VRRPCore

/// The IPVS commands the reconciler uses. ``IPVSClient`` is the real kernel; tests and
/// embedders can supply their own table (the fake kernel of the reconciler tests).
///
/// Errors are ``NetLinuxError``s worded as the client words them (the operation, the
/// service and destination, the errno and what it means).
public protocol IPVSKernelTable {
    /// Every service (`IPVS_CMD_GET_SERVICE`, dumped).
    func services() throws(NetLinuxError) -> [IPVSServiceEntry]
    /// One service; `ESRCH` when it does not exist.
    func service(_ key: IPVSService.Key) throws(NetLinuxError) -> IPVSServiceEntry
    /// The destinations of one service; `ESRCH` when the service does not exist.
    func destinations(of key: IPVSService.Key) throws(NetLinuxError) -> [IPVSDestinationEntry]
    func addService(_ service: IPVSService) throws(NetLinuxError)
    func updateService(_ service: IPVSService) throws(NetLinuxError)
    func deleteService(_ key: IPVSService.Key) throws(NetLinuxError)
    func addDestination(_ destination: IPVSDestination, to service: IPVSService.Key) throws(NetLinuxError)
    func updateDestination(_ destination: IPVSDestination, in service: IPVSService.Key) throws(NetLinuxError)
    func deleteDestination(address: IPAddress, port: UInt16, from service: IPVSService.Key) throws(NetLinuxError)
    /// Deletes every service (`IPVS_CMD_FLUSH`).
    func flush() throws(NetLinuxError)
}

extension IPVSClient: IPVSKernelTable {}
