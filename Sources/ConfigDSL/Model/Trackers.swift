/// A reference to a tracked object from an instance or sync group:
/// `NAME [weight W [reverse|noreverse]]` inside `track_script { }`, `track_interface { }`, ...
public struct TrackReference: Codable, Sendable, Hashable {
    public var name: String
    /// `nil` means the tracker's own default weight.
    public var weight: Int?
    /// `reverse` (true), `noreverse` (false) or neither (`nil`, the tracker's own setting).
    public var reverse: Bool?

    public init(name: String, weight: Int? = nil, reverse: Bool? = nil) {
        self.name = name
        self.weight = weight
        self.reverse = reverse
    }

    var words: [String] {
        var w = [name]
        if let weight { w += ["weight", String(weight)] }
        if let reverse { w.append(reverse ? "reverse" : "noreverse") }
        return w
    }
}

/// `vrrp_script NAME { }`: a command run periodically whose exit status is tracked.
public struct VRRPScript: Codable, Sendable, Hashable {
    public var name: String
    public var script: ScriptCommand?
    public var interval: Seconds = 1
    /// Defaults to the interval.
    public var timeout: Seconds = 1
    /// 0 means a failure puts the tracking instances in FAULT.
    public var weight: TrackWeight = TrackWeight(weight: 0)
    public var rise: Int = 1
    public var fall: Int = 1
    public var user: String?
    public var group: String?
    public var initFail: Bool = false

    public init(name: String) { self.name = name }

    static let schema = BlockSchema<VRRPScript>("vrrp_script", [
        .command("script", \.script, help: "the command to run; exit 0 means success"),
        .seconds("interval", 0.000001...Double(Int32.max), \.interval, help: "seconds between runs (default 1)"),
        .seconds("timeout", 0.000001...Double(Int32.max), \.timeout, help: "a run longer than this counts as a failure (default: the interval)"),
        .trackWeight(-253...253, \.weight, help: "-253..253 [reverse]: priority change while OK (>0) or failed (<0); 0 = FAULT on failure"),
        .int("rise", 1...Int(Int32.max), \.rise, help: "consecutive successes needed to become OK"),
        .int("fall", 1...Int(Int32.max), \.fall, help: "consecutive failures needed to become failed"),
        KeywordRule("user", help: "USER [GROUP]: run the script as this user",
                    decode: { m, n, c in
                        guard c.expectArguments(n, 1...2, usage: "user USER [GROUP]") else { return }
                        m.user = n.arguments[0].text
                        m.group = n.arguments.count > 1 ? n.arguments[1].text : nil
                    },
                    encode: { m, w in if let u = m.user { w.line(["user", u] + (m.group.map { [$0] } ?? [])) } }),
        .flag("init_fail", \.initFail, help: "start in the failed state"),
    ])
}

/// `track_file NAME { }` (alias `vrrp_track_file`): a file holding a number that adjusts priority.
public struct TrackFile: Codable, Sendable, Hashable {
    public struct InitFile: Codable, Sendable, Hashable {
        public var value: Int?
        public var overwrite: Bool
    }

    public var name: String
    public var file: String?
    public var weight: TrackWeight = TrackWeight(weight: 1)
    public var initFile: InitFile?

    public init(name: String) { self.name = name }

    static let schema = BlockSchema<TrackFile>("track_file", [
        .string("file", \.file, help: "path of the file to watch"),
        .trackWeight(-2147483647...2147483647, \.weight, help: "multiplier for the number in the file [reverse]"),
        KeywordRule("init_file", help: "[VALUE] [overwrite]: create the file (or overwrite it) at start",
                    decode: { m, n, c in
                        guard c.expectArguments(n, 0...2, usage: "init_file [VALUE] [overwrite]") else { return }
                        var f = InitFile(value: nil, overwrite: false)
                        for a in n.arguments {
                            if a.text == "overwrite" { f.overwrite = true }
                            else if let v = c.integer(a, Int(Int32.min)...Int(Int32.max), what: "init_file") { f.value = v }
                            else { return }
                        }
                        m.initFile = f
                    },
                    encode: { m, w in
                        if let f = m.initFile { w.line(["init_file"] + (f.value.map { [String($0)] } ?? []) + (f.overwrite ? ["overwrite"] : [])) }
                    }),
    ])
}

/// `vrrp_track_process NAME { }`: tracks whether a process is running.
public struct TrackProcess: Codable, Sendable, Hashable {
    public enum ParamMatch: String, ConfigEnum { case initial, partial }

    public var name: String
    /// The process name (or path) and optional arguments.
    public var process: [String]?
    public var paramMatch: ParamMatch?
    public var weight: TrackWeight = TrackWeight(weight: 0)
    public var quorum: Int = 1
    public var quorumMax: Int?
    public var forkDelay: Seconds?
    public var terminateDelay: Seconds?
    public var delay: Seconds?
    public var fullCommand: Bool = false

    public init(name: String) { self.name = name }

    static let schema = BlockSchema<TrackProcess>("vrrp_track_process", [
        .words("process", \.process, help: "NAME|\"PATH\" [ARGS...]: the process to look for", arity: 1...64, usage: "process NAME [ARGS...]"),
        .choice("param_match", \.paramMatch, help: "initial|partial: how arguments are matched"),
        .trackWeight(-254...254, \.weight, help: "-254..254 [reverse]; 0 = FAULT when the quorum is not met"),
        .int("quorum", 0...65535, \.quorum, help: "minimum number of processes (default 1)"),
        .int("quorum_max", 0...65535, \.quorumMax, help: "maximum number of processes"),
        .seconds("fork_delay", 0...3600, \.forkDelay, help: "delay before counting a new process"),
        .seconds("terminate_delay", 0...3600, \.terminateDelay, help: "delay before counting a process as gone"),
        .seconds("delay", 0...3600, \.delay, help: "sets fork_delay and terminate_delay"),
        .flag("full_command", \.fullCommand, help: "match the whole command line, not the process name"),
    ])
}

extension DecodeContext {
    /// `weight W [reverse]` on a tracker definition.
    func trackWeight(_ node: ConfigNode, _ range: ClosedRange<Int>) -> TrackWeight? {
        guard expectArguments(node, 1...2, usage: "weight \(range.lowerBound)..\(range.upperBound) [reverse]"),
            let w = integer(node.arguments[0], range, what: "weight")
        else { return nil }
        var reverse = false
        if node.arguments.count == 2 {
            guard node.arguments[1].text.lowercased() == "reverse" else {
                error("bad-value", "expected 'reverse' after the weight, not '\(node.arguments[1].text)'", at: node.arguments[1].location)
                return nil
            }
            caseCheck(node.arguments[1], canonical: "reverse")
            reverse = true
        }
        return TrackWeight(weight: w, reverse: reverse)
    }

    /// The lines of a `track_*` block inside an instance or sync group.
    func trackReferences(_ node: ConfigNode, weightRange: ClosedRange<Int>) -> [TrackReference] {
        var result: [TrackReference] = []
        for line in plainLines(node) {
            var ref = TrackReference(name: line.keyword.text)
            var i = 0
            var ok = true
            let args = line.arguments
            while i < args.count, ok {
                let a = args[i]
                switch a.text.lowercased() {
                case "weight":
                    guard i + 1 < args.count else {
                        error("missing-value", "'weight' needs a number", at: a.location)
                        ok = false
                        break
                    }
                    if let w = integer(args[i + 1], weightRange, what: "weight") { ref.weight = w } else { ok = false }
                    i += 2
                case "reverse":
                    ref.reverse = true
                    i += 1
                case "noreverse":
                    ref.reverse = false
                    i += 1
                default:
                    error("unknown-option", "unexpected '\(a.text)' after '\(line.keyword.text)'", at: a.location,
                          hint: "usage: NAME [weight \(weightRange.lowerBound)..\(weightRange.upperBound) [reverse|noreverse]]")
                    ok = false
                }
            }
            if ok {
                recordKeyword("\(node.keyword.text)/\(ref.name)", at: line.location)
                result.append(ref)
            }
        }
        return result
    }
}

extension KeywordRule {
    /// A `track_*` block of references.
    static func tracking(
        _ name: String, aliases: [String] = [], _ kp: WritableKeyPath<Model, [TrackReference]> & Sendable,
        weights: ClosedRange<Int>, help: String
    ) -> Self {
        Self(
            name, aliases: aliases, help: help, shape: .block, repeatable: true,
            decode: { m, n, c in m[keyPath: kp].append(contentsOf: c.trackReferences(n, weightRange: weights)) },
            encode: { m, w in
                let refs = m[keyPath: kp]
                if !refs.isEmpty { w.block([name]) { w in for r in refs { w.line(r.words) } } }
            })
    }
}
