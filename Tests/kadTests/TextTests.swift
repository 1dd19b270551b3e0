import Testing
@testable import kad

@Suite("Text helpers that stand in for Foundation's formatting")
struct TextTests {
    @Test("fixed(places) rounds like printf's %.Nf", arguments: [
        (1.0, 6, "1.000000"), (0.0004999, 3, "0.000"), (0.0005, 3, "0.001"), (361.4444, 1, "361.4"),
        (2.5, 0, "3"), (-1.25, 1, "-1.3"), (-0.0001, 2, "0.00"), (1234567.891, 3, "1234567.891"),
        (0.1, 3, "0.100"), (12.0, 2, "12.00"),
    ])
    func fixed(value: Double, places: Int, text: String) {
        #expect(value.fixed(places) == text)
    }

    @Test("not finite or too large to scale: Swift's own description")
    func fixedOutOfRange() {
        #expect(Double.infinity.fixed(3) == "inf")
        #expect(1e300.fixed(3) == 1e300.description)
    }

    @Test("zero padding, right padding and trimming")
    func padding() {
        #expect(7.zeroPadded(2) == "07")
        #expect(123.zeroPadded(2) == "123")
        #expect("ab".rightPadded(to: 4) == "ab  ")
        #expect("abcde".rightPadded(to: 4) == "abcde")
        #expect("  12 \n".trimmed == "12")
        #expect(" \t\n".trimmed == "")
        #expect("R (a b)"[...].trimmed == "R (a b)")
    }
}
