// How a running Simulation applies SimulationInvariants: disturbances and settle
// deadlines per component (segments tied by sync groups), settled-state checks, and the
// crash-takeover and priority-0-handover timing checks.

extension Simulation {
    // MARK: Settling

    func settle(_ c: Int) -> Duration {
        if let s = options.settleTime { return s }
        var latency = Duration.zero
        for s in components[c].segments { latency = max(latency, segmentFaults[s].maximumLatency) }
        return components[c].baseSettle + latency * 2
    }

    func isSettled(_ c: Int) -> Bool {
        let last = components[c].lastDisturbance
        return last == .min || now.nanoseconds >= last &+ settle(c).vrrpNanoseconds
    }

    /// Every segment of the component keeps per-flow order (needed for exact timing checks).
    func preservesOrder(_ c: Int) -> Bool {
        components[c].segments.allSatisfy { segmentFaults[$0].preservesOrder }
    }

    /// Something happened that may legitimately upset the component for a while.
    mutating func disturb(_ c: Int) {
        guard options.checkInvariants else { return }
        components[c].lastDisturbance = now.nanoseconds
        components[c].disturbances += 1
        if !components[c].checkPending {
            components[c].checkPending = true
            queue.push(time: now.nanoseconds &+ settle(c).vrrpNanoseconds, .check, .settleCheck, a: c)
        }
    }

    mutating func settleCheck(_ c: Int) {
        let due = components[c].lastDisturbance &+ settle(c).vrrpNanoseconds
        if now.nanoseconds < due {
            queue.push(time: due, .check, .settleCheck, a: c)
            return
        }
        components[c].checkPending = false
        checkComponent(c)
    }

    // MARK: Settled-state checks

    mutating func checkTouchedGroups() {
        var checked: [Int] = []
        for g in touchedGroups {
            let c = groups[g].component
            if !checked.contains(c) && isSettled(c) {
                checked.append(c)
                checkComponent(c)
            }
        }
    }

    mutating func checkComponent(_ c: Int) {
        for g in components[c].groups {
            statistics.invariantChecks += 1
            let members = groups[g].members.map { member($0.node, $0.router) }
            for v in SimulationInvariants.settled(groups[g].label, members, at: now) { report(v) }
        }
        for (n, k) in components[c].syncGroups where life[n] == .running {
            let sg = nodes[n].syncGroups[k]
            let members = sg.members.compactMap { name in engines[n].index(of: name).map { member(n, $0) } }
            if let v = SimulationInvariants.syncGroupAgrees("\(sg.name) on \(nodes[n].name)", members, at: now) {
                report(v)
            }
        }
    }

    func member(_ n: Int, _ r: Int) -> SimulationInvariants.Member {
        let router = engines[n].routers[r]
        let c = router.configuration
        let global = nodes[n].firstRouter + r
        return SimulationInvariants.Member(
            name: "\(nodes[n].name)/\(c.name)", state: router.state, effectivePriority: router.effectivePriority,
            preempt: c.preempt, isOwner: router.isOwner, alive: life[n] == .running,
            linkUp: portUp[routerPort[global]],
            hasAddresses: !c.addresses.isEmpty || !c.excludedAddresses.isEmpty,
            holdsAddresses: !installed[global].isEmpty)
    }

    func linkUp(_ n: Int, _ r: Int) -> Bool { portUp[routerPort[nodes[n].firstRouter + r]] }

    /// Eligible BACKUPs of group `g` on nodes other than `n`.
    func backups(of g: Int, except n: Int) -> [(node: Int, router: Int)] {
        groups[g].members.filter { m in
            m.node != n && life[m.node] == .running && linkUp(m.node, m.router)
                && engines[m.node].routers[m.router].state == .backup
        }
    }

    mutating func report(_ v: SimulationViolation) {
        violations.append(v)
        if options.trace != .off { record(nil, .violation(v)) }
        if options.stopAtFirstViolation { halted = true }
    }

    // MARK: Timing checks

    /// A settled MASTER crashes: its BACKUPs must take over within (MDI − A, MDI].
    mutating func registerCrash(_ n: Int) {
        guard let snapshot = faultSnapshot else { return }
        for (r, router) in engines[n].routers.enumerated() where router.state == .master {
            let g = routerGroup[nodes[n].firstRouter + r]
            let c = groups[g].component
            guard snapshot[c], preservesOrder(c), linkUp(n, r) else { continue }
            let candidates = backups(of: g, except: n).map { b in
                candidate(b.node, b.router) { $0.masterDownInterval }
            }
            addPending(.crashTakeover, group: g, candidates: candidates,
                       advertisementInterval: .centiseconds(Int(router.configuration.advertisementInterval)))
        }
    }

    /// A settled MASTER sends priority 0: its BACKUPs must take over within Skew_Time.
    mutating func registerHandover(_ n: Int, _ r: Int) {
        guard options.checkInvariants, let snapshot = faultSnapshot else { return }
        let g = routerGroup[nodes[n].firstRouter + r]
        let c = groups[g].component
        guard snapshot[c], preservesOrder(c), linkUp(n, r) else { return }
        // A sync group goes MASTER only when every member wants to: if one member's link
        // is down, its peer never hears the priority 0 and waits for its own down timer.
        if let sg = nodes[n].syncGroups.first(where: { $0.members.contains(nodes[n].configurations[r].name) }) {
            for name in sg.members {
                guard let k = nodes[n].configurations.firstIndex(where: { $0.name == name }),
                      linkUp(n, k) else { return }
            }
        }
        if pending.contains(where: { $0.active && $0.group == g && $0.start == now && $0.kind == .priorityZeroHandover }) {
            return
        }
        let candidates = backups(of: g, except: n).map { b in candidate(b.node, b.router) { $0.skewTime } }
        addPending(.priorityZeroHandover, group: g, candidates: candidates, advertisementInterval: .zero)
    }

    /// A possible taker with its own timer, and the longest timer of its sync group: a
    /// sync group goes MASTER only when every member's timer has expired.
    func candidate(_ m: Int, _ q: Int, _ timer: (VirtualRouter) -> Duration) -> PendingCheck.Candidate {
        let routers = engines[m].routers
        let own = timer(routers[q])
        var longest = own
        if let sg = nodes[m].syncGroups.first(where: { $0.members.contains(routers[q].configuration.name) }) {
            for name in sg.members {
                if let k = engines[m].index(of: name) { longest = max(longest, timer(routers[k])) }
            }
        }
        return PendingCheck.Candidate(node: m, router: q, own: own, longest: longest)
    }

    mutating func addPending(_ kind: SimulationMeasurement.Kind, group g: Int, candidates: [PendingCheck.Candidate],
                             advertisementInterval: Duration) {
        guard !candidates.isEmpty else { return }
        let c = groups[g].component
        var latency = Duration.zero
        for s in components[c].segments { latency = max(latency, segmentFaults[s].maximumLatency) }
        pending.append(PendingCheck(kind: kind, group: g, disturbances: components[c].disturbances,
                                    start: now, candidates: candidates, advertisementInterval: advertisementInterval,
                                    minimumDelay: segmentFaults[groups[g].segment].minimumDelay,
                                    maximumLatency: latency))
        activePending += 1
        let longest = candidates.map(\.longest).max()!
        queue.push(time: (now + longest + latency).nanoseconds, .check, .pendingDeadline,
                   b: UInt32(pending.count - 1))
    }

    func window(_ p: PendingCheck, _ c: PendingCheck.Candidate) -> ClosedRange<Duration> {
        switch p.kind {
        case .crashTakeover:
            SimulationInvariants.crashTakeoverWindow(
                masterDownInterval: c.own, advertisementInterval: p.advertisementInterval, minimumDelay: p.minimumDelay,
                maximumLatency: p.maximumLatency, syncGroupMasterDownInterval: c.longest)
        case .priorityZeroHandover:
            SimulationInvariants.priorityZeroHandoverWindow(
                skewTime: c.own, minimumDelay: p.minimumDelay, maximumLatency: p.maximumLatency, syncGroupSkewTime: c.longest)
        }
    }

    /// Router `r` of node `n` became MASTER in group `g`: settle that group's timing checks.
    mutating func resolvePending(group g: Int, node n: Int, router r: Int) {
        guard activePending > 0 else { return }
        for k in pending.indices where pending[k].active && pending[k].group == g {
            pending[k].active = false
            activePending -= 1
            let p = pending[k]
            // Another disturbance since (a lost packet, another fault) voids the measurement;
            // a taker that was not an eligible BACKUP (a restarted owner) too.
            guard components[groups[g].component].disturbances == p.disturbances,
                  let taker = p.candidates.first(where: { $0.node == n && $0.router == r }) else { continue }
            let m = SimulationMeasurement(kind: p.kind, group: groups[g].label, start: p.start, end: now,
                                          taker: "\(nodes[n].name)/\(nodes[n].configurations[r].name)",
                                          window: window(p, taker))
            measurements.append(m)
            if let v = SimulationInvariants.check(m, at: now) { report(v) }
        }
    }

    mutating func pendingDeadline(_ k: Int) {
        guard pending[k].active else { return }
        pending[k].active = false
        activePending -= 1
        let p = pending[k]
        guard components[groups[p.group].component].disturbances == p.disturbances else { return }
        let first = p.candidates.min { $0.own < $1.own }!
        let m = SimulationMeasurement(kind: p.kind, group: groups[p.group].label, start: p.start, end: nil,
                                      taker: nil, window: window(p, first))
        measurements.append(m)
        if let v = SimulationInvariants.check(m, at: now) { report(v) }
    }
}
