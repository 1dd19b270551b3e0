// vrrp-bench: measures VRRPCore's packet codec in-process, one packet at a time.
//
//   vrrp-bench decode [--runs N] [--iterations N | --seconds S] [--case NAME]...
//   vrrp-bench encode [--runs N] [--iterations N | --seconds S] [--case NAME]...
//   vrrp-bench all    [...]                                    (decode, then encode)
//
// The cases are keepalived-like advertisements with two virtual addresses:
//
//   v2       VRRPv2 in a whole IPv4 datagram (TOS 0xC0, TTL 255, PASS "1111", 1 s), 44 bytes,
//            decoded with `decodeIPv4Datagram(_:)`;
//   v3-ipv4  VRRPv3 in a whole IPv4 datagram, checksum with the IPv4 pseudo-header (keepalived's
//            default), 1 s, 36 bytes, decoded with `decodeIPv4Datagram(_:)`;
//   v3-ipv6  VRRPv3 IPv6 message as a raw IPv6 socket delivers it (40 bytes, link-local source,
//            ff02::12, first address link-local), decoded with `decode(message:source:destination:hopLimit:)`.
//
// `encode` writes the same three VRRP messages with `encode(into:source:destination:checksumForm:)`
// into one reused buffer (v2 message-only checksum, v3 pseudo-header).
//
// Each case has 64 variants (VRIDs 1–64, varying priorities, as on a host with many instances),
// used in turn, so that no work can be hoisted out of the loop; a field of every result is
// accumulated into a checksum that is printed, so that no work can be dropped either. A run is
// `iterations` packets; the table gives the median, minimum and maximum of the per-packet time
// over the runs, after one warm-up run. Times are the thread's CPU time (CLOCK_THREAD_CPUTIME_ID):
// on a shared machine the wall clock also counts the time the core spent on other processes, so
// CPU time is what "per core" means; the median wall time per packet is printed as well. With
// --seconds (default 0.5) the iteration count is calibrated so that one run takes about that much
// CPU time. Nothing is allocated inside a run (Benchmarks/vrrp-allocs.sh checks it with valgrind).

import ArgumentParser
import VRRPCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// MARK: - Cases

/// The advertisements' variants and their decoder inputs.
struct Fixture {
    let name: String
    let advertisements: [VRRPAdvertisement]
    let source: IPAddress
    let destination: IPAddress
    let checksumForm: VRRPChecksumForm
    /// What the decoder gets: whole IPv4 datagrams, or bare VRRP messages for IPv6.
    let wire: [[UInt8]]
    let isDatagram: Bool
}

let variants = 64

func address(_ text: String) -> IPAddress { IPAddress(text)! }

func makeFixture(_ name: String) -> Fixture {
    let version: VRRPVersion, source: IPAddress, destination: IPAddress, vips: [IPAddress]
    let form: VRRPChecksumForm
    switch name {
    case "v2":
        version = .v2
        source = address("192.168.1.10")
        destination = address("224.0.0.18")
        vips = [address("192.168.1.100"), address("192.168.1.101")]
        form = .messageOnly
    case "v3-ipv4":
        version = .v3
        source = address("192.168.1.10")
        destination = address("224.0.0.18")
        vips = [address("192.168.1.100"), address("192.168.1.101")]
        form = .pseudoHeader
    case "v3-ipv6":
        version = .v3
        source = address("fe80::5054:ff:fe12:3456")
        destination = address("ff02::12")
        vips = [address("fe80::1"), address("2001:db8::100")]
        form = .pseudoHeader
    default:
        fatalError("unknown case \(name)")
    }
    var advertisements: [VRRPAdvertisement] = []
    var wire: [[UInt8]] = []
    for k in 0..<variants {
        let advertisement = VRRPAdvertisement(
            version: version, virtualRouterID: UInt8(k + 1), priority: UInt8(100 + k % 3 * 50),
            advertisementInterval: 100, addresses: VRRPAddressList(family: source.family, vips),
            authenticationType: version == .v2 ? VRRPAuthenticationType.password.rawValue : 0,
            authenticationData: version == .v2 ? VRRPPassword("1111").rawValue : 0)
        advertisements.append(advertisement)
        if source.family == .ipv4 {
            wire.append(advertisement.encodedIPv4Datagram(source: source, destination: destination,
                                                          checksumForm: form, identification: UInt16(k)))
        } else {
            wire.append(advertisement.encoded(source: source, destination: destination, checksumForm: form))
        }
    }
    return Fixture(name: name, advertisements: advertisements, source: source, destination: destination,
                   checksumForm: form, wire: wire, isDatagram: source.family == .ipv4)
}

// MARK: - Loops

// The loops are not inlined into their callers, so each is compiled once, on its own.

/// Decodes `iterations` packets, the variants in turn; returns the accumulated fields.
@inline(never)
func decodeLoop(_ f: Fixture, iterations: Int) -> UInt64 {
    var acc: UInt64 = 0
    let wire = f.wire
    let mask = variants - 1
    for i in 0..<iterations {
        do throws(VRRPDropReason) {
            let p: VRRPReceivedPacket
            if f.isDatagram {
                p = try VRRPAdvertisement.decodeIPv4Datagram(wire[i & mask])
            } else {
                p = try VRRPAdvertisement.decode(message: wire[i & mask], source: f.source,
                                                 destination: f.destination, hopLimit: 255)
            }
            let a = p.advertisement
            acc &+= UInt64(a.virtualRouterID) &+ UInt64(a.priority) << 8 &+ UInt64(a.addresses.count) << 16
                &+ UInt64(p.checksumForm.rawValue) << 24 &+ UInt64(a.advertisementInterval) << 32
        } catch {
            fatalError("\(f.name): the fixture did not decode: \(error)")
        }
    }
    return acc
}

/// Encodes `iterations` packets into `buffer`, the variants in turn; returns the accumulated checksums.
@inline(never)
func encodeLoop(_ f: Fixture, into buffer: UnsafeMutableRawBufferPointer, iterations: Int) -> UInt64 {
    var acc: UInt64 = 0
    let advertisements = f.advertisements
    let mask = variants - 1
    for i in 0..<iterations {
        let n = advertisements[i & mask].encode(into: buffer, source: f.source, destination: f.destination,
                                                checksumForm: f.checksumForm)
        acc &+= UInt64(n) &+ UInt64(buffer.load(fromByteOffset: 6, as: UInt16.self))
    }
    return acc
}

// MARK: - Measurement

enum Operation: String {
    case decode, encode
}

/// `clock` in nanoseconds.
func nanoseconds(_ clock: clockid_t) -> UInt64 {
    var t = timespec()
    clock_gettime(clock, &t)
    return UInt64(t.tv_sec) * 1_000_000_000 + UInt64(t.tv_nsec)
}

/// Wall time and this thread's CPU time, in nanoseconds.
func now() -> (wall: UInt64, cpu: UInt64) {
    (nanoseconds(CLOCK_MONOTONIC), nanoseconds(CLOCK_THREAD_CPUTIME_ID))
}

/// `x` with one decimal ("61.3"), without Foundation.
func oneDecimal(_ x: Double) -> String {
    let tenths = Int((x * 10).rounded())
    return "\(tenths / 10).\(tenths % 10)"
}

/// `x` as 16 hex digits.
func hex16(_ x: UInt64) -> String {
    let digits = String(x, radix: 16)
    return String(repeating: "0", count: 16 - digits.count) + digits
}

func median(_ xs: [Double]) -> Double {
    let s = xs.sorted()
    if s.isEmpty { return .nan }
    return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}

struct Runner {
    let operation: Operation
    let buffer: UnsafeMutableRawBufferPointer

    init(_ operation: Operation) {
        self.operation = operation
        buffer = .allocate(byteCount: 4096, alignment: 8)
        buffer.initializeMemory(as: UInt8.self, repeating: 0)
    }

    /// One run of `iterations` packets: CPU and wall nanoseconds, and the accumulated checksum.
    func run(_ f: Fixture, iterations: Int) -> (cpu: UInt64, wall: UInt64, acc: UInt64) {
        let t0 = now()
        let acc = operation == .decode
            ? decodeLoop(f, iterations: iterations)
            : encodeLoop(f, into: buffer, iterations: iterations)
        let t1 = now()
        return (t1.cpu - t0.cpu, t1.wall - t0.wall, acc)
    }

    /// The iteration count for runs of about `seconds`.
    func calibrate(_ f: Fixture, seconds: Double) -> Int {
        var n = 1_000
        while true {
            let t = run(f, iterations: n).cpu
            if t >= 20_000_000 || n >= 1 << 40 {
                return max(1_000, Int(seconds * 1e9 / (Double(t) / Double(n))))
            }
            n *= 4
        }
    }
}

struct Options: ParsableArguments {
    @Option(help: "Measured runs per case (after one warm-up run); the table gives their median.")
    var runs = 7
    @Option(help: "Packets per run (overrides --seconds).")
    var iterations: Int?
    @Option(help: "Calibrate the packets per run so that a run lasts about this long.")
    var seconds = 0.5
    @Option(name: .customLong("case"), help: "Only this case: v2, v3-ipv4 or v3-ipv6 (repeatable).")
    var cases: [String] = []

    func validate() throws {
        if runs < 1 { throw ValidationError("--runs wants a positive integer") }
        if let iterations, iterations < 1 { throw ValidationError("--iterations wants a positive integer") }
        if !(seconds > 0) { throw ValidationError("--seconds wants a positive number") }
        for c in cases where !allCases.contains(c) {
            throw ValidationError("unknown case '\(c)'; the cases are \(allCases.joined(separator: ", "))")
        }
    }

    var selectedCases: [String] { cases.isEmpty ? allCases : allCases.filter(cases.contains) }
}

let allCases = ["v2", "v3-ipv4", "v3-ipv6"]
let goalPacketsPerSecond = 10_000_000.0

func measure(_ operations: [Operation], options: Options) {
    let fixtures = options.selectedCases.map(makeFixture)
    print("| operation | case | bytes | runs | packets per run | median CPU ns/packet | min | max "
        + "| median packets/s per core | goal ≥ 10 M/s | median wall ns/packet | checksum |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---|")
    for operation in operations {
        let runner = Runner(operation)
        for f in fixtures {
            let iterations = options.iterations ?? runner.calibrate(f, seconds: options.seconds)
            _ = runner.run(f, iterations: min(iterations, 1_000_000))  // warm-up
            var perPacket: [Double] = [], wallPerPacket: [Double] = []
            perPacket.reserveCapacity(options.runs)
            wallPerPacket.reserveCapacity(options.runs)
            var checksum: UInt64 = 0
            for _ in 0..<options.runs {
                let (cpu, wall, acc) = runner.run(f, iterations: iterations)
                perPacket.append(Double(cpu) / Double(iterations))
                wallPerPacket.append(Double(wall) / Double(iterations))
                checksum &+= acc
            }
            let m = median(perPacket)
            let rate = 1e9 / m
            // Decode gets the datagram (IPv4) or the message (IPv6); encode writes the message.
            let bytes = operation == .decode ? f.wire[0].count : f.advertisements[0].encodedLength
            // The row is built in reserved storage from fixed-form pieces, so that the number of heap
            // allocations the program makes does not depend on the figures (vrrp-allocs.sh compares it).
            var row = ""
            row.reserveCapacity(256)
            for cell in [operation.rawValue, f.name, "\(bytes)", "\(options.runs)", "\(iterations)",
                         oneDecimal(m), oneDecimal(perPacket.min()!), oneDecimal(perPacket.max()!),
                         oneDecimal(rate / 1e6) + " M", rate >= goalPacketsPerSecond ? "met" : "not met",
                         oneDecimal(median(wallPerPacket)), hex16(checksum)] {
                row += "| "
                row += cell
                row += " "
            }
            row += "|"
            print(row)
        }
        runner.buffer.deallocate()
    }
}

// MARK: - Main

@main
struct VRRPBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vrrp-bench",
        abstract: "Measure VRRPCore in-process: the packet codec per packet, and the simulation's speed.",
        subcommands: [Decode.self, Encode.self, All.self, Simulate.self])
}

struct Decode: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Time decode and validation: decodeIPv4Datagram (v2, v3-ipv4), decode(message:…) (v3-ipv6).")
    @OptionGroup var options: Options
    func run() { measure([.decode], options: options) }
}

struct Encode: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Time encode(into:source:destination:checksumForm:) into a reused buffer.")
    @OptionGroup var options: Options
    func run() { measure([.encode], options: options) }
}

struct All: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "decode, then encode.")
    @OptionGroup var options: Options
    func run() { measure([.decode, .encode], options: options) }
}

// MARK: - Simulation speed

/// Runs the deterministic simulation of many routers for an hour of virtual time and prints
/// the wall-clock and CPU time it took (goal: 1,000 routers for one hour in under 10 s).
struct Simulate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Time Simulation: SEGMENTS × PER-SEGMENT routers (one instance per node), or 2 nodes × 500 instances.")

    @Option(help: "Topology: 100x10, 500x2 (segments × routers per segment), or 2x500 (2 nodes with 500 instances each).")
    var topology: String = "100x10"
    @Option(help: "Virtual time to simulate, in seconds.")
    var seconds: Int = 3600
    @Option(help: "Repetitions (the median is reported).")
    var runs: Int = 3

    func build() throws -> Simulation {
        var sim = Simulation(seed: 1, options: SimulationOptions(trace: .off))
        func v4(_ x: UInt32) -> IPAddress { IPAddress(ipv4: 0x0A00_0000 | x) }  // simulated only: no packet leaves the process
        if topology == "2x500" {
            let lans = [sim.addSegment("lan0"), sim.addSegment("lan1")]
            for node in 0..<2 {
                var routers: [VirtualRouterConfiguration] = []
                for (k, lan) in lans.enumerated() {
                    for vrid in 1...250 {
                        var c = VirtualRouterConfiguration(
                            name: "VI_\(k)_\(vrid)", virtualRouterID: UInt8(vrid), interface: "eth\(k)",
                            primaryAddress: v4(UInt32(lan) << 16 | UInt32(node + 1)),
                            addresses: [VirtualAddress(v4(0x80_0000 | UInt32(lan) << 16 | UInt32(vrid)))])
                        c.priority = UInt8(node == 0 ? 200 : 100)
                        routers.append(c)
                    }
                }
                try sim.addNode("n\(node)", routers: routers, interfaces: ["eth0": lans[0], "eth1": lans[1]])
            }
            return sim
        }
        let parts = topology.split(separator: "x").compactMap { Int($0) }
        guard parts.count == 2 else { throw ValidationError("topology must be SEGMENTSxROUTERS or 2x500") }
        for s in 0..<parts[0] {
            let lan = sim.addSegment("lan\(s)")
            for k in 0..<parts[1] {
                var c = VirtualRouterConfiguration(
                    name: "VI_1", virtualRouterID: 51, interface: "eth0",
                    primaryAddress: v4(UInt32(s) << 8 | UInt32(k + 1)),
                    addresses: [VirtualAddress(v4(UInt32(s) << 8 | 200))])
                c.priority = UInt8(100 + k)
                try sim.addNode("n\(s)-\(k)", routers: [c], interfaces: ["eth0": lan])
            }
        }
        return sim
    }

    func run() throws {
        var wall: [Double] = []
        var cpu: [Double] = []
        var summary = ""
        for _ in 0..<runs {
            var sim = try build()
            let c0 = clock()
            let t0 = ContinuousClock.now
            sim.run(until: .seconds(Double(seconds)))
            let elapsed = ContinuousClock.now - t0
            let used = Double(clock() - c0) / Double(CLOCKS_PER_SEC)
            let (s, a) = elapsed.components
            wall.append(Double(s) + Double(a) / 1e18)
            cpu.append(used)
            if !sim.violations.isEmpty { throw ValidationError("invariant violated: \(sim.violations[0])") }
            summary = "\(sim.statistics)"
        }
        func median(_ v: [Double]) -> String { String(Double(Int(v.sorted()[v.count / 2] * 100)) / 100) }
        print("simulate \(topology), \(seconds) s virtual: median wall \(median(wall)) s, "
              + "median CPU \(median(cpu)) s over \(runs) runs; \(summary)")
    }
}
