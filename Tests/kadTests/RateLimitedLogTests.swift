import Logging
import Synchronization
import Testing
@testable import kad

/// Collects what is logged.
final class CollectingLog: Sendable {
    let lines = Mutex<[String]>([])
    struct Handler: LogHandler {
        let sink: CollectingLog
        var logLevel: Logger.Level = .trace
        var metadata: Logger.Metadata = [:]
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) { sink.lines.withLock { $0.append("\(event.level): \(event.message)") } }
    }
    var logger: Logger { Logger(label: "test") { _ in Handler(sink: self) } }
}

@Suite("Per-packet messages are rate-limited")
struct RateLimitedLogTests {
    @Test func oncePerIntervalPerInstanceAndKind() async throws {
        let sink = CollectingLog()
        let log = RateLimitedLog(interval: .milliseconds(200))
        for _ in 0..<1000 {
            log.note(instance: "VI_1", kind: "lower", level: .warning, logger: sink.logger) { "forcing new election" }
        }
        log.note(instance: "VI_2", kind: "lower", level: .warning, logger: sink.logger) { "forcing new election" }
        log.note(instance: "VI_1", kind: "drop ttl", level: .info, logger: sink.logger) { "dropped" }
        #expect(sink.lines.withLock { $0 } == ["warning: (VI_1) forcing new election", "warning: (VI_2) forcing new election",
                                               "info: (VI_1) dropped"])
        try await Task.sleep(for: .milliseconds(250))
        log.note(instance: "VI_1", kind: "lower", level: .warning, logger: sink.logger) { "forcing new election" }
        #expect(sink.lines.withLock { $0.last } == "warning: (VI_1) forcing new election (and 999 more since the last report)")
    }
}
