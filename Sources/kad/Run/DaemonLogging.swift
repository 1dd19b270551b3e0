import FoundationEssentials
import Logging
#if canImport(Glibc)
import Glibc
#endif

/// Where `kad run` logs: syslog (keepalived's default, facility `daemon`) or the console
/// (`-l/--log-console`), through swift-log.
///
/// keepalived logs almost everything at LOG_INFO with no level setting; kad uses swift-log's
/// levels (`-D/--log-detail` adds `debug`), maps them onto syslog priorities, and keeps
/// keepalived's wording for the messages users grep for ("(VI_1) Entering MASTER STATE").
enum DaemonLogging {
    /// Installs the process's log handler. Call once, before the first `Logger` is made.
    /// - Parameters:
    ///   - console: log to standard error instead of syslog.
    ///   - detail: log at debug level too.
    ///   - facility: the syslog facility (`LOG_DAEMON` unless `-S` says otherwise).
    ///   - ident: the syslog ident ("kad", plus "_NAME" with `-i`).
    static func bootstrap(console: Bool, detail: Bool, facility: Int32, ident: String) {
        let level: Logger.Level = detail ? .debug : .info
        if console {
            LoggingSystem.bootstrap { label in
                var h = ConsoleLogHandler(label: label)
                h.logLevel = level
                return h
            }
        } else {
            SyslogLogHandler.open(ident: ident, facility: facility)
            LoggingSystem.bootstrap { label in
                var h = SyslogLogHandler(label: label)
                h.logLevel = level
                return h
            }
        }
    }

    /// Reads `-S/--log-facility`: 0-7 (local0..local7, as keepalived), `local0`..`local7`,
    /// `user` or `daemon`.
    static func facility(_ text: String) -> Int32? {
        let locals: [Int32] = [LOG_LOCAL0, LOG_LOCAL1, LOG_LOCAL2, LOG_LOCAL3, LOG_LOCAL4, LOG_LOCAL5, LOG_LOCAL6, LOG_LOCAL7]
        if let n = Int(text), (0...7).contains(n) { return locals[n] }
        if text.hasPrefix("local"), let n = Int(text.dropFirst(5)), (0...7).contains(n) { return locals[n] }
        switch text {
        case "user": return LOG_USER
        case "daemon": return LOG_DAEMON
        default: return nil
        }
    }
}

/// Lines on standard error: `Wed Nov 25 04:19:19 2026: (VI_1) Entering MASTER STATE`, as
/// keepalived's `-l` prints them (plus the level for warnings and errors).
struct ConsoleLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var t = time(nil)
        var tm = tm()
        localtime_r(&t, &tm)
        var buffer = [CChar](repeating: 0, count: 64)
        let n = strftime(&buffer, buffer.count, "%a %b %e %H:%M:%S %Y", &tm)
        let stamp = String(decoding: buffer[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let prefix = ""
        var line = "\(stamp): \(prefix)\(event.message)\n"
        // One write(2) per line: lines from several threads never interleave.
        line.withUTF8 { b in _ = write(2, b.baseAddress, b.count) }
    }
}

/// syslog(3) through `vsyslog`, one call per message.
struct SyslogLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]

    /// The ident must outlive every syslog call: openlog keeps the pointer.
    nonisolated(unsafe) private static var identStorage: UnsafeMutablePointer<CChar>?

    static func open(ident: String, facility: Int32) {
        identStorage = strdup(ident)
        openlog(identStorage, LOG_PID | LOG_NDELAY, facility)
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let priority: Int32 = switch event.level {
        case .trace, .debug: LOG_DEBUG
        case .info: LOG_INFO
        case .notice: LOG_NOTICE
        case .warning: LOG_WARNING
        case .error: LOG_ERR
        case .critical: LOG_CRIT
        }
        let text = "\(event.message)"
        text.withCString { p in
            withVaList([p]) { vsyslog(priority, "%s", $0) }
        }
    }
}

extension Duration {
    /// "12.3 ms": how long a reload took, in the log.
    var millisecondsText: String {
        let ms = Double(components.seconds) * 1000 + Double(components.attoseconds) / 1e15
        return "\((ms * 10).rounded() / 10) ms"
    }
}
