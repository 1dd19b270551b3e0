/// Gives the generic syntax tree its keepalived meaning: the root keywords and their blocks.
public enum ConfigDecoder {
    /// Decodes top-level statements into a configuration.
    public static func decode(_ nodes: [ConfigNode], context: DecodeContext) -> KeepalivedConfig {
        var config = KeepalivedConfig()
        rootSchema.decode(nodes, into: &config, context: context)
        return config
    }

    /// Prints a configuration back as keepalived syntax that decodes to an equal model.
    public static func encode(_ config: KeepalivedConfig) -> String {
        var writer = ConfigWriter()
        rootSchema.encode(config, into: &writer)
        return writer.text
    }

    /// Every block kad knows, with its keywords and their help (for documentation and `kad keywords`).
    public static var keywordTable: [(block: String, keywords: [KeywordInfo])] {
        [
            ("(top level)", rootSchema.keywords),
            ("global_defs", GlobalDefs.schema.keywords),
            ("vrrp_instance", VRRPInstance.schema.keywords),
            ("vrrp_sync_group", SyncGroup.schema.keywords),
            ("vrrp_script", VRRPScript.schema.keywords),
            ("track_file", TrackFile.schema.keywords),
            ("vrrp_track_process", TrackProcess.schema.keywords),
            ("authentication", Authentication.schema.keywords),
            ("auth_hmac", AuthHMAC.schema.keywords),
            ("track_group", TrackGroup.schema.keywords),
            ("garp_group", GarpGroup.schema.keywords),
            ("bfd_instance", BFDInstance.schema.keywords),
        ] + LVSDecoder.schemas
    }

    /// The keyword reference as Markdown (Docs/keywords.md is this text).
    public static var keywordReference: String {
        var text = """
            # keepalived.conf keyword reference

            Generated from kad's keyword tables by `kad keywords`; a test keeps this page equal to
            that output. Keywords and enumerated values match case-insensitively, with a warning
            where keepalived would reject the spelling.

            """
        for (block, keywords) in keywordTable {
            text += "\n## \(block)\n\n| keyword | aliases | meaning |\n|---|---|---|\n"
            for k in keywords {
                let help = k.help.split(separator: "|", omittingEmptySubsequences: false).joined(separator: "\\|")
                text += "| `\(k.name)` | \(k.aliases.map { "`\($0)`" }.joined(separator: ", ")) | \(help) |\n"
            }
        }
        return text
    }

    /// Decodes `KEYWORD NAME { ... }` into a named model, checking the name and recording the block.
    static func named<M>(
        _ node: ConfigNode, _ context: DecodeContext, schema: BlockSchema<M>, make: (String) -> M
    ) -> M? {
        let keyword = node.keyword.text
        guard context.expectArguments(node, 1...1, usage: "\(keyword) NAME { ... }") else { return nil }
        let name = node.arguments[0].text
        let path = "\(schema.name) \(name)"
        if !context.register(path) {
            let first = context.sourceMap.location(path)
            context.error(
                "duplicate-name", "\(schema.name) '\(name)' is defined twice", at: node.arguments[0].location,
                hint: first.map { "the first definition is at \($0)" })
            return nil
        }
        var model = make(name)
        context.inBlock(path, at: node.location) {
            schema.decode(node.children ?? [], into: &model, context: context)
        }
        return model
    }

    static func has(_ node: ConfigNode, _ keyword: String) -> Bool {
        (node.children ?? []).contains { $0.is(keyword) }
    }

    static let rootSchema = BlockSchema<KeepalivedConfig>("the top level", [
        .block("global_defs", schema: { GlobalDefs.schema }, \.globalDefsOptional, initial: { GlobalDefs() },
               help: "settings for the whole daemon"),
        .string("net_namespace", \.netNamespace, help: "run in this network namespace"),
        KeywordRule("net_namespace_ipvs", help: "[NAME]: the namespace for IPVS (none = the default namespace)",
                    decode: { m, n, c in if c.expectArguments(n, 0...1, usage: "net_namespace_ipvs [NAME]") { m.netNamespaceIPVS = n.arguments.first?.text ?? "" } },
                    encode: { m, w in if let v = m.netNamespaceIPVS { w.line(v.isEmpty ? ["net_namespace_ipvs"] : ["net_namespace_ipvs", v]) } }),
        .flag("namespace_with_ipsets", \.namespaceWithIPSets, help: "use ipsets inside the namespace"),
        .string("instance", \.instanceName, help: "name added to pid files"),
        .flag("use_pid_dir", \.usePidDirectory, help: "put pid files in /run/keepalived/"),
        .flag("linkbeat_use_polling", \.linkbeatUsePolling, help: "poll link state of every interface"),
        .int("child_wait_time", 0...3600, \.childWaitTime, help: "seconds to wait for children at exit (5)"),
        KeywordRule("linkbeat_interfaces", help: "IF [MII|ETHTOOL|IOCTL]: poll these links", shape: .block, repeatable: true,
                    decode: { m, n, c in
                        for line in n.children ?? [] {
                            guard c.expectArguments(line, 0...1, usage: "IF [MII|ETHTOOL|IOCTL]") else { continue }
                            var entry = LinkbeatInterface(interface: line.keyword.text, method: nil)
                            if let a = line.arguments.first {
                                guard let method = c.enumeration(a, as: LinkbeatInterface.Method.self, what: "link poll method") else { continue }
                                entry.method = method
                            }
                            m.linkbeatInterfaces.append(entry)
                        }
                    },
                    encode: { m, w in
                        if !m.linkbeatInterfaces.isEmpty {
                            w.block(["linkbeat_interfaces"]) { w in
                                for l in m.linkbeatInterfaces {
                                    let method: [String] = l.method.map { [$0.rawValue] } ?? []
                                    w.line([l.interface] + method)
                                }
                            }
                        }
                    }),
        KeywordRule("interface_up_down_delays", help: "IF DOWN_DELAY [UP_DELAY]: debounce link changes", shape: .block, repeatable: true,
                    decode: { m, n, c in
                        for line in n.children ?? [] {
                            guard c.expectArguments(line, 1...2, usage: "IF DOWN_DELAY [UP_DELAY]"),
                                let down = c.seconds(line.arguments[0], 0...255, what: "down delay")
                            else { continue }
                            var up = down
                            if line.arguments.count == 2 {
                                guard let u = c.seconds(line.arguments[1], 0...255, what: "up delay") else { continue }
                                up = u
                            }
                            m.interfaceUpDownDelays.append(InterfaceDelay(interface: line.keyword.text, downDelay: down, upDelay: up))
                        }
                    },
                    encode: { m, w in
                        if !m.interfaceUpDownDelays.isEmpty {
                            w.block(["interface_up_down_delays"]) { w in
                                for d in m.interfaceUpDownDelays {
                                    w.line(d.interface, DecodeContext.format(d.downDelay), DecodeContext.format(d.upDelay))
                                }
                            }
                        }
                    }),
        KeywordRule("track_group", help: "NAME { group { ... } }", shape: .block, repeatable: true,
                    decode: { m, n, c in
                        if let g = named(n, c, schema: TrackGroup.schema, make: TrackGroup.init) {
                            m.trackGroups.append(g)
                        }
                    },
                    encode: { m, w in for g in m.trackGroups { w.block(["track_group", g.name]) { w in TrackGroup.schema.encode(g, into: &w) } } }),
        KeywordRule("static_ipaddress", help: "addresses configured once and never moved", shape: .block, repeatable: true,
                    decode: { m, n, c in
                        c.inBlock("static_ipaddress", at: n.location) { m.staticIPAddresses += c.addressLines(n, allowTrackGroup: true) }
                    },
                    encode: { m, w in
                        if !m.staticIPAddresses.isEmpty { w.block(["static_ipaddress"]) { w in for a in m.staticIPAddresses { w.line(a.words) } } }
                    }),
        KeywordRule("static_routes", help: "routes configured once (ip route syntax)", shape: .block, repeatable: true,
                    decode: { m, n, c in
                        c.inBlock("static_routes", at: n.location) { m.staticRoutes += c.routeLines(n, allowTrackGroup: true) }
                    },
                    encode: { m, w in if !m.staticRoutes.isEmpty { w.block(["static_routes"]) { w in for r in m.staticRoutes { w.line(r.words) } } } }),
        KeywordRule("static_rules", help: "rules configured once (ip rule syntax)", shape: .block, repeatable: true,
                    decode: { m, n, c in
                        c.inBlock("static_rules", at: n.location) { m.staticRules += c.ruleLines(n, allowTrackGroup: true) }
                    },
                    encode: { m, w in if !m.staticRules.isEmpty { w.block(["static_rules"]) { w in for r in m.staticRules { w.line(r.words) } } } }),
        KeywordRule("track_file", aliases: ["vrrp_track_file"], help: "NAME { file PATH ... }", shape: .block, repeatable: true,
                    decode: { m, n, c in
                        if let f = named(n, c, schema: TrackFile.schema, make: TrackFile.init) {
                            m.trackFiles.append(f)
                        }
                    },
                    encode: { m, w in for f in m.trackFiles { w.block(["track_file", f.name]) { w in TrackFile.schema.encode(f, into: &w) } } }),
        KeywordRule("vrrp_track_process", help: "NAME { process ... }", shape: .block, repeatable: true,
                    decode: { m, n, c in
                        if let p = named(n, c, schema: TrackProcess.schema, make: TrackProcess.init) {
                            m.trackProcesses.append(p)
                        }
                    },
                    encode: { m, w in
                        for p in m.trackProcesses { w.block(["vrrp_track_process", p.name]) { w in TrackProcess.schema.encode(p, into: &w) } }
                    }),
        KeywordRule("vrrp_script", help: "NAME { script ... }", shape: .block, repeatable: true,
                    decode: { m, n, c in
                        guard var s = named(n, c, schema: VRRPScript.schema, make: VRRPScript.init) else { return }
                        if !has(n, "timeout") { s.timeout = s.interval }
                        m.vrrpScripts.append(s)
                    },
                    encode: { m, w in for s in m.vrrpScripts { w.block(["vrrp_script", s.name]) { w in VRRPScript.schema.encode(s, into: &w) } } }),
        KeywordRule("vrrp_sync_group", help: "NAME { group { ... } }", shape: .block, repeatable: true,
                    decode: { m, n, c in
                        if let g = named(n, c, schema: SyncGroup.schema, make: SyncGroup.init) {
                            m.syncGroups.append(g)
                        }
                    },
                    encode: { m, w in for g in m.syncGroups { w.block(["vrrp_sync_group", g.name]) { w in SyncGroup.schema.encode(g, into: &w) } } }),
        KeywordRule("garp_group", help: "{ garp_interval ...; interfaces { ... } }", shape: .block, repeatable: true,
                    decode: { m, n, c in
                        guard c.expectArguments(n, 0...0, usage: "garp_group { ... }") else { return }
                        var g = GarpGroup()
                        c.inBlock("garp_group #\(m.garpGroups.count)", at: n.location) {
                            GarpGroup.schema.decode(n.children ?? [], into: &g, context: c)
                        }
                        m.garpGroups.append(g)
                    },
                    encode: { m, w in for g in m.garpGroups { w.block(["garp_group"]) { w in GarpGroup.schema.encode(g, into: &w) } } }),
        KeywordRule("vrrp_instance", help: "NAME { ... }: a virtual router", shape: .block, repeatable: true,
                    decode: { m, n, c in decodeInstance(n, into: &m, context: c) },
                    encode: { m, w in for i in m.vrrpInstances { w.block(["vrrp_instance", i.name]) { w in VRRPInstance.schema.encode(i, into: &w) } } }),
        KeywordRule("bfd_instance", help: "NAME { neighbor_ip ... }", shape: .block, repeatable: true,
                    decode: { m, n, c in
                        if let b = named(n, c, schema: BFDInstance.schema, make: BFDInstance.init) {
                            m.bfdInstances.append(b)
                        }
                    },
                    encode: { m, w in for b in m.bfdInstances { w.block(["bfd_instance", b.name]) { w in BFDInstance.schema.encode(b, into: &w) } } }),
        KeywordRule("SSL", help: "{ password; ca; certificate; key }: TLS settings for SSL_GET", shape: .block,
                    decode: { m, n, c in if let s = LVSDecoder.ssl(n, context: c) { m.ssl = s } },
                    encode: { m, w in if let s = m.ssl { LVSDecoder.encode(s, into: &w) } }),
        KeywordRule("virtual_server_group", help: "NAME { IP PORT | range | fwmark N ... }", shape: .block, repeatable: true,
                    decode: { m, n, c in
                        guard let g = LVSDecoder.virtualServerGroup(n, context: c) else { return }
                        if let first = m.virtualServerGroups.firstIndex(where: { $0.name == g.name }) {
                            c.error("duplicate-name", "virtual_server_group '\(g.name)' is defined twice", at: n.arguments.first?.location ?? n.location,
                                    hint: c.sourceMap.location("virtual_server_group \(m.virtualServerGroups[first].name)").map { "the first definition is at \($0)" })
                            return
                        }
                        m.virtualServerGroups.append(g)
                    },
                    encode: { m, w in for g in m.virtualServerGroups { LVSDecoder.encode(g, into: &w) } }),
        KeywordRule("virtual_server", help: "IP PORT | fwmark N | group NAME { ... }: an IPVS service", shape: .block, repeatable: true,
                    decode: { m, n, c in
                        if let vs = LVSDecoder.virtualServer(n, index: m.virtualServers.count, context: c) { m.virtualServers.append(vs) }
                    },
                    encode: { m, w in for vs in m.virtualServers { LVSDecoder.encode(vs, into: &w) } }),
    ])

    /// A vrrp_instance, with keepalived 1.x-style `virtual_server` blocks nested inside it hoisted
    /// to the top level (with a warning), as the seed's third example needs.
    static func decodeInstance(_ node: ConfigNode, into config: inout KeepalivedConfig, context: DecodeContext) {
        var node = node
        var nested: [ConfigNode] = []
        if let children = node.children, children.contains(where: { $0.is("virtual_server") }) {
            nested = children.filter { $0.is("virtual_server") }
            node.children = children.filter { !$0.is("virtual_server") }
        }
        if var instance = named(node, context, schema: VRRPInstance.schema, make: VRRPInstance.init) {
            if !has(node, "priority"), instance.state == .master { instance.priority = 255 }
            if !has(node, "state") { instance.state = instance.priority == 255 ? .master : .backup }
            config.vrrpInstances.append(instance)
        }
        for vs in nested {
            context.warning(
                "nested-virtual-server", "virtual_server inside vrrp_instance '\(node.arguments.first?.text ?? "")' is treated as a top-level virtual_server; keepalived 2.x rejects it here",
                at: vs.location, hint: "move the virtual_server block out of the vrrp_instance block")
            if let decoded = LVSDecoder.virtualServer(vs, index: config.virtualServers.count, context: context) {
                config.virtualServers.append(decoded)
            }
        }
    }
}

extension KeepalivedConfig {
    /// global_defs as an optional, so the block rule can fill it in place.
    var globalDefsOptional: GlobalDefs? {
        get { globalDefs }
        set { globalDefs = newValue ?? GlobalDefs() }
    }
}
