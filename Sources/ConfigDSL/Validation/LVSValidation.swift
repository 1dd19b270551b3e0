import Dispatch
import Synchronization

/// Semantic checks of the LVS blocks, made after decoding, as keepalived makes them when it
/// builds its checker configuration.
///
/// Locations come from the source map paths that ``LVSDecoder`` records: the virtual server at
/// position `i` of `virtualServers` is `virtual_server #i`, its real server `k` (from 1) is
/// `real_server #k`, and so on.
public enum LVSValidation {
    public static func validate(
        virtualServers: [VirtualServer], groups: [VirtualServerGroup], ssl: SSLConfig?,
        trackFileNames: Set<String>, bfdNames: Set<String>, sourceMap: SourceMap, diagnostics: inout Diagnostics,
        checkingGroups: Bool = true
    ) {
        var v = Checker(sourceMap: sourceMap, trackFileNames: trackFileNames, bfdNames: bfdNames)
        var groupsByName: [String: VirtualServerGroup] = [:]
        for g in groups where groupsByName[g.name] == nil { groupsByName[g.name] = g }
        v.groups = groupsByName
        if checkingGroups { for g in groups { v.checkGroup(g) } }
        var seen: [String: Int] = [:]
        for (i, vs) in virtualServers.enumerated() {
            if let key = v.identity(of: vs) {
                if let first = seen[key] {
                    v.error(
                        "duplicate-virtual-server", "virtual_server \(vs.address.words.joined(separator: " ")) is defined twice", vsPath(i),
                        hint: sourceMap.location(vsPath(first)).map { "the first definition is at \($0)" })
                } else {
                    seen[key] = i
                }
            }
        }
        // Each virtual server is checked on its own, so a large configuration is split over the
        // cores; the pieces' diagnostics are joined in order.
        let pieces = virtualServers.count >= 256 ? 2 : 1
        let template = v
        let results = Mutex<[[Diagnostic]]>(Array(repeating: [], count: pieces))
        DispatchQueue.concurrentPerform(iterations: pieces) { piece in
            var checker = template
            checker.diagnostics = Diagnostics()
            let range = (virtualServers.count * piece / pieces)..<(virtualServers.count * (piece + 1) / pieces)
            for i in range { checker.checkVirtualServer(virtualServers[i], path: vsPath(i)) }
            let found = checker.diagnostics.all
            results.withLock { $0[piece] = found }
        }
        for found in results.withLock({ $0 }) { v.diagnostics.append(contentsOf: found) }
        if ssl != nil, !virtualServers.contains(where: { $0.realServers.contains { $0.checkers.contains { if case .ssl = $0.kind { true } else { false } } } }) {
            v.warning("unused-ssl", "the SSL block is only used by SSL_GET checkers, and there are none", "SSL")
        }
        diagnostics.append(contentsOf: v.diagnostics.all)
    }

    /// What makes two virtual servers the same one (keepalived refuses the second): address,
    /// port and protocol, fwmark and family, or group and protocol. `nil` for none.
    static func identity(of vs: VirtualServer) -> String? {
        switch vs.address {
        case .ip(let e):
            return "ip \(e.address) \(e.port ?? 0) \(vs.serviceProtocol?.rawValue ?? "")"
        case .fwmark(let m):
            return "fwmark \(m) \(vs.ipFamily?.rawValue ?? "")"
        case .group(let g):
            return "group \(g) \(vs.serviceProtocol?.rawValue ?? "")"
        }
    }

    /// The scripts that the LVS blocks run, with the path and keyword where each is written
    /// (for script-security checks).
    public static func scriptCommands(in virtualServers: [VirtualServer]) -> [(ScriptCommand, String, String)] {
        var result: [(ScriptCommand, String, String)] = []
        for (i, vs) in virtualServers.enumerated() {
            let path = vsPath(i)
            if let c = vs.quorumUp { result.append((c, path, "quorum_up")) }
            if let c = vs.quorumDown { result.append((c, path, "quorum_down")) }
            for (k, rs) in vs.realServers.enumerated() {
                let rsPath = realServerPath(path, k)
                if let c = rs.notifyUp { result.append((c, rsPath, "notify_up")) }
                if let c = rs.notifyDown { result.append((c, rsPath, "notify_down")) }
                for (j, checker) in rs.checkers.enumerated() {
                    if case .misc(let m) = checker.kind, let c = m.command {
                        result.append((c, checkerPath(rsPath, j, checker), "misc_path"))
                    }
                }
            }
        }
        return result
    }

    // MARK: - Paths

    static func vsPath(_ i: Int) -> String { "virtual_server #\(i)" }
    static func realServerPath(_ vs: String, _ k: Int) -> String { "\(vs)/real_server #\(k + 1)" }
    static func checkerPath(_ rs: String, _ j: Int, _ c: HealthChecker) -> String { "\(rs)/\(c.kind.keyword) #\(j + 1)" }

    // MARK: - The checks

    struct Checker {
        let sourceMap: SourceMap
        let trackFileNames: Set<String>
        let bfdNames: Set<String>
        var groups: [String: VirtualServerGroup] = [:]
        var diagnostics = Diagnostics()

        init(sourceMap: SourceMap, trackFileNames: Set<String>, bfdNames: Set<String>) {
            self.sourceMap = sourceMap
            self.trackFileNames = trackFileNames
            self.bfdNames = bfdNames
        }

        // Messages, paths and hints are built only when there is something to report: on a large
        // configuration without problems, formatting them eagerly was most of the time spent here.
        mutating func error(
            _ code: String, _ message: @autoclosure () -> String, _ path: @autoclosure () -> String, _ keyword: String? = nil,
            hint: @autoclosure () -> String? = nil
        ) {
            diagnostics.error(code, message(), at: sourceMap.location(path(), keyword), hint: hint())
        }

        mutating func warning(
            _ code: String, _ message: @autoclosure () -> String, _ path: @autoclosure () -> String, _ keyword: String? = nil,
            hint: @autoclosure () -> String? = nil
        ) {
            diagnostics.warning(code, message(), at: sourceMap.location(path(), keyword), hint: hint())
        }

        /// What makes two virtual servers the same IPVS service(s).
        func identity(of vs: VirtualServer) -> String? { LVSValidation.identity(of: vs) }

        mutating func checkGroup(_ g: VirtualServerGroup) {
            let path = "virtual_server_group \(g.name)"
            var seen: Set<VirtualServerGroup.Entry> = []
            for (k, entry) in g.entries.enumerated() {
                if !seen.insert(entry).inserted {
                    warning("duplicate-entry", "'\(entry.words.joined(separator: " "))' is listed twice in virtual_server_group \(g.name)",
                            path, "#\(k + 1)")
                }
                if let range = entry.addressRange, let size = Self.rangeSize(range), size > 256 {
                    warning("large-range", "'\(entry.words[0])' covers \(size) addresses; each one becomes an IPVS service", path, "#\(k + 1)",
                            hint: "use a fwmark (and nftables_ipvs) for large address ranges")
                }
            }
        }

        /// The number of addresses in a range, when it is below 2^32.
        static func rangeSize(_ r: ClosedRange<IPAddress>) -> Int? {
            let a = r.lowerBound.bytes
            let b = r.upperBound.bytes
            guard a.count == b.count else { return nil }
            if a.count > 4, a.prefix(a.count - 4) != b.prefix(b.count - 4) { return Int(UInt32.max) }
            let lo = a.suffix(4).reduce(0) { $0 << 8 | Int($1) }
            let hi = b.suffix(4).reduce(0) { $0 << 8 | Int($1) }
            return hi - lo + 1
        }

        /// The address families of a virtual server's own addresses (empty when it has none).
        func families(of vs: VirtualServer) -> Set<AddressFamily> {
            switch vs.address {
            case .ip(let e): return [e.address.family]
            case .fwmark: return vs.ipFamily.map { [$0] } ?? []
            case .group(let name):
                guard let g = groups[name] else { return [] }
                return Set(g.entries.compactMap(\.family))
            }
        }

        mutating func checkVirtualServer(_ vs: VirtualServer, path: String) {
            func header() -> String { "virtual_server \(vs.address.words.joined(separator: " "))" }
            var group: VirtualServerGroup? = nil
            var isFwmark = false
            switch vs.address {
            case .fwmark: isFwmark = true
            case .group(let name):
                if let g = groups[name] {
                    group = g
                    if !g.entries.isEmpty, g.entries.allSatisfy({ if case .fwmark = $0 { true } else { false } }) { isFwmark = true }
                    if g.entries.isEmpty {
                        error("empty-group", "\(header()): virtual_server_group \(name) has no entries", path)
                    }
                } else {
                    let hint = Suggest.nearest(to: name, in: Array(groups.keys)).map { "did you mean '\($0)'?" }
                        ?? (groups.isEmpty ? "define it with 'virtual_server_group \(name) { ... }'" : nil)
                    error("unknown-group", "\(header()): there is no virtual_server_group named '\(name)'", path, hint: hint)
                }
            case .ip: break
            }

            // Port 0 only with persistence.
            if vs.persistenceTimeout == nil {
                if case .ip(let e) = vs.address, (e.port ?? 0) == 0 {
                    error("port-zero", "\(header()): a virtual server without a port must be persistent", path,
                          hint: "add a port, or 'persistence_timeout' to make the service persistent")
                }
                if let group, let entry = group.entries.first(where: { $0.family != nil && $0.addressRange != nil && ($0.port ?? 0) == 0 }) {
                    error("port-zero", "\(header()): '\(entry.words.joined(separator: " "))' in virtual_server_group \(group.name) has no port, which needs a persistent service",
                          path, hint: "add a port to the group entry, or 'persistence_timeout' here")
                }
            }
            if vs.persistenceTimeout == nil, vs.persistenceEngine != nil {
                warning("persistence", "\(header()): persistence_engine has no effect without persistence_timeout", path, "persistence_engine")
            }

            // keepalived ignores it with a message (so `keepalived -t` exits 5 for it).
            if isFwmark, case .fwmark = vs.address, vs.serviceProtocol != nil {
                warning("fwmark-protocol", "\(header()): protocol is ignored for a fwmark virtual_server", path, "protocol",
                        hint: "remove the protocol line (keepalived -t reports it)")
            }

            // Scheduler flags.
            if vs.ops, !isFwmark, let p = vs.serviceProtocol, p != .udp {
                error("ops-not-udp", "\(header()): 'ops' (one-packet scheduling) is only valid for UDP services, not \(p.rawValue)", path, "ops")
            }
            for flag in vs.schedulerFlags {
                let needed: LVSScheduler?
                switch flag {
                case .shPort, .shFallback: needed = .sh
                case .mhPort, .mhFallback: needed = .mh
                default: needed = nil
                }
                if let needed, vs.scheduler != needed {
                    warning("scheduler-flag", "\(header()): '\(flag.rawValue)' only applies to the \(needed.rawValue) scheduler; keepalived ignores it here",
                            path, flag.rawValue)
                }
            }

            // Address families.
            let own = families(of: vs)
            if case .ip(let e) = vs.address, let f = vs.ipFamily, f != e.address.family {
                error("family-mismatch", "\(header()): ip_family \(f.rawValue) conflicts with the address of the virtual server", path, "ip_family")
            }
            if let g = vs.persistenceGranularity {
                let granularityFamily: AddressFamily = g.contains(".") ? .inet : .inet6
                if let f = own.first, own.count == 1, f != granularityFamily {
                    error("family-mismatch", "\(header()): persistence_granularity '\(g)' is for \(granularityFamily == .inet ? "IPv4" : "IPv6"), but the service is \(f == .inet ? "IPv4" : "IPv6")",
                          path, "persistence_granularity",
                          hint: f == .inet ? "write an IPv4 netmask such as 255.255.255.0" : "write an IPv6 prefix length such as 64")
                }
            }
            var serverFamilies = own
            var nonTunnelled: [(LVSEndpoint, String, String?)] = []
            for (k, rs) in vs.realServers.enumerated() where rs.effectiveForwarding(in: vs).kind != .tun {
                nonTunnelled.append((rs.endpoint, realServerPath(path, k), nil))
            }
            if let s = vs.sorryServer, (vs.sorryServerForwarding ?? vs.forwarding).kind != .tun {
                nonTunnelled.append((s, path, "sorry_server"))
            }
            if own.count > 1, !nonTunnelled.isEmpty {
                error("family-mismatch", "\(header()): the group mixes IPv4 and IPv6, which is only allowed when every real and sorry server is tunnelled",
                      path)
            }
            for (endpoint, where_, keyword) in nonTunnelled {
                if serverFamilies.count == 1, let f = serverFamilies.first, endpoint.address.family != f {
                    let what = keyword == nil ? "real_server \(endpoint)" : "sorry_server \(endpoint)"
                    error("family-mismatch", "\(header()): \(what) is \(endpoint.address.family == .inet ? "IPv4" : "IPv6") but the virtual server is \(f == .inet ? "IPv4" : "IPv6")",
                          where_, keyword, hint: "only tunnelled (lvs_method TUN) servers may use the other address family")
                } else if serverFamilies.isEmpty {
                    serverFamilies = [endpoint.address.family]
                }
            }

            // Real servers.
            var endpoints: [LVSEndpoint: Int] = [:]
            var totalWeight = 0
            for (k, rs) in vs.realServers.enumerated() {
                func rsPath() -> String { realServerPath(path, k) }
                let key = LVSEndpoint(address: rs.endpoint.address, port: rs.endpoint.port ?? 0)
                if let first = endpoints[key] {
                    let firstLocation = sourceMap.location(realServerPath(path, first))
                    error("duplicate-real-server", "\(header()): real_server \(rs.endpoint) is listed twice", rsPath(),
                          hint: firstLocation.map { "the first one is at \($0)" })
                } else {
                    endpoints[key] = k
                }
                totalWeight += rs.effectiveWeight(in: vs)
                checkRealServer(rs, in: vs, path: rsPath(), header: header())
            }

            // Sorry server.
            if vs.sorryServer == nil {
                if vs.sorryServerInhibit {
                    warning("no-sorry-server", "\(header()): sorry_server_inhibit has no effect without a sorry_server", path, "sorry_server_inhibit")
                }
                if vs.sorryServerForwarding != nil {
                    warning("no-sorry-server", "\(header()): sorry_server_lvs_method has no effect without a sorry_server", path, "sorry_server_lvs_method")
                }
            } else if let s = vs.sorryServer {
                if vs.realServers.contains(where: { $0.endpoint.address == s.address && ($0.endpoint.port ?? 0) == (s.port ?? 0) }) {
                    warning("sorry-is-real", "\(header()): the sorry_server \(s) is also a real_server", path, "sorry_server",
                            hint: "a sorry server stands in for the real servers while the quorum is lost")
                }
                checkPorts(s, method: vs.sorryServerForwarding ?? vs.forwarding, vs: vs, header: header(), path: path, keyword: "sorry_server",
                           what: "sorry_server")
            }

            // Quorum.
            if vs.hysteresis >= vs.quorum {
                warning("quorum-hysteresis", "\(header()): hysteresis \(vs.hysteresis) is not below quorum \(vs.quorum), so the quorum is only lost when no real server is up",
                        path, "hysteresis")
            }
            let dynamic = vs.realServers.contains { $0.checkers.contains { c in
                switch c.kind {
                case .misc(let m): m.dynamic
                case .file(let f): f.dynamic
                default: false
                }
            } }
            if !vs.realServers.isEmpty, !dynamic, vs.quorum > totalWeight {
                warning("quorum-unreachable", "\(header()): quorum \(vs.quorum) is more than the total weight \(totalWeight) of the real servers, so it is never reached",
                        path, "quorum")
            }
        }

        /// DR and TUN forward to the virtual server's port; a different real-server port is ignored by IPVS.
        mutating func checkPorts(
            _ e: LVSEndpoint, method: LVSForwardingMethod, vs: VirtualServer, header: @autoclosure () -> String, path: @autoclosure () -> String, keyword: String?,
            what: @autoclosure () -> String
        ) {
            guard method.kind != .nat, case .ip(let v) = vs.address, let vp = v.port, vp != 0, let p = e.port, p != 0, p != vp else { return }
            warning("port-ignored", "\(header()): \(what()) port \(p) differs from the virtual server port \(vp), but \(method.kind.rawValue) forwarding cannot change the port",
                    path(), keyword, hint: "use the virtual server's port, or NAT forwarding to map ports")
        }

        mutating func checkRealServer(_ rs: RealServer, in vs: VirtualServer, path: @autoclosure () -> String, header: @autoclosure () -> String) {
            checkPorts(rs.endpoint, method: rs.effectiveForwarding(in: vs), vs: vs, header: header(), path: path(), keyword: nil,
                       what: "real_server \(rs.endpoint)")
            if let u = rs.upperThreshold, let l = rs.lowerThreshold, u > 0, l > u {
                error("bad-threshold", "real_server \(rs.endpoint): lthreshold \(l) is above uthreshold \(u)", path(), "lthreshold")
            }
            let vsHasPort: Bool = {
                if case .ip(let e) = vs.address { return (e.port ?? 0) != 0 }
                return false
            }()
            for (j, checker) in rs.checkers.enumerated() {
                func cPath() -> String { checkerPath(path(), j, checker) }
                func name() -> String { "\(checker.kind.keyword) of real_server \(rs.endpoint)" }
                if let ip = checker.connection.connectIP, let b = checker.connection.bindTo, ip.family != b.family {
                    error("family-mismatch", "\(name()): bindto \(b) and connect_ip \(ip) are of different address families", cPath(), "bindto")
                }
                if let b = checker.connection.bindTo, b.family == .inet6, b.isLinkLocal, checker.connection.bindInterface == nil {
                    error("missing-bind-if", "\(name()): the link-local bindto \(b) needs bind_if", cPath(), "bindto")
                }
                switch checker.kind {
                case .tcp, .http, .ssl, .udp:
                    if checker.connection.connectPort == nil, (rs.endpoint.port ?? 0) == 0, !vsHasPort {
                        warning("no-port", "\(name()) has no port to connect to", cPath(),
                                hint: "give the real server a port or set connect_port")
                    }
                default: break
                }
                switch checker.kind {
                case .http(let h), .ssl(let h):
                    checkHTTP(h, ssl: { if case .ssl = checker.kind { true } else { false } }(), name: name(), path: cPath())
                case .misc(let m):
                    if m.path == nil {
                        error("missing-keyword", "\(name()): MISC_CHECK needs 'misc_path'", cPath(),
                              hint: "misc_path \"/usr/local/bin/check.sh arguments\"")
                    }
                case .udp(let u):
                    if u.minReplyLength > u.maxReplyLength {
                        error("bad-range", "\(name()): min_reply_length \(u.minReplyLength) is above max_reply_length \(u.maxReplyLength)",
                              cPath(), "min_reply_length")
                    }
                case .file(let f):
                    if let t = f.trackFile {
                        if !trackFileNames.contains(t) {
                            let hint = Suggest.nearest(to: t, in: Array(trackFileNames)).map { "did you mean '\($0)'?" }
                                ?? "define it with 'track_file \(t) { file PATH }'"
                            error("unknown-track-file", "\(name()): there is no track_file named '\(t)'", cPath(), "track_file", hint: hint)
                        }
                    } else {
                        error("missing-keyword", "\(name()): FILE_CHECK needs 'track_file NAME'", cPath())
                    }
                case .bfd(let b):
                    if let n = b.name {
                        if !bfdNames.contains(n) {
                            let hint = Suggest.nearest(to: n, in: Array(bfdNames)).map { "did you mean '\($0)'?" }
                                ?? "define it with 'bfd_instance \(n) { neighbor_ip IP }'"
                            error("unknown-bfd", "\(name()): there is no bfd_instance named '\(n)'", cPath(), "name", hint: hint)
                        }
                    } else {
                        error("missing-keyword", "\(name()): BFD_CHECK needs 'name BFD_INSTANCE'", cPath())
                    }
                case .tcp, .smtp, .dns, .ping:
                    break
                }
            }
        }

        mutating func checkHTTP(_ h: HTTPCheck, ssl: Bool, name: @autoclosure () -> String, path: @autoclosure () -> String) {
            if h.urls.isEmpty {
                error("missing-keyword", "\(name()) has no 'url' block, so it can never succeed", path(),
                      hint: "url { path /; status_code 200 }")
            }
            if !ssl {
                for (flag, keyword) in [(h.enableSNI, "enable_sni"), (h.sniName != nil, "sni_name"), (h.tlsCompliant, "tls_compliant")] where flag {
                    warning("ssl-only", "\(name()): '\(keyword)' only has an effect in SSL_GET", path(), keyword)
                }
            }
            for (u, url) in h.urls.enumerated() {
                let uPath = "\(path())/url #\(u + 1)"
                if url.path == nil {
                    error("missing-keyword", "\(name()): url #\(u + 1) has no 'path'", uPath, hint: "path /health")
                } else if let p = url.path, !p.hasPrefix("/"), !p.contains("://") {
                    warning("url-path", "\(name()): url path '\(p)' does not start with '/'", uPath, "path")
                }
                if let d = url.digest {
                    let hex = d.utf8.allSatisfy { LVSHex.value($0) != nil }
                    if d.utf8.count != 32 || !hex {
                        error("bad-digest", "\(name()): digest '\(d)' is not an MD5 digest (32 hex digits)", uPath, "digest",
                              hint: "compute it with 'genhash' or 'keepalived -T'")
                    }
                }
                for r in url.statusCodes where r.lowerBound > r.upperBound || r.lowerBound < 100 || r.upperBound > 599 {
                    error("bad-range", "\(name()): status_code \(r.lowerBound)-\(r.upperBound) is not within 100-599", uPath, "status_code")
                }
                if url.regex == nil {
                    for (set, keyword) in [(url.regexNoMatch, "regex_no_match"), (!url.regexOptions.isEmpty, "regex_options"),
                                           (url.regexStack != nil, "regex_stack"), (url.regexMinOffset != nil, "regex_min_offset"),
                                           (url.regexMaxOffset != nil, "regex_max_offset")] where set {
                        warning("no-regex", "\(name()): '\(keyword)' has no effect without 'regex'", uPath, keyword)
                    }
                }
                if let lo = url.regexMinOffset, let hi = url.regexMaxOffset, lo > hi {
                    error("bad-range", "\(name()): regex_min_offset \(lo) is above regex_max_offset \(hi)", uPath, "regex_min_offset")
                }
            }
        }
    }
}
