/// Reads and prints the LVS blocks: `SSL`, `virtual_server_group` and `virtual_server` (with its
/// `real_server` and checker blocks).
///
/// Block paths recorded in the source map (see ``SourceMap``):
/// - `virtual_server #N` (N as passed by the caller: the 0-based position the virtual server takes
///   in the configuration's list; one whose address is unusable uses `virtual_server (invalid)`), inside it `real_server #K` (K = 1-based
///   position in ``VirtualServer/realServers``), inside that `CHECKER #J` (J = 1-based position in
///   ``RealServer/checkers``, CHECKER its keyword such as `HTTP_GET`), inside that `url #U` or `host #H`.
///   A `real_server` whose address is unusable is decoded under `real_server (invalid)` so that the
///   numbering of the others still matches the model.
/// - `virtual_server_group NAME`, whose entries are recorded as keywords `#1`, `#2`, ... and `fwmark`.
/// - `SSL`.
/// Keywords are recorded under their canonical name (`lvs_sched` for `lb_algo`, `lvs_method` for
/// `lb_kind`, `retry` for `nb_get_retry`).
public enum LVSDecoder {
    // MARK: - Entry points

    /// Decodes `virtual_server IP [PORT] | fwmark N | group NAME { ... }`.
    /// Returns `nil` (after reporting) when the address or the block is unusable.
    public static func virtualServer(_ node: ConfigNode, index: Int, context: DecodeContext) -> VirtualServer? {
        let address = virtualServerAddress(node, context: context)
        // An unusable virtual server is not in the model, so it must not take the path of the next one.
        let path = address == nil ? "virtual_server (invalid)" : "virtual_server #\(index)"
        return context.inBlock(path, at: node.location) { () -> VirtualServer? in
            guard let children = node.children else {
                context.error(
                    "missing-block", "missing '{' after 'virtual_server'", at: node.location,
                    hint: "virtual_server IP PORT { ... }")
                return nil
            }
            var vs = VirtualServer(address: address ?? .fwmark(1))
            virtualServerSchema.decode(children, into: &vs, context: context)
            let written = Set(children.map { $0.keyword.text.lowercased() })
            if written.isDisjoint(with: ["lvs_sched", "lb_algo"]) {
                context.warning(
                    "default-value", "virtual_server has no 'lvs_sched'; using the default scheduler wlc", at: node.location,
                    hint: "add 'lvs_sched wlc' (or another scheduler) to make the choice explicit")
            }
            if written.isDisjoint(with: ["lvs_method", "lb_kind"]) {
                context.warning(
                    "default-method", "virtual_server has no 'lb_kind'/'lvs_method'; NAT forwarding is used", at: node.location,
                    hint: "write 'lb_kind NAT' (or DR/TUN) to say so (keepalived -t reports the default)")
            }
            if vs.serviceProtocol == nil, address.map({ if case .fwmark = $0 { false } else { true } }) ?? false {
                if !written.contains("protocol") {
                    context.warning(
                        "default-value", "virtual_server has no 'protocol'; keepalived uses UDP", at: node.location,
                        hint: "add 'protocol TCP' for a TCP service (most services are TCP)")
                }
                vs.serviceProtocol = .udp
            }
            if vs.persistenceGranularity != nil, vs.persistenceTimeout == nil {
                // keepalived makes a service with a granularity persistent with the default timeout.
                vs.persistenceTimeout = defaultPersistenceTimeout
            }
            return address == nil ? nil : vs
        }
    }

    /// Decodes `virtual_server_group NAME { ... }`.
    public static func virtualServerGroup(_ node: ConfigNode, context: DecodeContext) -> VirtualServerGroup? {
        guard context.expectArguments(node, 1...1, usage: "virtual_server_group NAME { ... }") else { return nil }
        let name = node.arguments[0].text
        guard let children = node.children else {
            context.error(
                "missing-block", "missing '{' after 'virtual_server_group \(name)'", at: node.location,
                hint: "virtual_server_group \(name) { 10.0.0.1 80 }")
            return nil
        }
        return context.inBlock("virtual_server_group \(name)", at: node.location) {
            var group = VirtualServerGroup(name: name)
            for child in children {
                if child.children != nil {
                    context.error(
                        "unexpected-block", "unexpected block in virtual_server_group \(name)",
                        at: child.blockLocation ?? child.location)
                    continue
                }
                if let entry = groupEntry(child, context: context) {
                    group.entries.append(entry)
                    context.recordKeyword("#\(group.entries.count)", at: child.location)
                    if case .fwmark = entry { context.recordKeyword("fwmark", at: child.location) }
                }
            }
            if group.entries.isEmpty {
                context.warning(
                    "empty-group", "virtual_server_group \(name) has no entries; keepalived removes it", at: node.location)
            }
            return group
        }
    }

    /// Decodes `SSL { password ca certificate key }`.
    public static func ssl(_ node: ConfigNode, context: DecodeContext) -> SSLConfig? {
        guard context.expectArguments(node, 0...0, usage: "SSL { ... }") else { return nil }
        guard let children = node.children else {
            context.error("missing-block", "missing '{' after 'SSL'", at: node.location, hint: "SSL { ca /etc/ssl/ca.pem }")
            return nil
        }
        return context.inBlock("SSL", at: node.location) {
            var ssl = SSLConfig()
            sslSchema.decode(children, into: &ssl, context: context)
            return ssl
        }
    }

    /// Prints a virtual_server block (its real servers and checkers included).
    public static func encode(_ vs: VirtualServer, into w: inout ConfigWriter) {
        w.block(["virtual_server"] + vs.address.words) { w in virtualServerSchema.encode(vs, into: &w) }
    }

    /// Prints a virtual_server_group block.
    public static func encode(_ g: VirtualServerGroup, into w: inout ConfigWriter) {
        w.block(["virtual_server_group", g.name]) { w in
            for entry in g.entries { w.line(entry.words) }
        }
    }

    /// Prints the SSL block.
    public static func encode(_ s: SSLConfig, into w: inout ConfigWriter) {
        w.block(["SSL"]) { w in sslSchema.encode(s, into: &w) }
    }

    /// Every keyword name of every LVS block, for documentation.
    public static var schemas: [(block: String, keywords: [KeywordInfo])] {
        var result: [(block: String, keywords: [KeywordInfo])] = [
            ("SSL", sslSchema.keywords),
            ("virtual_server_group", [KeywordInfo(name: "fwmark", aliases: [], help: "N [inet|inet6]: a fwmark service (other lines: IP [PORT] or a range)")]),
            ("virtual_server", virtualServerSchema.keywords),
            ("real_server", realServerSchema.keywords),
        ]
        for (name, schema) in checkerSchemas { result.append((name, schema.keywords)) }
        result.append(("url", urlSchema.keywords))
        result.append(("host", smtpHostSchema.keywords))
        return result
    }

    /// The timeout of `persistence_timeout` written without a value (6 minutes).
    public static let defaultPersistenceTimeout = 360

    // MARK: - Limits

    static let u32 = 0...Int(UInt32.max)
    static let timerRange: ClosedRange<Double> = 0...2_147_483_647
    static let positiveTimer: ClosedRange<Double> = 0.000001...2_147_483_647
    static let portRange = 0...65535
    static let weightRange = 0...65535

    // MARK: - Addresses

    static func virtualServerAddress(_ node: ConfigNode, context: DecodeContext) -> VirtualServer.Address? {
        let args = node.arguments
        let usage = "virtual_server IP [PORT] | virtual_server fwmark N | virtual_server group NAME"
        guard let first = args.first else {
            context.error("missing-value", "'virtual_server' needs an address", at: node.location, hint: "usage: \(usage)")
            return nil
        }
        switch first.text {
        case "fwmark":
            guard context.expectArguments(node, 2...2, usage: "virtual_server fwmark N { ... }") else { return nil }
            return context.integer(args[1], 1...Int(UInt32.max), what: "fwmark").map { .fwmark($0) }
        case "group":
            guard context.expectArguments(node, 2...2, usage: "virtual_server group NAME { ... }") else { return nil }
            return .group(args[1].text)
        default:
            guard context.expectArguments(node, 1...2, usage: usage) else { return nil }
            return context.lvsEndpoint(args[...], what: "virtual server address").map { .ip($0) }
        }
    }

    static func groupEntry(_ node: ConfigNode, context: DecodeContext) -> VirtualServerGroup.Entry? {
        let word = node.keyword
        if word.text == "fwmark" {
            guard context.expectArguments(node, 1...2, usage: "fwmark N [inet|inet6]"),
                let mark = context.integer(node.arguments[0], 1...Int(UInt32.max), what: "fwmark")
            else { return nil }
            var family: AddressFamily? = nil
            if node.arguments.count == 2 {
                guard let f = AddressFamily.lvsParse(node.arguments[1], context: context) else { return nil }
                family = f
            }
            return .fwmark(mark, family: family)
        }
        guard context.expectArguments(node, 0...1, usage: "IP[-LAST|/PREFIX] [PORT]") else { return nil }
        var port: Int? = nil
        if let p = node.arguments.first {
            guard let v = context.integer(p, portRange, what: "port") else { return nil }
            port = v
        }
        let text = word.text
        let bytes = Array(text.utf8)
        if let slash = bytes.firstIndex(of: UInt8(ascii: "/")) {
            let addressText = String(decoding: bytes[..<slash], as: UTF8.self)
            guard let address = IPAddress(addressText) else {
                context.error("bad-address", "'\(addressText)' is not an IP address", at: word.location)
                return nil
            }
            let lengthToken = Token(
                .word, String(decoding: bytes[(slash + 1)...], as: UTF8.self),
                at: word.location.atColumn(word.location.column + slash + 1))
            guard let length = context.integer(lengthToken, 1...address.family.maximumPrefix, what: "prefix length") else { return nil }
            return .prefix(address, length: length, port: port)
        }
        if let dash = bytes.firstIndex(of: UInt8(ascii: "-")) {
            let firstText = String(decoding: bytes[..<dash], as: UTF8.self)
            let lastText = String(decoding: bytes[(dash + 1)...], as: UTF8.self)
            guard let first = IPAddress(firstText) else {
                context.error("bad-address", "'\(firstText)' is not an IP address", at: word.location,
                              hint: "write a range as 192.168.1.1-10 or 192.168.1.250-192.168.2.10")
                return nil
            }
            let lastLocation = word.location.atColumn(word.location.column + dash + 1)
            var last: IPAddress? = IPAddress(lastText)
            if last == nil {
                let lastBytes = Array(lastText.utf8)
                switch first.family {
                case .inet:
                    if !lastBytes.isEmpty, lastBytes.count <= 3, lastBytes.allSatisfy({ $0 >= 48 && $0 <= 57 }),
                        let v = Int(lastText), v <= 255
                    {
                        last = first.lvsReplacingLastPart(v)
                    }
                case .inet6:
                    if !lastBytes.isEmpty, lastBytes.count <= 4, lastBytes.allSatisfy({ LVSHex.value($0) != nil }),
                        let v = Int(lastText, radix: 16)
                    {
                        last = first.lvsReplacingLastPart(v)
                    }
                }
            }
            guard let last, last.family == first.family else {
                context.error(
                    "bad-address", "'\(lastText)' is not the end of an address range", at: lastLocation,
                    hint: first.family == .inet
                        ? "write the last octet (192.168.1.1-10) or a whole address (192.168.1.250-192.168.2.10)"
                        : "write the last group in hex (2001:db8::1-ff) or a whole address")
                return nil
            }
            guard first <= last else {
                context.error("bad-range", "address range '\(text)' ends before it starts", at: word.location)
                return nil
            }
            return .range(first, last, port: port)
        }
        guard let address = IPAddress(text) else {
            context.error(
                "bad-address", "'\(text)' is not an IP address, address range or 'fwmark N'", at: word.location,
                hint: "virtual_server_group lines are 'IP [PORT]', 'IP-LAST [PORT]', 'IP/PREFIX [PORT]' or 'fwmark N [inet|inet6]'")
            return nil
        }
        return .address(address, port: port)
    }

    // MARK: - Schemas

    static let sslSchema = BlockSchema<SSLConfig>("SSL", [
        .string("password", \.password, help: "password of the private key"),
        .string("ca", \.ca, help: "CA certificate file"),
        .string("certificate", \.certificate, help: "client certificate file"),
        .string("key", \.key, help: "private key file"),
    ])

    static let virtualServerSchema = BlockSchema<VirtualServer>("virtual_server", [
        .choice("lvs_sched", aliases: ["lb_algo"], \.scheduler, help: "IPVS scheduler (default wlc)"),
        .flag("hashed", \.hashed, help: "hashed scheduling flag"),
        .flag("ops", \.ops, help: "one-packet scheduling (UDP only)"),
        LVSRules.schedulerFlag(.flag1, help: "scheduler flag 1 (ipvsadm -b flag-1)"),
        LVSRules.schedulerFlag(.flag2, help: "scheduler flag 2 (ipvsadm -b flag-2)"),
        LVSRules.schedulerFlag(.flag3, help: "scheduler flag 3 (ipvsadm -b flag-3)"),
        LVSRules.schedulerFlag(.shPort, help: "sh scheduler: hash the port too"),
        LVSRules.schedulerFlag(.shFallback, help: "sh scheduler: fall back to another server"),
        LVSRules.schedulerFlag(.mhPort, help: "mh scheduler: hash the port too"),
        LVSRules.schedulerFlag(.mhFallback, help: "mh scheduler: fall back to another server"),
        LVSRules.forwarding("lvs_method", aliases: ["lb_kind"], \.forwarding, help: "forwarding method NAT|DR|TUN (default NAT)"),
        .choice("protocol", \.serviceProtocol, help: "L4 protocol TCP|UDP|SCTP (UDP with a warning when omitted)"),
        LVSRules.persistenceTimeout(),
        LVSRules.persistenceGranularity(),
        .string("persistence_engine", \.persistenceEngine, help: "persistence engine (sip)"),
        .flag("ha_suspend", \.haSuspend, help: "suspend the checkers while the virtual address is not local"),
        .bool("smtp_alert", \.smtpAlert, help: "send mail on quorum changes"),
        .string("virtualhost", \.virtualhost, help: "default Host header for HTTP_GET and SSL_GET"),
        .string("snmp_name", \.snmpName, help: "name reported over SNMP"),
        .flag("alpha", \.alpha, help: "start every real server as down"),
        .flag("omega", \.omega, help: "run down notifications at shutdown"),
        .int("quorum", 1...Int(UInt32.max), \.quorum, help: "minimum total weight of live real servers (default 1)"),
        .int("hysteresis", u32, \.hysteresis, help: "quorum flap damper (default 0)"),
        .command("quorum_up", \.quorumUp, help: "script run when the quorum is gained"),
        .command("quorum_down", \.quorumDown, help: "script run when the quorum is lost"),
        LVSRules.family("ip_family", \.ipFamily, help: "address family of a fwmark service: inet|inet6"),
        LVSRules.endpoint("sorry_server", \.sorryServer, help: "server used while the quorum is lost: IP [PORT]"),
        .flag("sorry_server_inhibit", \.sorryServerInhibit, help: "inhibit_on_failure for the sorry server"),
        LVSRules.forwarding("sorry_server_lvs_method", \.sorryServerForwarding, help: "forwarding method of the sorry server"),
        .seconds("connect_timeout", positiveTimer, \.connectTimeout, help: "checker connect timeout (default 5)"),
        .int("retry", u32, \.retry, help: "retries before a real server is declared down"),
        .seconds("delay_before_retry", timerRange, \.delayBeforeRetry, help: "delay between retries"),
        .seconds("warmup", timerRange, \.warmup, help: "maximum random delay before the first check (default delay_loop)"),
        .seconds("delay_loop", positiveTimer, \.delayLoop, help: "check period (default 60)"),
        .flag("inhibit_on_failure", \.inhibitOnFailure, help: "set a failed real server's weight to 0 instead of removing it"),
        .int("weight", weightRange, \.weight, help: "default weight of the real servers (default 1)"),
        LVSRules.realServers(),
    ])

    static let realServerSchema = BlockSchema<RealServer>("real_server", [
        .int("weight", weightRange, \.weight, help: "IPVS weight (default 1; 0 allowed)"),
        LVSRules.forwarding("lvs_method", \.forwarding, help: "forwarding method (default: the virtual server's)"),
        .int("uthreshold", u32, \.upperThreshold, help: "maximum number of connections"),
        .int("lthreshold", u32, \.lowerThreshold, help: "connection count below which the server is used again"),
        .bool("inhibit_on_failure", \.inhibitOnFailure, help: "set the weight to 0 on failure instead of removing"),
        .command("notify_up", \.notifyUp, help: "script run when the server comes up"),
        .command("notify_down", \.notifyDown, help: "script run when the server goes down"),
        .bool("alpha", \.alpha, help: "start as down"),
        .int("retry", u32, \.retry, help: "retries before the server is declared down"),
        .seconds("delay_before_retry", timerRange, \.delayBeforeRetry, help: "delay between retries"),
        .seconds("warmup", timerRange, \.warmup, help: "maximum random delay before the first check"),
        .seconds("connect_timeout", positiveTimer, \.connectTimeout, help: "checker connect timeout"),
        .seconds("delay_loop", positiveTimer, \.delayLoop, help: "check period"),
        .bool("smtp_alert", \.smtpAlert, help: "send mail on state changes"),
        .string("virtualhost", \.virtualhost, help: "Host header for HTTP_GET and SSL_GET"),
        .string("snmp_name", \.snmpName, help: "name reported over SNMP"),
        LVSRules.checker("TCP_CHECK", help: "TCP connect check") { .tcp },
        LVSRules.checker("HTTP_GET", help: "HTTP GET check with url blocks") { .http(HTTPCheck()) },
        LVSRules.checker("SSL_GET", help: "HTTPS GET check with url blocks") { .ssl(HTTPCheck()) },
        LVSRules.checker("SMTP_CHECK", help: "SMTP banner and HELO check") { .smtp(SMTPCheck()) },
        LVSRules.checker("DNS_CHECK", help: "DNS query check") { .dns(DNSCheck()) },
        LVSRules.checker("MISC_CHECK", help: "external script check") { .misc(MiscCheck()) },
        LVSRules.checker("UDP_CHECK", help: "UDP probe check") { .udp(UDPCheck()) },
        LVSRules.checker("PING_CHECK", help: "ICMP echo check") { .ping },
        LVSRules.checker("FILE_CHECK", help: "state taken from a track_file") { .file(FileCheck()) },
        LVSRules.checker("BFD_CHECK", help: "state taken from a BFD session") { .bfd(BFDCheck()) },
    ])

    // Connection and timing options shared by checkers.

    static let connectionRules: [KeywordRule<HealthChecker.Connection>] = [
        LVSRules.address("connect_ip", \.connectIP, help: "address to connect to (default: the real server's)"),
        .int("connect_port", portRange, \.connectPort, help: "port to connect to (default: the real server's)"),
        LVSRules.address("bindto", \.bindTo, help: "source address"),
        .string("bind_if", \.bindInterface, help: "source interface (for IPv6 link-local bindto)"),
        .int("bind_port", portRange, \.bindPort, help: "source port"),
        .int("fwmark", u32, \.fwmark, help: "mark set on checker packets"),
    ]

    static let timingRules: [KeywordRule<HealthChecker.Timing>] = [
        .bool("alpha", \.alpha, help: "start as down"),
        .seconds("connect_timeout", positiveTimer, \.connectTimeout, help: "connect timeout"),
        .int("retry", aliases: ["nb_get_retry"], u32, \.retry, help: "retries before declaring the server down"),
        .seconds("delay_before_retry", timerRange, \.delayBeforeRetry, help: "delay between retries"),
        .seconds("warmup", timerRange, \.warmup, help: "maximum random delay before the first check"),
        .seconds("delay_loop", positiveTimer, \.delayLoop, help: "check period"),
        .bool("log_all_failures", \.logAllFailures, help: "log every failure, not only state changes"),
    ]

    static var liftedConnection: [KeywordRule<HealthChecker>] {
        connectionRules.map { LVSRules.lift($0, get: { $0.connection }, set: { $0.connection = $1 }) }
    }

    static var liftedTiming: [KeywordRule<HealthChecker>] {
        timingRules.map { LVSRules.lift($0, get: { $0.timing }, set: { $0.timing = $1 }) }
    }

    static let httpRules: [KeywordRule<HTTPCheck>] = [
        .choice("http_protocol", \.httpVersion, help: "HTTP version 1.0|1.0C|1.1 (default 1.0)"),
        LVSRules.flagBool("fast_recovery", \.fastRecovery, help: "check all urls back to back when recovering"),
        .string("virtualhost", \.virtualhost, help: "Host header"),
        LVSRules.urls(),
        LVSRules.flagBool("enable_sni", \.enableSNI, help: "send SNI in the TLS handshake (SSL_GET)"),
        .string("sni_name", \.sniName, help: "server name to send as SNI (SSL_GET)"),
        LVSRules.flagBool("tls_compliant", \.tlsCompliant, help: "close TLS connections with close_notify (SSL_GET)"),
    ]

    static let urlSchema = BlockSchema<URLCheck>("url", [
        .string("path", \.path, help: "the path to GET"),
        .string("digest", \.digest, help: "MD5 of the body in hex (see genhash)"),
        LVSRules.statusCodes(),
        .string("virtualhost", \.virtualhost, help: "Host header"),
        .string("regex", \.regex, help: "PCRE2 pattern the body must match"),
        .flag("regex_no_match", \.regexNoMatch, help: "the body must not match the regex"),
        LVSRules.regexOptions(),
        LVSRules.regexStack(),
        .int("regex_min_offset", u32, \.regexMinOffset, help: "offset where regex matching starts"),
        .int("regex_max_offset", u32, \.regexMaxOffset, help: "last offset where a match may start"),
    ])

    static let smtpHostSchema = BlockSchema<HealthChecker.Connection>("host", connectionRules)

    static let smtpRules: [KeywordRule<SMTPCheck>] = [
        .string("helo_name", \.heloName, help: "name sent in HELO"),
        LVSRules.smtpHosts(),
    ]

    static let dnsRules: [KeywordRule<DNSCheck>] = [
        .choice("type", \.type, help: "query type (default SOA)"),
        LVSRules.text("name", \.name, help: "name to query (default .)"),
    ]

    static let miscRules: [KeywordRule<MiscCheck>] = [
        LVSRules.miscPath(),
        .int("misc_timeout", 1...Int(UInt32.max), \.timeout, help: "script timeout in seconds (default delay_loop)"),
        .flag("misc_dynamic", \.dynamic, help: "exit codes 2..255 set the weight to code-2"),
        LVSRules.miscUser(),
    ]

    static let udpRules: [KeywordRule<UDPCheck>] = [
        LVSRules.payload(),
        LVSRules.requireReply(),
        .int("min_reply_length", portRange, \.minReplyLength, help: "minimum reply length (default 0)"),
        .int("max_reply_length", portRange, \.maxReplyLength, help: "maximum reply length (default 255)"),
    ]

    static let fileRules: [KeywordRule<FileCheck>] = [
        .string("track_file", \.trackFile, help: "name of a track_file block"),
        .flag("dynamic", \.dynamic, help: "the file's value adjusts the weight"),
        LVSRules.fileWeight(),
    ]

    static let bfdRules: [KeywordRule<BFDCheck>] = [
        .string("name", \.name, help: "name of a bfd_instance"),
    ]

    static let checkerSchemas: [(String, BlockSchema<HealthChecker>)] = [
        ("TCP_CHECK", BlockSchema("TCP_CHECK", liftedConnection + liftedTiming)),
        ("HTTP_GET", BlockSchema("HTTP_GET", liftedConnection + liftedTiming + httpRules.map(LVSRules.liftHTTP))),
        ("SSL_GET", BlockSchema("SSL_GET", liftedConnection + liftedTiming + httpRules.map(LVSRules.liftHTTP))),
        ("SMTP_CHECK", BlockSchema("SMTP_CHECK", liftedConnection + liftedTiming + smtpRules.map {
            LVSRules.lift($0, get: { c in if case .smtp(let s) = c.kind { s } else { SMTPCheck() } }, set: { $0.kind = .smtp($1) })
        })),
        ("DNS_CHECK", BlockSchema("DNS_CHECK", liftedConnection + liftedTiming + dnsRules.map {
            LVSRules.lift($0, get: { c in if case .dns(let s) = c.kind { s } else { DNSCheck() } }, set: { $0.kind = .dns($1) })
        })),
        ("MISC_CHECK", BlockSchema("MISC_CHECK", liftedTiming + miscRules.map {
            LVSRules.lift($0, get: { c in if case .misc(let s) = c.kind { s } else { MiscCheck() } }, set: { $0.kind = .misc($1) })
        })),
        ("UDP_CHECK", BlockSchema("UDP_CHECK", liftedConnection + liftedTiming + udpRules.map {
            LVSRules.lift($0, get: { c in if case .udp(let s) = c.kind { s } else { UDPCheck() } }, set: { $0.kind = .udp($1) })
        })),
        ("PING_CHECK", BlockSchema("PING_CHECK", liftedConnection + liftedTiming)),
        ("FILE_CHECK", BlockSchema("FILE_CHECK", fileRules.map {
            LVSRules.lift($0, get: { c in if case .file(let s) = c.kind { s } else { FileCheck() } }, set: { $0.kind = .file($1) })
        })),
        ("BFD_CHECK", BlockSchema("BFD_CHECK", bfdRules.map {
            LVSRules.lift($0, get: { c in if case .bfd(let s) = c.kind { s } else { BFDCheck() } }, set: { $0.kind = .bfd($1) })
        })),
    ]

    static func checkerSchema(_ keyword: String) -> BlockSchema<HealthChecker>? {
        checkerSchemas.first { $0.0 == keyword }?.1
    }

    static func encode(_ checker: HealthChecker, into w: inout ConfigWriter) {
        let keyword = checker.kind.keyword
        guard let schema = checkerSchema(keyword) else { return }
        w.block([keyword]) { w in schema.encode(checker, into: &w) }
    }
}

// MARK: - Rule builders specific to the LVS blocks

enum LVSRules {
    /// Wraps a rule of a part of the model so it reads and writes that part of `M`.
    static func lift<Sub, M>(
        _ r: KeywordRule<Sub>, get: @escaping @Sendable (M) -> Sub, set: @escaping @Sendable (inout M, Sub) -> Void
    ) -> KeywordRule<M> {
        lift(r, get: get, modify: { model, body in
            var sub = get(model)
            body(&sub)
            set(&model, sub)
        })
    }

    /// Wraps a rule of a part of the model, changing that part in place (`modify` hands the part
    /// to the rule without keeping a second reference, so arrays inside it are not copied).
    static func lift<Sub, M>(
        _ r: KeywordRule<Sub>, get: @escaping @Sendable (M) -> Sub,
        modify: @escaping @Sendable (inout M, (inout Sub) -> Void) -> Void
    ) -> KeywordRule<M> {
        let shape: KeywordRule<M>.Shape
        switch r.shape {
        case .value: shape = .value
        case .block: shape = .block
        case .either: shape = .either
        }
        return KeywordRule<M>(
            r.name, aliases: r.aliases, help: r.help, shape: shape, repeatable: r.repeatable,
            decode: { model, node, ctx in modify(&model) { r.decode(&$0, node, ctx) } },
            encode: { model, w in r.encode(get(model), &w) })
    }

    /// Lifts an HTTP option into HTTP_GET or SSL_GET, keeping the checker's kind.
    static func liftHTTP(_ r: KeywordRule<HTTPCheck>) -> KeywordRule<HealthChecker> {
        lift(
            r,
            get: { c in
                switch c.kind {
                case .http(let h), .ssl(let h): h
                default: HTTPCheck()
                }
            },
            modify: { c, body in
                // Take the payload out (leaving a payload-less kind) so it is changed in place.
                switch c.kind {
                case .http(var h):
                    c.kind = .tcp
                    body(&h)
                    c.kind = .http(h)
                case .ssl(var h):
                    c.kind = .tcp
                    body(&h)
                    c.kind = .ssl(h)
                default:
                    var h = HTTPCheck()
                    body(&h)
                    c.kind = .http(h)
                }
            })
    }

    /// A flag that also takes an optional BOOL; printed as the bare keyword when on.
    static func flagBool<M>(_ name: String, _ kp: WritableKeyPath<M, Bool> & Sendable, help: String) -> KeywordRule<M> {
        KeywordRule<M>(
            name, help: help,
            decode: { model, node, ctx in
                if let v = ctx.optionalBoolean(node) { model[keyPath: kp] = v }
            },
            encode: { model, w in if model[keyPath: kp] { w.line(name) } })
    }

    /// A single string value that always has one (a default is printed too).
    static func text<M>(_ name: String, _ kp: WritableKeyPath<M, String> & Sendable, help: String) -> KeywordRule<M> {
        KeywordRule<M>(
            name, help: help,
            decode: { model, node, ctx in
                guard ctx.expectArguments(node, 1...1, usage: "\(name) VALUE") else { return }
                model[keyPath: kp] = node.arguments[0].text
            },
            encode: { model, w in w.line(name, model[keyPath: kp]) })
    }

    static func schedulerFlag(_ flag: LVSSchedulerFlag, help: String) -> KeywordRule<VirtualServer> {
        KeywordRule<VirtualServer>(
            flag.rawValue, help: help,
            decode: { vs, node, ctx in
                guard ctx.expectArguments(node, 0...0, usage: flag.rawValue) else { return }
                if !vs.schedulerFlags.contains(flag) {
                    vs.schedulerFlags.append(flag)
                    vs.schedulerFlags = LVSSchedulerFlag.allCases.filter(vs.schedulerFlags.contains)
                }
            },
            encode: { vs, w in if vs.schedulerFlags.contains(flag) { w.line(flag.rawValue) } })
    }

    static func forwarding<M>(
        _ name: String, aliases: [String] = [], _ kp: WritableKeyPath<M, LVSForwardingMethod> & Sendable, help: String
    ) -> KeywordRule<M> {
        KeywordRule<M>(
            name, aliases: aliases, help: help,
            decode: { model, node, ctx in
                if let m = ctx.lvsForwarding(node) { model[keyPath: kp] = m }
            },
            encode: { model, w in w.line([name] + model[keyPath: kp].words) })
    }

    static func forwarding<M>(
        _ name: String, aliases: [String] = [], _ kp: WritableKeyPath<M, LVSForwardingMethod?> & Sendable, help: String
    ) -> KeywordRule<M> {
        KeywordRule<M>(
            name, aliases: aliases, help: help,
            decode: { model, node, ctx in
                if let m = ctx.lvsForwarding(node) { model[keyPath: kp] = m }
            },
            encode: { model, w in if let m = model[keyPath: kp] { w.line([name] + m.words) } })
    }

    static func family<M>(_ name: String, _ kp: WritableKeyPath<M, AddressFamily?> & Sendable, help: String) -> KeywordRule<M> {
        KeywordRule<M>(
            name, help: help,
            decode: { model, node, ctx in
                guard ctx.expectArguments(node, 1...1, usage: "\(name) inet|inet6"),
                    let f = AddressFamily.lvsParse(node.arguments[0], context: ctx)
                else { return }
                model[keyPath: kp] = f
            },
            encode: { model, w in if let f = model[keyPath: kp] { w.line(name, f.rawValue) } })
    }

    static func address<M>(_ name: String, _ kp: WritableKeyPath<M, IPAddress?> & Sendable, help: String) -> KeywordRule<M> {
        KeywordRule<M>(
            name, help: help,
            decode: { model, node, ctx in
                guard ctx.expectArguments(node, 1...1, usage: "\(name) IP"),
                    let a = ctx.lvsAddress(node.arguments[0], what: name)
                else { return }
                model[keyPath: kp] = a
            },
            encode: { model, w in if let a = model[keyPath: kp] { w.line(name, a.description) } })
    }

    static func endpoint<M>(_ name: String, _ kp: WritableKeyPath<M, LVSEndpoint?> & Sendable, help: String) -> KeywordRule<M> {
        KeywordRule<M>(
            name, help: help,
            decode: { model, node, ctx in
                guard ctx.expectArguments(node, 1...2, usage: "\(name) IP [PORT]"),
                    let e = ctx.lvsEndpoint(node.arguments[...], what: name)
                else { return }
                model[keyPath: kp] = e
            },
            encode: { model, w in if let e = model[keyPath: kp] { w.line([name] + e.words) } })
    }

    static func persistenceTimeout() -> KeywordRule<VirtualServer> {
        KeywordRule<VirtualServer>(
            "persistence_timeout", help: "persistence timeout in seconds (360 when given without a value)",
            decode: { vs, node, ctx in
                guard ctx.expectArguments(node, 0...1, usage: "persistence_timeout [SECONDS]") else { return }
                guard let token = node.arguments.first else {
                    vs.persistenceTimeout = LVSDecoder.defaultPersistenceTimeout
                    return
                }
                if let v = ctx.integer(token, 1...Int(UInt32.max), what: "persistence_timeout") { vs.persistenceTimeout = v }
            },
            encode: { vs, w in if let v = vs.persistenceTimeout { w.line("persistence_timeout", String(v)) } })
    }

    static func persistenceGranularity() -> KeywordRule<VirtualServer> {
        KeywordRule<VirtualServer>(
            "persistence_granularity", help: "client netmask for persistence: IPv4 netmask or IPv6 prefix length",
            decode: { vs, node, ctx in
                guard ctx.expectArguments(node, 1...1, usage: "persistence_granularity NETMASK|PREFIXLEN") else { return }
                let token = node.arguments[0]
                if token.text.contains(".") {
                    guard let address = IPAddress(token.text), address.family == .inet else {
                        ctx.error("bad-value", "'\(token.text)' is not an IPv4 netmask", at: token.location,
                                  hint: "write a netmask such as 255.255.255.0")
                        return
                    }
                    let mask = address.bytes.reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
                    let inverted = ~mask
                    guard inverted & (inverted &+ 1) == 0, mask != 0 else {
                        ctx.error("bad-value", "IPv4 netmask '\(token.text)' is not contiguous", at: token.location,
                                  hint: "the one bits must come first, as in 255.255.255.0")
                        return
                    }
                } else {
                    guard ctx.integer(token, 1...128, what: "IPv6 persistence_granularity") != nil else { return }
                }
                vs.persistenceGranularity = token.text
            },
            encode: { vs, w in if let g = vs.persistenceGranularity { w.line("persistence_granularity", g) } })
    }

    static func realServers() -> KeywordRule<VirtualServer> {
        KeywordRule<VirtualServer>(
            "real_server", help: "a real server: real_server IP [PORT] { ... }", shape: .block, repeatable: true,
            decode: { vs, node, ctx in
                let children = node.children ?? []
                guard ctx.expectArguments(node, 1...2, usage: "real_server IP [PORT] { ... }"),
                    let endpoint = ctx.lvsEndpoint(node.arguments[...], what: "real server address")
                else {
                    var scratch = RealServer(endpoint: LVSEndpoint(address: IPAddress(family: .inet, bytes: [0, 0, 0, 0])))
                    ctx.inBlock("real_server (invalid)", at: node.location) {
                        LVSDecoder.realServerSchema.decode(children, into: &scratch, context: ctx)
                    }
                    return
                }
                var rs = RealServer(endpoint: endpoint)
                ctx.inBlock("real_server #\(vs.realServers.count + 1)", at: node.location) {
                    LVSDecoder.realServerSchema.decode(children, into: &rs, context: ctx)
                }
                vs.realServers.append(rs)
            },
            encode: { vs, w in
                for rs in vs.realServers {
                    w.block(["real_server"] + rs.endpoint.words) { w in
                        LVSDecoder.realServerSchema.encode(rs, into: &w)
                        for checker in rs.checkers { LVSDecoder.encode(checker, into: &w) }
                    }
                }
            })
    }

    /// A checker block; the real server's checkers are printed in order by the `real_server` rule.
    static func checker(
        _ keyword: String, help: String, make: @escaping @Sendable () -> HealthChecker.Kind
    ) -> KeywordRule<RealServer> {
        KeywordRule<RealServer>(
            keyword, help: help, shape: .block, repeatable: true,
            decode: { rs, node, ctx in
                ctx.expectArguments(node, 0...0, usage: "\(keyword) { ... }")
                guard let schema = LVSDecoder.checkerSchema(keyword) else { return }
                var checker = HealthChecker(kind: make())
                ctx.inBlock("\(keyword) #\(rs.checkers.count + 1)", at: node.location) {
                    schema.decode(node.children ?? [], into: &checker, context: ctx)
                }
                rs.checkers.append(checker)
            },
            encode: { _, _ in })
    }

    static func urls() -> KeywordRule<HTTPCheck> {
        KeywordRule<HTTPCheck>(
            "url", help: "a url to check: url { path ... }", shape: .block, repeatable: true,
            decode: { h, node, ctx in
                ctx.expectArguments(node, 0...0, usage: "url { path /; status_code 200 }")
                var url = URLCheck()
                url.statusCodes = []
                ctx.inBlock("url #\(h.urls.count + 1)", at: node.location) {
                    LVSDecoder.urlSchema.decode(node.children ?? [], into: &url, context: ctx)
                }
                if url.statusCodes.isEmpty { url.statusCodes = [200...299] }
                h.urls.append(url)
            },
            encode: { h, w in
                for url in h.urls { w.block(["url"]) { w in LVSDecoder.urlSchema.encode(url, into: &w) } }
            })
    }

    static func statusCodes() -> KeywordRule<URLCheck> {
        KeywordRule<URLCheck>(
            "status_code", help: "accepted HTTP status codes and ranges (default 200-299)", repeatable: true,
            decode: { url, node, ctx in
                guard ctx.expectArguments(node, 1...600, usage: "status_code CODE|FIRST-LAST ...") else { return }
                for token in node.arguments {
                    guard let range = ctx.lvsStatusRange(token) else { continue }
                    if !url.statusCodes.contains(range) { url.statusCodes.append(range) }
                }
            },
            encode: { url, w in
                let words = url.statusCodes.map { $0.lowerBound == $0.upperBound ? String($0.lowerBound) : "\($0.lowerBound)-\($0.upperBound)" }
                if !words.isEmpty { w.line(["status_code"] + words) }
            })
    }

    static func regexOptions() -> KeywordRule<URLCheck> {
        KeywordRule<URLCheck>(
            "regex_options", help: "PCRE2 options for regex", repeatable: true,
            decode: { url, node, ctx in
                guard ctx.expectArguments(node, 1...64, usage: "regex_options OPTION ...") else { return }
                for token in node.arguments {
                    if let o = ctx.enumeration(token, as: LVSRegexOption.self, what: "regex option"), !url.regexOptions.contains(o) {
                        url.regexOptions.append(o)
                    }
                }
            },
            encode: { url, w in if !url.regexOptions.isEmpty { w.line(["regex_options"] + url.regexOptions.map(\.rawValue)) } })
    }

    static func regexStack() -> KeywordRule<URLCheck> {
        KeywordRule<URLCheck>(
            "regex_stack", help: "PCRE2 JIT stack START MAX in bytes",
            decode: { url, node, ctx in
                guard ctx.expectArguments(node, 2...2, usage: "regex_stack START MAX"),
                    let start = ctx.integer(node.arguments[0], 1...Int(Int32.max), what: "regex_stack start"),
                    let max = ctx.integer(node.arguments[1], 1...Int(Int32.max), what: "regex_stack maximum")
                else { return }
                guard start <= max else {
                    ctx.error("bad-range", "regex_stack start \(start) is larger than its maximum \(max)", at: node.arguments[1].location)
                    return
                }
                url.regexStack = URLCheck.RegexStack(start: start, max: max)
            },
            encode: { url, w in if let s = url.regexStack { w.line("regex_stack", String(s.start), String(s.max)) } })
    }

    static func smtpHosts() -> KeywordRule<SMTPCheck> {
        KeywordRule<SMTPCheck>(
            "host", help: "old-style extra server to check: host { connect_ip ... }", shape: .block, repeatable: true,
            decode: { smtp, node, ctx in
                ctx.expectArguments(node, 0...0, usage: "host { connect_ip IP; connect_port PORT }")
                var host = HealthChecker.Connection()
                ctx.inBlock("host #\(smtp.hosts.count + 1)", at: node.location) {
                    LVSDecoder.smtpHostSchema.decode(node.children ?? [], into: &host, context: ctx)
                }
                smtp.hosts.append(host)
            },
            encode: { smtp, w in
                for host in smtp.hosts { w.block(["host"]) { w in LVSDecoder.smtpHostSchema.encode(host, into: &w) } }
            })
    }

    static func miscPath() -> KeywordRule<MiscCheck> {
        KeywordRule<MiscCheck>(
            "misc_path", help: "the command to run (quote it when it has arguments)",
            decode: { misc, node, ctx in
                guard ctx.expectArguments(node, 1...64, usage: "misc_path \"/path/to/script args\"") else { return }
                let command = node.words.joined(separator: " ")
                do {
                    _ = try ShellWords.split(command)
                } catch let error as ShellWords.Failure {
                    ctx.error("script-syntax", "misc_path: \(error.message)", at: node.arguments[0].location)
                    return
                } catch {
                    return
                }
                if command.trimmingBlanks().isEmpty {
                    ctx.error("missing-value", "'misc_path' needs a command", at: node.location)
                    return
                }
                misc.path = command
            },
            encode: { misc, w in if let p = misc.path { w.line("misc_path", p) } })
    }

    static func miscUser() -> KeywordRule<MiscCheck> {
        KeywordRule<MiscCheck>(
            "user", help: "user (and group) that runs the command",
            decode: { misc, node, ctx in
                guard ctx.expectArguments(node, 1...2, usage: "user USERNAME [GROUPNAME]") else { return }
                misc.user = node.arguments[0].text
                misc.group = node.arguments.count > 1 ? node.arguments[1].text : nil
            },
            encode: { misc, w in
                if let u = misc.user { w.line(["user", u] + (misc.group.map { [$0] } ?? [])) }
            })
    }

    static func payload() -> KeywordRule<UDPCheck> {
        KeywordRule<UDPCheck>(
            "payload", help: "bytes to send, in hex",
            decode: { udp, node, ctx in
                guard ctx.expectArguments(node, 1...4096, usage: "payload HEX") else { return }
                guard let p = ctx.lvsHex(node.arguments, wildcards: false) else { return }
                udp.payload = p.bytes
            },
            encode: { udp, w in if let p = udp.payload { w.line("payload", LVSHex.format(p, mask: nil)) } })
    }

    static func requireReply() -> KeywordRule<UDPCheck> {
        KeywordRule<UDPCheck>(
            "require_reply", help: "a reply is needed; optional hex with x wildcards it must match",
            decode: { udp, node, ctx in
                guard let p = ctx.lvsHex(node.arguments, wildcards: true) else { return }
                udp.requireReply = UDPCheck.ReplyPattern(bytes: p.bytes, mask: p.mask)
            },
            encode: { udp, w in
                guard let r = udp.requireReply else { return }
                w.line(["require_reply"] + (r.bytes.isEmpty ? [] : [LVSHex.format(r.bytes, mask: r.mask)]))
            })
    }

    static func fileWeight() -> KeywordRule<FileCheck> {
        KeywordRule<FileCheck>(
            "weight", help: "multiplier for the file's value: weight W [reverse]",
            decode: { file, node, ctx in
                guard ctx.expectArguments(node, 1...2, usage: "weight W [reverse]"),
                    let v = ctx.integer(node.arguments[0], -2_147_483_647...2_147_483_647, what: "weight")
                else { return }
                var reverse = false
                if node.arguments.count == 2 {
                    let t = node.arguments[1]
                    guard t.text == "reverse" else {
                        ctx.error("bad-value", "unexpected '\(t.text)' after the weight", at: t.location, hint: "usage: weight W [reverse]")
                        return
                    }
                    reverse = true
                }
                file.weight = TrackWeight(weight: v, reverse: reverse)
            },
            encode: { file, w in
                if let tw = file.weight { w.line(["weight", String(tw.weight)] + (tw.reverse ? ["reverse"] : [])) }
            })
    }
}

/// Hex strings of UDP_CHECK: blanks are ignored between words, each word is read two digits at a
/// time and an odd last digit stands alone (`f` is `0f`); `x` in `require_reply` is a wildcard nibble.
enum LVSHex {
    static func value(_ c: UInt8) -> UInt16? {
        switch c {
        case 48...57: UInt16(c - 48)
        case 65...70: UInt16(c - 55)
        case 97...102: UInt16(c - 87)
        default: nil
        }
    }

    static func format(_ bytes: [UInt8], mask: [UInt8]?) -> String {
        let digits = Array("0123456789abcdef")
        var s = ""
        for (i, b) in bytes.enumerated() {
            let m = mask.map { i < $0.count ? $0[i] : 0xff } ?? 0xff
            s.append(m & 0xf0 == 0 ? "x" : digits[Int(b >> 4)])
            s.append(m & 0x0f == 0 ? "x" : digits[Int(b & 0x0f)])
        }
        return s
    }
}

// MARK: - Value readers

extension DecodeContext {
    func lvsAddress(_ token: Token, what: String) -> IPAddress? {
        if let a = IPAddress(token.text) { return a }
        error("bad-address", "'\(token.text)' is not an IP address for \(what)", at: token.location,
              hint: "write an IPv4 address such as 192.168.1.10 or an IPv6 address such as 2001:db8::10")
        return nil
    }

    /// `IP [PORT]`.
    func lvsEndpoint(_ tokens: ArraySlice<Token>, what: String) -> LVSEndpoint? {
        guard let first = tokens.first, let address = lvsAddress(first, what: what) else { return nil }
        var endpoint = LVSEndpoint(address: address)
        if tokens.count > 1 {
            let portToken = tokens[tokens.index(after: tokens.startIndex)]
            guard let port = integer(portToken, LVSDecoder.portRange, what: "port") else { return nil }
            endpoint.port = port
        }
        return endpoint
    }

    /// `NAT | DR | TUN [type ipip|gue port N|gre] [nocsum|csum|remcsum]`.
    func lvsForwarding(_ node: ConfigNode) -> LVSForwardingMethod? {
        let name = node.keyword.text
        let usage = "\(name) NAT|DR|TUN [type ipip|gue port N|gre] [nocsum|csum|remcsum]"
        guard expectArguments(node, 1...6, usage: usage),
            let kind = enumeration(node.arguments[0], as: LVSForwardingKind.self, what: "forwarding method")
        else { return nil }
        let rest = node.arguments.dropFirst()
        switch kind {
        case .nat, .dr:
            if let extra = rest.first {
                error("unexpected-value", "unexpected '\(extra.text)' after '\(kind.rawValue)'", at: extra.location,
                      hint: "only TUN takes options")
                return nil
            }
            return kind == .nat ? .nat : .dr
        case .tun:
            var tunnel = LVSTunnel()
            var i = rest.startIndex
            guard i < rest.endIndex else { return .tun(tunnel) }
            guard rest[i].text == "type" else {
                error("unexpected-value", "unexpected '\(rest[i].text)' after 'TUN'", at: rest[i].location, hint: "usage: \(usage)")
                return nil
            }
            i += 1
            guard i < rest.endIndex else {
                error("missing-value", "'type' needs a tunnel type", at: rest[i - 1].location, hint: "usage: \(usage)")
                return nil
            }
            guard let type = enumeration(rest[i], as: LVSTunnelType.self, what: "tunnel type") else { return nil }
            tunnel.type = type
            let typeToken = rest[i]
            i += 1
            if type == .gue {
                guard i + 1 < rest.endIndex, rest[i].text == "port" else {
                    error("missing-value", "a gue tunnel needs 'port N'", at: typeToken.location, hint: "usage: \(usage)")
                    return nil
                }
                guard let port = integer(rest[i + 1], 1...65535, what: "gue port") else { return nil }
                tunnel.port = port
                i += 2
            }
            if i < rest.endIndex {
                let t = rest[i]
                guard let checksum = enumeration(t, as: LVSTunnelChecksum.self, what: "tunnel checksum option") else { return nil }
                if type == .ipip {
                    error("bad-value", "checksum options need a gue or gre tunnel, not ipip", at: t.location)
                    return nil
                }
                if type == .gre, checksum == .remcsum {
                    error("bad-value", "remcsum is not available for gre tunnels", at: t.location, hint: "use nocsum or csum")
                    return nil
                }
                tunnel.checksum = checksum
                i += 1
            }
            if i < rest.endIndex {
                error("unexpected-value", "unexpected '\(rest[i].text)' after '\(name)'", at: rest[i].location, hint: "usage: \(usage)")
                return nil
            }
            return .tun(tunnel)
        }
    }

    /// `200` or `200-299`, within 100...599.
    func lvsStatusRange(_ token: Token) -> ClosedRange<Int>? {
        let codes = 100...599
        let bytes = Array(token.text.utf8)
        if let dash = bytes.firstIndex(of: UInt8(ascii: "-")), dash > 0 {
            let lowToken = Token(.word, String(decoding: bytes[..<dash], as: UTF8.self), at: token.location)
            let highToken = Token(
                .word, String(decoding: bytes[(dash + 1)...], as: UTF8.self),
                at: token.location.atColumn(token.location.column + dash + 1))
            guard let low = integer(lowToken, codes, what: "status_code"), let high = integer(highToken, codes, what: "status_code")
            else { return nil }
            guard low <= high else {
                error("bad-range", "status code range '\(token.text)' ends before it starts", at: token.location)
                return nil
            }
            return low...high
        }
        return integer(token, codes, what: "status_code").map { $0...$0 }
    }

    /// Reads a hex string spread over `tokens`.
    func lvsHex(_ tokens: [Token], wildcards: Bool) -> (bytes: [UInt8], mask: [UInt8])? {
        var bytes: [UInt8] = []
        var mask: [UInt8] = []
        for token in tokens {
            var nibbles: [(UInt8, UInt8)] = []  // (value, mask)
            for (offset, c) in token.text.utf8.enumerated() {
                if let v = LVSHex.value(c) {
                    nibbles.append((UInt8(v), 0xf))
                } else if wildcards, c == UInt8(ascii: "x") || c == UInt8(ascii: "X") {
                    nibbles.append((0, 0))
                } else {
                    let location = token.location.atColumn(token.location.column + offset)
                    error("bad-value", "'\(token.text)' is not hex\(wildcards ? " (x is a wildcard)" : "")", at: location,
                          hint: "write bytes as hex digits, such as 'payload 0a1b2c'")
                    return nil
                }
            }
            var k = 0
            while k < nibbles.count {
                if k + 1 < nibbles.count {
                    bytes.append(nibbles[k].0 << 4 | nibbles[k + 1].0)
                    mask.append(nibbles[k].1 << 4 | nibbles[k + 1].1)
                    k += 2
                } else {
                    bytes.append(nibbles[k].0)
                    mask.append(0xf0 | nibbles[k].1)
                    k += 1
                }
            }
        }
        return (bytes, mask)
    }
}
