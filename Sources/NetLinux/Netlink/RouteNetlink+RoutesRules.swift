import VRRPCore

extension RouteNetlink {
    // MARK: Routes

    /// Adds `route` (`ip route add`), resolving its interface names in the socket's namespace.
    /// - Throws: ``NetLinuxError`` such as "adding route 198.51.100.0/24 via 192.0.2.254 dev eth0:
    ///   already exists" (`EEXIST`: a route with the same destination, TOS and metric is in
    ///   the table), or a failed name lookup reported as a failure of the operation.
    public func addRoute(_ route: VirtualRoute) throws(NetLinuxError) {
        let operation = "adding route \(Self.describe(route))"
        let indices = try resolve(route, operation: operation)
        try socket.request(operation: operation) { RouteNetlinkRequest.newRoute(route, indices: indices, into: &$0) }
    }

    /// Deletes `route` (`ip route del`).
    /// - Throws: ``NetLinuxError``; `ESRCH` ("no such object") when no route matches, `ENODEV`
    ///   when an interface it names does not exist.
    public func deleteRoute(_ route: VirtualRoute) throws(NetLinuxError) {
        let operation = "removing route \(Self.describe(route))"
        let indices = try resolve(route, operation: operation)
        try socket.request(operation: operation) { RouteNetlinkRequest.deleteRoute(route, indices: indices, into: &$0) }
    }

    // MARK: Rules

    /// Adds `rule` (`ip rule add`). Interface names are sent as names: the kernel matches them
    /// even for interfaces that do not exist yet.
    /// - Throws: ``NetLinuxError``; `EEXIST` when an identical rule exists.
    public func addRule(_ rule: VirtualRule) throws(NetLinuxError) {
        let operation = "adding rule \(Self.describe(rule))"
        if let problem = RouteNetlinkRequest.problem(with: rule) { throw NetLinuxError(operation, .invalidArgument, detail: problem) }
        try socket.request(operation: operation) { RouteNetlinkRequest.newRule(rule, into: &$0) }
    }

    /// Deletes `rule` (`ip rule del`).
    /// - Throws: ``NetLinuxError``; `ENOENT` when no rule matches.
    public func deleteRule(_ rule: VirtualRule) throws(NetLinuxError) {
        let operation = "removing rule \(Self.describe(rule))"
        if let problem = RouteNetlinkRequest.problem(with: rule) { throw NetLinuxError(operation, .invalidArgument, detail: problem) }
        try socket.request(operation: operation) { RouteNetlinkRequest.deleteRule(rule, into: &$0) }
    }

    // MARK: Descriptions

    /// A route in `ip route` words, for messages: "blackhole 203.0.113.0/24 table 100 metric 5".
    public static func describe(_ route: VirtualRoute) -> String {
        var s = route.kind == .unicast ? "" : RouteNetlinkRequest.kindName(route.kind) + " "
        s += route.destination.map { "\($0)/\(route.destinationPrefixLength)" } ?? (route.family == .ipv4 ? "default" : "default (IPv6)")
        if let g = route.gateway { s += " via \(g)" }
        if let i = route.interface { s += " dev \(i)" }
        if let src = route.source { s += " src \(src)" }
        if let t = route.table { s += " table \(t)" }
        if let m = route.metric { s += " metric \(m)" }
        if route.onlink { s += " onlink" }
        for hop in route.nexthops {
            s += " nexthop"
            if let g = hop.gateway { s += " via \(g)" }
            if let i = hop.interface { s += " dev \(i)" }
            if let w = hop.weight { s += " weight \(w)" }
            if hop.onlink { s += " onlink" }
        }
        return s
    }

    /// A rule in `ip rule` words, for messages: "not from 192.0.2.0/24 fwmark 0x10 lookup 100 pref 100".
    public static func describe(_ rule: VirtualRule) -> String {
        var s = rule.invert ? "not " : ""
        s += "from " + (rule.from.map { "\($0)/\(rule.fromPrefixLength)" } ?? "all")
        if let to = rule.to { s += " to \(to)/\(rule.toPrefixLength)" }
        if let tos = rule.tos { s += " tos \(tos)" }
        if let mark = rule.firewallMark {
            s += " fwmark 0x" + String(mark, radix: 16) + (rule.firewallMask.map { "/0x" + String($0, radix: 16) } ?? "")
        }
        if let i = rule.inputInterface { s += " iif \(i)" }
        if let o = rule.outputInterface { s += " oif \(o)" }
        switch rule.action {
        case .lookup: s += " lookup \(rule.table ?? 254)"
        case .goto: s += " goto \(rule.gotoTarget.map(String.init) ?? "?")"
        default: s += " " + RouteNetlinkRequest.actionName(rule.action)
        }
        if let p = rule.priority { s += " pref \(p)" }
        if rule.family == .ipv6 { s += " (IPv6)" }
        return s
    }

    // MARK: Private

    /// Checks `route` and resolves its interface names; failures are failures of `operation`.
    private func resolve(_ route: VirtualRoute, operation: String) throws(NetLinuxError) -> RouteInterfaceIndices {
        if let problem = RouteNetlinkRequest.problem(with: route) { throw NetLinuxError(operation, .invalidArgument, detail: problem) }
        var indices = RouteInterfaceIndices()
        if let name = route.interface { indices.interface = try index(of: name, operation: operation) }
        for hop in route.nexthops {
            indices.nexthops.append(try hop.interface.map { (name) throws(NetLinuxError) in try index(of: name, operation: operation) })
        }
        return indices
    }

    /// The index of `name`; a failure is a failure of `operation` naming the interface.
    func index(of name: String, operation: String) throws(NetLinuxError) -> UInt32 {
        do {
            return try link(named: name).index
        } catch {
            throw NetLinuxError(operation, error.errno, detail: "interface \(name)" + (error.detail.map { ": \($0)" } ?? ""))
        }
    }
}
