#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// Which output of a script.
public enum ScriptOutputStream: String, Sendable, Hashable {
    case standardOutput = "stdout"
    case standardError = "stderr"
}

/// Reads a script's stdout and stderr pipes, keeps at most `limit` bytes of each, and hands
/// each complete line to `deliver` as it arrives.
///
/// Reading goes on until both pipes reach end-of-file, which happens when the script and
/// every process that inherited its output have closed them; a background process that keeps
/// them open is drained (and its output dropped beyond the limit) until it ends, so that it
/// never dies of SIGPIPE. The pipes are watched by a ``PollThread``, whose handlers hold the
/// capture until end-of-file and close each pipe there.
final class ScriptOutputCapture: Sendable {
    struct Stream {
        var kept: [UInt8] = []
        var pendingLine: [UInt8] = []
        var truncated = false
        var ended = false
    }
    struct State {
        var streams: [ScriptOutputStream: Stream] = [.standardOutput: Stream(), .standardError: Stream()]
        var waiter: CheckedContinuation<Void, Never>?
        var allEnded: Bool { streams.values.allSatisfy(\.ended) }
    }

    let limit: Int
    let deliver: @Sendable (ScriptEvent.Kind) -> Void
    let state = Mutex(State())
    let thread: PollThread
    /// The pipes' read ends until ``start()`` or ``cancel()`` hands them on.
    let descriptors: Mutex<[(CInt, ScriptOutputStream)]>

    /// - Parameters:
    ///   - standardOutput, standardError: read ends of the pipes; owned from now on (closed at
    ///     end-of-file, or by ``cancel()``).
    ///   - thread: watches the pipes and runs the reading.
    init(standardOutput: CInt, standardError: CInt, limit: Int, thread: PollThread,
         deliver: @escaping @Sendable (ScriptEvent.Kind) -> Void) {
        self.limit = limit
        self.deliver = deliver
        self.thread = thread
        for fd in [standardOutput, standardError] { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
        descriptors = Mutex([(standardOutput, .standardOutput), (standardError, .standardError)])
    }

    /// Starts reading (once the script's start has been logged, so that its lines follow).
    func start() {
        let toStart = descriptors.withLock { d in
            defer { d = [] }
            return d
        }
        for (fd, stream) in toStart {
            // The handler holds the capture until end-of-file, so that a pipe kept open by a
            // background process is still drained after the run has returned.
            thread.watch(fd) { [self] _ in
                guard drain(fd, stream) else { return .keep }
                _ = SystemCalls.current.close(fd)
                finish(stream)
                return .remove
            }
        }
    }

    /// Reads what is there; returns true at end-of-file or on an error.
    private func drain(_ fd: CInt, _ stream: ScriptOutputStream) -> Bool {
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { SystemCalls.current.read(fd, $0.baseAddress!, $0.count) }
            if n > 0 {
                take(buffer[..<n], stream)
                continue
            }
            if n < 0 && (errno == EAGAIN || errno == EINTR) { return false }
            return true
        }
    }

    /// Keeps bytes within the limit and delivers complete lines.
    private func take(_ bytes: ArraySlice<UInt8>, _ stream: ScriptOutputStream) {
        var events: [ScriptEvent.Kind] = []
        state.withLock { s in
            var st = s.streams[stream]!
            defer { s.streams[stream] = st }
            if st.truncated { return }
            let room = limit - st.kept.count
            let accepted = bytes.prefix(max(0, room))
            st.kept.append(contentsOf: accepted)
            st.pendingLine.append(contentsOf: accepted)
            while let nl = st.pendingLine.firstIndex(of: 10) {
                events.append(.output(stream, ScriptOutputCapture.text(st.pendingLine[..<nl])))
                st.pendingLine.removeSubrange(...nl)
            }
            if accepted.count < bytes.count {
                st.truncated = true
                if !st.pendingLine.isEmpty {
                    events.append(.output(stream, ScriptOutputCapture.text(st.pendingLine[...])))
                    st.pendingLine.removeAll()
                }
                events.append(.outputTruncated(stream, limit: limit))
            }
        }
        for e in events { deliver(e) }
    }

    private func finish(_ stream: ScriptOutputStream) {
        var event: ScriptEvent.Kind?
        let waiter = state.withLock { s -> CheckedContinuation<Void, Never>? in
            var st = s.streams[stream]!
            if !st.pendingLine.isEmpty {
                event = .output(stream, ScriptOutputCapture.text(st.pendingLine[...]))
                st.pendingLine.removeAll()
            }
            st.ended = true
            s.streams[stream] = st
            guard s.allEnded else { return nil }
            defer { s.waiter = nil }
            return s.waiter
        }
        if let event { deliver(event) }
        waiter?.resume()
    }

    /// Waits until both pipes are at end-of-file or `limit` has passed.
    /// - Returns: whether both ended.
    func waitForEnd(within limit: Duration) async -> Bool {
        if state.withLock({ $0.allEnded }) { return true }
        return await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                await self.waitForEnd()
                return true
            }
            group.addTask {
                try? await Task.sleep(for: limit)
                return false
            }
            let first = await group.next()!
            group.cancelAll()
            if !first { self.releaseWaiter() }
            return first
        }
    }

    private func waitForEnd() async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let resumeNow = state.withLock { s -> Bool in
                if s.allEnded { return true }
                s.waiter = c
                return false
            }
            if resumeNow { c.resume() }
        }
    }

    private func releaseWaiter() {
        let w = state.withLock { s -> CheckedContinuation<Void, Never>? in
            defer { s.waiter = nil }
            return s.waiter
        }
        w?.resume()
    }

    /// What was kept so far: text of each stream, and whether any was cut.
    func snapshot() -> (standardOutput: String, standardError: String, truncated: Bool) {
        state.withLock { s in
            let o = s.streams[.standardOutput]!
            let e = s.streams[.standardError]!
            return (String(decoding: o.kept, as: UTF8.self), String(decoding: e.kept, as: UTF8.self), o.truncated || e.truncated)
        }
    }

    /// Closes the pipes without reading them; used when a run could not start (before
    /// ``start()``, which makes this do nothing).
    func cancel() {
        let unread = descriptors.withLock { d in
            defer { d = [] }
            return d
        }
        for (fd, stream) in unread {
            _ = SystemCalls.current.close(fd)
            finish(stream)
        }
    }

    static func text(_ bytes: ArraySlice<UInt8>) -> String {
        var b = bytes
        if b.last == 13 { b.removeLast() }
        return String(decoding: b, as: UTF8.self)
    }
}
