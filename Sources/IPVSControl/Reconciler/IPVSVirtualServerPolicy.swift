/// keepalived's rules for what a virtual server's real servers look like in IPVS, given
/// the checkers' verdicts (keepalived-compat §4). Pure: the daemon keeps a ``State`` per
/// virtual server (or group), updates it when a verdict arrives, and puts
/// ``destinations(_:)`` into the ``IPVSDesiredState`` of each of its services.
///
/// - A real server that is up is present with its current weight (the configured one,
///   or what `misc_dynamic` / `FILE_CHECK dynamic` set).
/// - A real server that is down is removed, or kept with weight 0 (existing connections
///   drain) when it has `inhibit_on_failure`.
/// - Live weight is the sum of the weights of the real servers that are up.
/// - Quorum is lost when the live weight is 0 or below `quorum − hysteresis`, and
///   regained when it is above 0 and at least `quorum + hysteresis`; in between it stays
///   as it was.
/// - While quorum is lost and a sorry server exists, every real server is pulled (removed,
///   or weight 0 with `inhibit_on_failure`) and the sorry server is present with its weight.
///   Without a sorry server the real servers stay as their own states say.
/// - While quorum holds, the sorry server is absent, or present with weight 0 under
///   `sorry_server_inhibit`.
///
/// ```swift
/// var policy = IPVSVirtualServerPolicy(realServers: [.init(rs1), .init(rs2, inhibitOnFailure: true)], quorum: 2)
/// policy.sorryServer = IPVSDestination(address: IPAddress("198.51.100.9")!, port: 80)
/// var state = policy.initialState()
/// if let transition = policy.update(&state, rs2.key, up: false) { runQuorumScript(transition) }
/// desired.setDestinations(policy.destinations(state), of: web.key)
/// ```
public struct IPVSVirtualServerPolicy: Sendable, Hashable {
    /// A configured real server.
    public struct RealServer: Sendable, Hashable {
        /// The destination with its configured weight, method, thresholds and tunnel.
        public var destination: IPVSDestination
        /// `inhibit_on_failure`: when down, keep it with weight 0 instead of removing it.
        public var inhibitOnFailure: Bool

        public init(_ destination: IPVSDestination, inhibitOnFailure: Bool = false) {
            self.destination = destination
            self.inhibitOnFailure = inhibitOnFailure
        }

        public var key: IPVSDestinationKey { destination.key }
    }

    /// What the checkers say about one real server.
    public struct RealServerStatus: Sendable, Hashable {
        /// Whether all its checkers are up.
        public var up: Bool
        /// Its current weight (the configured one unless a dynamic checker changed it).
        public var weight: UInt32

        public init(up: Bool, weight: UInt32) {
            self.up = up
            self.weight = weight
        }
    }

    /// The verdicts for a virtual server and whether it has quorum.
    public struct State: Sendable, Hashable {
        /// Per real server; one missing reads as up with its configured weight.
        public var realServers: [IPVSDestinationKey: RealServerStatus]
        /// Whether the virtual server has quorum.
        public var hasQuorum: Bool

        public init(realServers: [IPVSDestinationKey: RealServerStatus] = [:], hasQuorum: Bool = true) {
            self.realServers = realServers
            self.hasQuorum = hasQuorum
        }
    }

    /// A change of quorum, for `quorum_up` / `quorum_down`.
    public enum QuorumTransition: Sendable, Hashable {
        case lost
        case regained
    }

    /// The configured real servers.
    public var realServers: [RealServer]
    /// `quorum`: the minimum live weight (keepalived's default 1).
    public var quorum: UInt32
    /// `hysteresis`: the damper around ``quorum`` (default 0).
    public var hysteresis: UInt32
    /// `sorry_server` (with `sorry_server_lvs_method` already applied), if any.
    public var sorryServer: IPVSDestination?
    /// `sorry_server_inhibit`: keep the sorry server with weight 0 while quorum holds.
    public var sorryServerInhibit: Bool

    public init(realServers: [RealServer], quorum: UInt32 = 1, hysteresis: UInt32 = 0,
                sorryServer: IPVSDestination? = nil, sorryServerInhibit: Bool = false) {
        self.realServers = realServers
        self.quorum = quorum
        self.hysteresis = hysteresis
        self.sorryServer = sorryServer
        self.sorryServerInhibit = sorryServerInhibit
    }

    /// Every real server up (or, with `alpha`, down until its first success) at its configured
    /// weight, with quorum as that live weight gives it (no hysteresis at start).
    public func initialState(alpha: Bool = false) -> State {
        var state = State()
        for rs in realServers {
            state.realServers[rs.key] = RealServerStatus(up: !alpha, weight: rs.destination.weight)
        }
        let live = liveWeight(state)
        state.hasQuorum = live > 0 && live >= UInt64(quorum)
        return state
    }

    /// The status of a configured real server in `state`.
    public func status(of rs: RealServer, in state: State) -> RealServerStatus {
        state.realServers[rs.key] ?? RealServerStatus(up: true, weight: rs.destination.weight)
    }

    /// The sum of the weights of the real servers that are up.
    public func liveWeight(_ state: State) -> UInt64 {
        realServers.reduce(0) { sum, rs in
            let s = status(of: rs, in: state)
            return s.up ? sum + UInt64(s.weight) : sum
        }
    }

    /// Quorum after a change, from whether it held before and the live weight now.
    public func quorum(previously hadQuorum: Bool, liveWeight live: UInt64) -> Bool {
        let q = Int64(quorum), h = Int64(hysteresis), w = Int64(clamping: live)
        if hadQuorum {
            return !(w == 0 || w < q - h)
        }
        return w > 0 && w >= q + h
    }

    /// Records a verdict (and optionally a new weight) for the real server `key`, and
    /// re-evaluates quorum.
    /// - Returns: the quorum transition it caused, if any.
    @discardableResult
    public func update(_ state: inout State, _ key: IPVSDestinationKey, up: Bool, weight: UInt32? = nil) -> QuorumTransition? {
        let configured = realServers.first { $0.key == key }?.destination.weight ?? 0
        var status = state.realServers[key] ?? RealServerStatus(up: true, weight: configured)
        status.up = up
        if let weight { status.weight = weight }
        state.realServers[key] = status
        return reevaluate(&state)
    }

    /// Re-evaluates quorum after ``State/realServers`` was changed directly (or the policy
    /// changed, as at reload).
    @discardableResult
    public func reevaluate(_ state: inout State) -> QuorumTransition? {
        let before = state.hasQuorum
        state.hasQuorum = quorum(previously: before, liveWeight: liveWeight(state))
        if before == state.hasQuorum { return nil }
        return state.hasQuorum ? .regained : .lost
    }

    /// The destinations the virtual server's services should have in `state`.
    public func destinations(_ state: State) -> [IPVSDestination] {
        let sorryInUse = !state.hasQuorum && sorryServer != nil
        var result: [IPVSDestination] = []
        for rs in realServers {
            let s = status(of: rs, in: state)
            var d = rs.destination
            if s.up && !sorryInUse {
                d.weight = s.weight
            } else if rs.inhibitOnFailure {
                d.weight = 0
            } else {
                continue
            }
            result.append(d)
        }
        if var sorry = sorryServer {
            if !sorryInUse {
                guard sorryServerInhibit else { return result }
                sorry.weight = 0
            }
            result.removeAll { $0.key == sorry.key }
            result.append(sorry)
        }
        return result
    }
}
