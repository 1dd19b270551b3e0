import ArgumentParser

/// The kad command: a keepalived-compatible high-availability daemon.
@main
struct Kad: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kad",
        abstract: "A keepalived-compatible high-availability daemon.",
        discussion: """
            kad reads keepalived.conf. kad run is the VRRP daemon; kad check checks a \
            configuration like keepalived -t; kad inspect decodes VRRP, ARP and NA packets.
            """,
        version: "0.1.0",
        subcommands: [Run.self, Status.self, Demo.self, Check.self, Inspect.self, Keywords.self, GenHashCommand.self]
    )
}
