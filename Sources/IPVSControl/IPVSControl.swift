// IPVSControl: IPVS over generic netlink, reconciliation and health checkers.
//
// Not yet implemented: issue #6 fills this module. It deliberately exports nothing
// until then.
