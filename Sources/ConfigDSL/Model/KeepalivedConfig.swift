/// A whole keepalived configuration, after includes, conditionals, parameters, sequences and
/// defaults. Named blocks keep the order of the file.
///
/// ```swift
/// let result = ConfigLoader().load(path: "/etc/keepalived/keepalived.conf")
/// for instance in result.config.vrrpInstances { print(instance.name, instance.priority) }
/// ```
public struct KeepalivedConfig: Codable, Sendable, Hashable {
    public var globalDefs = GlobalDefs()
    public var netNamespace: String?
    /// `net_namespace_ipvs [NAME]`: an empty string means the default namespace.
    public var netNamespaceIPVS: String?
    public var namespaceWithIPSets: Bool = false
    public var instanceName: String?
    public var usePidDirectory: Bool = false
    public var linkbeatUsePolling: Bool = false
    public var childWaitTime: Int = 5
    public var linkbeatInterfaces: [LinkbeatInterface] = []
    public var interfaceUpDownDelays: [InterfaceDelay] = []
    public var trackGroups: [TrackGroup] = []
    public var staticIPAddresses: [AddressLine] = []
    public var staticRoutes: [RouteLine] = []
    public var staticRules: [RuleLine] = []
    public var trackFiles: [TrackFile] = []
    public var trackProcesses: [TrackProcess] = []
    public var vrrpScripts: [VRRPScript] = []
    public var syncGroups: [SyncGroup] = []
    public var garpGroups: [GarpGroup] = []
    public var vrrpInstances: [VRRPInstance] = []
    public var bfdInstances: [BFDInstance] = []
    public var ssl: SSLConfig?
    public var virtualServerGroups: [VirtualServerGroup] = []
    public var virtualServers: [VirtualServer] = []

    public init() {}
}
