import Testing

/// Every suite that touches the host (system-call overrides, sockets, scripts, network
/// namespaces) is nested in this one and runs alone. All test targets run in one process, and
/// NetLinux's ``SystemCalls`` overrides are process-wide: a test that makes `socket()` or
/// `fork()` fail must not overlap a test, in any target, that needs a working one. Pure suites
/// (codecs, builders, parsers) stay parallel.
@Suite("Host access, one suite at a time", .serialized)
public struct HostAccessSuites {}
