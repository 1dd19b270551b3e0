import Testing

/// Every NetLinux suite that touches the host (system-call overrides, sockets, network
/// namespaces) is nested in this one and runs alone: ``SystemCalls`` overrides are
/// process-wide, so a test that makes `socket()` fail must not overlap a test that needs a
/// working one. Pure suites (codecs, builders, parsers) stay parallel.
@Suite("NetLinux: host access, one suite at a time", .serialized)
struct HostAccessSuites {}
