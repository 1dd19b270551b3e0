// transport-bench: sends VRRP adverts through NetLinux's transport from one network namespace
// to another and measures what it costs.
//
//   transport-bench --from NETNS --to NETNS --family ipv4|ipv6 --source ADDR [--destination ADDR]...
//                   [--count N] [--runs R] [--deliver raw|input] [--pace N]
//
// One sender (the main thread, a `LinuxVRRPTransport` with one socket opened in `--from`) sends
// `--count` VRRPv2 (IPv4) or VRRPv3 (IPv6) adverts as fast as it can, each to every
// `--destination` (default: the family's VRRP group): one `transmit` — one sendmsg(2) — per advert
// and destination. A receiver in `--to` (a socket opened there) reads them on its receive thread:
//
//   --deliver raw     a `VRRPReceiveLoop` whose handler only counts (the socket's own cost);
//   --deliver input   `LinuxVRRPTransport.startReceiving`, i.e. a `VRRPEngine.Input` with its own
//                     array per advert, handed to a callback that counts and drops it (what a
//                     runner's `submit` gets).
//
// `--pace N` makes the sender pause 1 ms after every N adverts, so that the receiver keeps up and
// nothing is dropped (0: no pause). Each run prints the adverts sent, received and dropped by the
// kernel (SO_RXQ_OVFL), the wall time, and the CPU time of the sending and the receiving thread
// (from /proc/thread-self/schedstat, in nanoseconds); the summary gives the medians over the runs.
// Set up the namespaces with Benchmarks/transport-bench.sh, which also runs strace and valgrind.

import ArgumentParser
import NetLinux
import Synchronization
import VRRPCore

#if canImport(Glibc)
import Glibc
#endif

/// CPU time the calling thread has used, in nanoseconds (first field of schedstat).
func threadCPUNanoseconds(_ path: String = "/proc/thread-self/schedstat") -> UInt64 {
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else { return 0 }
    defer { close(fd) }
    var buffer = [UInt8](repeating: 0, count: 128)
    let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, 128) }
    guard n > 0 else { return 0 }
    var v: UInt64 = 0
    for b in buffer[0..<n] {
        guard b >= 48 && b <= 57 else { break }
        v = v * 10 + UInt64(b - 48)
    }
    return v
}

/// The calling thread's kernel id, from the /proc/thread-self link ("PID/task/TID").
func currentThreadID() -> Int32 {
    var buffer = [CChar](repeating: 0, count: 64)
    let n = readlink("/proc/thread-self", &buffer, 63)
    guard n > 0 else { return 0 }
    let text = String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    return Int32(text.split(separator: "/").last ?? "") ?? 0
}

func monotonicNanoseconds() -> UInt64 {
    var t = timespec()
    clock_gettime(CLOCK_MONOTONIC, &t)
    return UInt64(t.tv_sec) * 1_000_000_000 + UInt64(t.tv_nsec)
}

/// What the receive thread reports.
final class ReceiveCounter: Sendable {
    let count = Atomic<Int>(0)
    /// The receive thread's id, for its schedstat.
    let thread = Atomic<Int32>(0)

    func record() {
        if count.add(1, ordering: .relaxed).newValue == 1 { thread.store(currentThreadID(), ordering: .relaxed) }
    }
}

enum Deliver: String, ExpressibleByArgument, CaseIterable {
    case raw, input
}

struct RunResult {
    var sent = 0
    var received = 0
    var dropped: UInt64 = 0
    var wall: UInt64 = 0
    var senderCPU: UInt64 = 0
    var receiverCPU: UInt64 = 0
}

func median(_ values: [Double]) -> Double {
    let s = values.sorted()
    return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}

@main
struct TransportBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "transport-bench",
        abstract: "Measures NetLinux's VRRP transport between two network namespaces.")

    @Option(help: "The sender's network namespace (a path such as /var/run/netns/NAME).")
    var from: String
    @Option(help: "The receiver's network namespace.")
    var to: String
    @Option(help: "The interface in both namespaces.")
    var interface = "eth0"
    @Option(help: "ipv4 or ipv6.")
    var family = "ipv4"
    @Option(help: "The sender's address (IPv6: its link-local address).")
    var source: String
    @Option(help: "A destination (repeat for unicast peers); default: the VRRP group.")
    var destination: [String] = []
    @Option(help: "Adverts per run (each sent to every destination).")
    var count = 100_000
    @Option(help: "Runs.")
    var runs = 5
    @Option(help: "raw or input.")
    var deliver: Deliver = .raw
    @Option(help: "Pause 1 ms after this many adverts (0: never).")
    var pace = 0

    func run() throws {
        let fam: IPAddressFamily = family == "ipv6" ? .ipv6 : .ipv4
        guard let src = IPAddress(source) else { throw ValidationError("bad --source \(source)") }
        let destinations = destination.isEmpty ? [IPAddress.vrrpMulticastGroup(fam)] : destination.compactMap { IPAddress($0) }
        let unicast = !destination.isEmpty
        // The adverts: 64 VRIDs in turn, as on a host with many instances.
        let adverts: [VRRPAdvertisement] = (0..<64).map { k in
            fam == .ipv4
                ? VRRPAdvertisement(version: .v2, virtualRouterID: UInt8(k + 1), priority: 100, advertisementInterval: 100,
                                    addresses: VRRPAddressList(family: .ipv4, [IPAddress("192.0.2.100")!, IPAddress("192.0.2.101")!]))
                : VRRPAdvertisement(version: .v3, virtualRouterID: UInt8(k + 1), priority: 100, advertisementInterval: 100,
                                    addresses: VRRPAddressList(family: .ipv6, [IPAddress("fe80::100")!, IPAddress("2001:db8::100")!]))
        }
        let form: VRRPChecksumForm = fam == .ipv4 ? .messageOnly : .pseudoHeader
        let iface = interface
        let sendConfiguration = VRRPSocketConfiguration(interface: iface, family: fam, groups: unicast ? [] : nil)
        let receiveConfiguration = VRRPSocketConfiguration(interface: iface, family: fam, groups: unicast ? [] : nil)

        emit("transport-bench: ", "\(fam) ", unicast ? "unicast to \(destinations.count) address(es)" : "multicast",
             ", ", "\(count)", " adverts per run × ", "\(destinations.count)", " destination(s), ", "\(runs)",
             " runs, deliver ", deliver.rawValue, ", pace ", "\(pace)")
        print("| run | sent | received | dropped (kernel) | wall ms | sends/s (wall) | sender CPU ns/advert | receiver CPU ns/advert |")
        print("|---:|---:|---:|---:|---:|---:|---:|---:|")
        var results: [RunResult] = []
        for r in 0..<runs {
            let tx = LinuxVRRPTransport()
            let sendSocket = try NetworkNamespace.perform(inNamespaceAt: from) { try VRRPSocket(sendConfiguration) }
            try tx.add(sendSocket)
            let receiveSocket = try NetworkNamespace.perform(inNamespaceAt: to) { try VRRPSocket(receiveConfiguration) }
            let counter = ReceiveCounter()
            var loop: VRRPReceiveLoop?
            let rx = LinuxVRRPTransport()
            switch deliver {
            case .raw:
                loop = try VRRPReceiveLoop(sockets: [receiveSocket]) { _, _ in counter.record() }
            case .input:
                try rx.add(receiveSocket)
                try rx.startReceiving { input in
                    if case .ipv4Datagram(let b, _) = input, b.isEmpty { print("empty") }
                    counter.record()
                }
            }

            let total = count * destinations.count
            let cpu0 = threadCPUNanoseconds()
            let t0 = monotonicNanoseconds()
            var sent = 0
            for i in 0..<count {
                let a = adverts[i & 63]
                for d in destinations {
                    try tx.transmit(a, source: src, destination: d, checksumForm: form, interface: iface)
                    sent += 1
                }
                if pace > 0, i % pace == pace - 1 { usleep(1000) }
            }
            let t1 = monotonicNanoseconds()
            let cpu1 = threadCPUNanoseconds()
            // Wait for the receiver: until all arrived, or nothing new for 1 s (the machine may be busy).
            var last = -1
            var quiet = 0
            while counter.count.load(ordering: .relaxed) < total && quiet < 100 {
                usleep(10_000)
                let now = counter.count.load(ordering: .relaxed)
                quiet = now == last ? quiet + 1 : 0
                last = now
            }
            let tid = counter.thread.load(ordering: .relaxed)
            let receiverCPU = tid == 0 ? 0 : threadCPUNanoseconds("/proc/self/task/\(tid)/schedstat")
            loop?.stop()
            rx.close()
            let stats = receiveSocket.statistics
            receiveSocket.close()
            tx.close()

            let result = RunResult(sent: sent, received: counter.count.load(ordering: .relaxed),
                                   dropped: stats.droppedByKernel, wall: t1 - t0, senderCPU: cpu1 - cpu0,
                                   receiverCPU: receiverCPU)
            results.append(result)
            let rate = Double(result.sent) / (Double(result.wall) / 1e9)
            emit("| ", "\(r + 1)", " | ", "\(result.sent)", " | ", "\(result.received)", " | ", "\(result.dropped)", " | ",
                 fmt(Double(result.wall) / 1e6), " | ", fmt(rate, 0), " | ",
                 fmt(Double(result.senderCPU) / Double(max(result.sent, 1)), 0), " | ",
                 fmt(Double(result.receiverCPU) / Double(max(result.received, 1)), 0), " |")
        }
        let sendRate = median(results.map { Double($0.sent) / (Double($0.wall) / 1e9) })
        let senderCost = median(results.map { Double($0.senderCPU) / Double(max($0.sent, 1)) })
        let receiverCost = median(results.map { Double($0.receiverCPU) / Double(max($0.received, 1)) })
        print("")
        emit("medians: ", fmt(sendRate, 0), " sends/s wall; sender ", fmt(senderCost, 0), " CPU-ns/advert (",
             fmt(1e9 / senderCost, 0), " adverts per CPU-second); receiver ", fmt(receiverCost, 0), " CPU-ns/advert (",
             fmt(1e9 / receiverCost, 0), " adverts per CPU-second)")
    }
}

/// Prints the pieces as one line built in one reserved buffer, so that the number of heap
/// allocations does not depend on how long the numbers are (valgrind compares runs of
/// different lengths; the pieces are small strings, stored inline).
func emit(_ pieces: String...) {
    var line = ""
    line.reserveCapacity(512)
    for p in pieces { line += p }
    print(line)
}

func fmt(_ v: Double, _ decimals: Int = 1) -> String {
    if decimals == 0 { return String(Int(v.rounded())) }
    let p = Double(10 * decimals)
    return String((v * p).rounded() / p)
}
