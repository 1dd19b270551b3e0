#if canImport(Glibc)
import Glibc
#endif
import ConfigDSL
import NetLinux
import Synchronization
import VRRPCore

// keepalived's `track_file` trackers (reference §1.5): the number in each watched file is
// reported to the engine as `TrackerStatus.value(n)` for `TrackedObjectID(.file, NAME)`; the
// engine multiplies it by the weight.
//
//     let plan = FileTrackerPlan(config: config)          // refuse to start on plan.problems
//     let files = FileTrackers(plan: plan, log: { logger.info("\($0)") },
//                              report: { id, status in engine.send(.trackerChanged(id, status)) })
//     try files.start()         // applies init_file, reports every initial value at once
//     ...
//     await files.stop()

/// The `track_file` blocks that some `vrrp_instance` or `vrrp_sync_group` tracks.
struct FileTrackerPlan: Sendable {
    struct Tracker: Sendable, Hashable {
        var name: String
        /// Absolute.
        var path: String
        /// `init_file [VALUE] [overwrite]`.
        var initFile: TrackFile.InitFile?

        var id: TrackedObjectID { TrackedObjectID(.file, name) }
    }

    var trackers: [Tracker] = []
    /// A used track_file without a usable `file`: the daemon refuses to start.
    var problems: [VRRPTranslation.Problem] = []

    init(trackers: [Tracker] = []) { self.trackers = trackers }

    init(config: KeepalivedConfig) {
        var used = Set<String>()
        for i in config.vrrpInstances { used.formUnion(i.trackFiles.map(\.name)) }
        for g in config.syncGroups { used.formUnion(g.trackFiles.map(\.name)) }
        for f in config.trackFiles where used.contains(f.name) {
            let owner = "track_file \(f.name)"
            guard let path = f.file else {
                problems.append(VRRPTranslation.Problem(instance: nil, keyword: owner, message: "file: missing"))
                continue
            }
            guard path.hasPrefix("/") else {
                problems.append(VRRPTranslation.Problem(instance: nil, keyword: owner,
                                                        message: "file: '\(path)' is not an absolute path"))
                continue
            }
            trackers.append(Tracker(name: f.name, path: path, initFile: f.initFile))
        }
    }
}

/// Watches the `track_file` files (``TrackedFileWatcher``, inotify) and reports their values.
///
/// The file is read as keepalived reads it (``TrackedFileReading``): a leading integer in
/// C `strtol` base-0 syntax; a missing, unreadable or empty file, or one that holds no
/// number, is 0; a number beyond 32 bits is ignored and the previous value kept (0 at first),
/// with keepalived's log line. `init_file` is applied by ``start()``: the file is created
/// holding VALUE (0 by default) when it does not exist, and rewritten even when it does with
/// `overwrite`. A file that cannot be initialised is logged and watched anyway (it then reads
/// as 0), as keepalived carries on.
///
/// `report` gets every tracker's initial value during ``start()``, then only changes.
final class FileTrackers: Sendable {
    let plan: FileTrackerPlan
    private let log: @Sendable (String) -> Void
    private let report: @Sendable (TrackedObjectID, TrackerStatus) -> Void
    private struct State {
        var watcher: TrackedFileWatcher?
        var consumer: Task<Void, Never>?
        /// The value last reported, per track_file name.
        var values: [String: Int] = [:]
        var stopped = false
    }
    private let state = Mutex(State())

    init(plan: FileTrackerPlan, log: @escaping @Sendable (String) -> Void,
         report: @escaping @Sendable (TrackedObjectID, TrackerStatus) -> Void) {
        self.plan = plan
        self.log = log
        self.report = report
    }

    /// Applies `init_file`, starts watching, and reports each tracker's current value before
    /// returning. Calling it again does nothing.
    /// - Throws: ``NetLinuxError`` when inotify is not available.
    func start() throws(NetLinuxError) {
        guard state.withLock({ $0.watcher == nil && !$0.stopped }), !plan.trackers.isEmpty else { return }
        for t in plan.trackers { if let i = t.initFile { initialise(t, i) } }
        var paths: [String] = []
        for t in plan.trackers where !paths.contains(t.path) { paths.append(t.path) }
        let watcher = try TrackedFileWatcher(paths: paths)
        // The watcher reads every file before its initializer returns: report those now.
        for path in paths { if let r = watcher.latest(path) { handle(r) } }
        let readings = watcher.readings
        let consumer = Task { [weak self] in
            for await reading in readings { self?.handle(reading) }
        }
        state.withLock { s in
            s.watcher = watcher
            s.consumer = consumer
        }
    }

    /// Stops watching; nothing is reported afterwards.
    func stop() async {
        let (watcher, consumer) = state.withLock { s in
            defer { s.stopped = true; s.watcher = nil; s.consumer = nil }
            return (s.watcher, s.consumer)
        }
        watcher?.stop()
        await consumer?.value
    }

    /// Reports `reading` to every tracker of its file, when its value changed.
    private func handle(_ reading: TrackedFileReading) {
        let value: Int?
        switch reading.value {
        case .number(let n): value = Int(n)
        case .ignored: value = nil
        }
        if value == nil || reading.note != nil { log("track_file: \(reading)") }
        let changes = state.withLock { s -> [(TrackedObjectID, Int)] in
            guard !s.stopped else { return [] }
            var out: [(TrackedObjectID, Int)] = []
            for t in plan.trackers where t.path == reading.path {
                // An ignored number keeps the previous value; 0 before any.
                let v = value ?? s.values[t.name] ?? 0
                if s.values[t.name] != v {
                    s.values[t.name] = v
                    out.append((t.id, v))
                }
            }
            return out
        }
        for (id, v) in changes { report(id, .value(v)) }
    }

    /// `init_file`: creates the file with the value, or rewrites it with `overwrite`. The
    /// corresponding C function is `open(2)` with `O_CREAT | O_EXCL` (or `O_TRUNC`).
    private func initialise(_ t: FileTrackerPlan.Tracker, _ i: TrackFile.InitFile) {
        let flags = O_WRONLY | O_CREAT | O_CLOEXEC | (i.overwrite ? O_TRUNC : O_EXCL)
        let fd = open(t.path, flags, 0o644)
        if fd < 0 {
            if errno != EEXIST { log("track_file \(t.name): init_file: cannot create \(t.path): \(String(cString: strerror(errno)))") }
            return
        }
        defer { close(fd) }
        let bytes = Array("\(i.value ?? 0)\n".utf8)
        let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress!, $0.count) }
        if n != bytes.count {
            log("track_file \(t.name): init_file: cannot write \(t.path): \(n < 0 ? String(cString: strerror(errno)) : "short write")")
        }
    }
}
