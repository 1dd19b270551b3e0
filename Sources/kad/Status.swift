import ArgumentParser
import FoundationEssentials
import NIOCore

/// `kad status`: ask a running daemon for its state over the control socket.
struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the state of a running kad daemon.",
        discussion: """
            Asks the daemon over its control socket (root only) and prints one line per VRRP instance: \
            name, interface, VRID, state, priority (effective/base), the current master, adverts sent and \
            received, then drops, fault reasons and sync-group waits when there are any; then the sync \
            groups and the timer statistics. --json prints the full report (stable, sorted keys; see \
            StatusReport). Exit status: 0 on success, 1 when no daemon answers or it reports an error.
            """
    )

    @Flag(help: "Print the full report as JSON.")
    var json = false

    @Option(name: .customLong("control-socket"), help: ArgumentHelp("The daemon's control socket.", valueName: "PATH"))
    var controlSocket = ControlSocket.defaultPath

    @Option(help: ArgumentHelp("Seconds to wait for the daemon.", valueName: "SECONDS"))
    var timeout: Double = 5

    func validate() throws {
        guard timeout > 0, timeout <= 3600 else { throw ValidationError("--timeout must be between 0 and 3600 seconds") }
    }

    func run() throws {
        var stderr = StandardError()
        let reply: String
        do {
            reply = try ControlClient.requestSynchronously(json ? "status json" : "status", path: controlSocket,
                                                           timeout: .nanoseconds(Int64(timeout * 1e9)))
        } catch {
            print("kad status: \(error)", to: &stderr)
            throw ExitCode(1)
        }
        if reply.hasPrefix("error:") {
            print("kad status: \(reply)", terminator: reply.hasSuffix("\n") ? "" : "\n", to: &stderr)
            throw ExitCode(1)
        }
        writeStandardOutput(reply)
    }
}
