extension VirtualRouter {
    /// The latest status of `object` as this router last heard it (``TrackerStatus/unknown``
    /// until reported); `nil` when the router does not track `object`.
    ///
    /// With ``TrackerBinding/evaluate(_:ignoreWeight:)`` this tells status output and metrics
    /// each tracker's priority contribution and whether it faults the router.
    public func status(of object: TrackedObjectID) -> TrackerStatus? { trackerStatus[object] }
}
