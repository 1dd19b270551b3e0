/// A point in time on the caller's monotonic clock, as VRRPCore sees it.
///
/// VRRPCore never reads a clock: every input comes with `now`, and every deadline it
/// returns is a `VRRPInstant`. The runner maps its `Clock`'s instants to these by
/// measuring the time elapsed since it started; tests and the simulation build them
/// directly. Resolution is one nanosecond.
public struct VRRPInstant: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Nanoseconds since an arbitrary origin chosen by the caller.
    public var nanoseconds: Int64

    /// The instant `nanoseconds` after the origin.
    @inlinable public init(nanoseconds: Int64) { self.nanoseconds = nanoseconds }

    /// The origin (0 ns).
    public static let zero = VRRPInstant(nanoseconds: 0)

    /// `seconds` after the origin, for tests and simulations.
    public static func seconds(_ seconds: Double) -> VRRPInstant {
        // Rounded to the nearest nanosecond without libm (VRRPCore links nothing but the stdlib).
        let ns = seconds * 1e9
        return VRRPInstant(nanoseconds: Int64(ns < 0 ? ns - 0.5 : ns + 0.5))
    }

    /// The instant `duration` later.
    @inlinable public func advanced(by duration: Duration) -> VRRPInstant {
        VRRPInstant(nanoseconds: nanoseconds &+ duration.vrrpNanoseconds)
    }

    /// The time from here to `other`.
    @inlinable public func duration(to other: VRRPInstant) -> Duration {
        .nanoseconds(other.nanoseconds &- nanoseconds)
    }

    /// The instant `d` after `a`.
    @inlinable public static func + (a: VRRPInstant, d: Duration) -> VRRPInstant { a.advanced(by: d) }
    /// The time from `b` to `a`.
    @inlinable public static func - (a: VRRPInstant, b: VRRPInstant) -> Duration { b.duration(to: a) }
    @inlinable public static func < (a: VRRPInstant, b: VRRPInstant) -> Bool { a.nanoseconds < b.nanoseconds }

    /// Seconds since the origin with millisecond precision, e.g. `3.609s`.
    public var description: String {
        let ms = nanoseconds / 1_000_000
        let sign = ms < 0 ? "-" : ""
        let a = abs(ms)
        let frac = String(a % 1000)
        return "\(sign)\(a / 1000).\(String(repeating: "0", count: 3 - frac.count))\(frac)s"
    }
}

extension Duration {
    /// The duration in whole nanoseconds (saturating at ±2⁶³ ns, about 292 years).
    @inlinable public var vrrpNanoseconds: Int64 {
        let (s, a) = components
        let (ns, o) = s.multipliedReportingOverflow(by: 1_000_000_000)
        if o { return s < 0 ? .min : .max }
        return ns &+ a / 1_000_000_000
    }

    /// `cs` centiseconds, the unit of VRRPv3's interval field.
    @inlinable public static func centiseconds(_ cs: Int) -> Duration { .milliseconds(cs * 10) }
}
