#if canImport(Glibc)
import Glibc
#endif
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
/// The inotify descriptor and the retry timer are served by the process's shared
/// ``PollThread``; every reading after the first ones is made there.
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
        /// The inotify descriptor's registration and the retry timer, until ``stop()``.
        var watch: PollThread.Watch?
        var timer: PollThread.Timer?
    }

    let fd: CInt
    let thread: PollThread
    let state = Mutex(State())
    let continuation: AsyncStream<TrackedFileReading>.Continuation

    static let directoryMask = UInt32(IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_DELETE_SELF | IN_MOVE_SELF)

    /// Starts watching.
    /// - Parameters:
    ///   - paths: the files (absolute paths; they need not exist yet).
    ///   - retryInterval: how often a missing directory is looked for again.
    /// - Throws: ``NetLinuxError`` when inotify is not available (`inotify_init1(2)` failed),
    ///   or the thread that watches cannot be started.
    public init(paths: [String], retryInterval: Duration = .seconds(1)) throws(NetLinuxError) {
        let thread = try PollThread.shared()
        let fd = SystemCalls.current.inotifyInit(CInt(IN_CLOEXEC | IN_NONBLOCK))
        if fd < 0 { throw NetLinuxError("watching track files (inotify_init1)", Errno(rawValue: errno)) }
        self.fd = fd
        self.thread = thread
        (readings, continuation) = AsyncStream.makeStream(of: TrackedFileReading.self, bufferingPolicy: .unbounded)
        // Nothing runs on the thread for this watcher yet: the first readings are made here.
        for path in paths {
            let (dir, name) = TrackedFileWatcher.split(path)
            state.withLock { $0.directories[dir, default: Directory(watch: nil, files: [:])].files[name] = path }
        }
        for dir in state.withLock({ Array($0.directories.keys) }).sorted() { addWatch(dir) }
        for path in paths { reread(path) }
        // The handlers hold the watcher weakly: dropping it stops it (deinit).
        let watch = thread.watch(fd) { [weak self] _ in
            self?.drainEvents()
            return .keep
        }
        let retry = max(retryInterval, .milliseconds(1))
        let timer = thread.schedule(after: retry, repeating: retry) { [weak self] in self?.retryMissingDirectories() }
        state.withLock { s in
            s.watch = watch
            s.timer = timer
        }
    }

    deinit { stop() }

    /// The last reading of `path`, if it is watched.
    public func latest(_ path: String) -> TrackedFileReading? { state.withLock { $0.latest[path] } }

    /// Stops watching and ends ``readings``. Dropping the last reference to the watcher does
    /// the same.
    public func stop() {
        let (wasStopped, watch, timer) = state.withLock { s in
            defer {
                s.stopped = true
                s.watch = nil
                s.timer = nil
            }
            return (s.stopped, s.watch, s.timer)
        }
        if wasStopped { return }
        if let timer { thread.cancel(timer) }
        // The descriptor is closed on the thread, once it is out of the poll set.
        let fd = self.fd
        if let watch { thread.unwatch(watch) { _ = SystemCalls.current.close(fd) } } else { _ = SystemCalls.current.close(fd) }
        continuation.finish()
    }

    static func split(_ path: String) -> (directory: String, name: String) {
        guard let slash = path.lastIndex(of: "/") else { return (".", path) }
        let dir = String(path[..<slash])
        return (dir.isEmpty ? "/" : dir, String(path[path.index(after: slash)...]))
    }

    /// Adds the watch for `dir`; true on success. Runs on the thread (or in `init`, before the
    /// thread knows the watcher).
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

    /// Reads `path` and yields the reading when it differs from the last one. Runs on the thread
    /// (or in `init`, before the thread knows the watcher).
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

    /// Reads and handles every queued inotify event. Runs on the thread.
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
