// Hex text input for `kad inspect` (see Docs/kad-inspect.md, "Hex input").
//
// - `#` starts a comment that runs to the end of the line.
// - Whitespace, commas and colons between digits are ignored; a token may start with `0x`
//   (a `0x` token with an odd number of digits, such as `0x5`, is one byte).
// - Packets: when a blank line separates two lines holding hex, packets are separated by
//   blank lines and may span several lines. Otherwise every line starts a packet, unless the
//   packet so far is an IPv4/IPv6 packet (or an Ethernet frame carrying one) whose length
//   field asks for more bytes: then the next line continues it.
// - tcpdump `-x`/`-xx` output can be pasted as it is: a line that starts with an offset
//   such as `0x0010:` continues the current packet (`0x0000:` starts a new one), and when
//   the input has such lines, the lines without an offset (tcpdump's summaries) are ignored.

/// One packet of hex text.
struct HexPacket: Sendable {
    var bytes: [UInt8]
    /// 1-based line where the packet starts.
    var line: Int
    /// Byte offset of the packet's first digit in the input.
    var offset: Int
}

enum HexInput {
    /// Whether `bytes` is plausibly text: no NUL and no control characters other than tab, CR, LF, FF, VT.
    static func isText(_ bytes: [UInt8]) -> Bool {
        !bytes.contains { $0 < 0x20 && ![0x09, 0x0A, 0x0B, 0x0C, 0x0D].contains($0) || $0 == 0x7F }
    }

    private struct Line {
        var number: Int
        var start: Int          // offset of the line's first byte
        var bytes: ArraySlice<UInt8>
        var hasContent: Bool    // something other than whitespace before any comment
        var isBlank: Bool       // nothing but whitespace (a comment-only line is neither)
        var tcpdumpOffset: Int? // value of a leading `0xNNNN:` token
    }

    private static func isSpace(_ b: UInt8) -> Bool { b == 0x20 || (0x09...0x0D).contains(b) }
    private static func hexValue(_ b: UInt8) -> UInt8? {
        switch b {
        case 0x30...0x39: b - 0x30
        case 0x41...0x46: b - 0x41 + 10
        case 0x61...0x66: b - 0x61 + 10
        default: nil
        }
    }

    /// Splits `bytes` into packets. Throws the first character that is not part of the syntax.
    static func parse(_ bytes: [UInt8]) throws(InspectInputError) -> [HexPacket] {
        var lines: [Line] = []
        var start = 0
        var number = 1
        while start <= bytes.count {
            var end = start
            while end < bytes.count && bytes[end] != 0x0A { end += 1 }
            let raw = bytes[start..<end]
            let beforeComment = raw.prefix { $0 != 0x23 }
            let hasContent = beforeComment.contains { !isSpace($0) }
            let isBlank = raw.allSatisfy(isSpace)
            lines.append(Line(number: number, start: start, bytes: beforeComment, hasContent: hasContent, isBlank: isBlank,
                              tcpdumpOffset: tcpdumpOffset(beforeComment)))
            number += 1
            start = end + 1
        }
        let tcpdumpStyle = lines.contains { $0.tcpdumpOffset != nil }
        let content = lines.filter { $0.hasContent && (!tcpdumpStyle || $0.tcpdumpOffset != nil) }
        // Blank-line mode when a blank line lies between two content lines.
        var blankLineMode = false
        if let first = content.first?.number, let last = content.last?.number {
            blankLineMode = lines.contains { $0.isBlank && $0.number > first && $0.number < last }
        }

        var packets: [HexPacket] = []
        var current: HexPacket?
        var digits = 0
        var pendingNibble: UInt8?
        var previousLine = 0
        func finish() throws(InspectInputError) {
            guard let packet = current else { return }
            if pendingNibble != nil {
                throw InspectInputError(offset: packet.offset, message: "line \(packet.line): the packet has an odd number of hex digits (\(digits))")
            }
            if !packet.bytes.isEmpty { packets.append(packet) }
            current = nil
            digits = 0
        }
        for line in content {
            let separated = blankLineMode && lines[previousLine..<(line.number - 1)].contains { $0.isBlank }
            let startsPacket: Bool
            if let o = line.tcpdumpOffset {
                startsPacket = o == 0 || current == nil
            } else if blankLineMode {
                startsPacket = separated || current == nil
            } else {
                // One packet per line, except that a packet whose IP header announces more bytes
                // than its lines have given so far continues on the next line.
                startsPacket = current.map { pendingNibble == nil && !isIncomplete($0.bytes) } ?? true
            }
            previousLine = line.number
            if startsPacket {
                try finish()
                current = HexPacket(bytes: [], line: line.number, offset: line.start)
            }
            // Tokens: runs of non-space, non-comma bytes.
            var i = line.bytes.startIndex
            var firstToken = true
            while i < line.bytes.endIndex {
                let b = line.bytes[i]
                if isSpace(b) || b == 0x2C { i += 1; continue }
                var j = i
                while j < line.bytes.endIndex && !isSpace(line.bytes[j]) && line.bytes[j] != 0x2C { j += 1 }
                defer { i = j; firstToken = false }
                if firstToken && line.tcpdumpOffset != nil { continue }
                var k = i
                var prefixed = false
                if j - i >= 2 && line.bytes[i] == 0x30 && (line.bytes[i + 1] == 0x78 || line.bytes[i + 1] == 0x58) {
                    k += 2
                    prefixed = true
                }
                let tokenDigits = line.bytes[k..<j].filter { $0 != 0x3A }.count
                // `0x5` is one byte: pad with a leading zero when the token's digit count is odd.
                if prefixed && tokenDigits % 2 == 1 && pendingNibble == nil {
                    pendingNibble = 0
                    digits += 1
                }
                while k < j {
                    let c = line.bytes[k]
                    if c == 0x3A { k += 1; continue }
                    guard let v = hexValue(c) else {
                        throw InspectInputError(offset: k, message: "line \(line.number), column \(k - line.start + 1): \(describe(c)) is not a hex digit")
                    }
                    digits += 1
                    if let high = pendingNibble {
                        current?.bytes.append(high << 4 | v)
                        pendingNibble = nil
                    } else {
                        pendingNibble = v
                    }
                    k += 1
                }
            }
        }
        try finish()
        return packets
    }

    /// Whether `b` is the start of a packet whose length field asks for more bytes: an Ethernet
    /// frame carrying IPv4 or IPv6 (EtherType and version nibble agree), or an IPv4 or IPv6 packet.
    static func isIncomplete(_ b: [UInt8]) -> Bool {
        guard let first = b.first else { return false }
        if b.count >= 14 {
            var at = 12
            var type = UInt16(b[at]) << 8 | UInt16(b[at + 1])
            while (type == 0x8100 || type == 0x88A8) && at + 6 <= b.count {
                at += 4
                type = UInt16(b[at]) << 8 | UInt16(b[at + 1])
            }
            let ip = at + 2
            if type == 0x0800, b.count > ip, b[ip] >> 4 == 4 {
                return b.count < ip + 4 || b.count < ip + (Int(b[ip + 2]) << 8 | Int(b[ip + 3]))
            }
            if type == 0x86DD, b.count > ip, b[ip] >> 4 == 6 {
                return b.count < ip + 6 || b.count < ip + 40 + (Int(b[ip + 4]) << 8 | Int(b[ip + 5]))
            }
        }
        switch first >> 4 {
        case 4: return b.count < 4 || b.count < (Int(b[2]) << 8 | Int(b[3]))
        case 6: return b.count < 6 || b.count < 40 + (Int(b[4]) << 8 | Int(b[5]))
        default: return false
        }
    }

    /// The value of a leading tcpdump offset token (`0x0010:`), if the line starts with one.
    private static func tcpdumpOffset(_ line: ArraySlice<UInt8>) -> Int? {
        guard let first = line.firstIndex(where: { !isSpace($0) }) else { return nil }
        var end = first
        while end < line.endIndex && !isSpace(line[end]) { end += 1 }
        let token = line[first..<end]
        guard token.count >= 4, token.first == 0x30, token.dropFirst().first == 0x78, token.last == 0x3A else { return nil }
        let digits = token.dropFirst(2).dropLast()
        guard digits.count <= 8, digits.allSatisfy({ hexValue($0) != nil }) else { return nil }
        return digits.reduce(0) { $0 << 4 | Int(hexValue($1)!) }
    }

    private static func describe(_ c: UInt8) -> String {
        if c >= 0x21 && c < 0x7F { return "'\(Character(Unicode.Scalar(c)))'" }
        return "byte 0x\(hexByte(c))"
    }

    /// Tells what a hex packet holds (see Docs/kad-inspect.md, "How a hex packet is recognised"):
    /// 1. an IPv4 datagram whose total length is exactly the byte count;
    /// 2. an IPv6 packet whose 40 + payload length is exactly the byte count;
    /// 3. an Ethernet frame whose EtherType (after any 802.1Q tags) is IPv4, IPv6 or ARP;
    /// 4. a bare ARP packet (starts 00 01 08 00 06 04);
    /// 5. by the version nibble alone: IPv4 (4) or IPv6 (6), so that bad lengths are reported;
    /// 6. anything else is not recognised.
    static func classify(_ b: [UInt8]) -> LinkType? {
        let version = b.first.map { $0 >> 4 }
        if version == 4, b.count >= 20, b[0] & 0x0F >= 5, Int(b[2]) << 8 | Int(b[3]) == b.count { return .ipv4 }
        if version == 6, b.count >= 40, 40 + (Int(b[4]) << 8 | Int(b[5])) == b.count { return .ipv6 }
        if b.count >= 14 {
            var at = 12
            var type = UInt16(b[at]) << 8 | UInt16(b[at + 1])
            while (type == 0x8100 || type == 0x88A8) && at + 6 <= b.count {
                at += 4
                type = UInt16(b[at]) << 8 | UInt16(b[at + 1])
            }
            if [0x0800, 0x86DD, 0x0806].contains(type) { return .ethernet }
        }
        if b.count >= 6, b[0..<6].elementsEqual([0x00, 0x01, 0x08, 0x00, 0x06, 0x04]) { return .arp }
        if version == 4 { return .ipv4 }
        if version == 6 { return .ipv6 }
        return nil
    }
}
