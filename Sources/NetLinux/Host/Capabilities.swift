#if canImport(Glibc)
import Glibc
#endif
import CLibcap
import CNetLinux
import SystemPackage

/// The capability sets of one thread, as `/proc/PID/task/TID/status` shows them.
public struct CapabilityState: Sendable, Hashable, CustomStringConvertible {
    /// The thread (kernel task id).
    public var thread: pid_t
    public var effective: CapabilitySet
    public var permitted: CapabilitySet
    public var inheritable: CapabilitySet
    public var bounding: CapabilitySet
    public var ambient: CapabilitySet

    public init(thread: pid_t, effective: CapabilitySet, permitted: CapabilitySet, inheritable: CapabilitySet,
                bounding: CapabilitySet, ambient: CapabilitySet) {
        self.thread = thread
        self.effective = effective
        self.permitted = permitted
        self.inheritable = inheritable
        self.bounding = bounding
        self.ambient = ambient
    }

    /// Reads the `Cap*` lines of a `status` file (`CapEff:\t0000000000003000`).
    /// - Returns: nil when a line is missing or malformed.
    public init?(thread: pid_t, status text: String) {
        var sets: [String: UInt64] = [:]
        for line in text.split(separator: "\n") where line.hasPrefix("Cap") {
            let parts = line.split(separator: ":", maxSplits: 1)
            guard parts.count == 2, let v = UInt64(parts[1].trimmingBlanks, radix: 16) else { return nil }
            sets[String(parts[0])] = v
        }
        guard let e = sets["CapEff"], let p = sets["CapPrm"], let i = sets["CapInh"], let b = sets["CapBnd"] else { return nil }
        self.init(thread: thread, effective: CapabilitySet(rawValue: e), permitted: CapabilitySet(rawValue: p),
                  inheritable: CapabilitySet(rawValue: i), bounding: CapabilitySet(rawValue: b),
                  ambient: CapabilitySet(rawValue: sets["CapAmb"] ?? 0))
    }

    public var description: String {
        "thread \(thread): effective \(effective), permitted \(permitted), inheritable \(inheritable), "
            + "bounding \(bounding == .all ? "all" : bounding.description), ambient \(ambient)"
    }
}

/// One capability kad needs, and why (the reason goes into the startup error).
public struct CapabilityRequirement: Sendable, Hashable {
    public var capability: Capability
    /// What the capability is for, as a phrase that follows "needed": "to open VRRP sockets".
    public var purpose: String
    public init(_ capability: Capability, _ purpose: String) {
        self.capability = capability
        self.purpose = purpose
    }

    /// CAP_NET_RAW, for the raw VRRP sockets and the ARP/NA packet sockets.
    public static let vrrpSockets = CapabilityRequirement(.netRaw, "to open VRRP sockets")
    /// CAP_NET_ADMIN, for addresses, routes, rules, VMAC interfaces and sysctls.
    public static let networkConfiguration = CapabilityRequirement(.netAdmin, "to add virtual addresses, routes and VMAC interfaces")
    /// What the VRRP daemon needs at the very least.
    public static let daemon: [CapabilityRequirement] = [.networkConfiguration, .vrrpSockets]
}

/// What ``Capabilities/restrict(to:limitBoundingSet:signal:)`` did.
public struct CapabilityReport: Sendable, Hashable, CustomStringConvertible {
    /// The effective and permitted set every thread now has.
    public var kept: CapabilitySet
    /// The capabilities that were given up.
    public var dropped: CapabilitySet
    /// Whether the bounding set was limited to ``kept`` as well.
    public var boundingSetLimited: Bool
    /// Why the bounding set was left alone, when it was.
    public var boundingSetNote: String?
    /// How many threads applied the change.
    public var threads: Int

    public var description: String {
        var s = "kept \(kept) on \(threads) thread\(threads == 1 ? "" : "s"), dropped \(dropped.isEmpty ? "nothing" : dropped.description)"
        s += boundingSetLimited ? "; bounding set limited too" : "; bounding set unchanged"
        if let n = boundingSetNote { s += " (\(n))" }
        return s
    }
}

/// Why kad cannot start with, or cannot reduce to, the capabilities it needs.
public enum CapabilityError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Required capabilities are not in the effective set. `runningAsRoot`: kad's effective uid
    /// is 0; `outsideBoundingSet`: they are not even in the bounding set (a container or a
    /// systemd CapabilityBoundingSet= took them away).
    case missing([CapabilityRequirement], executable: String, runningAsRoot: Bool, outsideBoundingSet: Bool = true)
    /// ``Capabilities/restrict(to:limitBoundingSet:signal:)`` was asked to keep capabilities the
    /// process does not have.
    case cannotKeep(CapabilitySet)
    /// A thread could not apply the change (`step` says which part).
    case applyFailed(step: String, thread: pid_t, Errno)
    /// Reading the sets back showed something else than asked for.
    case verificationFailed(CapabilityState, expected: String)
    /// A securebit is set that would let scripts keep capabilities after switching user.
    case unsafeSecurebits(CInt)
    /// Reading `/proc` failed.
    case system(NetLinuxError)

    public var description: String {
        switch self {
        case .missing(let needs, let executable, let root, let outside):
            let what = needs.map { "\($0.capability) \($0.purpose)" }.joined(separator: " and ")
            let caps = needs.map(\.capability)
            if root && outside {
                return "kad runs as root but lacks \(what): the capability is not in its bounding set; "
                    + "in a container, grant it (for example `docker run --cap-add="
                    + caps.map { String($0.name.dropFirst(4)).uppercased() }.joined(separator: " --cap-add=")
                    + "`), under systemd check CapabilityBoundingSet="
            }
            if root {
                return "kad runs as root but lacks \(what): the capability was dropped from its effective set"
            }
            let all = Set(CapabilityRequirement.daemon.map(\.capability) + caps).sorted()
            return "kad needs \(what): run as root or `setcap \(all.map(\.name).joined(separator: ","))+ep \(executable)`"
        case .cannotKeep(let set):
            return "cannot keep \(set): kad does not have \(set.rawValue.nonzeroBitCount == 1 ? "it" : "them")"
        case .applyFailed(let step, let thread, let e):
            return "changing capabilities (\(step)) failed on thread \(thread): \(plainDescription(e))"
        case .verificationFailed(let state, let expected):
            return "capabilities were not reduced as asked (\(expected)); \(state)"
        case .unsafeSecurebits(let bits):
            return "securebits 0x\(String(bits, radix: 16)) let processes keep capabilities when they switch user; "
                + "scripts would run privileged"
        case .system(let e):
            return e.description
        }
    }
}

/// Checking and reducing the process's capabilities (`capabilities(7)`).
///
/// kad needs CAP_NET_ADMIN and CAP_NET_RAW; running scripts as another user also needs
/// CAP_SETUID and CAP_SETGID (to switch the child's user and groups) and CAP_KILL (to signal
/// the script's process group once it runs under another uid). Typical use:
///
/// ```swift
/// try Capabilities.check(CapabilityRequirement.daemon)      // at startup
/// // ... open netlink and VRRP sockets ...
/// let keep = Capabilities.needed(runningScriptsAsOtherUsers: true)
/// let report = try Capabilities.restrict(to: keep, limitBoundingSet: !scriptsRunAsRoot)
/// ```
///
/// Capabilities belong to threads, not processes: ``restrict(to:limitBoundingSet:signal:)``
/// changes every thread of the process and checks each one afterwards.
public enum Capabilities {
    /// The capabilities the daemon keeps after its sockets are open.
    ///
    /// - Parameter runningScriptsAsOtherUsers: whether any script runs under another uid or
    ///   gid than kad's own: that needs CAP_SETUID, CAP_SETGID (switching the child's
    ///   identity, setgroups included) and CAP_KILL (signalling the process group of a script
    ///   that now belongs to another user).
    public static func needed(runningScriptsAsOtherUsers: Bool) -> CapabilitySet {
        var set: CapabilitySet = [.netAdmin, .netRaw]
        if runningScriptsAsOtherUsers { set = set.union([.setUID, .setGID, .kill]) }
        return set
    }

    /// The sets of the calling thread.
    public static func current() throws(CapabilityError) -> CapabilityState {
        try state(ofThread: pid_t(cnl_gettid()))
    }

    /// The sets of every thread of the process.
    public static func allThreads() throws(CapabilityError) -> [CapabilityState] {
        let threads: [pid_t]
        do {
            threads = try taskIDs()
        } catch {
            throw .system(NetLinuxError("listing the threads of kad (/proc/self/task)", error))
        }
        var states: [CapabilityState] = []
        for t in threads {
            do {
                states.append(try state(ofThread: t))
            } catch {
                if case .system(let e) = error, e.errno == .noSuchFileOrDirectory || e.errno == .noSuchProcess { continue }  // thread ended
                throw error
            }
        }
        return states
    }

    static func state(ofThread thread: pid_t) throws(CapabilityError) -> CapabilityState {
        let path = "/proc/self/task/\(thread)/status"
        let bytes: [UInt8]
        do {
            bytes = try HostFile.read(path, limit: 16384)
        } catch {
            throw .system(NetLinuxError("reading \(path)", error))
        }
        guard let s = CapabilityState(thread: thread, status: String(decoding: bytes, as: UTF8.self)) else {
            throw .system(NetLinuxError("reading \(path)", .invalidArgument, detail: "no capability lines"))
        }
        return s
    }

    /// "name, blocked signals 0x...", for a thread that did not answer.
    static func threadSummary(_ thread: pid_t) -> String? {
        guard let status = try? HostFile.read("/proc/self/task/\(thread)/status", limit: 16384) else { return nil }
        var name = "?"
        var blocked = "?"
        for line in String(decoding: status, as: UTF8.self).split(separator: "\n") {
            if line.hasPrefix("Name:") { name = String(line.dropFirst(5).trimmingBlanks) }
            if line.hasPrefix("SigBlk:") { blocked = String(line.dropFirst(7).trimmingBlanks) }
        }
        return "thread '\(name)', blocked signals 0x\(blocked)"
    }

    static func taskIDs() throws(Errno) -> [pid_t] {
        guard let dir = opendir("/proc/self/task") else { throw Errno(rawValue: errno) }
        defer { closedir(dir) }
        var ids: [pid_t] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if let id = pid_t(name) { ids.append(id) }
        }
        return ids.sorted()
    }

    /// The path of the running executable, for the `setcap` hint.
    public static var executablePath: String { (try? HostFile.readLink("/proc/self/exe")) ?? "/usr/sbin/kad" }

    /// Checks that every requirement is in the effective set of the calling thread.
    ///
    /// - Throws: ``CapabilityError/missing(_:executable:runningAsRoot:outsideBoundingSet:)``, whose text says which
    ///   capability is missing, what it is for and how to grant it:
    ///   "kad needs CAP_NET_RAW to open VRRP sockets: run as root or
    ///   `setcap cap_net_admin,cap_net_raw+ep /usr/sbin/kad`".
    public static func check(_ requirements: [CapabilityRequirement] = CapabilityRequirement.daemon,
                             executable: String? = nil) throws(CapabilityError) {
        let state = try current()
        let missing = requirements.filter { !state.effective.contains($0.capability) }
        if !missing.isEmpty {
            throw .missing(missing, executable: executable ?? executablePath, runningAsRoot: geteuid() == 0,
                           outsideBoundingSet: missing.contains { !state.bounding.contains($0.capability) })
        }
    }

    /// Reduces every thread of the process to `keep`: effective = permitted = `keep`, nothing
    /// inheritable or ambient, and with `limitBoundingSet` a bounding set of at most `keep`.
    /// Then reads every thread's sets back and checks them.
    ///
    /// Limit the bounding set only when no script runs as root: a script exec'd as root gets
    /// the bounding set as its permitted set, so with a limited bounding set root scripts
    /// could no longer, say, mount or write other users' files. Scripts run as another user
    /// get no capabilities either way: the kernel clears them when the child switches uid.
    ///
    /// Uses `capset(2)` and `prctl(PR_CAPBSET_DROP)` on each thread; the other threads are
    /// reached through `signal`, whose handler only makes those calls and is removed again
    /// afterwards. The default is SIGSYS, as in libcap's psx: Dispatch's worker threads block
    /// every signal except the synchronous ones and SIGPROF, so a real-time signal would never
    /// reach them.
    /// - Returns: what was kept and dropped.
    @discardableResult
    public static func restrict(to keep: CapabilitySet, limitBoundingSet: Bool,
                                signal: CInt? = nil) throws(CapabilityError) -> CapabilityReport {
        let before = try current()
        let absent = keep.subtracting(before.permitted)
        if !absent.isEmpty { throw .cannotKeep(absent) }
        let bits = cnl_get_securebits()
        // SECBIT_NO_SETUID_FIXUP (bit 2) keeps capabilities across setuid; SECBIT_KEEP_CAPS (bit 4) too.
        if bits > 0, bits & (1 << 2 | 1 << 4) != 0 { throw .unsafeSecurebits(bits) }

        var limit = limitBoundingSet
        var note: String?
        if limit && !before.effective.contains(.setPCap) {
            limit = false
            note = "limiting it needs CAP_SETPCAP, which kad does not have"
        }
        var outcome = cnl_caps_outcome()
        let r = SystemCalls.current.applyCapabilities(keep.rawValue, limit, Capability.last.rawValue,
                                                      signal ?? SIGSYS, 2000, &outcome)
        if r != 0 {
            let steps = [1: "bounding set", 2: "ambient set", 3: "capset", 4: "signalling the thread",
                         5: "the thread did not answer", 6: "listing threads", 7: "installing the signal handler"]
            var step = steps[Int(outcome.failed_step)] ?? "capset"
            if outcome.failed_step == 5, let about = threadSummary(pid_t(outcome.failed_tid)) { step += ": \(about)" }
            throw .applyFailed(step: step, thread: pid_t(outcome.failed_tid), Errno(rawValue: r))
        }
        for state in try allThreads() {
            guard state.effective == keep, state.permitted == keep else {
                throw .verificationFailed(state, expected: "effective and permitted \(keep)")
            }
            guard state.inheritable.isEmpty, state.ambient.isEmpty else {
                throw .verificationFailed(state, expected: "nothing inheritable or ambient")
            }
            if limit, !state.bounding.isSubset(of: keep) {
                throw .verificationFailed(state, expected: "bounding set within \(keep)")
            }
        }
        return CapabilityReport(kept: keep, dropped: before.permitted.subtracting(keep), boundingSetLimited: limit,
                                boundingSetNote: note, threads: Int(outcome.threads))
    }
}

fileprivate extension Substring {
    var trimmingBlanks: Substring {
        var s = self
        while let f = s.first, f == " " || f == "\t" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" { s.removeLast() }
        return s
    }
}
