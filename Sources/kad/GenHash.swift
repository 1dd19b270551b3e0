import ArgumentParser
import IPVSControl
import VRRPCore

/// `kad genhash`: keepalived's `genhash` — the MD5 digest of a url's body, for HTTP_GET / SSL_GET `digest`.
struct GenHashCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "genhash",
        abstract: "Fetch a url like HTTP_GET / SSL_GET and print the MD5 digest of its body.",
        discussion: """
            Prints MD5SUM = <hex>, the value for a url's digest keyword. The request is the \
            checker's: GET PATH HTTP/1.0 (or 1.1), User-Agent KeepAliveClient, Host the virtual \
            host or SERVER:PORT. TLS certificates are not verified. Exit status 0 with a digest, \
            1 when the url could not be fetched. A status outside 200-299 is reported on standard \
            error; the digest is still printed.
            """
    )

    @Option(name: [.customShort("s"), .customLong("server")], help: ArgumentHelp("The server's IP address.", valueName: "IP"))
    var server: String

    @Option(name: [.customShort("p"), .customLong("port")], help: ArgumentHelp("The TCP port (default 80, or 443 with --ssl).", valueName: "PORT"))
    var port: UInt16?

    @Option(name: [.customShort("u"), .customLong("url")], help: ArgumentHelp("The path to fetch, e.g. /index.html.", valueName: "URL"))
    var url: String

    @Flag(name: [.customShort("S"), .customLong("ssl")], help: "Use TLS (SSL_GET).")
    var ssl = false

    @Option(name: [.customShort("V"), .customLong("virtualhost")], help: ArgumentHelp("The Host header (and SNI name with --sni).", valueName: "NAME"))
    var virtualhost: String?

    @Flag(name: .customLong("sni"), help: "Send the virtual host as the TLS server name (enable_sni).")
    var sni = false

    @Option(name: [.customShort("P"), .customLong("protocol")], help: ArgumentHelp("http_protocol: 1.0, 1.0C or 1.1.", valueName: "VERSION"))
    var httpProtocol: String = "1.0"

    @Option(name: [.customShort("t"), .customLong("timeout")], help: ArgumentHelp("Give up after this many seconds (default 5).", valueName: "SECONDS"))
    var timeout: Double = 5

    @Flag(name: [.customShort("v"), .customLong("verbose")], help: "Also print the HTTP status and the body length.")
    var verbose = false

    func validate() throws {
        guard IPAddress(server) != nil else { throw ValidationError("--server \(server) is not an IP address") }
        guard HTTPCheckVersion(rawValue: httpProtocol) != nil else {
            throw ValidationError("--protocol must be 1.0, 1.0C or 1.1, not \(httpProtocol)")
        }
        guard url.hasPrefix("/") else { throw ValidationError("--url must start with /, like /index.html") }
        guard timeout > 0, timeout.isFinite else { throw ValidationError("--timeout must be a positive number of seconds") }
    }

    func run() async throws {
        let address = IPAddress(server)!
        let result: HTTPFetchResult
        do {
            result = try await GenHash.fetch(server: address, port: port ?? (ssl ? 443 : 80), path: url, ssl: ssl,
                                             virtualhost: virtualhost, sni: sni,
                                             version: HTTPCheckVersion(rawValue: httpProtocol) ?? .http10,
                                             timeout: CheckerTiming.duration(seconds: timeout))
        } catch {
            var stderr = StandardError()
            print("kad genhash: \(url) from \(server): \(error)", to: &stderr)
            throw ExitCode(1)
        }
        if !(200...299).contains(result.status) {
            var stderr = StandardError()
            print("kad genhash: warning: HTTP status \(result.status) (HTTP_GET accepts 200-299 unless status_code says otherwise)", to: &stderr)
        }
        if verbose {
            print("HTTP status = \(result.status)")
            print("Body length = \(result.bodyLength)")
        }
        print(GenHash.digestLine(result))
    }
}
