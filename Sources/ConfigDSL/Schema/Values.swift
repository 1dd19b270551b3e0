/// An enumerated keyword value (`MASTER`, `TCP`, `rr`, ...), matched case-insensitively with a
/// portability warning where keepalived would reject the spelling.
public protocol ConfigEnum: CaseIterable, RawRepresentable, Codable, Sendable, Hashable where RawValue == String {
    /// Whether keepalived compares this value case-sensitively (most values; `protocol` is the exception).
    static var keepalivedIsCaseSensitive: Bool { get }
}

extension ConfigEnum {
    public static var keepalivedIsCaseSensitive: Bool { true }
}

/// A keepalived TIMER: decimal seconds with microsecond resolution.
public typealias Seconds = Double

extension DecodeContext {
    /// Checks the number of arguments; reports `usage` when it is wrong.
    @discardableResult
    public func expectArguments(_ node: ConfigNode, _ range: ClosedRange<Int>, usage: String) -> Bool {
        let n = node.arguments.count
        if n < range.lowerBound {
            error(
                "missing-value", "'\(node.keyword.text)' needs \(range.lowerBound == 1 ? "a value" : "\(range.lowerBound) values")",
                at: node.location, hint: "usage: \(usage)")
            return false
        }
        if n > range.upperBound {
            let extra = node.arguments[range.upperBound]
            if range.upperBound == 0 {
                error("unexpected-value", "'\(node.keyword.text)' takes no value, but '\(extra.text)' follows", at: extra.location,
                      hint: "usage: \(usage)")
            } else {
                error("unexpected-value", "unexpected '\(extra.text)' after '\(node.keyword.text)'", at: extra.location,
                      hint: "usage: \(usage)")
            }
            return false
        }
        return true
    }

    /// An integer within `range`.
    public func integer(_ token: Token, _ range: ClosedRange<Int>, what: String? = nil) -> Int? {
        guard let value = Self.parseInteger(token.text) else {
            error("not-a-number", "'\(token.text)' is not a whole number\(what.map { " for \($0)" } ?? "")", at: token.location,
                  hint: "expected a number in [\(range.lowerBound), \(range.upperBound)]")
            return nil
        }
        guard range.contains(value) else {
            error("out-of-range", "number '\(token.text)' outside range [\(range.lowerBound), \(range.upperBound)]\(what.map { " for \($0)" } ?? "")",
                  at: token.location)
            return nil
        }
        return value
    }

    static func parseInteger(_ text: String) -> Int? {
        var t = Substring(text)
        if t.hasPrefix("+") { t = t.dropFirst() }
        guard !t.isEmpty, t.count <= 19 else { return nil }
        return Int(t)
    }

    /// A TIMER (decimal seconds) within `range`, rounded to microseconds.
    public func seconds(_ token: Token, _ range: ClosedRange<Double>, what: String? = nil) -> Seconds? {
        guard let value = Self.parseSeconds(token.text) else {
            error("not-a-time", "'\(token.text)' is not a time in seconds\(what.map { " for \($0)" } ?? "")", at: token.location,
                  hint: "write decimal seconds, such as 1 or 0.5")
            return nil
        }
        guard range.contains(value) else {
            error("out-of-range", "time '\(token.text)' outside range [\(Self.format(range.lowerBound)), \(Self.format(range.upperBound))] seconds",
                  at: token.location)
            return nil
        }
        return value
    }

    static func parseSeconds(_ text: String) -> Double? {
        let utf8 = Array(text.utf8)
        guard !utf8.isEmpty, utf8.count <= 24 else { return nil }
        var dots = 0
        for c in utf8 {
            if c == 46 { dots += 1; continue }
            if c < 48 || c > 57 { return nil }
        }
        guard dots <= 1, utf8.first != 46 || utf8.count > 1, let v = Double(text), v.isFinite else { return nil }
        return (v * 1_000_000).rounded() / 1_000_000
    }

    /// Prints seconds the way they are written in a configuration (`1`, `0.5`, `0.000001`).
    public static func format(_ seconds: Double) -> String {
        if seconds == seconds.rounded(), abs(seconds) < 1e15 { return String(Int(seconds)) }
        let micro = Int((seconds * 1_000_000).rounded())
        let whole = micro / 1_000_000
        var fraction = String(abs(micro % 1_000_000))
        fraction = String(repeating: "0", count: 6 - fraction.count) + fraction
        while fraction.hasSuffix("0") { fraction.removeLast() }
        return "\(whole).\(fraction)"
    }

    /// keepalived's BOOL: on|off|true|false|yes|no.
    public func boolean(_ token: Token) -> Bool? {
        switch token.text.lowercased() {
        case "on", "true", "yes":
            caseCheck(token, canonical: token.text.lowercased())
            return true
        case "off", "false", "no":
            caseCheck(token, canonical: token.text.lowercased())
            return false
        default:
            error("not-a-bool", "'\(token.text)' is not a boolean", at: token.location, hint: "use on, off, true, false, yes or no")
            return nil
        }
    }

    /// An optional BOOL after a keyword: no value means true.
    public func optionalBoolean(_ node: ConfigNode) -> Bool? {
        guard expectArguments(node, 0...1, usage: "\(node.keyword.text) [on|off]") else { return nil }
        return node.arguments.first.map(boolean) ?? true
    }

    public func enumeration<E: ConfigEnum>(_ token: Token, as type: E.Type, what: String) -> E? {
        if let exact = E(rawValue: token.text) { return exact }
        if let loose = E.allCases.first(where: { $0.rawValue.lowercased() == token.text.lowercased() }) {
            if E.keepalivedIsCaseSensitive {
                caseCheck(token, canonical: loose.rawValue)
            }
            return loose
        }
        let options = E.allCases.map(\.rawValue)
        var hint = "use one of: \(options.joined(separator: ", "))"
        if let near = Suggest.nearest(to: token.text, in: options) { hint = "did you mean '\(near)'? (\(hint))" }
        error("bad-value", "'\(token.text)' is not a valid \(what)", at: token.location, hint: hint)
        return nil
    }

    func caseCheck(_ token: Token, canonical: String) {
        if token.text != canonical {
            warning(
                "value-case", "keepalived only accepts '\(canonical)' spelled exactly so, not '\(token.text)'", at: token.location,
                hint: "write '\(canonical)' to keep the file portable to keepalived")
        }
    }

    /// The lines of a line-list block (addresses, routes, peers, ...): children without a block
    /// of their own; a child with a block is reported and skipped.
    public func plainLines(_ node: ConfigNode) -> [ConfigNode] {
        var lines: [ConfigNode] = []
        for child in node.children ?? [] {
            if child.children != nil {
                error("unexpected-block", "unexpected block inside '\(node.keyword.text)'", at: child.blockLocation ?? child.location)
            } else {
                lines.append(child)
            }
        }
        return lines
    }

    /// Children of a list block (`{ a b c }` or one item per line) as plain words.
    public func listWords(_ node: ConfigNode) -> [Token] {
        var result: [Token] = []
        for child in node.children ?? [] {
            if child.children != nil {
                error("unexpected-block", "unexpected block inside '\(node.keyword.text)'", at: child.blockLocation ?? child.location)
            }
            result.append(child.keyword)
            result.append(contentsOf: child.arguments)
        }
        return result
    }
}
