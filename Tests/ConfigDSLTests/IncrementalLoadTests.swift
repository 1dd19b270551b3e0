import Foundation
import Testing
@testable import ConfigDSL

/// `ConfigLoader.load(path:previous:)`: a reload that reads only the changed `virtual_server`
/// blocks must give what a whole read gives, and must read the whole file whenever it cannot
/// be sure of that.
@Suite struct IncrementalLoadTests {
    static let loader: ConfigLoader = {
        var options = ConfigLoader.Options()
        options.decode = DecodeOptions(unknownKeywordSeverity: .warning)
        options.host = HostEnvironment(interfaceExists: nil, inspectScriptFiles: false)
        return ConfigLoader(options: options)
    }()

    static func virtualServer(_ port: Int, weights: [Int] = [1, 1], extra: String = "") -> String {
        var text = "virtual_server 192.0.2.10 \(port) {\n    delay_loop 6\n    lb_algo wrr\n    lb_kind NAT\n    protocol TCP\n\(extra)"
        for (k, w) in weights.enumerated() {
            text += "    real_server 198.51.100.\(k + 1) 80 {\n        weight \(w)\n        TCP_CHECK {\n            connect_timeout 3\n        }\n    }\n"
        }
        return text + "}\n"
    }

    static let head = """
        global_defs {
            router_id lb1
        }
        ! the web servers
        vrrp_instance VI_1 {
            state MASTER
            interface eth0
            virtual_router_id 51
            priority 100
            virtual_ipaddress {
                192.0.2.10/24
            }
        }

        """

    static func file(_ ports: [Int], weights: [Int: [Int]] = [:], tail: String = "") -> String {
        head + ports.map { virtualServer($0, weights: weights[$0] ?? [1, 1]) }.joined(separator: "\n") + tail
    }

    /// Writes `texts` in turn to one file, loads each with the previous snapshot, and checks each
    /// result against a whole read of the same text. Returns the changes of each load.
    @discardableResult
    static func reload(_ texts: [String], sourceLocation: Testing.SourceLocation = #_sourceLocation) -> [ReloadResult.Changes] {
        let dir = TemporaryDirectory()
        let path = dir.path + "/keepalived.conf"
        var snapshot: ConfigSnapshot?
        var changes: [ReloadResult.Changes] = []
        for text in texts {
            dir.write("keepalived.conf", text)
            let result = loader.load(path: path, previous: snapshot)
            let whole = loader.load(path: path)
            #expect(result.config == whole.config, "the model differs from a whole read", sourceLocation: sourceLocation)
            #expect(result.diagnostics.map(\.description) == whole.diagnostics.map(\.description),
                    sourceLocation: sourceLocation)
            changes.append(result.changes)
            snapshot = result.snapshot
        }
        return changes
    }

    @Test func firstLoadAndUnchangedFile() {
        let c = Self.reload([Self.file([80, 81, 82]), Self.file([80, 81, 82])])
        #expect(c[0] == .all(reason: "first load"))
        #expect(c[1] == .virtualServers([]))
    }

    @Test func oneWeightChangedReadsOneBlock() {
        let c = Self.reload([Self.file([80, 81, 82, 83]), Self.file([80, 81, 82, 83], weights: [82: [1, 5]])])
        #expect(c[1] == .virtualServers([VirtualServerEdit(old: 2..<3, new: 2..<3)]))
    }

    @Test func twoChangesFarApartAreTwoEdits() {
        let ports = Array(80..<100)
        let c = Self.reload([Self.file(ports), Self.file(ports, weights: [80: [2, 1], 99: [1, 3]])])
        #expect(c[1] == .virtualServers([VirtualServerEdit(old: 0..<1, new: 0..<1), VirtualServerEdit(old: 19..<20, new: 19..<20)]))
    }

    @Test func addedAndRemovedBlocks() {
        let c = Self.reload([Self.file([80, 81, 82]), Self.file([80, 81, 90, 82]), Self.file([80, 90, 82]),
                             Self.file([80, 90, 82, 83, 84]), Self.file([90, 82, 83, 84])])
        #expect(c[1] == .virtualServers([VirtualServerEdit(old: 2..<2, new: 2..<3)]))
        #expect(c[2] == .virtualServers([VirtualServerEdit(old: 1..<2, new: 1..<1)]))
        #expect(c[3] == .virtualServers([VirtualServerEdit(old: 3..<3, new: 3..<5)]))
        // A block owns the blank lines before it: the one that becomes first lost its blank line.
        #expect(c[4] == .virtualServers([VirtualServerEdit(old: 0..<2, new: 0..<1)]))
    }

    /// A block that grows moves the warnings after it; they must name the new lines.
    @Test func warningsAfterAGrowingBlockMove() {
        let tail = "\nvirtual_server 192.0.2.20 80 {\n    protocol TCP\n    no_such_keyword 1\n    real_server 198.51.100.9 80 {\n    }\n}\n"
        let before = Self.file([80, 81], tail: tail)
        let after = Self.file([80, 81], weights: [80: [1, 1, 1, 1]], tail: tail)
        let c = Self.reload([before, after])
        #expect(c[1] == .virtualServers([VirtualServerEdit(old: 0..<1, new: 0..<1)]))
    }

    /// A changed block's warnings replace the ones it had; those of the others stay.
    @Test func warningsOfAChangedBlockAreItsOwn() {
        let a = Self.file([80, 81])
        let b = a.replacingOccurrences(of: "delay_loop 6\n    lb_algo wrr\n    lb_kind NAT\n    protocol TCP\n    real_server 198.51.100.1",
                                       with: "delay_loop 7\n    no_such_keyword 1\n    lb_algo wrr\n    lb_kind NAT\n    protocol TCP\n    real_server 198.51.100.1")
        #expect(a != b)
        let c = Self.reload([a, b, a, a.replacingOccurrences(of: "lb_kind NAT\n", with: "")])
        // Both blocks gain (then lose, then swap for another) a warning; each is read alone.
        let both = ReloadResult.Changes.virtualServers([VirtualServerEdit(old: 0..<1, new: 0..<1), VirtualServerEdit(old: 1..<2, new: 1..<2)])
        #expect(c[1] == both)
        #expect(c[2] == both)
        #expect(c[3] == .virtualServers([VirtualServerEdit(old: 0..<1, new: 0..<1), VirtualServerEdit(old: 1..<2, new: 1..<2)]))
    }

    /// A kept warning whose message names a line (a keyword given twice) cannot be moved.
    @Test func aWarningNamingAMovedLineReadsTheWholeFile() {
        let second = Self.virtualServer(81).replacingOccurrences(of: "delay_loop 6\n", with: "delay_loop 5\n    delay_loop 6\n")
        let before = Self.head + Self.virtualServer(80) + second
        let after = Self.head + Self.virtualServer(80).replacingOccurrences(of: "delay_loop 6\n", with: "delay_loop 3\n    lb_algo rr\n") + second
        let c = Self.reload([before, after])
        #expect(c[1] == .all(reason: "a diagnostic that names a line that moved"))
    }

    /// Form feeds and vertical tabs are blanks to the tokenizer: an `include` after one is
    /// still an include, and a file with includes is always read whole.
    @Test func includesAfterOddBlanksReadTheWholeFile() throws {
        let dir = TemporaryDirectory()
        let included = dir.write("inc.conf", "vrrp_script chk {\n    script /bin/true\n}\n")
        let path = dir.write("keepalived.conf", "\u{0C}include \(included)\n" + Self.file([80]))
        #expect(ConfigPieces.scan(Array("\u{0B}include x\n".utf8)).wholeOnly == "include")
        let first = Self.loader.load(path: path, previous: nil)
        #expect(first.config.vrrpScripts.count == 1)
        dir.write("inc.conf", "vrrp_script chk {\n    script /bin/true\n}\nvrrp_script chk2 {\n    script /bin/true\n}\n")
        let second = Self.loader.load(path: path, previous: first.snapshot)
        #expect(second.changes == .all(reason: "include"))
        #expect(second.config.vrrpScripts.count == 2)
    }

    /// A file that is gone at the reload is the fatal error a whole read gives, and the reload
    /// after it reads the whole file again.
    @Test func aFileThatCannotBeReadIsReportedAsAWholeReadReportsIt() {
        let dir = TemporaryDirectory()
        let path = dir.write("keepalived.conf", Self.file([80, 81]))
        let first = Self.loader.load(path: path, previous: nil)
        try? FileManager.default.removeItem(atPath: path)
        let gone = Self.loader.load(path: path, previous: first.snapshot)
        #expect(gone.changes == .all(reason: "the file could not be read"))
        #expect(gone.diagnostics.map(\.description) == Self.loader.load(path: path).diagnostics.map(\.description))
        #expect(gone.errors.first?.code == "file-unreadable")
        dir.write("keepalived.conf", Self.file([80, 81]))
        #expect(Self.loader.load(path: path, previous: gone.snapshot).changes == .all(reason: "the file could not be read"))
    }

    @Test func changesOutsideVirtualServersReadTheWholeFile() {
        let a = Self.file([80, 81])
        let c = Self.reload([a, a.replacingOccurrences(of: "priority 100", with: "priority 90")])
        #expect(c[1] == .all(reason: "a change outside virtual_server blocks"))
    }

    @Test func preprocessorFeaturesReadTheWholeFile() {
        for (extra, reason) in [("$PORT=80\n", "$ parameters"), ("@lb1 ! only on lb1\n", "@ conditional lines"),
                                ("include /nonexistent/*.conf\n", "include"),
                                ("~SEQ(i,1,2) ! nothing\n", "~SEQ lines")] {
            let a = extra + Self.file([80, 81])
            let c = Self.reload([a, extra + Self.file([80, 81], weights: [80: [3, 1]])])
            #expect(c[1] == .all(reason: reason))
        }
    }

    @Test func errorsAreReportedAsAWholeReadReportsThem() {
        let a = Self.file([80, 81, 82])
        // A syntax error, a duplicate identity, a group that does not exist, a real server twice.
        let broken = [
            a.replacingOccurrences(of: "        weight 1\n", with: "        weight\n"),
            Self.file([80, 81, 81]),
            a.replacingOccurrences(of: "virtual_server 192.0.2.10 81 {", with: "virtual_server group nowhere {"),
            Self.file([80, 81, 82], weights: [81: [1, 1]]).replacingOccurrences(of: "198.51.100.2 80", with: "198.51.100.1 80"),
        ]
        for b in broken {
            let c = Self.reload([a, b, a])
            guard case .all = c[1] else { Issue.record("a broken block was read alone: \(c[1])"); continue }
            // The previous load had errors: the next one reads everything.
            #expect(c[2] == .all(reason: "the previous load had errors"))
        }
    }

    @Test func blocksWithScriptsFollowScriptSecurity() {
        let secure = Self.head.replacingOccurrences(of: "router_id lb1", with: "router_id lb1\n    enable_script_security")
        func text(_ head: String, _ w: Int) -> String {
            head + Self.virtualServer(80, extra: "    quorum_up /bin/true\n") + Self.virtualServer(81, weights: [w, 1])
                + Self.virtualServer(82, weights: [1, 1], extra: "    quorum_down \"/bin/echo down\"\n")
        }
        let c = Self.reload([text(secure, 1), text(secure, 2)])
        #expect(c[1] == .virtualServers([VirtualServerEdit(old: 1..<2, new: 1..<2)]))
        // Without enable_script_security the file has an error (keepalived -t exits 6) that a
        // reload of a block without scripts carries over.
        let d = Self.reload([text(Self.head, 1), text(Self.head, 2)])
        #expect(d[1] == .virtualServers([VirtualServerEdit(old: 1..<2, new: 1..<2)]))
    }

    @Test func piecesFollowTheTokenizer() {
        let text = """
            global_defs { router_id "a { b" }   # a } comment
            virtual_server 192.0.2.1 80
            {
                real_server 198.51.100.1 80 { weight 1 } ! }
            }
            virtual_server 192.0.2.1 81 { } vrrp_script x { script "/bin/true" }
            # trailing comment
            """
        let scan = ConfigPieces.scan(Array(text.utf8))
        #expect(scan.wholeOnly == nil)
        #expect(scan.pieces.map(\.lineCount) == [1, 4, 1, 1])
        #expect(scan.pieces.map(\.isVirtualServer) == [false, true, false, false])
        #expect(ConfigPieces.scan(Array("a {\n".utf8)).wholeOnly == "an unclosed block")
        #expect(ConfigPieces.scan(Array("a }\n".utf8)).wholeOnly == "an unmatched '}'")
        #expect(ConfigPieces.scan(Array("a \"b { }\n".utf8)).wholeOnly == "an unterminated quote")
        #expect(ConfigPieces.scan(Array("a \"$x\" { }\n".utf8)).wholeOnly == "$ parameters")
        #expect(ConfigPieces.scan(Array("a { } # $x\n".utf8)).wholeOnly == nil)
    }

    /// Scanning only the changed part gives the pieces a whole scan gives.
    @Test func rescanEqualsAWholeScan() {
        let base = Self.file(Array(80..<90))
        var variants = [
            base.replacingOccurrences(of: "192.0.2.10 84", with: "192.0.2.10 184"),
            base.replacingOccurrences(of: "virtual_server 192.0.2.10 84 {", with: "# gone\nvirtual_server 192.0.2.10 84 {"),
            // A brace opened in the middle that closes in what follows.
            base.replacingOccurrences(of: "virtual_server 192.0.2.10 84 {\n    delay_loop 6", with: "virtual_server 192.0.2.10 84 {\n  x {\n    delay_loop 6"),
            // Comment lines at the end of the changed part join the next block.
            base.replacingOccurrences(of: "\nvirtual_server 192.0.2.10 85", with: "\n! note\n\nvirtual_server 192.0.2.10 85"),
            base + "# trailing", base + "virtual_server 192.0.2.10 99 { }", String(base.dropLast()),
            base.replacingOccurrences(of: "virtual_server 192.0.2.10 80 {", with: "virtual_server 192.0.2.10 80 { \"a"),
            base.replacingOccurrences(of: "weight 1", with: "weight $W"),
            "", "\n",
        ]
        variants.append(variants[3] + "}")
        for old in [base, base + "# trailing\n", base + "# trailing"] {
            let oldScan = ConfigPieces.scan(Array(old.utf8))
            #expect(oldScan.wholeOnly == nil)
            for new in variants + [base] {
                let whole = ConfigPieces.scan(Array(new.utf8))
                let partial = ConfigPieces.rescan(Array(new.utf8), previous: Array(old.utf8), pieces: oldScan.pieces)
                #expect(partial.pieces == whole.pieces, "\(new.suffix(80))")
                #expect(partial.wholeOnly == whole.wholeOnly)
            }
        }
    }

    /// Random `virtual_server` blocks with the corners of the language: comments inside and
    /// between blocks, `{` on the next line, quoted braces and hashes, CRLF, warnings (unknown
    /// keywords, no lb_kind), errors (bad values, a real server twice, a missing group), groups,
    /// scripts, protocols that clash.
    struct Blocks {
        var rng: SplitMix64
        mutating func int(_ r: ClosedRange<Int>) -> Int { Int.random(in: r, using: &rng) }
        mutating func chance(_ percent: Int) -> Bool { int(1...100) <= percent }

        mutating func virtualServer(port: Int) -> String {
            let header = chance(10) ? "virtual_server group web" : "virtual_server 192.0.2.10 \(port)"
            var t = chance(20) ? "# block \(port) { not a brace }\n" : ""
            t += chance(15) ? "\(header)\n{\n" : "\(header) {\n"
            if chance(85) { t += "    lb_kind NAT\n" }
            if chance(80) { t += "    protocol \(chance(85) ? "TCP" : "UDP")\n" }
            if chance(10) { t += "    no_such_keyword x ! comment }\n" }
            if chance(5) { t += "    delay_loop abc\n" }
            if chance(10) { t += "    quorum_up \"/bin/echo up # { }\"\n" }
            if chance(10) { t += "    virtualhost \"a{b}#c\"\r\n" }
            let servers = int(0...3)
            for k in 0..<servers {
                let host = chance(5) ? 1 : k + 1
                t += "    real_server 198.51.100.\(host) 80 {\n        weight \(int(0...3))\n"
                if chance(30) { t += "        TCP_CHECK {\n            connect_timeout \(int(1...3))\n        }\n" }
                t += chance(10) ? "    } # end\n" : "    }\n"
            }
            t += "}\n"
            if chance(10) { t += "\n! between\n" }
            return t
        }
    }

    /// Every reload equals a whole read (checked in `reload`), and a good part of them read
    /// only some blocks (so the partial path is what is being checked).
    @Test func randomBlocks() {
        var partial = 0
        var reloads = 0
        for seed in 0..<60 as Range<UInt64> {
            let changes = Self.randomBlocks(seed: seed)
            reloads += changes.count - 1
            partial += changes.filter { if case .virtualServers = $0 { true } else { false } }.count
        }
        #expect(partial * 5 >= reloads, "only \(partial) of \(reloads) reloads read part of the file")
    }

    static func randomBlocks(seed: UInt64) -> [ReloadResult.Changes] {
        var g = Blocks(rng: SplitMix64(seed: seed))
        let head = (g.chance(50) ? "global_defs {\n    enable_script_security\n}\n" : "")
            + "virtual_server_group web {\n    192.0.2.50 80\n}\n"
        var ports = Array(0..<g.int(1...8))
        var blocks = ports.map { g.virtualServer(port: 1000 + $0) }
        func text(_ tail: String = "") -> String { head + blocks.joined() + tail }
        var texts = [text()]
        for step in 0..<8 {
            switch g.int(0...9) {
            case 0...4: if !blocks.isEmpty { let i = g.int(0...blocks.count - 1); blocks[i] = g.virtualServer(port: 1000 + ports[i]) }
            case 5, 6:
                let i = g.int(0...blocks.count)
                let port = 2000 + step
                ports.insert(port, at: i)
                blocks.insert(g.virtualServer(port: port), at: i)
            case 7: if !blocks.isEmpty { let i = g.int(0...blocks.count - 1); ports.remove(at: i); blocks.remove(at: i) }
            case 8: if let p = ports.first { blocks.append(g.virtualServer(port: 1000 + p)); ports.append(p) }
            default: texts.append(text("# no newline at the end")); continue
            }
            texts.append(text())
        }
        return Self.reload(texts)
    }

    /// Random files and random edits: every reload equals a whole read, and most of them read
    /// only part of the file.
    @Test(arguments: 0..<40) func randomEdits(seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        func int(_ r: ClosedRange<Int>) -> Int { Int.random(in: r, using: &rng) }
        var ports = Array(80..<(80 + int(1...12)))
        var weights: [Int: [Int]] = [:]
        for p in ports { weights[p] = (0..<int(1...4)).map { _ in int(1...3) } }
        var texts = [Self.file(ports, weights: weights)]
        for _ in 0..<6 {
            switch int(0...5) {
            case 0: if let p = ports.randomElement(using: &rng) { weights[p] = (0..<int(1...4)).map { _ in int(0...3) } }
            case 1: ports.insert(200 + int(0...50), at: int(0...ports.count))
            case 2: if !ports.isEmpty { ports.remove(at: int(0...ports.count - 1)) }
            case 3: if ports.count > 1 { ports.swapAt(0, ports.count - 1) }
            case 4: if let p = ports.randomElement(using: &rng) { ports.append(p) }  // a duplicate: an error
            default: break
            }
            // Port lists may repeat (an error); the generated text decides.
            texts.append(Self.file(ports, weights: weights))
        }
        Self.reload(texts)
    }
}
