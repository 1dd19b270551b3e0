import Testing
@testable import kad

@Suite("kad run: --checker-threads")
struct CheckerThreadsOptionTests {
    @Test("one thread by default; 1 to 64 accepted; 0 and 65 refused by name")
    func bounds() throws {
        #expect(try Run.parse([]).checkerThreads == 1)
        #expect(try Run.parse(["--checker-threads", "4"]).checkerThreads == 4)
        for bad in ["0", "65"] {
            #expect {
                _ = try Run.parse(["--checker-threads", bad])
            } throws: { error in
                Run.message(for: error).contains("--checker-threads \(bad)")
            }
        }
    }
}
