import ArgumentParser
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// `kad inspect`: decode and check VRRP advertisements, gratuitous ARPs and Neighbor
/// Advertisements from a capture or a hex dump.
struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Decode and check VRRP, gratuitous ARP and Neighbor Advertisement packets.",
        discussion: """
            Reads a pcap or pcapng capture (Ethernet, raw IP, Linux SLL/SLL2, 802.1Q tags), or hex text \
            (one packet per line, or blank-line separated; an IPv4 datagram, an IPv6 packet or an Ethernet \
            frame each). For every VRRP packet it prints every field, the checksum form that verified and \
            every receive check, each evaluated on its own. Exit status: 0 when the input was read (even if \
            packets fail checks), 1 when it is unreadable or malformed. See Docs/kad-inspect.md.
            """
    )

    @Flag(help: "Print one JSON array of packet objects on standard output.")
    var json = false

    @Flag(help: "Read the input as hex text even if it starts like a capture file.")
    var hex = false

    @Argument(help: ArgumentHelp("A pcap/pcapng capture or a hex text file; - for standard input.", valueName: "FILE"))
    var file: String

    func run() throws {
        let name = file == "-" ? "<stdin>" : file
        var stderr = StandardError()
        let bytes: [UInt8]
        switch Self.readAll(path: file == "-" ? nil : file) {
        case let .success(b):
            bytes = b
        case let .failure(error):
            print("kad inspect: \(name): cannot read: \(error.message)", to: &stderr)
            Glibc.exit(1)
        }
        let contents = Self.read(bytes, forceHex: hex)
        let reports = contents.packets.map(PacketDissector.dissect)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            let data = try encoder.encode(reports)
            writeStandardOutput(String(decoding: data, as: UTF8.self) + "\n")
        } else {
            var out = ""
            for r in reports { out += r.text + "\n" }
            if !reports.isEmpty {
                let counts = Dictionary(grouping: reports, by: \.kind).mapValues(\.count)
                let invalid = reports.filter { $0.verdict == "invalid" }.count
                let order = ["vrrp", "arp", "neighbor-advertisement", "skipped", "malformed"]
                let parts = order.compactMap { k in counts[k].map { "\($0) \(k)" } }
                out += "\(reports.count) packet\(reports.count == 1 ? "" : "s") (\(contents.format)): " + parts.joined(separator: ", ")
                    + (invalid > 0 ? "; \(invalid) failing checks" : "") + "\n"
            }
            writeStandardOutput(out)
        }
        if let error = contents.error {
            print("kad inspect: \(name): \(error)", to: &stderr)
            Glibc.exit(1)
        }
        if reports.isEmpty && !json {
            print("kad inspect: \(name): no packets", to: &stderr)
        }
    }

    /// Chooses the format and reads the packets (never traps).
    static func read(_ bytes: [UInt8], forceHex: Bool) -> CaptureContents {
        if !forceHex, PcapReader.detect(bytes) != nil {
            return PcapReader.read(bytes)
        }
        if !forceHex, !HexInput.isText(bytes) {
            let bad = bytes.firstIndex { $0 < 0x20 && ![0x09, 0x0A, 0x0B, 0x0C, 0x0D].contains($0) || $0 == 0x7F } ?? 0
            let magic = bytes.prefix(4).map(hexByte).joined()
            return CaptureContents(format: "unknown", error: InspectInputError(
                offset: 0, message: "not a capture (magic 0x\(magic) is not pcap a1b2c3d4/a1b23c4d in either byte order, nor pcapng 0a0d0d0a) "
                    + "and not hex text (byte 0x\(hexByte(bytes[bad])) at offset \(bad))"))
        }
        var contents = CaptureContents(format: "hex")
        do throws(InspectInputError) {
            let packets = try HexInput.parse(bytes)
            contents.packets = packets.enumerated().map { i, p in
                CapturedPacket(number: i + 1, linkType: HexInput.classify(p.bytes) ?? .unrecognised, timestamp: nil, data: p.bytes,
                               originalLength: p.bytes.count, fileOffset: nil, line: p.line)
            }
        } catch {
            contents.error = error
        }
        return contents
    }

    struct ReadError: Error {
        var message: String
    }

    /// The whole file at `path`, or standard input when `path` is nil, with the system's reason on failure.
    static func readAll(path: String?) -> Result<[UInt8], ReadError> {
        let fd: Int32
        if let path {
            fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { return .failure(ReadError(message: String(cString: strerror(errno)))) }
        } else {
            fd = STDIN_FILENO
        }
        defer { if path != nil { close(fd) } }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n > 0 {
                bytes.append(contentsOf: chunk[0..<n])
            } else if n == 0 {
                return .success(bytes)
            } else if errno != EINTR {
                return .failure(ReadError(message: String(cString: strerror(errno))))
            }
        }
    }
}
