#if canImport(Glibc)
import Glibc
#endif
import SystemPackage

/// A script ready to run: its command line, the program found and resolved, the identity it
/// runs as, and the outcome of the security check. Made by ``prepare(name:commandLine:identity:enforceSecurity:searchPath:)``
/// when the configuration is loaded, run by ``ScriptRunner``.
///
/// ```swift
/// let script = try Script.prepare(name: "vrrp_script chk_haproxy",
///                                 commandLine: ScriptCommandLine(parsing: "pidof haproxy"),
///                                 identity: try ScriptIdentity.lookup(user: "nobody"),
///                                 enforceSecurity: true)
/// let result = try await runner.run(script, timeout: .seconds(2))
/// ```
public struct Script: Sendable, Hashable {
    /// How logs name the script: `vrrp_script chk_haproxy`, `notify_master VI_1`.
    public var name: String
    /// The command as configured.
    public var commandLine: ScriptCommandLine
    /// The program to execute: absolute, symbolic links resolved.
    public var executable: String
    public var identity: ScriptIdentity
    /// What the security check found when it was not enforced (keepalived's
    /// "SECURITY VIOLATION" warning); nil when the path is safe.
    public var securityWarning: ScriptSecurityFinding?

    /// Where programs named without a `/` are looked for, and the scripts' `$PATH`.
    public static let defaultSearchPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

    public init(name: String, commandLine: ScriptCommandLine, executable: String, identity: ScriptIdentity,
                securityWarning: ScriptSecurityFinding? = nil) {
        self.name = name
        self.commandLine = commandLine
        self.executable = executable
        self.identity = identity
        self.securityWarning = securityWarning
    }

    /// Finds the program, checks that `identity` may execute it, and checks its path with
    /// ``ScriptSecurity``.
    ///
    /// - Parameters:
    ///   - name: how logs name the script.
    ///   - commandLine: the parsed command.
    ///   - identity: who the script runs as.
    ///   - enforceSecurity: `enable_script_security`: refuse an unsafe script instead of
    ///     returning it with a ``securityWarning``.
    ///   - searchPath: where a program named without `/` is looked for.
    /// - Throws: ``ScriptPreparationError``.
    public static func prepare(name: String, commandLine: ScriptCommandLine, identity: ScriptIdentity,
                               enforceSecurity: Bool,
                               searchPath: String = defaultSearchPath) throws(ScriptPreparationError) -> Script {
        let program = commandLine.program
        let located = try locate(program, searchPath: searchPath)
        let inspection = ScriptSecurity.check(executable: located, runningAs: identity)
        if let f = inspection.finding, case .cannotInspect(let e) = f.problem {
            throw .cannotInspect(f.component, e)
        }
        let path = inspection.resolvedPath
        var st = stat()
        if path.withCString({ SystemCalls.current.lstat($0, &st) }) != 0 {
            throw .cannotInspect(path, Errno(rawValue: errno))
        }
        guard st.st_mode & S_IFMT == S_IFREG else { throw .notARegularFile(path) }
        guard mayExecute(st, identity) else { throw .notExecutable(path, user: identity.userName) }
        if let finding = inspection.finding, enforceSecurity { throw .insecure(finding) }
        return Script(name: name, commandLine: commandLine, executable: path, identity: identity,
                      securityWarning: inspection.finding)
    }

    /// The absolute path of `program`: as given when it holds a `/` (relative to the current
    /// directory), otherwise the first executable regular file of that name in `searchPath`.
    static func locate(_ program: String, searchPath: String) throws(ScriptPreparationError) -> String {
        if program.contains("/") {
            if program.hasPrefix("/") { return program }
            var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
            guard getcwd(&buffer, buffer.count) != nil else { return "/" + program }
            let cwd = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            return (cwd == "/" ? "" : cwd) + "/" + program
        }
        for dir in searchPath.split(separator: ":") where dir.hasPrefix("/") {
            let candidate = dir.hasSuffix("/") ? "\(dir)\(program)" : "\(dir)/\(program)"
            var st = stat()
            if candidate.withCString({ stat($0, &st) }) == 0, st.st_mode & S_IFMT == S_IFREG, st.st_mode & 0o111 != 0 {
                return candidate
            }
        }
        throw .notFound(program, searchPath: searchPath)
    }

    /// Whether the mode bits let `identity` execute the file (root: any execute bit).
    static func mayExecute(_ st: stat, _ identity: ScriptIdentity) -> Bool {
        let mode = st.st_mode
        if identity.uid == 0 { return mode & 0o111 != 0 }
        if st.st_uid == identity.uid { return mode & S_IXUSR != 0 }
        if st.st_gid == identity.gid || identity.supplementaryGroups.contains(st.st_gid) { return mode & S_IXGRP != 0 }
        return mode & S_IXOTH != 0
    }
}

/// Why a script cannot be used.
public enum ScriptPreparationError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A program named without `/` is in none of the search directories.
    case notFound(String, searchPath: String)
    /// The script (resolved) is not a regular file.
    case notARegularFile(String)
    /// The script's user may not execute it.
    case notExecutable(String, user: String)
    /// The script or a directory on its path could be changed by another user
    /// (`enable_script_security`).
    case insecure(ScriptSecurityFinding)
    /// A path component cannot be examined.
    case cannotInspect(String, Errno)

    public var description: String {
        switch self {
        case .notFound(let p, let path): return "script '\(p)' not found in \(path)"
        case .notARegularFile(let p): return "script \(p) is not a regular file"
        case .notExecutable(let p, let u): return "script \(p) is not executable by \(u)"
        case .insecure(let f): return f.description
        case .cannotInspect(let p, let e): return "script path \(p): \(plainDescription(e))"
        }
    }
}
