/// One line of `virtual_rules` or `static_rules`, in `ip rule` syntax, plus `no_track` and `track_group`.
public struct RuleLine: Codable, Sendable, Hashable {
    public var family: AddressFamily = .inet
    public var not: Bool = false
    public var from: IPPrefix?
    public var to: IPPrefix?
    public var tos: Int?
    public var fwmark: String?
    public var preference: Int?
    public var inputInterface: String?
    public var outputInterface: String?
    public var table: String?
    public var goto: Int?
    /// `blackhole`, `unreachable`, `prohibit` or `nop` instead of a table.
    public var action: String?
    public var realms: String?
    public var suppressPrefixLength: Int?
    public var suppressInterfaceGroup: String?
    public var uidRange: String?
    public var l3mdev: Bool = false
    public var ipProtocol: String?
    public var sourcePort: String?
    public var destinationPort: String?
    public var protocolName: String?
    public var noTrack: Bool = false
    public var trackGroup: String?

    public init() {}

    var words: [String] {
        var w: [String] = []
        if family == .inet6, from == nil, to == nil { w.append("inet6") }
        if not { w.append("not") }
        if let from { w += ["from", from.description] }
        if let to { w += ["to", to.description] }
        if let tos { w += ["tos", String(tos)] }
        if let fwmark { w += ["fwmark", fwmark] }
        if let preference { w += ["preference", String(preference)] }
        if let inputInterface { w += ["iif", inputInterface] }
        if let outputInterface { w += ["oif", outputInterface] }
        if let table { w += ["table", table] }
        if let goto { w += ["goto", String(goto)] }
        if let action { w.append(action) }
        if let realms { w += ["realms", realms] }
        if let suppressPrefixLength { w += ["suppress_prefixlength", String(suppressPrefixLength)] }
        if let suppressInterfaceGroup { w += ["suppress_ifgroup", suppressInterfaceGroup] }
        if let uidRange { w += ["uidrange", uidRange] }
        if l3mdev { w.append("l3mdev") }
        if let ipProtocol { w += ["ipproto", ipProtocol] }
        if let sourcePort { w += ["sport", sourcePort] }
        if let destinationPort { w += ["dport", destinationPort] }
        if let protocolName { w += ["protocol", protocolName] }
        if noTrack { w.append("no_track") }
        if let trackGroup { w += ["track_group", trackGroup] }
        return w
    }
}

extension DecodeContext {
    func ruleLines(_ node: ConfigNode, allowTrackGroup: Bool) -> [RuleLine] {
        var result: [RuleLine] = []
        for line in plainLines(node) {
            if let r = ruleLine([line.keyword] + line.arguments, allowTrackGroup: allowTrackGroup) {
                recordKeyword("\(node.keyword.text)/#\(result.count)", at: line.location)
                result.append(r)
            }
        }
        return result
    }

    func ruleLine(_ tokens: [Token], allowTrackGroup: Bool) -> RuleLine? {
        var rule = RuleLine()
        var family: AddressFamily? = nil
        var i = 0
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
        func prefix(_ keyword: Token) -> IPPrefix? {
            guard let v = next(keyword) else { return nil }
            if v.text == "all" { return nil }
            guard let p = ipPrefix(v, what: "address after '\(keyword.text)'") else { ok = false; return nil }
            if let family, family != p.address.family {
                error("address-family", "\(p) is not of the rule's address family", at: v.location)
                ok = false
            }
            family = p.address.family
            return p
        }
        func number(_ keyword: Token, _ range: ClosedRange<Int>) -> Int? {
            guard let v = next(keyword) else { return nil }
            guard let n = integer(v, range, what: "'\(keyword.text)'") else { ok = false; return nil }
            return n
        }
        while i < tokens.count, ok {
            let t = tokens[i]
            i += 1
            switch t.text.lowercased() {
            case "inet": family = .inet
            case "inet6": family = .inet6
            case "not": rule.not = true
            case "from": rule.from = prefix(t)
            case "to": rule.to = prefix(t)
            case "tos", "dsfield": rule.tos = number(t, 0...255)
            case "fwmark": rule.fwmark = next(t)?.text
            case "preference", "priority", "order", "pref", "prio": rule.preference = number(t, 0...Int(UInt32.max))
            case "iif", "dev": rule.inputInterface = next(t)?.text
            case "oif": rule.outputInterface = next(t)?.text
            case "table", "lookup": rule.table = next(t)?.text
            case "goto": rule.goto = number(t, 0...Int(UInt32.max))
            case "blackhole", "unreachable", "prohibit", "nop": rule.action = t.text.lowercased()
            case "realms", "realm": rule.realms = next(t)?.text
            case "suppress_prefixlength": rule.suppressPrefixLength = number(t, 0...128)
            case "suppress_ifgroup": rule.suppressInterfaceGroup = next(t)?.text
            case "uidrange": rule.uidRange = next(t)?.text
            case "l3mdev": rule.l3mdev = true
            case "ipproto", "ip_proto": rule.ipProtocol = next(t)?.text
            case "sport": rule.sourcePort = next(t)?.text
            case "dport": rule.destinationPort = next(t)?.text
            case "protocol": rule.protocolName = next(t)?.text
            case "no_track": rule.noTrack = true
            case "track_group":
                guard let v = next(t) else { break }
                if !allowTrackGroup {
                    error("misplaced-option", "'track_group' is only valid on static_rules lines", at: t.location)
                    ok = false
                }
                rule.trackGroup = v.text
            default:
                var hint = "rule options: from, to, tos, fwmark, preference, iif, oif, table, goto, realms, uidrange, l3mdev, ipproto, sport, dport, no_track"
                if let near = Suggest.nearest(to: t.text, in: ["from", "to", "tos", "fwmark", "preference", "iif", "oif", "table", "goto", "realms",
                                                               "uidrange", "l3mdev", "ipproto", "sport", "dport", "no_track", "track_group"]) {
                    hint = "did you mean '\(near)'?"
                }
                error("unknown-option", "unknown rule option '\(t.text)'", at: t.location, hint: hint)
                ok = false
            }
        }
        rule.family = family ?? .inet
        return ok ? rule : nil
    }
}
