import NIOCore
import VRRPCore

/// What `kad genhash` (keepalived's `genhash`) does: fetch one url the way HTTP_GET / SSL_GET
/// would and report the MD5 digest of its body, for the `digest` keyword.
///
/// ```swift
/// let r = try await GenHash.fetch(server: IPAddress("192.0.2.10")!, port: 80, path: "/", timeout: .seconds(5))
/// print(GenHash.digestLine(r))   // MD5SUM = 9e107d9d372bb6826bd81d3542a419d6
/// ```
public enum GenHash {
    /// Fetches `path` from `server`:`port` and returns its status and body digest.
    /// - Throws: ``GenHashError`` with a readable reason.
    public static func fetch(server: IPAddress, port: UInt16, path: String, ssl: Bool = false, virtualhost: String? = nil,
                             sni: Bool = false, version: HTTPCheckVersion = .http10, timeout: Duration = .seconds(5),
                             group: any EventLoopGroup = CheckerEventLoops.shared) async throws(GenHashError) -> HTTPFetchResult {
        let url = HTTPURLCheck(path: path)
        let check = HTTPCheck(connection: CheckerConnection(address: server, port: port), connectTimeout: timeout,
                              version: version, virtualhost: virtualhost, urls: [url],
                              tls: ssl ? TLSCheckOptions(enableSNI: sni) : nil, group: group)
        let outcome = await withTaskGroup(of: Result<HTTPFetchResult, GenHashError>?.self) { g in
            g.addTask {
                do { return .success(try await check.fetch(url)) } catch {
                    return .failure(GenHashError(reason: CheckerIO.reason(for: error)))
                }
            }
            g.addTask {
                do { try await Task.sleep(for: timeout) } catch { return nil }
                return .failure(GenHashError(reason: "timed out after \(timeout.checkerText)"))
            }
            var first: Result<HTTPFetchResult, GenHashError> = .failure(GenHashError(reason: "cancelled"))
            while let next = await g.next() {
                if let next {
                    first = next
                    break
                }
            }
            g.cancelAll()
            return first
        }
        return try outcome.get()
    }

    /// `MD5SUM = <hex>`, the line keepalived's genhash ends with.
    public static func digestLine(_ result: HTTPFetchResult) -> String { "MD5SUM = \(result.digest)" }
}

/// Why genhash could not compute a digest.
public struct GenHashError: Error, Sendable, Hashable, CustomStringConvertible {
    public var reason: String
    public init(reason: String) { self.reason = reason }
    public var description: String { reason }
}
