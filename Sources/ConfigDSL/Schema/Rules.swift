/// A script command line with the optional user (and group) to run it as:
/// `notify_master "/usr/local/bin/notify.sh master" nobody:nogroup`.
public struct ScriptCommand: Codable, Sendable, Hashable {
    /// The command string as written (parsed shell-style into ``arguments`` when run).
    public var command: String
    public var user: String?
    public var group: String?

    public init(command: String, user: String? = nil, group: String? = nil) {
        self.command = command
        self.user = user
        self.group = group
    }

    /// The command split shell-style, as keepalived does; `nil` when the quoting is broken.
    public var arguments: [String]? { try? ShellWords.split(command) }

    var words: [String] {
        var w = [command]
        if let user {
            w.append(group.map { "\(user):\($0)" } ?? user)
        } else if let group {
            w.append(":\(group)")
        }
        return w
    }
}

/// A weight with keepalived's optional `reverse` flag: `weight -20 reverse`.
public struct TrackWeight: Codable, Sendable, Hashable {
    public var weight: Int
    public var reverse: Bool
    public init(weight: Int, reverse: Bool = false) {
        self.weight = weight
        self.reverse = reverse
    }
}

extension KeywordRule {
    /// An integer keyword.
    public static func int(
        _ name: String, aliases: [String] = [], _ range: ClosedRange<Int>, _ kp: WritableKeyPath<Model, Int> & Sendable,
        help: String
    ) -> Self {
        Self(
            name, aliases: aliases, help: help,
            decode: { model, node, ctx in
                guard ctx.expectArguments(node, 1...1, usage: "\(name) NUMBER"), let v = ctx.integer(node.arguments[0], range) else { return }
                model[keyPath: kp] = v
            },
            encode: { model, w in w.line(name, String(model[keyPath: kp])) })
    }

    /// An optional integer keyword (absent means "not set": a default that depends on something else).
    public static func int(
        _ name: String, aliases: [String] = [], _ range: ClosedRange<Int>, _ kp: WritableKeyPath<Model, Int?> & Sendable,
        help: String
    ) -> Self {
        Self(
            name, aliases: aliases, help: help,
            decode: { model, node, ctx in
                guard ctx.expectArguments(node, 1...1, usage: "\(name) NUMBER"), let v = ctx.integer(node.arguments[0], range) else { return }
                model[keyPath: kp] = v
            },
            encode: { model, w in if let v = model[keyPath: kp] { w.line(name, String(v)) } })
    }

    /// A TIMER keyword (decimal seconds).
    public static func seconds(
        _ name: String, aliases: [String] = [], _ range: ClosedRange<Double>, _ kp: WritableKeyPath<Model, Seconds> & Sendable,
        help: String
    ) -> Self {
        Self(
            name, aliases: aliases, help: help,
            decode: { model, node, ctx in
                guard ctx.expectArguments(node, 1...1, usage: "\(name) SECONDS"), let v = ctx.seconds(node.arguments[0], range) else { return }
                model[keyPath: kp] = v
            },
            encode: { model, w in w.line(name, DecodeContext.format(model[keyPath: kp])) })
    }

    public static func seconds(
        _ name: String, aliases: [String] = [], _ range: ClosedRange<Double>, _ kp: WritableKeyPath<Model, Seconds?> & Sendable,
        help: String
    ) -> Self {
        Self(
            name, aliases: aliases, help: help,
            decode: { model, node, ctx in
                guard ctx.expectArguments(node, 1...1, usage: "\(name) SECONDS"), let v = ctx.seconds(node.arguments[0], range) else { return }
                model[keyPath: kp] = v
            },
            encode: { model, w in if let v = model[keyPath: kp] { w.line(name, DecodeContext.format(v)) } })
    }

    /// A flag: the keyword alone turns it on.
    public static func flag(_ name: String, aliases: [String] = [], _ kp: WritableKeyPath<Model, Bool> & Sendable, help: String) -> Self {
        Self(
            name, aliases: aliases, help: help,
            decode: { model, node, ctx in
                guard ctx.expectArguments(node, 0...0, usage: name) else { return }
                model[keyPath: kp] = true
            },
            encode: { model, w in if model[keyPath: kp] { w.line(name) } })
    }

    /// A keyword with an optional BOOL (`vrrp_strict`, `vrrp_strict on`, `vrrp_strict off`).
    public static func bool(_ name: String, aliases: [String] = [], _ kp: WritableKeyPath<Model, Bool> & Sendable, help: String) -> Self {
        Self(
            name, aliases: aliases, help: help,
            decode: { model, node, ctx in
                if let v = ctx.optionalBoolean(node) { model[keyPath: kp] = v }
            },
            encode: { model, w in w.line(name, model[keyPath: kp] ? "true" : "false") })
    }

    /// An optional BOOL whose absence means "inherit".
    public static func bool(_ name: String, aliases: [String] = [], _ kp: WritableKeyPath<Model, Bool?> & Sendable, help: String) -> Self {
        Self(
            name, aliases: aliases, help: help,
            decode: { model, node, ctx in
                if let v = ctx.optionalBoolean(node) { model[keyPath: kp] = v }
            },
            encode: { model, w in if let v = model[keyPath: kp] { w.line(name, v ? "true" : "false") } })
    }

    /// A single string value.
    public static func string(
        _ name: String, aliases: [String] = [], _ kp: WritableKeyPath<Model, String?> & Sendable, help: String,
        usage: String? = nil
    ) -> Self {
        Self(
            name, aliases: aliases, help: help,
            decode: { model, node, ctx in
                guard ctx.expectArguments(node, 1...1, usage: usage ?? "\(name) VALUE") else { return }
                model[keyPath: kp] = node.arguments[0].text
            },
            encode: { model, w in if let v = model[keyPath: kp] { w.line(name, v) } })
    }

    /// All the words after the keyword, kept as written (for keywords whose syntax kad does not interpret yet).
    public static func words(
        _ name: String, aliases: [String] = [], _ kp: WritableKeyPath<Model, [String]?> & Sendable, help: String,
        arity: ClosedRange<Int> = 0...64, usage: String? = nil
    ) -> Self {
        Self(
            name, aliases: aliases, help: help,
            decode: { model, node, ctx in
                guard ctx.expectArguments(node, arity, usage: usage ?? "\(name) ...") else { return }
                model[keyPath: kp] = node.words
            },
            encode: { model, w in if let v = model[keyPath: kp] { w.line([name] + v) } })
    }

    /// An enumerated value.
    public static func choice<E: ConfigEnum>(
        _ name: String, aliases: [String] = [], _ kp: WritableKeyPath<Model, E> & Sendable, help: String
    ) -> Self {
        Self(
            name, aliases: aliases, help: help,
            decode: { model, node, ctx in
                guard ctx.expectArguments(node, 1...1, usage: "\(name) \(E.allCases.map(\.rawValue).joined(separator: "|"))"),
                    let v = ctx.enumeration(node.arguments[0], as: E.self, what: "value for \(name)")
                else { return }
                model[keyPath: kp] = v
            },
            encode: { model, w in w.line(name, model[keyPath: kp].rawValue) })
    }

    public static func choice<E: ConfigEnum>(
        _ name: String, aliases: [String] = [], _ kp: WritableKeyPath<Model, E?> & Sendable, help: String
    ) -> Self {
        Self(
            name, aliases: aliases, help: help,
            decode: { model, node, ctx in
                guard ctx.expectArguments(node, 1...1, usage: "\(name) \(E.allCases.map(\.rawValue).joined(separator: "|"))"),
                    let v = ctx.enumeration(node.arguments[0], as: E.self, what: "value for \(name)")
                else { return }
                model[keyPath: kp] = v
            },
            encode: { model, w in if let v = model[keyPath: kp] { w.line(name, v.rawValue) } })
    }

    /// A script command with an optional `user[:group]`.
    public static func command(
        _ name: String, aliases: [String] = [], _ kp: WritableKeyPath<Model, ScriptCommand?> & Sendable, help: String
    ) -> Self {
        Self(
            name, aliases: aliases, help: help,
            decode: { model, node, ctx in
                if let c = ctx.scriptCommand(node) { model[keyPath: kp] = c }
            },
            encode: { model, w in if let v = model[keyPath: kp] { w.line([name] + v.words) } })
    }

    /// A block of plain words, one or more per line (`notification_email { a@b c@d }`).
    public static func list(
        _ name: String, aliases: [String] = [], _ kp: WritableKeyPath<Model, [String]> & Sendable, help: String
    ) -> Self {
        Self(
            name, aliases: aliases, help: help, shape: .block, repeatable: true,
            decode: { model, node, ctx in
                model[keyPath: kp].append(contentsOf: ctx.listWords(node).map(\.text))
            },
            encode: { model, w in
                let v = model[keyPath: kp]
                if !v.isEmpty { w.block([name]) { w in for item in v { w.line(item) } } }
            })
    }

    /// A nested block decoded with its own schema; a second block of the same name adds to the first.
    public static func block<Sub>(
        _ name: String, aliases: [String] = [], schema: @escaping @Sendable () -> BlockSchema<Sub>,
        _ kp: WritableKeyPath<Model, Sub?> & Sendable, initial: @escaping @Sendable () -> Sub, help: String
    ) -> Self {
        Self(
            name, aliases: aliases, help: help, shape: .block, repeatable: true,
            decode: { model, node, ctx in
                guard ctx.expectArguments(node, 0...0, usage: "\(name) { ... }") else { return }
                var sub = model[keyPath: kp] ?? initial()
                ctx.inBlock(name, at: node.location) {
                    schema().decode(node.children ?? [], into: &sub, context: ctx)
                }
                model[keyPath: kp] = sub
            },
            encode: { model, w in
                if let sub = model[keyPath: kp] { w.block([name]) { w in schema().encode(sub, into: &w) } }
            })
    }

    /// `notify_deleted [CMD]`: the flag, and an optional command.
    static func notifyDeleted(
        _ flag: WritableKeyPath<Model, Bool> & Sendable, _ command: WritableKeyPath<Model, ScriptCommand?> & Sendable
    ) -> Self {
        Self(
            "notify_deleted", help: "[CMD]: report DELETED (not FAULT) when removed at reload",
            decode: { m, n, c in
                m[keyPath: flag] = true
                if !n.arguments.isEmpty { m[keyPath: command] = c.scriptCommand(n) }
            },
            encode: { m, w in if m[keyPath: flag] { w.line(["notify_deleted"] + (m[keyPath: command]?.words ?? [])) } })
    }

    /// `weight W [reverse]` on a tracker definition.
    static func trackWeight(_ range: ClosedRange<Int>, _ kp: WritableKeyPath<Model, TrackWeight> & Sendable, help: String) -> Self {
        Self(
            "weight", help: help,
            decode: { m, n, c in if let w = c.trackWeight(n, range) { m[keyPath: kp] = w } },
            encode: { m, w in w.line(["weight", String(m[keyPath: kp].weight)] + (m[keyPath: kp].reverse ? ["reverse"] : [])) })
    }

    static func trackWeight(_ range: ClosedRange<Int>, _ kp: WritableKeyPath<Model, TrackWeight?> & Sendable, help: String) -> Self {
        Self(
            "weight", help: help,
            decode: { m, n, c in if let w = c.trackWeight(n, range) { m[keyPath: kp] = w } },
            encode: { m, w in
                if let t = m[keyPath: kp] { w.line(["weight", String(t.weight)] + (t.reverse ? ["reverse"] : [])) }
            })
    }

    /// Accepted for compatibility but without effect (deprecated or no-op keywords in keepalived).
    public static func ignored(_ name: String, aliases: [String] = [], help: String, shape: Shape = .either) -> Self {
        Self(
            name, aliases: aliases, help: help, shape: shape, repeatable: true,
            decode: { _, node, ctx in
                ctx.warning("ignored-keyword", "'\(node.keyword.text)' has no effect: \(help)", at: node.location)
            },
            encode: { _, _ in })
    }
}

extension DecodeContext {
    /// `keyword "command args" [user[:group]]`.
    public func scriptCommand(_ node: ConfigNode) -> ScriptCommand? {
        let usage = "\(node.keyword.text) \"/path/to/script args\" [USER[:GROUP]]"
        guard expectArguments(node, 1...2, usage: usage) else {
            if node.arguments.count > 2 {
                // The extra error above already points at the word; say why.
                diagnostics.append(
                    Diagnostic(.note, "unquoted-command", "keepalived reads the second word as a user name and rejects more",
                               at: node.arguments[1].location,
                               hint: "quote the whole command: \(node.keyword.text) \"\(node.words.joined(separator: " "))\""))
            }
            return nil
        }
        var command = ScriptCommand(command: node.arguments[0].text)
        do {
            _ = try ShellWords.split(command.command)
        } catch let error as ShellWords.Failure {
            self.error("script-syntax", "\(node.keyword.text): \(error.message)", at: node.arguments[0].location)
            return nil
        } catch {
            return nil
        }
        if command.command.utf8.allSatisfy(ASCII.isBlank) {
            self.error("missing-value", "'\(node.keyword.text)' needs a command", at: node.location, hint: "usage: \(usage)")
            return nil
        }
        if node.arguments.count == 2 {
            let spec = node.arguments[1].text
            let parts = spec.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            let user = parts[0]
            let group = parts.count > 1 ? parts[1] : nil
            command.user = user.isEmpty ? nil : user
            command.group = (group?.isEmpty ?? true) ? nil : group
            if command.user == nil, command.group == nil {
                self.error("bad-value", "'\(spec)' is not a user or user:group", at: node.arguments[1].location)
                return nil
            }
        }
        return command
    }
}

/// Splits a script command the way keepalived does: `'` and `"` quote, quotes may touch text,
/// backslash escapes (`\n`, `\t`, `\xHH`, `\nnn`, ...), unquoted blanks separate words.
public enum ShellWords {
    public struct Failure: Error, Equatable {
        public var message: String
    }

    public static func split(_ text: String) throws -> [String] {
        var words: [String] = []
        var current: [UInt8] = []
        var inWord = false
        var quote: UInt8? = nil
        let b = Array(text.utf8)
        var i = 0
        while i < b.count {
            let c = b[i]
            if let q = quote {
                if c == q {
                    quote = nil
                    i += 1
                    continue
                }
                if c == ASCII.backslash, q == ASCII.quote, i + 1 < b.count {
                    let (bytes, used) = escape(b, i + 1)
                    current.append(contentsOf: bytes)
                    i += 1 + used
                    continue
                }
                current.append(c)
                i += 1
                continue
            }
            if ASCII.isBlank(c) {
                if inWord { words.append(String(decoding: current, as: UTF8.self)); current.removeAll(); inWord = false }
                i += 1
                continue
            }
            inWord = true
            if c == ASCII.quote || c == ASCII.singleQuote {
                quote = c
                i += 1
                continue
            }
            if c == ASCII.backslash {
                guard i + 1 < b.count else { throw Failure(message: "the command ends with a lone '\\'") }
                let (bytes, used) = escape(b, i + 1)
                current.append(contentsOf: bytes)
                i += 1 + used
                continue
            }
            current.append(c)
            i += 1
        }
        if quote != nil { throw Failure(message: "unterminated quote in the command") }
        if inWord { words.append(String(decoding: current, as: UTF8.self)) }
        return words
    }

    /// Decodes the escape starting at `b[i]` (just after the backslash): returns bytes and bytes used.
    private static func escape(_ b: [UInt8], _ i: Int) -> ([UInt8], Int) {
        let c = b[i]
        switch c {
        case UInt8(ascii: "a"): return ([7], 1)
        case UInt8(ascii: "b"): return ([8], 1)
        case UInt8(ascii: "E"): return ([27], 1)
        case UInt8(ascii: "f"): return ([12], 1)
        case UInt8(ascii: "n"): return ([10], 1)
        case UInt8(ascii: "r"): return ([13], 1)
        case UInt8(ascii: "t"): return ([9], 1)
        case UInt8(ascii: "v"): return ([11], 1)
        case UInt8(ascii: "x"):
            var v = 0
            var used = 1
            while used <= 2, i + used < b.count, let d = hexDigit(b[i + used]) { v = v * 16 + d; used += 1 }
            return used == 1 ? ([c], 1) : ([UInt8(v)], used)
        case UInt8(ascii: "c"):
            guard i + 1 < b.count else { return ([c], 1) }
            return ([b[i + 1] & 0x1f], 2)
        case UInt8(ascii: "0")...UInt8(ascii: "7"):
            var v = 0
            var used = 0
            while used < 3, i + used < b.count, b[i + used] >= 48, b[i + used] <= 55 { v = v * 8 + Int(b[i + used] - 48); used += 1 }
            return ([UInt8(truncatingIfNeeded: v)], used)
        default:
            return ([c], 1)
        }
    }

    private static func hexDigit(_ c: UInt8) -> Int? {
        switch c {
        case 48...57: Int(c - 48)
        case 65...70: Int(c - 55)
        case 97...102: Int(c - 87)
        default: nil
        }
    }
}
