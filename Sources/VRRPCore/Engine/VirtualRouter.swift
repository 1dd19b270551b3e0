/// One VRRP virtual router (a keepalived `vrrp_instance`): a pure state machine.
///
/// ## Call contract
/// - Feed it inputs with ``handle(_:now:)``; it returns the actions to perform, in order.
///   It never reads a clock, sleeps, or does I/O.
/// - `now` must never go backwards between calls.
/// - After every call, read ``nextDeadline``: when that instant comes (or later), call
///   `handle(.timerFired, now:)`. Calling earlier is harmless (nothing is due, nothing
///   happens); calling late processes every due timer in deadline order, each acting as
///   if it fired at `now`. The runner measures how late it was; the core does not.
/// - Received packets must already be decoded and checked by the codec
///   (``VRRPAdvertisement/decodeIPv4Datagram(_:)``); the router makes the per-instance
///   checks (version, TTL mode, authentication, interval, peers) and counts every drop.
/// - Local mistakes (an impossible configuration) are thrown by the initializer; remote
///   mistakes (bad packets) are counted and reported as ``VRRPAction/drop(_:source:)``.
///
/// ```swift
/// var router = try VirtualRouter(configuration: config)
/// var actions = router.handle(.startup, now: .zero)   // -> BACKUP, down timer armed
/// if let t = router.nextDeadline { actions = router.handle(.timerFired, now: t) } // -> MASTER
/// ```
public struct VirtualRouter: Sendable {
    /// An input to the state machine.
    public enum Input: Sendable, Hashable {
        /// Start (RFC Startup event). Honours `startupDelay`.
        case startup
        /// Stop: a MASTER sends a priority-0 advert and removes its addresses (RFC Shutdown).
        case shutdown
        /// A decoded advert for our VRID, received on our interface.
        case advertisement(VRRPReceivedPacket)
        /// A timer may be due (see the call contract).
        case timerFired
        /// Our own interface went up or down.
        case interfaceChanged(up: Bool)
        /// A tracked object reported a new status.
        case trackerChanged(TrackedObjectID, TrackerStatus)
        /// A new base priority (1–255).
        case priorityChanged(UInt8)
        /// A reload matched this instance to a new configuration: keep the state, apply the
        /// differences (addresses, routes, rules, priority, timers) without an election.
        case reload(VirtualRouterConfiguration)
    }

    enum TimerKind: Int, CaseIterable {
        case startupDelay, masterDown, advertisement, announceSecondBurst, announceRefresh, lowerPriorityAnnounce
    }

    /// The running configuration (with `vrrp_strict`'s forced values applied).
    public private(set) var configuration: VirtualRouterConfiguration
    /// The current state.
    public private(set) var state: VRRPState = .initialize
    /// Base priority plus tracker weights, clamped to 1…254; 255 for the owner.
    public private(set) var effectivePriority: UInt8
    /// Master_Adver_Interval in centiseconds: learned from the master's adverts (v3),
    /// our own interval otherwise.
    public private(set) var masterAdvertisementInterval: UInt16
    /// The current master's address as far as we know (ourselves when MASTER).
    public private(set) var masterAddress: IPAddress?
    /// Everything counted so far.
    public private(set) var counters = VRRPCounters()
    /// Why the instance is (or would be) in FAULT; empty when healthy.
    public private(set) var faultReasons: [FaultReason] = []

    var deadlines: [Int64] = Array(repeating: .max, count: TimerKind.allCases.count)
    var trackerStatus: [TrackedObjectID: TrackerStatus] = [:]
    var interfaceUp = true
    var startRequested = false
    var preemptWindowEnd: VRRPInstant?
    var advertisedAddresses: VRRPAddressList
    var advertisedAddressSet: Set<IPAddress>
    var password: VRRPPassword?
    // Sync groups (driven by VRRPEngine).
    var syncGroup: String?
    var wantsMaster = false
    var groupFault: FaultReason?
    // Two owners.
    var ownerConflictSince: VRRPInstant?
    var ownerDemoted = false

    /// A router in INIT for `configuration`.
    /// - Throws: ``VRRPConfigurationError`` when the configuration cannot run.
    public init(configuration: VirtualRouterConfiguration) throws(VRRPConfigurationError) {
        try configuration.validate()
        let c = configuration.effective
        self.configuration = c
        effectivePriority = c.priority
        masterAdvertisementInterval = c.advertisementInterval
        advertisedAddresses = VRRPAddressList(family: c.family, c.addresses.map(\.address))
        advertisedAddressSet = Set(c.addresses.map(\.address))
        password = c.password
        for t in c.trackers { trackerStatus[t.object] = .unknown }
        effectivePriority = computeEffectivePriority()
        faultReasons = computeFaultReasons()
    }

    /// The earliest instant at which ``handle(_:now:)`` must be called with `.timerFired`;
    /// `nil` when no timer is armed.
    public var nextDeadline: VRRPInstant? {
        var m = Int64.max
        for d in deadlines where d < m { m = d }
        return m == .max ? nil : VRRPInstant(nanoseconds: m)
    }

    /// Whether this instance is the address owner right now (priority 255, not demoted).
    public var isOwner: Bool { configuration.isOwner && !ownerDemoted }

    /// Skew_Time with the current effective priority and master interval.
    public var skewTime: Duration {
        VRRPTimers.skewTime(version: configuration.version, priority: effectivePriority,
                            masterAdvertisementInterval: masterAdvertisementInterval)
    }

    /// Master_Down_Interval with the current effective priority and master interval.
    public var masterDownInterval: Duration {
        VRRPTimers.masterDownInterval(version: configuration.version, priority: effectivePriority,
                                      masterAdvertisementInterval: masterAdvertisementInterval,
                                      downTimerAdverts: configuration.downTimerAdverts)
    }

    /// The deadline of one timer, for tests and status output.
    func deadline(_ kind: TimerKind) -> VRRPInstant? {
        let d = deadlines[kind.rawValue]
        return d == .max ? nil : VRRPInstant(nanoseconds: d)
    }

    /// When the master-down timer expires (BACKUP only).
    public var masterDownDeadline: VRRPInstant? { deadline(.masterDown) }
    /// When the next advert is due (MASTER only).
    public var advertisementDeadline: VRRPInstant? { deadline(.advertisement) }

    // MARK: - Entry point

    /// Processes one input at `now` and returns the actions to perform, in order.
    public mutating func handle(_ input: Input, now: VRRPInstant) -> [VRRPAction] {
        var out: [VRRPAction] = []
        handle(input, now: now, into: &out)
        return out
    }

    /// Like ``handle(_:now:)``, appending to `actions` (no array per call).
    public mutating func handle(_ input: Input, now: VRRPInstant, into actions: inout [VRRPAction]) {
        switch input {
        case .startup: startup(now, &actions)
        case .shutdown: shutdown(now, &actions)
        case .advertisement(let p): receive(p, now, &actions)
        case .timerFired: fireTimers(now, &actions)
        case .interfaceChanged(let up):
            interfaceUp = up
            reevaluate(now, &actions)
        case .trackerChanged(let id, let status):
            guard trackerStatus[id] != nil else { return }
            trackerStatus[id] = status
            reevaluate(now, &actions)
        case .priorityChanged(let p):
            guard p != 0, p != configuration.priority else { return }
            configuration.priority = p
            reevaluate(now, &actions)
        case .reload(let c): reload(c, now, &actions)
        }
    }

    // MARK: - Timers

    mutating func arm(_ kind: TimerKind, at instant: VRRPInstant) { deadlines[kind.rawValue] = instant.nanoseconds }
    mutating func cancel(_ kind: TimerKind) { deadlines[kind.rawValue] = .max }
    mutating func cancelAll() { for i in deadlines.indices { deadlines[i] = .max } }

    mutating func fireTimers(_ now: VRRPInstant, _ out: inout [VRRPAction]) {
        // Due timers fire in deadline order; a timer re-armed for a time still <= now fires again.
        var guardCount = 0
        while guardCount < 64 {
            guardCount += 1
            var best: TimerKind?
            var bestAt = Int64.max
            for k in TimerKind.allCases where deadlines[k.rawValue] <= now.nanoseconds && deadlines[k.rawValue] < bestAt {
                best = k
                bestAt = deadlines[k.rawValue]
            }
            guard let kind = best else { return }
            cancel(kind)
            fire(kind, now, &out)
        }
    }

    mutating func fire(_ kind: TimerKind, _ now: VRRPInstant, _ out: inout [VRRPAction]) {
        switch kind {
        case .startupDelay:
            start(now, &out)
        case .masterDown:
            guard state == .backup else { return }
            if syncGroup != nil {
                // The engine decides whether the whole group goes MASTER.
                wantsMaster = true
                arm(.masterDown, at: now + masterDownInterval)
                out.append(.notice(.waitingForSyncGroup))
            } else {
                becomeMaster(now, reason: .masterDownTimer, &out)
            }
        case .advertisement:
            guard state == .master else { return }
            sendAdvertisement(priority: effectivePriority, &out)
            arm(.advertisement, at: now + .centiseconds(Int(configuration.advertisementInterval)))
        case .announceSecondBurst:
            guard state == .master else { return }
            announce(rounds: configuration.garp.masterRepeat, &out)
        case .announceRefresh:
            guard state == .master, let period = configuration.garp.masterRefresh else { return }
            announce(rounds: configuration.garp.masterRefreshRepeat, &out)
            arm(.announceRefresh, at: now + period)
        case .lowerPriorityAnnounce:
            guard state == .master else { return }
            announce(rounds: configuration.garp.effectiveLowerPriorityRepeat, &out)
        }
    }

    // MARK: - Lifecycle

    mutating func startup(_ now: VRRPInstant, _ out: inout [VRRPAction]) {
        guard state == .initialize || state == .stop, !startRequested else { return }
        startRequested = true
        if configuration.startupDelay > .zero {
            arm(.startupDelay, at: now + configuration.startupDelay)
            return
        }
        start(now, &out)
    }

    mutating func start(_ now: VRRPInstant, _ out: inout [VRRPAction]) {
        effectivePriority = computeEffectivePriority()
        faultReasons = computeFaultReasons()
        if let reason = faultReasons.first {
            enterFault(now, reason: reason, &out)
        } else if isOwner {
            becomeMaster(now, reason: .ownerStartup, &out)
        } else {
            becomeBackup(now, reason: .startup, &out)
        }
    }

    mutating func shutdown(_ now: VRRPInstant, _ out: inout [VRRPAction]) {
        guard state != .stop else { return }
        let from = state
        if state == .master {
            sendAdvertisement(priority: 0, &out)
            removeResources(&out)
        }
        cancelAll()
        startRequested = false
        wantsMaster = false
        state = .stop
        counters.transitionsTo[Int(VRRPState.stop.rawValue)] += 1
        out.append(.transition(from: from, to: .stop, reason: .shutdown))
    }

    // MARK: - Transitions

    mutating func becomeMaster(_ now: VRRPInstant, reason: TransitionReason, _ out: inout [VRRPAction]) {
        let from = state
        if ownerDemoted {
            // The rogue owner went quiet: take back priority 255.
            ownerDemoted = false
            updateEffectivePriority(&out)
        }
        state = .master
        wantsMaster = false
        ownerConflictSince = nil
        cancel(.masterDown)
        masterAdvertisementInterval = configuration.advertisementInterval
        masterAddress = configuration.primaryAddress
        // keepalived's order: advert first (so the old master lets go), then addresses, then announcements.
        sendAdvertisement(priority: effectivePriority, &out)
        if !configuration.acceptMode && !configuration.isOwner { out.append(.setAcceptMode(false)) }
        let all = configuration.addresses + configuration.excludedAddresses
        if !all.isEmpty { out.append(.addAddresses(all)) }
        if !configuration.routes.isEmpty { out.append(.addRoutes(configuration.routes)) }
        if !configuration.rules.isEmpty { out.append(.addRules(configuration.rules)) }
        let garp = configuration.garp
        if garp.masterRepeat > 0 {
            announce(rounds: garp.masterRepeat, &out)
            if garp.masterDelay > .zero { arm(.announceSecondBurst, at: now + garp.masterDelay) }
        }
        if let period = garp.masterRefresh, period > .zero { arm(.announceRefresh, at: now + period) }
        arm(.advertisement, at: now + .centiseconds(Int(configuration.advertisementInterval)))
        counters.transitionsTo[Int(VRRPState.master.rawValue)] += 1
        out.append(.transition(from: from, to: .master, reason: reason))
    }

    mutating func becomeBackup(_ now: VRRPInstant, reason: TransitionReason, _ out: inout [VRRPAction]) {
        let from = state
        if from == .master {
            removeResources(&out)
        } else {
            masterAdvertisementInterval = configuration.advertisementInterval
        }
        state = .backup
        wantsMaster = false
        preemptWindowEnd = nil
        ownerConflictSince = nil
        for k in [TimerKind.advertisement, .announceSecondBurst, .announceRefresh, .lowerPriorityAnnounce] { cancel(k) }
        arm(.masterDown, at: now + masterDownInterval)
        counters.transitionsTo[Int(VRRPState.backup.rawValue)] += 1
        out.append(.transition(from: from, to: .backup, reason: reason))
    }

    mutating func enterFault(_ now: VRRPInstant, reason: FaultReason, _ out: inout [VRRPAction]) {
        let from = state
        if from == .master {
            // keepalived: a MASTER going to FAULT first resigns with priority 0.
            sendAdvertisement(priority: 0, &out)
            removeResources(&out)
        }
        state = .fault
        wantsMaster = false
        masterAddress = nil
        let startup = deadlines[TimerKind.startupDelay.rawValue]
        cancelAll()
        deadlines[TimerKind.startupDelay.rawValue] = startup
        counters.transitionsTo[Int(VRRPState.fault.rawValue)] += 1
        out.append(.transition(from: from, to: .fault, reason: .fault(reason)))
    }

    mutating func leaveFault(_ now: VRRPInstant, _ out: inout [VRRPAction]) {
        if isOwner {
            becomeMaster(now, reason: .faultCleared, &out)
        } else {
            becomeBackup(now, reason: .faultCleared, &out)
        }
    }

    mutating func removeResources(_ out: inout [VRRPAction]) {
        if !configuration.rules.isEmpty { out.append(.removeRules(configuration.rules)) }
        if !configuration.routes.isEmpty { out.append(.removeRoutes(configuration.routes)) }
        let all = configuration.addresses + configuration.excludedAddresses
        if !all.isEmpty { out.append(.removeAddresses(all)) }
        if !configuration.acceptMode && !configuration.isOwner { out.append(.setAcceptMode(true)) }
    }

    mutating func announce(rounds: Int, _ out: inout [VRRPAction]) {
        guard rounds > 0 else { return }
        let all = configuration.addresses + configuration.excludedAddresses
        guard !all.isEmpty else { return }
        counters.announcementBursts += 1
        out.append(.announce(all, rounds: rounds))
    }

    /// The advert this router sends with `priority`.
    public func advertisement(priority: UInt8) -> VRRPAdvertisement {
        VRRPAdvertisement(
            version: configuration.version, virtualRouterID: configuration.virtualRouterID, priority: priority,
            advertisementInterval: configuration.advertisementInterval, addresses: advertisedAddresses,
            authenticationType: password == nil ? 0 : VRRPAuthenticationType.password.rawValue,
            authenticationData: password?.rawValue ?? 0)
    }

    mutating func sendAdvertisement(priority: UInt8, _ out: inout [VRRPAction]) {
        let advert = advertisement(priority: priority)
        let form: VRRPChecksumForm = configuration.version == .v2 ? .messageOnly
            : (configuration.family == .ipv6 ? .pseudoHeader : configuration.checksumForm)
        if configuration.isMulticast {
            out.append(.sendAdvertisement(advert, destination: configuration.group, checksumForm: form))
            counters.advertisementsSent += 1
        } else {
            for peer in configuration.unicastPeers {
                out.append(.sendAdvertisement(advert, destination: peer.address, checksumForm: form))
                counters.advertisementsSent += 1
            }
        }
        if priority == 0 { counters.priorityZeroSent += 1 }
    }

    // MARK: - Priority and faults

    func computeEffectivePriority() -> UInt8 {
        if configuration.isOwner { return ownerDemoted ? 254 : 255 }
        var p = Int(configuration.priority)
        for t in configuration.trackers {
            p += t.evaluate(trackerStatus[t.object] ?? .unknown, ignoreWeight: configuration.ignoreTrackerWeights).delta
        }
        return UInt8(min(254, max(1, p)))
    }

    func computeFaultReasons() -> [FaultReason] {
        var r: [FaultReason] = []
        if !interfaceUp && !configuration.dontTrackPrimary { r.append(.interfaceDown(configuration.interface)) }
        for t in configuration.trackers
        where t.evaluate(trackerStatus[t.object] ?? .unknown, ignoreWeight: configuration.ignoreTrackerWeights).fault {
            r.append(.tracker(t.object))
        }
        if let g = groupFault { r.append(g) }
        return r
    }

    /// Fault reasons of this instance alone (without the sync group's).
    public var ownFaultReasons: [FaultReason] {
        faultReasons.filter { if case .syncGroupMember = $0 { return false } else { return true } }
    }

    /// Whether this BACKUP's master-down timer has expired while it waits for its sync group.
    public var isWaitingForSyncGroup: Bool { wantsMaster }

    // MARK: - Sync-group control (used by VRRPEngine)

    mutating func setGroupFault(_ reason: FaultReason?, _ now: VRRPInstant, _ out: inout [VRRPAction]) {
        guard groupFault != reason else { return }
        groupFault = reason
        reevaluate(now, &out)
    }

    mutating func forceMaster(_ now: VRRPInstant, group: String, _ out: inout [VRRPAction]) {
        guard state == .backup else { return }
        becomeMaster(now, reason: .syncGroup(member: group), &out)
    }

    mutating func forceBackup(_ now: VRRPInstant, group: String, _ out: inout [VRRPAction]) {
        guard state == .master else { return }
        becomeBackup(now, reason: .syncGroup(member: group), &out)
    }

    mutating func announceLowerPriority(_ now: VRRPInstant, _ out: inout [VRRPAction]) {
        guard state == .master else { return }
        let garp = configuration.garp
        announce(rounds: garp.effectiveLowerPriorityRepeat, &out)
        if garp.effectiveLowerPriorityDelay > .zero {
            arm(.lowerPriorityAnnounce, at: now + garp.effectiveLowerPriorityDelay)
        }
    }

    mutating func updateEffectivePriority(_ out: inout [VRRPAction]) {
        let old = effectivePriority
        let new = computeEffectivePriority()
        guard new != old else { return }
        effectivePriority = new
        out.append(.notice(.priorityChanged(from: old, to: new)))
    }

    /// Recomputes the effective priority and the fault state after any change.
    mutating func reevaluate(_ now: VRRPInstant, _ out: inout [VRRPAction]) {
        let oldMDI = masterDownInterval
        updateEffectivePriority(&out)
        faultReasons = computeFaultReasons()
        switch state {
        case .initialize, .stop:
            return
        case .fault:
            if faultReasons.isEmpty { leaveFault(now, &out) }
        case .backup, .master:
            if let reason = faultReasons.first {
                enterFault(now, reason: reason, &out)
            } else if state == .backup, let d = deadline(.masterDown) {
                // keepalived shifts the running down timer by the change in the interval.
                let shifted = d + (masterDownInterval - oldMDI)
                arm(.masterDown, at: max(shifted, now))
            }
        }
    }

    // MARK: - Receiving

    mutating func drop(_ reason: VRRPDropReason, _ source: IPAddress?, _ out: inout [VRRPAction]) {
        counters.drops[Int(reason.rawValue)] += 1
        out.append(.drop(reason, source: source))
    }

    /// The per-instance checks, in keepalived's order; returns the first failure.
    func check(_ p: VRRPReceivedPacket) -> VRRPDropReason? {
        let c = configuration
        let a = p.advertisement
        if c.isMulticast {
            if p.hopLimit != 255 { return .badHopLimit }
        } else if let peer = c.unicastPeers.first(where: { $0.address == p.source }) {
            if let lo = peer.minimumTTL, p.hopLimit < lo { return .badHopLimit }
            if let hi = peer.maximumTTL, p.hopLimit > hi { return .badHopLimit }
        }
        if a.version != c.version { return .versionMismatch }
        if a.family != c.family { return .versionMismatch }
        if c.version == .v2 {
            let expected = password == nil ? VRRPAuthenticationType.none.rawValue : VRRPAuthenticationType.password.rawValue
            if a.authenticationType != expected { return .authenticationTypeMismatch }
            if let pw = password, !pw.constantTimeEquals(VRRPPassword(rawValue: a.authenticationData)) {
                return .authenticationFailure
            }
            if a.advertisementInterval != c.advertisementInterval { return .intervalMismatch }
        }
        if p.destination.isMulticast != c.isMulticast { return .destinationMismatch }
        if p.source == c.primaryAddress { return .ownAdvertisement }
        if !c.isMulticast && c.checkUnicastSource && !c.unicastPeers.contains(where: { $0.address == p.source }) {
            return .unicastSourceNotPeer
        }
        if c.isOwner && c.ownerIgnoresAdverts { return .ownerIgnoresAdverts }
        return nil
    }

    func addressesMatch(_ list: VRRPAddressList) -> Bool {
        if list == advertisedAddresses { return true }
        guard list.count == advertisedAddresses.count else { return false }
        for a in list where !advertisedAddressSet.contains(a) { return false }
        return true
    }

    mutating func receive(_ p: VRRPReceivedPacket, _ now: VRRPInstant, _ out: inout [VRRPAction]) {
        guard state == .backup || state == .master else {
            drop(.notRunning, p.source, &out)
            return
        }
        if let reason = check(p) {
            drop(reason, p.source, &out)
            return
        }
        let a = p.advertisement
        if !addressesMatch(a.addresses) {
            counters.addressListMismatches += 1
            if configuration.dropAddressListMismatch && a.priority != 255 {
                drop(.addressListMismatch, p.source, &out)
                return
            }
            out.append(.notice(.addressListMismatch(from: p.source)))
        }
        counters.advertisementsReceived += 1
        counters.receivedByChecksumForm[Int(p.checksumForm.rawValue)] += 1
        if a.priority == 0 { counters.priorityZeroReceived += 1 }
        if configuration.version == .v3 && a.advertisementInterval != configuration.advertisementInterval {
            counters.intervalMismatches += 1
            out.append(.notice(.intervalMismatch(from: p.source, interval: a.advertisementInterval)))
        }
        if state == .backup {
            receiveAsBackup(p, now, &out)
        } else {
            receiveAsMaster(p, now, &out)
        }
    }

    mutating func receiveAsBackup(_ p: VRRPReceivedPacket, _ now: VRRPInstant, _ out: inout [VRRPAction]) {
        let a = p.advertisement
        if a.priority == 0 {
            // The master resigns: take over after Skew_Time only (§6.4.2).
            arm(.masterDown, at: now + skewTime)
            return
        }
        // The owner always preempts, whatever Preempt_Mode says (§6.1).
        let preempt = configuration.preempt || isOwner
        var accept = !preempt || a.priority >= effectivePriority
        if preempt, let delay = configuration.preemptDelay {
            if a.priority >= effectivePriority {
                preemptWindowEnd = nil
            } else if let end = preemptWindowEnd {
                if now < end { accept = true }
            } else {
                let end = now + delay
                preemptWindowEnd = end
                out.append(.notice(.preemptDelayStarted(until: end)))
                accept = true
            }
        }
        guard accept else {
            out.append(.notice(.backupDiscardedLowerPriority(from: p.source, priority: a.priority)))
            return
        }
        if configuration.version == .v3 { masterAdvertisementInterval = a.advertisementInterval }
        masterAddress = p.source
        wantsMaster = false
        arm(.masterDown, at: now + masterDownInterval)
    }

    mutating func receiveAsMaster(_ p: VRRPReceivedPacket, _ now: VRRPInstant, _ out: inout [VRRPAction]) {
        let a = p.advertisement
        let advertInterval = Duration.centiseconds(Int(configuration.advertisementInterval))
        if a.priority == 0 {
            // Another router resigned: advertise at once so backups hear a live master (§6.4.3).
            sendAdvertisement(priority: effectivePriority, &out)
            arm(.advertisement, at: now + advertInterval)
            return
        }
        if a.priority == 255 && configuration.isOwner {
            out.append(.notice(.ownerConflict(from: p.source)))
        }
        let wins = a.priority > effectivePriority
            || (a.priority == effectivePriority && p.source > configuration.primaryAddress)
        if wins {
            if configuration.higherPrioritySendAdvert { sendAdvertisement(priority: effectivePriority, &out) }
            becomeBackup(now, reason: .higherPriority(from: p.source, priority: a.priority), &out)
            if configuration.version == .v3 {
                masterAdvertisementInterval = a.advertisementInterval
                arm(.masterDown, at: now + masterDownInterval)
            }
            masterAddress = p.source
            return
        }
        // A losing advert: we stay MASTER and force a new election (RFC 9568 §6.4.3).
        counters.lowerPriorityReceivedAsMaster += 1
        out.append(.notice(.masterReceivedLowerPriority(from: p.source, priority: a.priority)))
        if a.priority == 255 && configuration.isOwner && !ownerDemoted {
            // Two owners: if the rogue keeps advertising for 2 of our intervals plus 1.2 × the
            // larger interval, step down to 254 so that only one master remains.
            let since = ownerConflictSince ?? now
            ownerConflictSince = since
            let larger = max(Int(configuration.advertisementInterval), Int(a.advertisementInterval))
            let patience = advertInterval * 2 + .milliseconds(larger * 12)  // 1.2 × larger cs = 12 ms per cs
            if now - since >= patience {
                ownerDemoted = true
                updateEffectivePriority(&out)
            }
        }
        if !configuration.lowerPriorityNoAdvert {
            sendAdvertisement(priority: effectivePriority, &out)
            arm(.advertisement, at: now + advertInterval)
        }
        let garp = configuration.garp
        if garp.effectiveLowerPriorityRepeat > 0 {
            announce(rounds: garp.effectiveLowerPriorityRepeat, &out)
            if garp.effectiveLowerPriorityDelay > .zero {
                arm(.lowerPriorityAnnounce, at: now + garp.effectiveLowerPriorityDelay)
            }
        }
    }

    // MARK: - Reload

    mutating func reload(_ new: VirtualRouterConfiguration, _ now: VRRPInstant, _ out: inout [VRRPAction]) {
        guard (try? new.validate()) != nil else { return }
        let old = configuration
        let c = new.effective
        configuration = c
        advertisedAddresses = VRRPAddressList(family: c.family, c.addresses.map(\.address))
        advertisedAddressSet = Set(c.addresses.map(\.address))
        password = c.password
        var statuses: [TrackedObjectID: TrackerStatus] = [:]
        for t in c.trackers { statuses[t.object] = trackerStatus[t.object] ?? .unknown }
        trackerStatus = statuses
        if state == .master {
            // Apply only the differences; no transition, no re-election.
            let oldAll = old.addresses + old.excludedAddresses
            let newAll = c.addresses + c.excludedAddresses
            let removed = oldAll.filter { !newAll.contains($0) }
            let added = newAll.filter { !oldAll.contains($0) }
            let removedRules = old.rules.filter { !c.rules.contains($0) }
            let removedRoutes = old.routes.filter { !c.routes.contains($0) }
            if !removedRules.isEmpty { out.append(.removeRules(removedRules)) }
            if !removedRoutes.isEmpty { out.append(.removeRoutes(removedRoutes)) }
            if !removed.isEmpty { out.append(.removeAddresses(removed)) }
            if !added.isEmpty { out.append(.addAddresses(added)) }
            let addedRoutes = c.routes.filter { !old.routes.contains($0) }
            let addedRules = c.rules.filter { !old.rules.contains($0) }
            if !addedRoutes.isEmpty { out.append(.addRoutes(addedRoutes)) }
            if !addedRules.isEmpty { out.append(.addRules(addedRules)) }
            if !added.isEmpty && c.garp.masterRepeat > 0 {
                counters.announcementBursts += 1
                out.append(.announce(added, rounds: c.garp.masterRepeat))
            }
            if old.advertisementInterval != c.advertisementInterval {
                arm(.advertisement, at: now + .centiseconds(Int(c.advertisementInterval)))
            }
            masterAddress = c.primaryAddress
        } else if state == .backup && c.version == .v2 {
            masterAdvertisementInterval = c.advertisementInterval
        }
        reevaluate(now, &out)
    }
}
