import Dispatch
import FoundationEssentials
import SystemPackage
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The daemon's pid file (`-p/--pid`, default `/run/kad.pid`).
///
/// Like keepalived, a second daemon started with the same pid file refuses to run while the
/// first is alive; a file left by a daemon that died is taken over. The file is removed at stop.
struct PidFile: Sendable {
    let path: String

    struct Busy: Error, CustomStringConvertible {
        var path: String
        var pid: pid_t
        var description: String {
            "another kad (pid \(pid)) is running with the pid file \(path); stop it, or give this one its own -p/--pid and --control-socket"
        }
    }

    static func acquire(_ path: String) throws -> PidFile {
        let directory = FilePath(path).removingLastComponent().string
        if !directory.isEmpty { try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
        if let text = try? String(contentsOfFile: path, encoding: .utf8),
           let pid = pid_t(text.trimmed), pid > 0, pid != getpid(),
           kill(pid, 0) == 0 || errno == EPERM,
           let cmdline = try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8),
           cmdline.hasPrefix("kad"), !isZombie(pid) {
            throw Busy(path: path, pid: pid)
        }
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw DaemonError("cannot write the pid file \(path): \(String(cString: strerror(errno)))")
        }
        let text = "\(getpid())\n"
        _ = text.withCString { write(fd, $0, strlen($0)) }
        close(fd)
        return PidFile(path: path)
    }

    /// A dead process its parent has not reaped yet is not a running daemon.
    static func isZombie(_ pid: pid_t) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return true }
        return stat[stat.index(after: close)...].trimmed.hasPrefix("Z")
    }

    /// Removes the file if it still names this process.
    func remove() {
        if let text = try? String(contentsOfFile: path, encoding: .utf8),
           pid_t(text.trimmed) == getpid() {
            unlink(path)
        }
    }
}

/// Signals as an async sequence, through Dispatch signal sources: the signals are ignored at
/// the process level (so their default action never runs) and delivered here in order.
final class SignalStream: Sendable {
    let stream: AsyncStream<Int32>
    private let continuation: AsyncStream<Int32>.Continuation
    private let sources: Mutex<[any DispatchSourceSignal]>

    init(_ signals: [Int32]) {
        (stream, continuation) = AsyncStream.makeStream(of: Int32.self)
        let queue = DispatchQueue(label: "kad.signals")
        var made: [any DispatchSourceSignal] = []
        for s in signals {
            signal(s, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: s, queue: queue)
            let c = continuation
            source.setEventHandler { c.yield(s) }
            source.resume()
            made.append(source)
        }
        sources = Mutex(made)
    }

    /// Ends the stream (the loop reading it finishes after the signals already queued).
    func cancel() {
        continuation.finish()
    }
}
