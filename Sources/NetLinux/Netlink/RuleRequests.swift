import CNetLinux
import VRRPCore

extension RouteNetlinkRequest {
    /// `RTM_NEWRULE`: adds `rule` as `ip rule add` does (`NLM_F_CREATE | NLM_F_EXCL`).
    ///
    /// The `fib_rule_hdr` carries the family, the `to`/`from` prefix lengths, the TOS, the
    /// table when below 256 (`FRA_TABLE` otherwise, with the header's table 0), the action and
    /// `FIB_RULE_INVERT` for `not`. A `lookup` rule without a table looks up main (254), as
    /// iproute2 makes it. Attributes, in this order: `FRA_SRC`, `FRA_DST`, `FRA_FWMARK`,
    /// `FRA_FWMASK`, `FRA_IIFNAME`, `FRA_OIFNAME`, `FRA_TABLE`, `FRA_PRIORITY`, `FRA_GOTO`.
    /// The caller checks the rule first with ``problem(with:)``.
    public static func newRule(_ rule: VirtualRule, into message: inout NetlinkMessageBuilder) {
        message.beginMessage(type: .newRule, flags: [.request, .acknowledge, .create, .exclusive])
        appendRule(rule, into: &message)
        message.endMessage()
    }

    /// `RTM_DELRULE`: deletes the first rule that matches `rule` (fields left out match
    /// anything), as `ip rule del` does. The action is sent as given (iproute2 sends 0, any,
    /// when the action is an implied `lookup`).
    public static func deleteRule(_ rule: VirtualRule, into message: inout NetlinkMessageBuilder) {
        message.beginMessage(type: .deleteRule, flags: [.request, .acknowledge])
        appendRule(rule, into: &message)
        message.endMessage()
    }

    /// What is wrong with `rule`, or `nil`.
    public static func problem(with rule: VirtualRule) -> String? {
        let family = rule.family
        let bits = family.addressSize * 8
        for (what, address, length) in [("from", rule.from, rule.fromPrefixLength), ("to", rule.to, rule.toPrefixLength)] {
            if Int(length) > bits { return "\(what) prefix length \(length) is too long for an \(family) rule" }
            guard let address else {
                if length != 0 { return "\(what) has a prefix length but no address" }
                continue
            }
            if address.family != family { return "\(what) \(address) is not an \(family) address" }
        }
        for (what, name) in [("iif", rule.inputInterface), ("oif", rule.outputInterface)] {
            if let name, name.isEmpty || name.utf8.count > 15 { return "\(what) \"\(name)\": an interface name has 1 to 15 bytes" }
        }
        if rule.firewallMask != nil && rule.firewallMark == nil { return "a fwmark mask needs a fwmark" }
        switch rule.action {
        case .goto:
            if rule.gotoTarget == nil { return "a goto rule needs a target preference" }
            if rule.table != nil { return "a goto rule has no table" }
        case .lookup:
            if rule.gotoTarget != nil { return "a goto target needs the goto action" }
            if rule.table == 0 { return "table 0 is not a routing table" }
        default:
            if rule.gotoTarget != nil { return "a goto target needs the goto action" }
            if rule.table != nil { return "a \(actionName(rule.action)) rule has no table" }
        }
        return nil
    }

    /// `ip rule` words for an action.
    static func actionName(_ action: VirtualRule.Action) -> String {
        switch action {
        case .lookup: "lookup"
        case .goto: "goto"
        case .noop: "nop"
        case .blackhole: "blackhole"
        case .unreachable: "unreachable"
        case .prohibit: "prohibit"
        }
    }

    private static func appendRule(_ rule: VirtualRule, into message: inout NetlinkMessageBuilder) {
        var header = fib_rule_hdr()
        header.family = familyNumber(rule.family)
        header.dst_len = rule.to == nil ? 0 : rule.toPrefixLength
        header.src_len = rule.from == nil ? 0 : rule.fromPrefixLength
        header.tos = rule.tos ?? 0
        let table = rule.table ?? (rule.action == .lookup ? UInt32(RouteAttribute.tableMain) : 0)
        header.table = table < 256 ? UInt8(table) : 0
        header.action = rule.action.rawValue
        header.flags = rule.invert ? RuleAttribute.invert : 0
        message.appendFamilyHeader(header)
        if let from = rule.from { message.appendAttribute(RuleAttribute.source, address: from) }
        if let to = rule.to { message.appendAttribute(RuleAttribute.destination, address: to) }
        if let mark = rule.firewallMark { message.appendAttribute(RuleAttribute.firewallMark, uint32: mark) }
        if let mask = rule.firewallMask { message.appendAttribute(RuleAttribute.firewallMask, uint32: mask) }
        if let name = rule.inputInterface { message.appendAttribute(RuleAttribute.inputInterfaceName, string: name) }
        if let name = rule.outputInterface { message.appendAttribute(RuleAttribute.outputInterfaceName, string: name) }
        if table > 255 { message.appendAttribute(RuleAttribute.table, uint32: table) }
        if let priority = rule.priority { message.appendAttribute(RuleAttribute.priority, uint32: priority) }
        if let target = rule.gotoTarget { message.appendAttribute(RuleAttribute.gotoTarget, uint32: target) }
    }
}
