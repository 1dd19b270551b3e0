/// The simulation's random number generator: xoshiro256** seeded through SplitMix64.
///
/// Written here rather than taken from the standard library so that a seed replays the
/// same run on every platform and toolchain: the generator and every derived draw
/// (``below(_:)``, ``chance(_:)``, ``duration(in:)``) are fixed algorithms.
/// (`Int.random(in:using:)` is not promised to stay the same across Swift releases.)
///
/// ```swift
/// var rng = SimulationRNG(seed: 42)
/// let lost = rng.chance(0.01)
/// ```
public struct SimulationRNG: RandomNumberGenerator, Sendable, Hashable {
    @usableFromInline var s0: UInt64
    @usableFromInline var s1: UInt64
    @usableFromInline var s2: UInt64
    @usableFromInline var s3: UInt64

    /// A generator whose whole output is determined by `seed`.
    public init(seed: UInt64) {
        var x = seed
        func splitMix(_ x: inout UInt64) -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s0 = splitMix(&x)
        s1 = splitMix(&x)
        s2 = splitMix(&x)
        s3 = splitMix(&x)
    }

    /// The next 64 random bits.
    @inlinable
    public mutating func next() -> UInt64 {
        let result = rotl(s1 &* 5, 7) &* 9
        let t = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = rotl(s3, 45)
        return result
    }

    @usableFromInline
    func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    /// A uniform value in `0..<bound` (Lemire's multiply-and-reject); 0 when `bound` is 0.
    public mutating func below(_ bound: UInt64) -> UInt64 {
        guard bound > 0 else { return 0 }
        var m = next().multipliedFullWidth(by: bound)
        if m.low < bound {
            let threshold = (0 &- bound) % bound
            while m.low < threshold { m = next().multipliedFullWidth(by: bound) }
        }
        return m.high
    }

    /// A uniform integer in `range`.
    public mutating func int(in range: ClosedRange<Int>) -> Int {
        let width = UInt64(bitPattern: Int64(range.upperBound) &- Int64(range.lowerBound))
        if width == .max { return Int(truncatingIfNeeded: next()) }
        return range.lowerBound &+ Int(truncatingIfNeeded: below(width &+ 1))
    }

    /// A uniform element of `values`, which must not be empty.
    public mutating func pick<T>(_ values: [T]) -> T {
        precondition(!values.isEmpty, "pick from an empty array")
        return values[Int(below(UInt64(values.count)))]
    }

    /// A uniform double in `0..<1` (53 random bits).
    public mutating func unit() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    /// `true` with probability `p` (no draw at all when `p` ≤ 0 or ≥ 1).
    public mutating func chance(_ p: Double) -> Bool {
        if p <= 0 { return false }
        if p >= 1 { return true }
        return unit() < p
    }

    /// A uniform duration in `range`, to the nanosecond.
    public mutating func duration(in range: ClosedRange<Duration>) -> Duration {
        let lo = range.lowerBound.vrrpNanoseconds
        let hi = range.upperBound.vrrpNanoseconds
        return .nanoseconds(Int64(int(in: Int(lo)...Int(hi))))
    }
}
