/// The type of a route (`blackhole`, `unreachable`, ... before the destination).
public enum RouteType: String, ConfigEnum {
    case unicast, local, broadcast, multicast, throwRoute = "throw", unreachable, prohibit, blackhole, nat
}

/// One `nexthop` of a multipath route.
public struct RouteNexthop: Codable, Sendable, Hashable {
    public var via: IPAddress?
    public var device: String?
    public var weight: Int?
    public var onlink: Bool = false

    public init() {}

    var words: [String] {
        var w = ["nexthop"]
        if let via { w += ["via", via.description] }
        if let device { w += ["dev", device] }
        if let weight { w += ["weight", String(weight)] }
        if onlink { w.append("onlink") }
        return w
    }
}

/// One line of `virtual_routes` or `static_routes`, in `ip route` syntax (full option names only),
/// plus keepalived's `no_track` and `track_group`.
public struct RouteLine: Codable, Sendable, Hashable {
    /// `add` (the default: replace) or `append`.
    public var append: Bool = false
    public var type: RouteType?
    /// The destination; `nil` means `default`.
    public var destination: IPPrefix?
    /// The family of a `default` route (`inet6` for an IPv6 default route).
    public var family: AddressFamily = .inet
    public var source: IPAddress?
    public var via: IPAddress?
    /// `or`: an alternate gateway (keepalived extension for IPv4).
    public var alternateVia: IPAddress?
    public var device: String?
    public var table: String?
    public var metric: Int?
    public var protocolName: String?
    public var scope: String?
    public var tos: Int?
    public var realms: String?
    public var vrf: String?
    public var onlink: Bool = false
    public var preference: String?
    /// Numeric route metrics (`mtu`, `advmss`, `window`, `rtt`, ...), with `lock` recorded per metric.
    public var metrics: [String: Int] = [:]
    public var lockedMetrics: [String] = []
    public var congestionControl: String?
    public var features: String?
    public var quickAck: Bool?
    public var fastOpenNoCookie: Bool?
    public var ttlPropagate: Bool?
    public var expires: Int?
    public var nexthops: [RouteNexthop] = []
    public var noTrack: Bool = false
    public var trackGroup: String?

    public init() {}

    static let metricNames = [
        "mtu", "advmss", "window", "rtt", "rttvar", "rto_min", "ssthresh", "cwnd", "initcwnd", "initrwnd", "hoplimit", "reordering",
    ]

    var words: [String] {
        var w: [String] = []
        if append { w.append("append") }
        if let type { w.append(type.rawValue) }
        w.append(destination?.description ?? "default")
        if destination == nil, family == .inet6 { w.insert("inet6", at: w.count - 1) }
        if let source { w += ["src", source.description] }
        if let via { w += ["via", via.description] }
        if let alternateVia { w += ["or", alternateVia.description] }
        if let device { w += ["dev", device] }
        if let table { w += ["table", table] }
        if let metric { w += ["metric", String(metric)] }
        if let protocolName { w += ["proto", protocolName] }
        if let scope { w += ["scope", scope] }
        if let tos { w += ["tos", String(tos)] }
        if let realms { w += ["realms", realms] }
        if let vrf { w += ["vrf", vrf] }
        if onlink { w.append("onlink") }
        if let preference { w += ["pref", preference] }
        for name in Self.metricNames {
            if let v = metrics[name] {
                w.append(name)
                if lockedMetrics.contains(name) { w.append("lock") }
                w.append(String(v))
            }
        }
        if let congestionControl { w += ["congctl", congestionControl] }
        if let features { w += ["features", features] }
        if let quickAck { w += ["quickack", quickAck ? "1" : "0"] }
        if let fastOpenNoCookie { w += ["fastopen_no_cookie", fastOpenNoCookie ? "1" : "0"] }
        if let ttlPropagate { w += ["ttl-propagate", ttlPropagate ? "enabled" : "disabled"] }
        if let expires { w += ["expires", String(expires)] }
        for n in nexthops { w += n.words }
        if noTrack { w.append("no_track") }
        if let trackGroup { w += ["track_group", trackGroup] }
        return w
    }
}

extension DecodeContext {
    func routeLines(_ node: ConfigNode, allowTrackGroup: Bool) -> [RouteLine] {
        var result: [RouteLine] = []
        for line in plainLines(node) {
            if let r = routeLine([line.keyword] + line.arguments, allowTrackGroup: allowTrackGroup) {
                recordKeyword("\(node.keyword.text)/#\(result.count)", at: line.location)
                result.append(r)
            }
        }
        return result
    }

    /// Decodes one route line given as tokens.
    func routeLine(_ tokens: [Token], allowTrackGroup: Bool) -> RouteLine? {
        var route = RouteLine()
        var i = 0
        var sawDestination = false
        var family: AddressFamily? = nil
        var ok = true
        func next(_ keyword: Token) -> Token? {
            guard i < tokens.count else {
                error("missing-value", "'\(keyword.text)' needs a value", at: keyword.location)
                ok = false
                return nil
            }
            defer { i += 1 }
            return tokens[i]
        }
        func address(_ keyword: Token) -> IPAddress? {
            guard let v = next(keyword) else { return nil }
            guard let a = ipAddress(v, what: "address after '\(keyword.text)'") else { ok = false; return nil }
            if let family, family != a.family {
                error("address-family", "\(a) is not of the route's address family", at: v.location)
                ok = false
            }
            family = family ?? a.family
            return a
        }
        func number(_ keyword: Token, _ range: ClosedRange<Int>) -> Int? {
            guard let v = next(keyword) else { return nil }
            guard let n = integer(v, range, what: "'\(keyword.text)'") else { ok = false; return nil }
            return n
        }
        var currentNexthop: RouteNexthop? = nil
        while i < tokens.count, ok {
            let t = tokens[i]
            i += 1
            let word = t.text.lowercased()
            if currentNexthop != nil {
                switch word {
                case "via":
                    if let a = address(t) { currentNexthop?.via = a }
                    continue
                case "dev":
                    if let v = next(t) { currentNexthop?.device = v.text }
                    continue
                case "weight":
                    if let n = number(t, 1...256) { currentNexthop?.weight = n }
                    continue
                case "onlink":
                    currentNexthop?.onlink = true
                    continue
                default:
                    if let n = currentNexthop { route.nexthops.append(n) }
                    currentNexthop = nil
                }
            }
            switch word {
            case _ where i == 1 && (word == "add" || word == "replace" || word == "append"):
                route.append = word == "append"
            case "inet": family = .inet
            case "inet6": family = .inet6
            case "src": route.source = address(t)
            case "via", "gw": route.via = address(t)
            case "or":
                route.alternateVia = address(t)
            case "dev", "oif": route.device = next(t)?.text
            case "table": route.table = next(t)?.text
            case "metric", "priority", "preference": route.metric = number(t, 0...Int(UInt32.max))
            case "proto", "protocol": route.protocolName = next(t)?.text
            case "scope": route.scope = next(t)?.text
            case "tos", "dsfield": route.tos = number(t, 0...255)
            case "realms", "realm": route.realms = next(t)?.text
            case "vrf": route.vrf = next(t)?.text
            case "onlink": route.onlink = true
            case "pref": route.preference = next(t)?.text
            case "congctl": route.congestionControl = next(t)?.text
            case "features": route.features = next(t)?.text
            case "quickack": route.quickAck = number(t, 0...1).map { $0 == 1 }
            case "fastopen_no_cookie": route.fastOpenNoCookie = number(t, 0...1).map { $0 == 1 }
            case "ttl-propagate":
                guard let v = next(t) else { break }
                switch v.text {
                case "enabled": route.ttlPropagate = true
                case "disabled": route.ttlPropagate = false
                default:
                    error("bad-value", "'\(v.text)' is not enabled or disabled", at: v.location)
                    ok = false
                }
            case "expires": route.expires = number(t, 0...Int(UInt32.max))
            case "nexthop": currentNexthop = RouteNexthop()
            case "no_track": route.noTrack = true
            case "track_group":
                guard let v = next(t) else { break }
                if !allowTrackGroup {
                    error("misplaced-option", "'track_group' is only valid on static_routes lines", at: t.location)
                    ok = false
                }
                route.trackGroup = v.text
            case _ where RouteLine.metricNames.contains(word):
                var locked = false
                if i < tokens.count, tokens[i].text == "lock" { locked = true; i += 1 }
                if let n = number(t, 0...Int(UInt32.max)) {
                    route.metrics[word] = n
                    if locked { route.lockedMetrics.append(word) }
                }
            case _ where RouteType(rawValue: word) != nil && !sawDestination:
                route.type = RouteType(rawValue: word)
            case "default" where !sawDestination:
                sawDestination = true
            default:
                if !sawDestination, let p = IPPrefix(t.text) {
                    if let family, family != p.address.family {
                        error("address-family", "\(p) does not match the route's address family", at: t.location)
                        ok = false
                    }
                    family = p.address.family
                    route.destination = p
                    sawDestination = true
                } else if !sawDestination, t.text.contains(".") || t.text.contains(":") {
                    _ = ipPrefix(t, what: "route destination")
                    ok = false
                } else {
                    var hint = "route options: src, via, or, dev, table, metric, proto, scope, tos, realms, vrf, onlink, pref, mtu, advmss, nexthop, no_track"
                    if let near = Suggest.nearest(to: t.text, in: ["src", "via", "dev", "table", "metric", "proto", "scope", "onlink", "nexthop", "no_track", "track_group", "realms", "advmss", "mtu"] + RouteLine.metricNames) {
                        hint = "did you mean '\(near)'?"
                    }
                    error("unknown-option", "unknown route option '\(t.text)'", at: t.location, hint: hint)
                    ok = false
                }
            }
        }
        if let n = currentNexthop { route.nexthops.append(n) }
        if ok, !sawDestination {
            error("missing-value", "route has no destination", at: tokens.first?.location,
                  hint: "write a destination such as 198.51.100.0/24 or 'default'")
            ok = false
        }
        route.family = family ?? .inet
        return ok ? route : nil
    }
}
