#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import Synchronization
import SystemPackage

/// Watches `track_file` files with inotify and reports their values as they change.
///
/// Each file's *directory* is watched, for `IN_CLOSE_WRITE` (written and closed),
/// `IN_MOVED_TO` (a new file renamed over it: the atomic-replace idiom), `IN_MOVED_FROM` and
/// `IN_DELETE` (gone: 0), and `IN_DELETE_SELF` / `IN_MOVE_SELF` (the directory itself went
/// away: 0, and the watch is set up again once the directory is back). Watching the directory
/// rather than the file is what makes a replaced file visible: a watch on the file would stay
/// on the old inode. A truncate-then-write is read once, at close, so the value never flickers
/// to 0 in between.
///
/// ```swift
/// let watcher = try TrackedFileWatcher(paths: ["/run/kad/weight"])
/// for await reading in watcher.readings {
///     print(reading)    // "/run/kad/weight: 7", then every change
/// }
/// ```
///
/// The stream starts with the current value of every file, then yields a reading whenever a
/// file's reading changes (ignored out-of-range numbers are yielded too, for the log).
public final class TrackedFileWatcher: Sendable {
    /// Every file's first reading, then each change.
    public let readings: AsyncStream<TrackedFileReading>

    struct Directory {
        var watch: CInt?
        /// file name in the directory → the path as configured
        var files: [String: String]
    }
    struct State {
        var directories: [String: Directory] = [:]
        var byWatch: [CInt: String] = [:]
        var latest: [String: TrackedFileReading] = [:]
        var stopped = false
    }
    /// Dispatch objects, only ever cancelled from other threads.
    struct Sources: @unchecked Sendable {
        var read: (any DispatchSourceRead)?
        var timer: (any DispatchSourceTimer)?
    }

    let fd: CInt
    let queue = DispatchQueue(label: "kad.track-files")
    let state = Mutex(State())
    let sources = Mutex(Sources())
    let continuation: AsyncStream<TrackedFileReading>.Continuation

    static let directoryMask = UInt32(IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_DELETE_SELF | IN_MOVE_SELF)

    /// Starts watching.
    /// - Parameters:
    ///   - paths: the files (absolute paths; they need not exist yet).
    ///   - retryInterval: how often a missing directory is looked for again.
    /// - Throws: ``NetLinuxError`` when inotify is not available (`inotify_init1(2)` failed).
    public init(paths: [String], retryInterval: Duration = .seconds(1)) throws(NetLinuxError) {
        let fd = SystemCalls.current.inotifyInit(CInt(IN_CLOEXEC | IN_NONBLOCK))
        if fd < 0 { throw NetLinuxError("watching track files (inotify_init1)", Errno(rawValue: errno)) }
        self.fd = fd
        (readings, continuation) = AsyncStream.makeStream(of: TrackedFileReading.self, bufferingPolicy: .unbounded)
        queue.sync {
            for path in paths {
                let (dir, name) = TrackedFileWatcher.split(path)
                state.withLock { $0.directories[dir, default: Directory(watch: nil, files: [:])].files[name] = path }
            }
            for dir in state.withLock({ Array($0.directories.keys) }).sorted() { addWatch(dir) }
            for path in paths { reread(path) }
        }
        let read = DispatchSource.makeReadSource(fileDescriptor: fd, queue: queue)
        read.setEventHandler { [weak self] in self?.drainEvents() }
        read.setCancelHandler { _ = SystemCalls.current.close(fd) }
        let timer = DispatchSource.makeTimerSource(queue: queue)
        let ms = Int(retryInterval.components.seconds * 1000 + retryInterval.components.attoseconds / 1_000_000_000_000_000)
        timer.schedule(deadline: .now() + .milliseconds(max(1, ms)), repeating: .milliseconds(max(1, ms)))
        timer.setEventHandler { [weak self] in self?.retryMissingDirectories() }
        sources.withLock { $0 = Sources(read: read, timer: timer) }
        read.resume()
        timer.resume()
    }

    deinit { stop() }

    /// The last reading of `path`, if it is watched.
    public func latest(_ path: String) -> TrackedFileReading? { state.withLock { $0.latest[path] } }

    /// Stops watching and ends ``readings``. Dropping the last reference to the watcher does
    /// the same.
    public func stop() {
        let wasStopped = state.withLock { s in defer { s.stopped = true }; return s.stopped }
        if wasStopped { return }
        let s = sources.withLock { s in defer { s = Sources() }; return s }
        s.timer?.cancel()
        if let r = s.read { r.cancel() } else { _ = SystemCalls.current.close(fd) }
        continuation.finish()
    }

    static func split(_ path: String) -> (directory: String, name: String) {
        guard let slash = path.lastIndex(of: "/") else { return (".", path) }
        let dir = String(path[..<slash])
        return (dir.isEmpty ? "/" : dir, String(path[path.index(after: slash)...]))
    }

    /// Adds the watch for `dir`; true on success. Runs on `queue`.
    @discardableResult
    func addWatch(_ dir: String) -> Bool {
        let wd = dir.withCString { SystemCalls.current.inotifyAddWatch(fd, $0, TrackedFileWatcher.directoryMask | UInt32(IN_ONLYDIR)) }
        guard wd >= 0 else { return false }
        state.withLock { s in
            s.directories[dir]?.watch = wd
            s.byWatch[wd] = dir
        }
        return true
    }

    /// Reads `path` and yields the reading when it differs from the last one. Runs on `queue`.
    func reread(_ path: String) {
        let reading = TrackedFileReading.read(path)
        let changed = state.withLock { s -> Bool in
            guard !s.stopped, s.latest[path] != reading else { return false }
            s.latest[path] = reading
            return true
        }
        if changed { continuation.yield(reading) }
    }

    func rereadAll(in dir: String) {
        for path in state.withLock({ $0.directories[dir]?.files.values.sorted() ?? [] }) { reread(path) }
    }

    func retryMissingDirectories() {
        let missing = state.withLock { s in s.directories.filter { $0.value.watch == nil }.map(\.key).sorted() }
        for dir in missing where addWatch(dir) { rereadAll(in: dir) }
    }

    /// Reads and handles every queued inotify event. Runs on `queue`.
    func drainEvents() {
        var buffer = [UInt8](repeating: 0, count: 16384)
        while true {
            let n = buffer.withUnsafeMutableBytes { SystemCalls.current.read(fd, $0.baseAddress!, $0.count) }
            if n <= 0 { return }
            var offset = 0
            while offset + 16 <= n {
                let (wd, mask, length) = buffer.withUnsafeBytes { b in
                    (b.loadUnaligned(fromByteOffset: offset, as: Int32.self),
                     b.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self),
                     Int(b.loadUnaligned(fromByteOffset: offset + 12, as: UInt32.self)))
                }
                let nameBytes = buffer[(offset + 16)..<min(n, offset + 16 + length)].prefix { $0 != 0 }
                handle(wd: wd, mask: mask, name: String(decoding: nameBytes, as: UTF8.self))
                offset += 16 + length
            }
        }
    }

    func handle(wd: CInt, mask: UInt32, name: String) {
        if mask & UInt32(IN_Q_OVERFLOW) != 0 {
            for dir in state.withLock({ Array($0.directories.keys) }).sorted() { rereadAll(in: dir) }
            return
        }
        guard let dir = state.withLock({ $0.byWatch[wd] }) else { return }
        if mask & UInt32(IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED) != 0 {
            // The directory is gone (or renamed: the configured path no longer leads to it).
            if mask & UInt32(IN_MOVE_SELF) != 0 { _ = inotify_rm_watch(fd, wd) }
            state.withLock { s in
                s.byWatch[wd] = nil
                if s.directories[dir]?.watch == wd { s.directories[dir]?.watch = nil }
            }
            rereadAll(in: dir)
            return
        }
        if let path = state.withLock({ $0.directories[dir]?.files[name] }) { reread(path) }
    }
}
