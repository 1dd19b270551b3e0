import ArgumentParser
import FoundationEssentials
import Logging
#if canImport(Glibc)
import Glibc
#endif

/// `kad run`: the daemon, with keepalived's flags where they make sense.
struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the VRRP daemon on a keepalived configuration, like keepalived.",
        discussion: """
            kad stays in the foreground (as keepalived -n) and is stopped by SIGTERM or SIGINT: \
            every MASTER sends a priority-0 advert, the virtual addresses, routes and rules are \
            removed (unless -V) and notify scripts get STOP. SIGHUP reloads the file (a file with \
            errors is refused and the running configuration stays); SIGUSR1 and SIGUSR2 write the \
            data and stats dumps. A configuration that uses something kad cannot run yet is refused \
            at start with a message naming the keyword. Exit status (keepalived's): 0 stopped, \
            1 fatal, 2 configuration, 4 missing permission.
            """
    )

    @Option(name: [.customShort("f"), .customLong("use-file")], help: ArgumentHelp("The configuration file.", valueName: "FILE"))
    var file = "/etc/keepalived/keepalived.conf"

    @Flag(name: [.customShort("n"), .customLong("dont-fork")], help: "Accepted for keepalived's sake: kad always stays in the foreground.")
    var dontFork = false

    @Flag(name: [.customShort("l"), .customLong("log-console")], help: "Log to standard error instead of syslog.")
    var logConsole = false

    @Flag(name: [.customShort("D"), .customLong("log-detail")], help: "Log more detail (debug level).")
    var logDetail = false

    @Option(name: [.customShort("S"), .customLong("log-facility")], help: ArgumentHelp("Syslog facility: 0-7 (local0-7), local0-7, user or daemon (default).", valueName: "FACILITY"))
    var logFacility = "daemon"

    @Option(name: [.customShort("p"), .customLong("pid")], help: ArgumentHelp("The pid file.", valueName: "FILE"))
    var pidFile = "/run/kad.pid"

    @Option(name: [.customShort("i"), .customLong("config-id")], help: ArgumentHelp("Config id for @ID conditional lines (default: the short host name).", valueName: "ID"))
    var configID: String?

    @Flag(name: [.customShort("P"), .customLong("vrrp")], help: "Run only VRRP (virtual_server blocks are ignored).")
    var vrrpOnly = false

    @Flag(name: [.customShort("C"), .customLong("check")], help: "Run only the health checkers and IPVS (vrrp_instance blocks are ignored).")
    var checkOnly = false

    @Flag(name: [.customShort("I"), .customLong("dont-release-ipvs")], help: "Leave the IPVS virtual servers in place at stop.")
    var dontReleaseIPVS = false

    @Flag(name: [.customShort("X"), .customLong("release-vips")], help: "Release the virtual addresses at stop (kad always does unless -V).")
    var releaseVIPs = false

    @Flag(name: [.customShort("V"), .customLong("dont-release-vrrp")], help: "Leave the virtual addresses, routes and rules in place at stop.")
    var dontRelease = false

    @Option(name: .customLong("control-socket"), help: ArgumentHelp("The Unix socket kad status talks to.", valueName: "PATH"))
    var controlSocket = "/run/kad/kad.sock"

    @Option(name: .customLong("metrics"), help: ArgumentHelp("Serve Prometheus metrics on HOST:PORT (/metrics).", valueName: "HOST:PORT"))
    var metrics: String?

    @Option(name: .customLong("checker-threads"), help: ArgumentHelp(
        "Threads for TCP_CHECK and HTTP_GET/SSL_GET (default 1, as keepalived's one checker process: checks come late rather than take more of the machine).",
        valueName: "N"))
    var checkerThreads = 1

    func validate() throws {
        guard DaemonLogging.facility(logFacility) != nil else {
            throw ValidationError("-S/--log-facility \(logFacility): use 0-7, local0-7, user or daemon")
        }
        if releaseVIPs && dontRelease {
            throw ValidationError("-X/--release-vips and -V/--dont-release-vrrp contradict each other")
        }
        if let metrics {
            do { _ = try MetricsEndpoint(parsing: metrics) } catch { throw ValidationError("--metrics \(metrics): \(error)") }
        }
        guard (1...64).contains(checkerThreads) else {
            throw ValidationError("--checker-threads \(checkerThreads): use 1 to 64")
        }
        if checkOnly && vrrpOnly {
            throw ValidationError("-C/--check and -P/--vrrp contradict each other")
        }
    }

    func run() async throws {
        let ident = configID.map { "kad_\($0)" } ?? "kad"
        DaemonLogging.bootstrap(console: logConsole, detail: logDetail,
                                facility: DaemonLogging.facility(logFacility) ?? LOG_DAEMON, ident: ident)
        let logger = Logger(label: "kad")
        var options = DaemonOptions()
        options.configFile = file
        options.scope = DaemonConfiguration.Scope(configID: configID, vrrpOnly: vrrpOnly, checkersOnly: checkOnly)
        options.pidFile = pidFile
        options.controlSocket = controlSocket
        options.metrics = metrics
        options.keepOnStop = dontRelease
        options.keepIPVSOnStop = dontReleaseIPVS
        options.checkerThreads = checkerThreads
        let status = await Daemon.main(options: options, logger: logger)
        if status != 0 { throw ExitCode(status) }
    }
}
