/// The scheduling rules of one checker, without I/O or clock: keepalived's checker loop.
///
/// - The first attempt comes `warmup × r` after the start, `r` a random number in 0...1.
/// - After a success the next attempt is `delay_loop` later; the checker is up.
/// - After a failure while up, up to `retry` more attempts follow, `delay_before_retry` apart;
///   when the last of them fails too the checker goes down and waits `delay_loop`.
/// - While down, every attempt is `delay_loop` apart and the first success brings it up.
/// - `alpha`: the checker starts down (otherwise up).
/// - A ``CheckResult/weighted(_:)`` success also sets the checker's dynamic weight.
///
/// ```swift
/// var m = CheckerStateMachine(timing: CheckerTiming(retry: 2, delayBeforeRetry: .seconds(1), delayLoop: .seconds(10)))
/// let first = m.firstDelay(random: 0.5)                        // 5 s with the default warmup
/// let step = m.record(.failure(reason: "connection refused"))  // still up, retry in 1 s
/// ```
public struct CheckerStateMachine: Sendable, Hashable {
    /// What one recorded attempt did.
    public struct Step: Sendable, Hashable {
        /// The checker went up or down with this attempt.
        public var stateChanged: Bool
        /// The dynamic weight changed with this attempt (and the checker is up).
        public var weightChanged: Bool
        /// When the next attempt is due, counted from now.
        public var nextDelay: Duration
        /// This failure used up the retries (it is the one that brought the checker down, or it
        /// failed while down).
        public var isFinalFailure: Bool
    }

    public let timing: CheckerTiming
    /// Whether the checker counts as up.
    public private(set) var isUp: Bool
    /// The weight from the last ``CheckResult/weighted(_:)`` success; `nil` = the real server's own.
    public private(set) var dynamicWeight: Int?
    /// Failed attempts in a row while up (0 after a success).
    public private(set) var consecutiveFailures = 0

    public init(timing: CheckerTiming) {
        self.timing = timing
        self.isUp = !timing.alpha
    }

    /// The delay before the first attempt, for a random `fraction` in 0...1 (clamped).
    public func firstDelay(random fraction: Double) -> Duration {
        let f = fraction.isFinite ? min(max(fraction, 0), 1) : 0
        return timing.warmup * f
    }

    /// Records an attempt's result.
    public mutating func record(_ result: CheckResult) -> Step {
        switch result {
        case .success, .weighted:
            var weight = dynamicWeight
            if case .weighted(let w) = result { weight = w }
            let stateChanged = !isUp
            let weightChanged = weight != dynamicWeight
            isUp = true
            dynamicWeight = weight
            consecutiveFailures = 0
            return Step(stateChanged: stateChanged, weightChanged: weightChanged, nextDelay: timing.delayLoop, isFinalFailure: false)
        case .failure:
            guard isUp else {
                return Step(stateChanged: false, weightChanged: false, nextDelay: timing.delayLoop, isFinalFailure: true)
            }
            consecutiveFailures += 1
            if consecutiveFailures <= max(timing.retry, 0) {
                return Step(stateChanged: false, weightChanged: false, nextDelay: timing.delayBeforeRetry, isFinalFailure: false)
            }
            isUp = false
            consecutiveFailures = 0
            return Step(stateChanged: true, weightChanged: false, nextDelay: timing.delayLoop, isFinalFailure: true)
        }
    }
}
