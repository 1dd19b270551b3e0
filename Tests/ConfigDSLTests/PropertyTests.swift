import Testing
@testable import ConfigDSL

/// Builds random but valid configuration models from a seed, so a failure replays exactly.
struct ModelGenerator {
    var rng: SplitMix64

    init(seed: UInt64) { rng = SplitMix64(seed: seed) }

    mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &rng) }
    mutating func bool() -> Bool { Bool.random(using: &rng) }
    mutating func maybe<T>(_ make: (inout ModelGenerator) -> T) -> T? { bool() ? make(&self) : nil }
    mutating func pick<T>(_ values: [T]) -> T { values[int(0...values.count - 1)] }
    mutating func seconds() -> Seconds { pick([0, 0.5, 1, 2, 3.25, 10, 0.000001, 120]) }
    mutating func name(_ prefix: String) -> String { "\(prefix)_\(int(0...9999))" }

    mutating func ipv4(_ net: String = "192.0.2") -> IPAddress { IPAddress("\(net).\(int(1...254))")! }
    mutating func ipv6() -> IPAddress { IPAddress("2001:db8::\(String(int(1...0xffff), radix: 16))")! }

    mutating func command() -> ScriptCommand {
        var c = ScriptCommand(command: pick(["/usr/local/bin/notify.sh", "/bin/echo hello world", "/x/y.sh 'a b' c"]))
        if bool() { c.user = pick(["root", "nobody"]) }
        if c.user != nil, bool() { c.group = "nogroup" }
        return c
    }

    mutating func address(v6: Bool) -> AddressLine {
        let a = v6 ? ipv6() : ipv4()
        var line = AddressLine(prefix: IPPrefix(address: a, length: v6 ? pick([64, 128]) : pick([24, 32])))
        if !v6, bool() { line.broadcast = pick(["+", "-", "192.0.2.255"]) }
        if bool() { line.device = pick(["eth0", "eth1"]) }
        if bool() { line.scope = pick(AddressScope.allCases) }
        if bool() { line.label = "eth0:\(int(0...9))" }
        line.noDAD = bool()
        line.noTrack = bool()
        line.home = bool()
        if bool() { line.preferredLifetime = pick([.forever, .seconds(int(0...1000))]) }
        return line
    }

    mutating func route() -> RouteLine {
        var r = RouteLine()
        r.destination = bool() ? IPPrefix(address: ipv4("198.51.100"), length: 32) : nil
        r.via = ipv4()
        if bool() { r.device = "eth0" }
        if bool() { r.table = String(int(1...250)) }
        if bool() { r.metric = int(0...1000) }
        if bool() { r.metrics["mtu"] = int(576...9000) }
        r.onlink = bool()
        r.noTrack = bool()
        return r
    }

    mutating func rule() -> RuleLine {
        var r = RuleLine()
        r.from = IPPrefix(address: ipv4(), length: 32)
        if bool() { r.table = String(int(1...250)) }
        r.preference = int(1...30000)
        if bool() { r.fwmark = "0x\(String(int(1...255), radix: 16))" }
        return r
    }

    mutating func references(_ names: [String]) -> [TrackReference] {
        guard !names.isEmpty else { return [] }
        return (0..<int(0...2)).map { _ in
            TrackReference(name: pick(names), weight: maybe { $0.int(-253...253) }, reverse: maybe { $0.bool() })
        }
    }

    mutating func instance(index: Int, scripts: [String]) -> VRRPInstance {
        var i = VRRPInstance(name: "VI_\(index)")
        i.state = pick(InstanceState.allCases)
        i.interface = pick(["eth0", "eth1", "bond0.10"])
        i.virtualRouterID = index % 255 + 1
        i.priority = int(1...255)
        i.advertInterval = pick([1, 2, 0.5, 0.01, 40.95])
        i.version = maybe { $0.pick([2, 3]) }
        let v6 = bool()
        i.virtualIPAddresses = (0..<int(0...3)).map { _ in address(v6: v6) }
        i.excludedIPAddresses = (0..<int(0...2)).map { _ in address(v6: bool()) }
        i.noVirtualIPAddress = i.virtualIPAddresses.isEmpty && bool()
        i.virtualRoutes = (0..<int(0...2)).map { _ in route() }
        i.virtualRules = (0..<int(0...2)).map { _ in rule() }
        i.sourceAddress = maybe { $0.ipv4() }
        i.unicastPeers = (0..<int(0...2)).map { _ in UnicastPeer(address: ipv4("203.0.113"), minTTL: maybe { $0.int(0...128) }, maxTTL: maybe { $0.int(128...255) }) }
        i.unicastTTL = maybe { $0.int(0...255) }
        i.checkUnicastSource = maybe { $0.bool() }
        i.trackInterfaces = references(["eth1", "eth2"])
        i.trackScripts = references(scripts)
        i.nopreempt = bool()
        i.preemptDelay = maybe { $0.pick([0, 5, 300.5]) }
        if bool() {
            var a = Authentication()
            a.type = pick(Authentication.AuthType.allCases)
            a.password = maybe { $0.pick(["1111", "secret12", "x y"]) }
            i.authentication = a
        }
        i.accept = maybe { $0.bool() }
        i.garpMasterDelay = maybe { $0.seconds() }
        i.garpMasterRepeat = maybe { $0.int(0...255) }
        i.garpMasterRefresh = maybe { $0.seconds() }
        i.garpLowerPriorityRepeat = maybe { $0.int(0...255) }
        i.garpExtraInterface = maybe { GarpExtraInterface(all: $0.bool(), interval: $0.seconds()) }
        i.downTimerAdverts = maybe { $0.int(1...100) }
        i.lowerPriorityNoAdvert = maybe { $0.bool() }
        i.higherPrioritySendAdvert = maybe { $0.bool() }
        i.timerExpiredBackup = maybe { $0.int(1...254) }
        if bool() { i.useVMAC = VMACOptions(words: bool() ? [] : ["vrrp.\(index)"]) }
        i.vmacTransmitBase = bool()
        i.strictMode = maybe { $0.bool() }
        i.notifyMaster = maybe { $0.command() }
        i.notify = maybe { $0.command() }
        i.notifyDeleted = bool()
        if i.notifyDeleted { i.notifyDeletedCommand = maybe { $0.command() } }
        i.smtpAlert = maybe { $0.bool() }
        return i
    }

    mutating func config() -> KeepalivedConfig {
        var c = KeepalivedConfig()
        c.globalDefs.routerID = maybe { $0.name("router") }
        c.globalDefs.notificationEmail = (0..<int(0...2)).map { "ops\($0)@example.com" }
        c.globalDefs.vrrpVersion = pick([2, 3])
        c.globalDefs.vrrpGarpMasterDelay = seconds()
        c.globalDefs.vrrpStrict = bool()
        c.globalDefs.enableScriptSecurity = bool()
        c.globalDefs.scriptUser = maybe { _ in ["nobody"] }
        c.globalDefs.vrrpStartupDelay = seconds()
        c.globalDefs.vrrpMulticastGroup4 = maybe { _ in IPAddress("224.0.0.19")! }
        if bool() { c.globalDefs.scheduling["vrrp_priority"] = ["-5"] }
        c.netNamespace = maybe { $0.name("ns") }
        c.childWaitTime = int(0...60)
        let scripts = (0..<int(0...3)).map { "chk_\($0)" }
        c.vrrpScripts = scripts.map { n in
            var s = VRRPScript(name: n)
            s.script = command()
            s.interval = pick([1, 2, 0.5])
            s.timeout = pick([1, 3])
            s.weight = TrackWeight(weight: int(-253...253), reverse: bool())
            s.rise = int(1...5)
            s.fall = int(1...5)
            s.initFail = bool()
            if bool() { s.user = "nobody"; s.group = maybe { _ in "nogroup" } }
            return s
        }
        c.vrrpInstances = (0..<int(1...4)).map { instance(index: $0, scripts: scripts) }
        if bool() {
            var g = SyncGroup(name: "G")
            g.group = c.vrrpInstances.map(\.name)
            g.notifyMaster = maybe { $0.command() }
            g.trackScripts = references(scripts)
            c.syncGroups = [g]
        }
        c.staticIPAddresses = (0..<int(0...2)).map { _ in address(v6: false) }
        c.staticRoutes = (0..<int(0...1)).map { _ in route() }
        if bool() { c.linkbeatInterfaces = [LinkbeatInterface(interface: "eth0", method: maybe { $0.pick(LinkbeatInterface.Method.allCases) })] }
        if bool() { c.interfaceUpDownDelays = [InterfaceDelay(interface: "eth0", downDelay: 2, upDelay: pick([2, 5]))] }
        if bool() {
            var t = TrackFile(name: "tf")
            t.file = "/run/tf"
            t.weight = TrackWeight(weight: int(-100...100), reverse: bool())
            c.trackFiles = [t]
        }
        if bool() {
            var b = BFDInstance(name: "bfd1")
            b.neighborIP = ipv4()
            b.minRx = int(1...1000)
            b.multihop = bool()
            c.bfdInstances = [b]
        }
        return c
    }
}

/// LVS snippets that the printer must reproduce exactly.
let lvsSnippets = [
    """
    virtual_server 192.0.2.100 80 {
        delay_loop 6
        lb_algo rr
        lb_kind DR
        persistence_timeout 50
        protocol TCP
        real_server 192.0.2.21 80 { weight 4
            TCP_CHECK { connect_timeout 3 } }
        real_server 192.0.2.22 80 { weight 6
            HTTP_GET { url { path /health
                    status_code 200-299 }
                connect_timeout 2 } }
    }
    """,
    """
    virtual_server_group web { 192.0.2.1 80
        198.51.100.1-10 443
        fwmark 7 }
    virtual_server group web {
        lvs_sched wlc
        protocol TCP
        quorum 2
        sorry_server 203.0.113.9 80
        real_server 198.51.100.20 80 { weight 1
            MISC_CHECK { misc_path "/bin/true x"
                misc_dynamic } }
    }
    """,
]

@Suite struct RoundTripTests {
    /// Prints `config`, parses the text again, and returns the result.
    func reparse(_ config: KeepalivedConfig) -> (LoadResult, String) {
        let text = ConfigDecoder.encode(config)
        return (load(text, unknown: .error), text)
    }

    @Test(arguments: 0..<300)
    func printingAndParsingARandomModelGivesTheSameModel(seed: UInt64) {
        var generator = ModelGenerator(seed: seed)
        var config = generator.config()
        if seed % 3 == 0 {
            let lvs = load(lvsSnippets[Int(seed / 3) % lvsSnippets.count])
            config.virtualServers = lvs.config.virtualServers
            config.virtualServerGroups = lvs.config.virtualServerGroups
        }
        let (result, text) = reparse(config)
        let decodeErrors = result.errors.filter { ["unknown-keyword", "bad-value", "out-of-range", "missing-value", "unexpected-value", "bad-address", "unknown-option"].contains($0.code) }
        #expect(decodeErrors.isEmpty, "seed \(seed): \(decodeErrors)\n\(text)")
        #expect(result.config == config, "seed \(seed) does not round-trip:\n\(text)")
    }

    @Test func seedExamplesRoundTrip() throws {
        for name in ["seed-1-basic.conf", "seed-2-global-defs.conf", "seed-3-track-and-lvs.conf"] {
            var options = ConfigLoader.Options()
            options.host = HostEnvironment(interfaceExists: nil, inspectScriptFiles: false)
            let first = ConfigLoader(options: options).load(path: repositoryRoot + "/Examples/" + name)
            let (second, text) = reparse(first.config)
            #expect(second.config == first.config, "\(name):\n\(text)")
            // The printed form is keepalived 2.x syntax: no lvs_id, no nested virtual_server.
            #expect(second.warnings.isEmpty, "\(name): \(second.warnings)")
        }
    }
}

@Suite struct RobustnessTests {
    static let corpus: [String] = [
        minimalInstance,
        "global_defs { router_id x }\n$P=1\n~SEQ(N,1,3) vrrp_instance V$N { interface eth0\n virtual_router_id ${N}\n priority $P }",
        "vrrp_script s { script \"/bin/true\"\n weight -2 reverse }\n@a include x.conf\n",
    ] + lvsSnippets

    static let fragments = ["{", "}", "\"", "#", "!", "$", "${", "~SEQ(", "~LST({a,b},{1,2})", "@", "@^", "\\", "\n", " ", "\t", "\r",
                            "$X=\\", "255", "-1", "99999999999999999999", "0.00000001", "::", "1.2.3.4/99", "weight", "include", "\u{0}", "é", "\u{FFFD}"]

    @Test(arguments: 0..<40)
    func mutatedInputNeverCrashes(batch: UInt64) {
        var rng = SplitMix64(seed: 1000 + batch)
        for _ in 0..<50 {
            var bytes = Array(Self.corpus[Int.random(in: 0..<Self.corpus.count, using: &rng)].utf8)
            for _ in 0..<Int.random(in: 1...8, using: &rng) {
                let position = bytes.isEmpty ? 0 : Int.random(in: 0...bytes.count, using: &rng)
                switch Int.random(in: 0...3, using: &rng) {
                case 0 where !bytes.isEmpty:
                    bytes.remove(at: min(position, bytes.count - 1))
                case 1:
                    bytes.insert(contentsOf: Array(Self.fragments[Int.random(in: 0..<Self.fragments.count, using: &rng)].utf8), at: position)
                case 2:
                    bytes.insert(UInt8.random(in: 0...255, using: &rng), at: position)
                default:
                    if !bytes.isEmpty {
                        let start = Int.random(in: 0..<bytes.count, using: &rng)
                        let end = min(bytes.count, start + Int.random(in: 1...40, using: &rng))
                        bytes.insert(contentsOf: bytes[start..<end], at: position)
                    }
                }
            }
            let text = String(decoding: bytes, as: UTF8.self)
            let result = load(text)
            // Every error has a place or says which file could not be read.
            for d in result.diagnostics where d.severity == .error {
                #expect(d.location != nil || d.category == .fatal || d.code == "unknown-reference", "batch \(batch): \(d)")
            }
        }
    }

    @Test func randomBytesNeverCrash() {
        var rng = SplitMix64(seed: 7)
        for _ in 0..<200 {
            let bytes = (0..<Int.random(in: 0...600, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            _ = load(String(decoding: bytes, as: UTF8.self))
        }
    }
}

@Suite struct StreamingTests {
    /// A file large enough to be decoded in several pieces (80,000 tokens; pieces are 65,536)
    /// gives the same result as one piece.
    @Test func loadingAFileInPiecesEqualsLoadingItWhole() throws {
        var text = "global_defs {\n router_id big\n}\n"
        for i in 0..<4000 {
            text += """
                vrrp_instance VI_\(i)
                {
                    interface eth\(i / 250)
                    virtual_router_id \(i % 250 + 1)
                    priority \(i % 200 + 1)
                    virtual_ipaddress { 192.0.2.\(i % 250 + 1)/24 }
                    track_interface { eth\(i / 250 + 100) weight -10 }
                }

                """
        }
        text += "vrrp_instance broken { virtual_router_id 999 }\n"
        let dir = TemporaryDirectory()
        let path = dir.write("big.conf", text)
        var options = ConfigLoader.Options()
        options.preprocessor = PreprocessorOptions(configID: "x")
        options.host = HostEnvironment(interfaceExists: nil, inspectScriptFiles: false)
        let streamed = ConfigLoader(options: options).load(path: path)
        let whole = ConfigLoader(options: options).load(text: text, name: path)
        #expect(streamed.config.vrrpInstances.count == 4001)
        #expect(streamed.config == whole.config)
        #expect(streamed.diagnostics == whole.diagnostics)
        #expect(streamed.first("out-of-range")?.location?.line == 32004)
    }
}

@Suite struct LargeValidationTests {
    /// 300 virtual servers are validated in two pieces; problems in both pieces are reported, in order.
    @Test func problemsInEveryPieceAreReported() {
        var text = ""
        for i in 0..<300 {
            let port = i == 10 || i == 290 ? "0" : "80"
            text += "virtual_server 192.0.2.\(i % 250 + 1) \(8000 + i) {\n lb_algo rr\n lb_kind NAT\n protocol TCP\n"
            text += " real_server 198.51.100.\(i % 250 + 1) \(port) { weight 1 }\n real_server 198.51.100.\(i % 250 + 1) \(port) { weight 1 }\n}\n"
        }
        let r = load(text)
        let duplicates = r.diagnostics.filter { $0.code == "duplicate-real-server" }
        #expect(duplicates.count == 300)
        #expect(duplicates.first?.location?.line == 6)
        #expect(duplicates.last?.location?.line == 299 * 7 + 6)
        #expect(r.diagnostics.map(\.location?.line) == r.diagnostics.map(\.location?.line).sorted { ($0 ?? 0) < ($1 ?? 0) })
    }
}
