#if canImport(Glibc)
import Glibc
#endif

// kad's executable links FoundationEssentials only, not Foundation with its ICU and
// internationalisation libraries (about 5 MiB of resident memory in every daemon): the few
// things Foundation gave it besides are here.

/// Writes `text` to standard output, whole.
func writeStandardOutput(_ text: String) { writeWhole(STDOUT_FILENO, text) }

/// Standard error as a `TextOutputStream`, for `print(…, to: &stderr)`.
struct StandardError: TextOutputStream {
    mutating func write(_ string: String) { writeWhole(STDERR_FILENO, string) }
}

/// Writes every byte of `text` to `fd`, through short writes and `EINTR`; gives up silently on
/// any other error (a closed pipe: nobody is reading).
func writeWhole(_ fd: CInt, _ text: String) {
    var text = text
    text.withUTF8 { bytes in
        var done = 0
        while done < bytes.count {
            let n = Glibc.write(fd, bytes.baseAddress! + done, bytes.count - done)
            if n > 0 {
                done += n
            } else if n < 0 && errno == EINTR {
                continue
            } else {
                return
            }
        }
    }
}

extension Double {
    /// The value in fixed notation with `places` digits after the point, as `printf`'s `%.Nf`
    /// prints it except that an exact half rounds away from zero; values too large to scale
    /// (≥ 9 × 10¹⁵ ÷ 10^places) and infinities keep Swift's own notation.
    func fixed(_ places: Int) -> String {
        guard isFinite else { return description }
        var scale = 1.0
        for _ in 0..<places { scale *= 10 }
        let scaled = (abs(self) * scale).rounded(.toNearestOrAwayFromZero)
        guard scaled < 9.0e15 else { return description }
        let units = UInt64(scaled)
        let whole = units / UInt64(scale)
        let fraction = units % UInt64(scale)
        let sign = self < 0 && units != 0 ? "-" : ""
        guard places > 0 else { return "\(sign)\(whole)" }
        return "\(sign)\(whole)." + String(fraction).leftPadded(to: places)
    }
}

extension BinaryInteger {
    /// The decimal digits, with leading zeros up to `width` (`printf`'s `%0Nd` for values ≥ 0).
    func zeroPadded(_ width: Int) -> String { String(self).leftPadded(to: width) }
}

extension StringProtocol {
    /// Without the white space (blanks, tabs, line ends) at either end.
    var trimmed: String {
        let isSpace: (Character) -> Bool = { $0.isWhitespace }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(self[first...last])
    }

    /// The string with `pad` after it until it is `width` characters long.
    func rightPadded(to width: Int, with pad: Character = " ") -> String {
        count >= width ? String(self) : String(self) + String(repeating: pad, count: width - count)
    }
}

extension String {
    /// The string with `pad` in front until it is `width` characters long.
    func leftPadded(to width: Int, with pad: Character = "0") -> String {
        count >= width ? self : String(repeating: pad, count: width - count) + self
    }
}
