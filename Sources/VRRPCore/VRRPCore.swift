// VRRPCore: the pure VRRP engine (codec, state machine, runner, simulation).
//
// Not yet implemented: issue #3 fills this module. It deliberately exports nothing
// until then, so that no caller can mistake a placeholder for the protocol.
