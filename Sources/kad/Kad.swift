import ArgumentParser

/// The kad command: a keepalived-compatible high-availability daemon.
@main
struct Kad: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kad",
        abstract: "A keepalived-compatible high-availability daemon.",
        discussion: """
            kad reads keepalived.conf. Today it checks configurations (kad check) and decodes \
            VRRP, ARP and NA packets from captures (kad inspect); the daemon (kad run), status \
            and the demo arrive with later work.
            """,
        version: "0.1.0",
        subcommands: [Check.self, Inspect.self, Keywords.self]
    )
}
