import Testing
@testable import ConfigDSL

@Suite struct LexingTests {
    @Test func whitespaceSeparatesTokensAndBracesSplitLines() {
        let (lines, d) = preprocess("virtual_ipaddress { 192.0.2.1/24 }\n} }\nkw\t  value")
        #expect(d.isEmpty)
        #expect(lines == [["virtual_ipaddress", "{", "192.0.2.1/24", "}"], ["}", "}"], ["kw", "value"]])
    }

    @Test func commentsWithHashAndBangAnywhereOutsideQuotes() {
        let (lines, _) = preprocess("priority 100 # the priority\n! whole line\nscript \"a # b ! c\" ! tail\nx\\#y \\!z")
        #expect(lines == [["priority", "100"], ["script", "a # b ! c"], ["x#y", "!z"]])
    }

    @Test func singleQuotesDoNotProtectComments() {
        let (lines, _) = preprocess("notify 'a # b'")
        #expect(lines == [["notify", "'a"]])
    }

    @Test func doubleQuotesMakeOneTokenAndSplitWords() {
        let (lines, _) = preprocess("a\"b c\"d")
        #expect(lines == [["a", "b c", "d"]])
        let (quotedBrace, _) = preprocess("label \"{\"")
        #expect(quotedBrace == [["label", "{"]])
    }

    @Test func quotedBraceIsAWordNotABlock() {
        var pp = Preprocessor(options: PreprocessorOptions(configID: "x"))
        pp.run(text: "label \"{\"", name: "t.conf")
        #expect(pp.lines[0].tokens[1].kind == .word)
        #expect(pp.lines[0].tokens[1].quoted)
    }

    @Test func crlfIsTolerated() {
        let (lines, d) = preprocess("vrrp_instance VI_1 {\r\n  priority 100\r\n}\r\n")
        #expect(d.isEmpty)
        #expect(lines == [["vrrp_instance", "VI_1", "{"], ["priority", "100"], ["}"]])
    }

    @Test func unterminatedQuoteIsALocatedError() {
        let (_, d) = preprocess("ok 1\n  script \"abc")
        #expect(d.count == 1)
        #expect(d[0].code == "unterminated-quote")
        #expect(d[0].location == SourceLocation(file: "t.conf", line: 2, column: 10))
    }

    @Test func tokenColumnsAreOneBasedBytes() {
        var pp = Preprocessor(options: PreprocessorOptions(configID: "x"))
        pp.run(text: "\n   priority   100", name: "t.conf")
        #expect(pp.lines[0].tokens.map(\.location.column) == [4, 15])
        #expect(pp.lines[0].tokens.map(\.location.line) == [2, 2])
    }

    @Test func longLineIsAnErrorAndSkipped() {
        let (lines, d) = preprocess("a 1\n" + String(repeating: "x", count: 2000) + "\nb 2")
        #expect(lines == [["a", "1"], ["b", "2"]])
        #expect(d.map(\.code) == ["line-too-long"])
        #expect(d[0].location?.line == 2)
    }

    @Test func nulAndInvalidUTF8AreErrors() {
        var pp = Preprocessor(options: PreprocessorOptions(configID: "x"))
        pp.run(text: "a\u{0}b\nok 1", name: "t.conf")
        #expect(pp.diagnostics.all.map(\.code) == ["nul-byte"])
        #expect(pp.lines.count == 1)
    }

    @Test func binaryGarbageStopsAfterTenBadLines() {
        let garbage = (0..<50).map { _ in "\u{0}\u{1}\u{2}" }.joined(separator: "\n")
        let (_, d) = preprocess(garbage)
        #expect(d.filter { $0.code == "nul-byte" }.count == 10)
        #expect(d.last?.code == "binary-file")
    }
}

@Suite struct ConditionalAndParameterTests {
    @Test func conditionalLinesMatchConfigID() {
        let text = "@main router_id main_router\n@backup router_id backup_router\n@^main peer a\n@^backup peer b"
        #expect(preprocess(text, configID: "main").lines == [["router_id", "main_router"], ["peer", "b"]])
        #expect(preprocess(text, configID: "backup").lines == [["router_id", "backup_router"], ["peer", "a"]])
        #expect(preprocess(text, configID: "other").lines == [["peer", "a"], ["peer", "b"]])
    }

    @Test func parametersSubstituteWithBracesOrBeforeWhitespace() {
        let (lines, d) = preprocess("$IF=eth0\n$P=100\ninterface $IF\npriority ${P}0\nx $Pnot ${UNDEF} $UNDEF")
        #expect(d.isEmpty)
        #expect(lines == [["interface", "eth0"], ["priority", "1000"], ["x", "$Pnot", "${UNDEF}", "$UNDEF"]])
    }

    @Test func substitutionIsRecursiveAndLate() {
        let text = """
            $ADDRESS_BASE=10.2.${ADDRESS_BASE_SUB}
            $ADDRESS_BASE_SUB=0
            ${ADDRESS_BASE}.100/32
            $ADDRESS_BASE_SUB=10
            ${ADDRESS_BASE}.100/32
            """
        #expect(preprocess(text).lines == [["10.2.0.100/32"], ["10.2.10.100/32"]])
    }

    @Test func emptyValuesAreAllowed() {
        #expect(preprocess("$E=\nalpha ${E}beta").lines == [["alpha", "beta"]])
    }

    @Test func conditionalDefinitionsAndConditionalsFromParameters() {
        let text = "@main $PRIORITY=240\n@backup $PRIORITY=200\npriority $PRIORITY\n$IF_MAIN=@main\n$IF_MAIN weight 240"
        #expect(preprocess(text, configID: "main").lines == [["priority", "240"], ["weight", "240"]])
        #expect(preprocess(text, configID: "backup").lines == [["priority", "200"]])
    }

    @Test func multiLineDefinitionsExpandLineByLine() {
        let text = """
            $INSTANCE= \\
            vrrp_instance VI_${NUM} { \\
                @high priority 130 \\
                @low priority 120 \\
            }
            $NUM=0
            $INSTANCE
            $NUM=1
            $INSTANCE
            """
        #expect(preprocess(text, configID: "high").lines == [
            ["vrrp_instance", "VI_0", "{"], ["priority", "130"], ["}"],
            ["vrrp_instance", "VI_1", "{"], ["priority", "130"], ["}"],
        ])
        #expect(preprocess(text, configID: "low").lines[1] == ["priority", "120"])
    }

    @Test func nestedMultiLineDefinitions() {
        let text = """
            $RS= \\
            real_server 192.0.2.${RS_NUM} 80 { \\
                weight 1 \\
            }
            $VS= \\
            virtual_server 198.51.100.${VS_NUM} 80 { \\
                $RS_NUM=1 \\
                $RS \\
                $RS_NUM=2 \\
                $RS \\
            }
            $VS_NUM=7
            $VS
            """
        let lines = preprocess(text).lines
        #expect(lines == [
            ["virtual_server", "198.51.100.7", "80", "{"],
            ["real_server", "192.0.2.1", "80", "{"], ["weight", "1"], ["}"],
            ["real_server", "192.0.2.2", "80", "{"], ["weight", "1"], ["}"],
            ["}"],
        ])
    }

    @Test func unfinishedMultiLineDefinitionIsAnError() {
        let (_, d) = preprocess("$X= \\\na \\\nb \\")
        #expect(d.map(\.code) == ["unterminated-definition"])
    }

    @Test func predefinedParameters() {
        let (lines, _) = preprocess(
            "a ${_INSTANCE}\nb ${_HASH}${_BANG}\nc ${_ENV HOME}\nd ${_PWD}\ne ${_RANDOM 5 5}", configID: "lb1",
            env: ["HOME": "/root"], directory: "/etc/keepalived")
        #expect(lines == [["a", "lb1"], ["b", "#!"], ["c", "/root"], ["d", "/etc/keepalived"], ["e", "5"]])
    }

    @Test func randomStaysInRangeAndIsRepeatableWithASeed() {
        let text = (0..<50).map { _ in "r ${_RANDOM 10 20}" }.joined(separator: "\n")
        let first = preprocess(text).lines
        #expect(first.allSatisfy { Int($0[1]).map { (10...20).contains($0) } ?? false })
        #expect(first == preprocess(text).lines)
        #expect(Set(first.map { $0[1] }).count > 1)
    }

    @Test func randomSeedMakesRandomValuesRepeatable() {
        func values(_ seed: Int) -> [String] {
            var pp = Preprocessor(options: PreprocessorOptions(configID: "x"))
            pp.run(text: "global_defs {\n random_seed \(seed)\n}\n" + (0..<5).map { _ in "v ${_RANDOM}" }.joined(separator: "\n"), name: "t.conf")
            return pp.lines.filter { $0.tokens.first?.text == "v" }.map { $0.tokens[1].text }
        }
        #expect(values(12) == values(12))
        #expect(values(12) != values(13))
    }

    @Test func badRandomArgumentsAreErrors() {
        #expect(preprocess("r ${_RANDOM 9 1}").diagnostics.map(\.code) == ["random-parameter"])
        #expect(preprocess("r ${_RANDOM x}").diagnostics.map(\.code) == ["random-parameter"])
    }

    @Test func recursiveParameterIsAnErrorNotAHang() {
        let (_, d) = preprocess("$A=${A}x\nvalue ${A}")
        #expect(d.contains { $0.code == "recursive-parameter" || $0.code == "expansion-size" })
    }
}

@Suite struct SequenceTests {
    @Test func seqWithAllArgumentForms() {
        #expect(preprocess("~SEQ(N, 0, 3) ip 10.0.${N}.1").lines.map { $0[1] } == ["10.0.0.1", "10.0.1.1", "10.0.2.1", "10.0.3.1"])
        #expect(preprocess("~SEQ(N, 3) v $N").lines.map { $0[1] } == ["1", "2", "3"])
        #expect(preprocess("~SEQ(N, 5, 3) v $N").lines.map { $0[1] } == ["5", "4", "3"])
        #expect(preprocess("~SEQ(N, 10, -4, 1) v $N").lines.map { $0[1] } == ["10", "6", "2"])
    }

    @Test func seqxFormatsHex() {
        let lines = preprocess("~SEQx(S, 0x90, 0x10, 0xc0) ip fe80::20:${S}:1").lines
        #expect(lines.map { $0[1] } == ["fe80::20:90:1", "fe80::20:a0:1", "fe80::20:b0:1", "fe80::20:c0:1"])
    }

    @Test func sequencesNestOnOneLine() {
        let lines = preprocess("~SEQx(A, 0x90, 0x10, 0xa0) ~SEQx(B, 0x12, -1, 0x11) fe81::10:${A}:${B}").lines
        #expect(lines.map { $0[0] } == ["fe81::10:90:12", "fe81::10:90:11", "fe81::10:a0:12", "fe81::10:a0:11"])
    }

    @Test func listsAndTupleLists() {
        #expect(preprocess("~LST(IP, 1, 2) ~LST(IP1, 5,6) 192.0.${IP}.${IP1}").lines.map { $0[0] } == [
            "192.0.1.5", "192.0.1.6", "192.0.2.5", "192.0.2.6",
        ])
        #expect(preprocess("~LST({IP, IP1}, {10,1},{20,4}) 192.${IP}.${IP1}").lines.map { $0[0] } == ["192.10.1", "192.20.4"])
        #expect(preprocess("~LST({IP, IP1}, {10,1},{20,4}) ~SEQ(X,1,2) ${X}.${IP}.${IP1}").lines.map { $0[0] } == [
            "1.10.1", "2.10.1", "1.20.4", "2.20.4",
        ])
    }

    @Test func sequenceExpandsAMultiLineParameter() {
        let text = """
            $VI= \\
            vrrp_instance v.${IF}.${ID} { \\
            virtual_router_id ${ID} \\
            }
            ~SEQ(IF,0,1) ~SEQ(ID,1,2) $VI
            """
        let lines = preprocess(text).lines
        #expect(lines.filter { $0.first == "vrrp_instance" }.map { $0[1] } == ["v.0.1", "v.0.2", "v.1.1", "v.1.2"])
        #expect(lines.count == 12)
    }

    @Test func badSequencesAreErrors() {
        #expect(preprocess("~SEQ(N, 1, 0, 5) x").diagnostics.map(\.code) == ["sequence-syntax"])
        #expect(preprocess("~SEQ(N) x").diagnostics.map(\.code) == ["sequence-syntax"])
        #expect(preprocess("~SEQ(1N, 3) x").diagnostics.map(\.code) == ["sequence-syntax"])
        #expect(preprocess("~SEQ(N, a) x").diagnostics.map(\.code) == ["sequence-syntax"])
        #expect(preprocess("~SEQ(N, 3 x").diagnostics.map(\.code) == ["sequence-syntax"])
        #expect(preprocess("~LST({A,B},{1}) x").diagnostics.map(\.code) == ["sequence-syntax"])
    }

    @Test func runawayExpansionStops() {
        var pp = Preprocessor(options: PreprocessorOptions(configID: "x", maximumGeneratedLines: 1000))
        pp.run(text: "~SEQ(A,1,100) ~SEQ(B,1,100) x $A $B", name: "t.conf")
        #expect(pp.lines.count == 1000)
        #expect(pp.diagnostics.all.map(\.code) == ["expansion-limit"])
    }
}

@Suite struct IncludeTests {
    @Test func includeIsRelativeToTheIncludingFileAndExpandsGlobsAndBraces() throws {
        let dir = TemporaryDirectory()
        dir.write("conf.d/b.conf", "b 2")
        dir.write("conf.d/a.conf", "a 1\ninclude ../extra/{x,y}.conf")
        dir.write("extra/x.conf", "x 3")
        dir.write("extra/y.conf", "y 4")
        let main = dir.write("keepalived.conf", "include conf.d/*.conf\nend 5")
        var pp = Preprocessor(options: PreprocessorOptions(configID: "n"))
        pp.run(path: main)
        #expect(pp.diagnostics.all.isEmpty)
        #expect(pp.lines.map { $0.tokens[0].text } == ["a", "x", "y", "b", "end"])
        #expect(pp.lines[1].location.file.hasSuffix("extra/x.conf"))
    }

    @Test func plainIncludeOfAMissingFileIsOnlyAWarning() {
        let dir = TemporaryDirectory()
        let main = dir.write("k.conf", "include nothing.conf\nincluder nothing/*.conf")
        var pp = Preprocessor(options: PreprocessorOptions(configID: "n"))
        pp.run(path: main)
        #expect(pp.diagnostics.all.map(\.severity) == [.warning, .warning])
    }

    @Test func checkingVariants() {
        let dir = TemporaryDirectory()
        dir.write("one.conf", "one 1")
        func run(_ line: String, allConfig: Bool = false) -> [Diagnostic] {
            let main = dir.write("k.conf", line)
            var pp = Preprocessor(options: PreprocessorOptions(configID: "n", allConfig: allConfig))
            pp.run(path: main)
            return pp.diagnostics.all.filter { $0.severity == .error }
        }
        #expect(run("includem missing.conf").map(\.category) == [.fatal])
        #expect(run("includem missing*.conf").isEmpty)
        #expect(run("includew missing*.conf").map(\.code) == ["include-no-match"])
        #expect(run("includeb {one,two}.conf").map(\.code) == ["include-no-match"])
        #expect(run("includeb {one,one}.conf").isEmpty)
        #expect(run("includea missing.conf").count == 1)
        #expect(run("include missing.conf", allConfig: true).count == 1)
        #expect(run("include_check match\ninclude missing.conf").count == 1)
        #expect(run("include_check\ninclude_check -match -wildcard_match -brace_match -readable\ninclude missing.conf").isEmpty)
        #expect(run("include_check bogus").map(\.code) == ["include-check-option"])
    }

    @Test func unreadableIncludeIsFatalWhenReadableIsChecked() {
        let dir = TemporaryDirectory()
        dir.write("sub/x.conf", "x 1")
        let main = dir.write("k.conf", "includer sub")
        var pp = Preprocessor(options: PreprocessorOptions(configID: "n"))
        pp.run(path: main)
        let errors = pp.diagnostics.all.filter { $0.severity == .error }
        #expect(errors.map(\.code) == ["include-unreadable"])
        #expect(errors.first?.message.contains("directory") == true)
    }

    @Test func includeCyclesAreDetected() {
        let dir = TemporaryDirectory()
        dir.write("a.conf", "a 1\ninclude b.conf")
        dir.write("b.conf", "b 1\ninclude a.conf")
        let main = dir.write("k.conf", "include a.conf")
        var pp = Preprocessor(options: PreprocessorOptions(configID: "n"))
        pp.run(path: main)
        let cycle = pp.diagnostics.all.first { $0.code == "include-cycle" }
        #expect(cycle != nil)
        #expect(cycle?.category == .fatal)
        #expect(cycle?.location?.file.hasSuffix("b.conf") == true)
        #expect(pp.lines.map { $0.tokens[0].text } == ["a", "b"])
    }

    @Test func selfIncludeThroughAWildcardIsACycleNotACrash() {
        let dir = TemporaryDirectory()
        let main = dir.write("k.conf", "include *.conf\nx 1")
        var pp = Preprocessor(options: PreprocessorOptions(configID: "n"))
        pp.run(path: main)
        #expect(pp.diagnostics.all.contains { $0.code == "include-cycle" })
    }

    @Test func runawayIncludeDepthIsAnError() {
        let dir = TemporaryDirectory()
        for i in 0..<40 { dir.write("f\(i).conf", "include f\(i + 1).conf") }
        dir.write("f40.conf", "end 1")
        var pp = Preprocessor(options: PreprocessorOptions(configID: "n"))
        pp.run(path: dir.path + "/f0.conf")
        #expect(pp.diagnostics.all.contains { $0.code == "include-depth" })
    }

    @Test func missingMainFileIsFatal() {
        var pp = Preprocessor(options: PreprocessorOptions(configID: "n"))
        pp.run(path: "/nonexistent/kad/keepalived.conf")
        #expect(pp.diagnostics.all.map(\.category) == [.fatal])
        #expect(pp.diagnostics.all[0].message.contains("no such file"))
    }

    @Test func includeLinesCannotBeConditional() {
        let dir = TemporaryDirectory()
        dir.write("x.conf", "x 1")
        let main = dir.write("k.conf", "@n include x.conf")
        var pp = Preprocessor(options: PreprocessorOptions(configID: "n"))
        pp.run(path: main)
        // The conditional is applied first in keepalived's order only for non-include lines:
        // here "include" is not the first word, so the line becomes a plain statement.
        #expect(pp.lines.map { $0.tokens.map(\.text) } == [["include", "x.conf"]])
    }
}

@Suite struct BraceExpansionTests {
    @Test func expandsNestedAlternatives() {
        #expect(BraceExpansion.expand("a{b,c}d") == ["abd", "acd"])
        #expect(BraceExpansion.expand("{foo/{,cat,dog},bar}") == ["foo/", "foo/cat", "foo/dog", "bar"])
        #expect(BraceExpansion.expand("plain") == ["plain"])
        #expect(BraceExpansion.expand("x{y}z") == ["x{y}z"])
        #expect(BraceExpansion.expand("unbalanced{a,b") == ["unbalanced{a,b"])
    }
}
