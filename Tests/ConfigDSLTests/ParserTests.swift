import Testing
@testable import ConfigDSL

@Suite struct ParserTests {
    func parse(_ text: String) -> ([ConfigNode], [Diagnostic]) {
        var pp = Preprocessor(options: PreprocessorOptions(configID: "x"))
        pp.run(text: text, name: "t.conf")
        var parser = Parser(lines: pp.lines)
        let nodes = parser.parse()
        return (nodes, parser.diagnostics.all)
    }

    @Test func braceOnTheNextLineOpensTheBlockOfThePreviousStatement() {
        let (nodes, d) = parse("vrrp_instance VI_1\n{\n  priority 100\n}")
        #expect(d.isEmpty)
        #expect(nodes.count == 1)
        #expect(nodes[0].words == ["VI_1"])
        #expect(nodes[0].children?.map(\.name) == ["priority"])
    }

    @Test func blocksOnOneLineAndClosingBracesTogether() {
        let (nodes, d) = parse("a { b { c 1 } d 2 } e 3\nf { g { h } }")
        #expect(d.isEmpty)
        #expect(nodes.map(\.name) == ["a", "e", "f"])
        #expect(nodes[0].children?.map(\.name) == ["b", "d"])
        #expect(nodes[0].children?[0].children?[0].words == ["1"])
        #expect(nodes[2].children?[0].children?.map(\.name) == ["h"])
    }

    @Test func extraClosingBraceIsAnError() {
        let (_, d) = parse("a 1\n}\nb 2")
        #expect(d.map(\.code) == ["extra-brace"])
        #expect(d[0].location?.line == 2)
    }

    @Test func unclosedBlockPointsAtItsOpeningBrace() {
        let (_, d) = parse("vrrp_instance VI_1 {\n priority 1\n")
        #expect(d.map(\.code) == ["missing-brace"])
        #expect(d[0].location == SourceLocation(file: "t.conf", line: 1, column: 20))
    }

    @Test func braceWithNoKeywordIsAnError() {
        let (_, d) = parse("a { }\n{ b }")
        #expect(d.map(\.code) == ["unexpected-brace"])
    }

    @Test func deepNestingIsAnErrorNotAStackOverflow() {
        let text = String(repeating: "a {\n", count: 5000) + String(repeating: "}\n", count: 5000)
        let (_, d) = parse(text)
        #expect(d.map(\.code) == ["nesting-depth"])
    }
}
