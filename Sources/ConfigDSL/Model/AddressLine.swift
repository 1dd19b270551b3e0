/// The scope of an address (`scope ...` on an address line).
public enum AddressScope: String, ConfigEnum {
    case global, site, link, host, nowhere
}

/// `preferred_lft N|forever`.
public enum PreferredLifetime: Codable, Sendable, Hashable {
    case forever
    case seconds(Int)

    var text: String {
        switch self {
        case .forever: "forever"
        case .seconds(let s): String(s)
        }
    }
}

/// One line of `virtual_ipaddress`, `virtual_ipaddress_excluded` or `static_ipaddress`:
/// `IP[/len] [brd IP|+|-] [dev IF] [use_vmac] [scope S] [label L] [peer IP] [home] [-nodad]
/// [mngtmpaddr] [noprefixroute] [autojoin] [no_track] [preferred_lft N|forever] [track_group G]`.
public struct AddressLine: Codable, Sendable, Hashable {
    /// The address and its prefix (default /32 or /128).
    public var prefix: IPPrefix
    /// `brd`: an address, `+` (set host bits) or `-` (none).
    public var broadcast: String?
    /// `dev`; `nil` means the instance's interface (or `default_interface` for static addresses).
    public var device: String?
    public var useVMAC: Bool = false
    public var scope: AddressScope?
    public var label: String?
    public var peer: IPPrefix?
    public var home: Bool = false
    public var noDAD: Bool = false
    public var manageTemporaryAddress: Bool = false
    public var noPrefixRoute: Bool = false
    public var autoJoin: Bool = false
    public var noTrack: Bool = false
    /// IPv6 /128 addresses default to 0 (deprecated, never chosen as a source address).
    public var preferredLifetime: PreferredLifetime?
    public var trackGroup: String?

    public init(prefix: IPPrefix) {
        self.prefix = prefix
        if prefix.address.family == .inet6, prefix.length == 128 { preferredLifetime = .seconds(0) }
    }

    var words: [String] {
        var w = [prefix.description]
        if let broadcast { w += ["brd", broadcast] }
        if let device { w += ["dev", device] }
        if useVMAC { w.append("use_vmac") }
        if let scope { w += ["scope", scope.rawValue] }
        if let label { w += ["label", label] }
        if let peer { w += ["peer", peer.description] }
        if home { w.append("home") }
        if noDAD { w.append("-nodad") }
        if manageTemporaryAddress { w.append("mngtmpaddr") }
        if noPrefixRoute { w.append("noprefixroute") }
        if autoJoin { w.append("autojoin") }
        if noTrack { w.append("no_track") }
        if let preferredLifetime { w += ["preferred_lft", preferredLifetime.text] }
        if let trackGroup { w += ["track_group", trackGroup] }
        return w
    }
}

extension DecodeContext {
    /// Decodes the lines of an address block.
    func addressLines(_ node: ConfigNode, allowTrackGroup: Bool) -> [AddressLine] {
        var result: [AddressLine] = []
        for line in plainLines(node) {
            if let a = addressLine([line.keyword] + line.arguments, allowTrackGroup: allowTrackGroup) {
                recordKeyword("\(node.keyword.text)/\(a.prefix)", at: line.location)
                result.append(a)
            }
        }
        return result
    }

    /// Decodes one address line given as tokens.
    func addressLine(_ tokens: [Token], allowTrackGroup: Bool) -> AddressLine? {
        guard let first = tokens.first, let prefix = ipPrefix(first, what: "address") else { return nil }
        var line = AddressLine(prefix: prefix)
        var i = 1
        func value(_ keyword: Token) -> Token? {
            guard i < tokens.count else {
                error("missing-value", "'\(keyword.text)' needs a value", at: keyword.location)
                return nil
            }
            defer { i += 1 }
            return tokens[i]
        }
        var ok = true
        while i < tokens.count, ok {
            let option = tokens[i]
            i += 1
            switch option.text.lowercased() {
            case "brd", "broadcast":
                guard let v = value(option) else { ok = false; break }
                if v.text == "+" || v.text == "-" {
                    line.broadcast = v.text
                } else if let a = ipAddress(v, what: "broadcast address") {
                    if a.family != .inet {
                        error("address-family", "a broadcast address is IPv4 only", at: v.location)
                        ok = false
                    }
                    line.broadcast = a.description
                } else { ok = false }
            case "dev":
                guard let v = value(option) else { ok = false; break }
                line.device = v.text
            case "use_vmac": line.useVMAC = true
            case "scope":
                guard let v = value(option), let s = enumeration(v, as: AddressScope.self, what: "address scope") else { ok = false; break }
                line.scope = s
            case "label":
                guard let v = value(option) else { ok = false; break }
                line.label = v.text
            case "peer":
                guard let v = value(option), let p = ipPrefix(v, what: "peer address") else { ok = false; break }
                if p.address.family != prefix.address.family {
                    error("address-family", "peer \(p.address) is not of the same family as \(prefix.address)", at: v.location)
                    ok = false
                }
                line.peer = p
            case "home": line.home = true
            case "-nodad", "nodad": line.noDAD = true
            case "mngtmpaddr": line.manageTemporaryAddress = true
            case "noprefixroute": line.noPrefixRoute = true
            case "autojoin": line.autoJoin = true
            case "no_track": line.noTrack = true
            case "preferred_lft":
                guard let v = value(option) else { ok = false; break }
                if v.text == "forever" {
                    line.preferredLifetime = .forever
                } else if let n = integer(v, 0...Int(UInt32.max), what: "preferred_lft") {
                    line.preferredLifetime = .seconds(n)
                } else { ok = false }
            case "track_group":
                guard let v = value(option) else { ok = false; break }
                if !allowTrackGroup {
                    error("misplaced-option", "'track_group' is only valid on static_ipaddress lines", at: option.location)
                    ok = false
                }
                line.trackGroup = v.text
            default:
                var hint = "address options: brd, dev, use_vmac, scope, label, peer, home, -nodad, mngtmpaddr, noprefixroute, autojoin, no_track, preferred_lft, track_group"
                let options = ["brd", "dev", "use_vmac", "scope", "label", "peer", "home", "-nodad", "mngtmpaddr", "noprefixroute", "autojoin",
                               "no_track", "preferred_lft", "track_group"]
                if let near = Suggest.nearest(to: option.text, in: options) { hint = "did you mean '\(near)'?" }
                error("unknown-option", "unknown address option '\(option.text)'", at: option.location, hint: hint)
                ok = false
            }
            if ok, option.text != option.text.lowercased(), option.text.lowercased() != "-nodad" {
                caseCheck(option, canonical: option.text.lowercased())
            }
        }
        return ok ? line : nil
    }
}
