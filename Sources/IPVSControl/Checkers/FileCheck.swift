import NetLinux
import Synchronization

/// `FILE_CHECK`: the value in a `track_file` decides whether the real server is up and, with
/// `dynamic`, its weight. The file is read the way NetLinux's ``TrackedFileReading`` reads it
/// (a missing or empty file is 0; an out-of-range number keeps the previous value).
///
/// With weight 0, any non-zero value is down and 0 is up. Otherwise the value is multiplied by
/// the weight (negated with `reverse`): a result of -254 or less is down (the limit keepalived
/// applies to tracked files), anything else is up, and with `dynamic` the real server's weight
/// becomes `base weight + result`, not below 0.
///
/// By default each attempt reads the file; a daemon that already runs a
/// ``TrackedFileWatcher`` passes `read: { watcher.latest($0) ?? TrackedFileReading.read($0) }`.
public struct FileCheck: HealthCheck {
    public var path: String
    /// `weight W` of the FILE_CHECK, else the track_file's own weight (default 1).
    public var weight: Int
    public var reverse: Bool
    public var dynamic: Bool
    /// The real server's configured weight, the base of a `dynamic` weight.
    public var baseWeight: Int
    private let read: @Sendable (String) -> TrackedFileReading
    private let last = LastValue()

    public init(path: String, weight: Int = 1, reverse: Bool = false, dynamic: Bool = false, baseWeight: Int = 1,
                read: @escaping @Sendable (String) -> TrackedFileReading = { TrackedFileReading.read($0) }) {
        self.path = path
        self.weight = weight
        self.reverse = reverse
        self.dynamic = dynamic
        self.baseWeight = baseWeight
        self.read = read
    }

    public var name: String { "FILE_CHECK \(path)" }

    public func check() async -> CheckResult {
        let reading = read(path)
        let value: Int32
        switch reading.value {
        case .number(let v):
            value = v
            last.value.withLock { $0 = v }
        case .ignored:
            value = last.value.withLock { $0 }
        }
        return verdict(value: Int(value))
    }

    /// The verdict for a file value.
    public func verdict(value: Int) -> CheckResult {
        if weight == 0 {
            return value == 0 ? .success : .failure(reason: "\(path) holds \(value), not 0 (weight 0)")
        }
        let factor = reverse ? -weight : weight
        let (product, overflow) = value.multipliedReportingOverflow(by: factor)
        let negative = (value < 0) != (factor < 0)
        let result = overflow ? (negative ? Int.min : Int.max) : product
        if result <= -254 {
            return .failure(reason: "\(path) holds \(value), weight \(weight)\(reverse ? " reverse" : "") gives \(result)")
        }
        guard dynamic else { return .success }
        let (sum, o) = baseWeight.addingReportingOverflow(result)
        return .weighted(o ? Int.max : max(0, sum))
    }
}

/// The last in-range value, kept across attempts (keepalived ignores out-of-range numbers).
private final class LastValue: Sendable {
    let value = Mutex<Int32>(0)
}
