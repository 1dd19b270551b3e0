#if canImport(Glibc)
import Glibc
#endif
import SystemPackage

/// The user and groups a script runs as (`script_user`, or the `user` given with a script).
///
/// ```swift
/// let nobody = try ScriptIdentity.lookup(user: "nobody")
/// let runner = ScriptRunner()
/// let script = try Script.prepare(name: "notify_master VI_1",
///                                 commandLine: ScriptCommandLine(parsing: "/etc/kad/master.sh"),
///                                 identity: nobody, enforceSecurity: true)
/// ```
public struct ScriptIdentity: Sendable, Hashable, CustomStringConvertible {
    public var userName: String
    public var uid: uid_t
    /// The group the script runs with: the one asked for, or the user's primary group.
    public var gid: gid_t
    /// The group's name, when it was looked up by name.
    public var groupName: String?
    /// Supplementary groups the child gets; empty means none (root's own are dropped).
    public var supplementaryGroups: [gid_t]
    /// `$HOME` for the script.
    public var home: String
    /// `$SHELL` for the script.
    public var shell: String

    public init(userName: String, uid: uid_t, gid: gid_t, groupName: String? = nil, supplementaryGroups: [gid_t] = [],
                home: String = "/", shell: String = "/bin/sh") {
        self.userName = userName
        self.uid = uid
        self.gid = gid
        self.groupName = groupName
        self.supplementaryGroups = supplementaryGroups
        self.home = home
        self.shell = shell
    }

    public var isRoot: Bool { uid == 0 }

    /// `nobody` or `nobody:nogroup`.
    public var description: String { groupName.map { "\(userName):\($0)" } ?? userName }

    /// The user keepalived runs scripts as when `script_user` is not set.
    public static let keepalivedDefaultUser = "keepalived_script"

    /// Looks up a user, and optionally a group, by name.
    ///
    /// The corresponding C functions are `getpwnam_r(3)`, `getgrnam_r(3)` and
    /// `getgrouplist(3)`.
    /// - Parameters:
    ///   - user: the user's name.
    ///   - group: a group's name, or nil for the user's primary group.
    ///   - supplementaryGroups: give the child the user's supplementary groups
    ///     (keepalived's `set_supplementary_groups`); otherwise it has none.
    /// - Throws: ``ScriptUserError``.
    public static func lookup(user: String, group: String? = nil,
                              supplementaryGroups: Bool = false) throws(ScriptUserError) -> ScriptIdentity {
        guard let pw = try passwordEntry(user) else { throw .noSuchUser(user) }
        var identity = ScriptIdentity(userName: user, uid: pw.uid, gid: pw.gid, home: pw.home, shell: pw.shell)
        if let group {
            guard let gid = try groupID(group) else { throw .noSuchGroup(group) }
            identity.gid = gid
            identity.groupName = group
        }
        if supplementaryGroups {
            var count: CInt = 64
            while true {
                var groups = [gid_t](repeating: 0, count: Int(count))
                let before = count
                if getgrouplist(user, identity.gid, &groups, &count) >= 0 {
                    identity.supplementaryGroups = Array(groups.prefix(Int(count)))
                    break
                }
                if count <= before { count = before * 2 }
            }
        }
        return identity
    }

    /// Looks up a `user [group]` specification (``ScriptUserSpec``).
    public static func lookup(_ spec: ScriptUserSpec, supplementaryGroups: Bool = false) throws(ScriptUserError) -> ScriptIdentity {
        try lookup(user: spec.user, group: spec.group, supplementaryGroups: supplementaryGroups)
    }

    /// The identity keepalived uses when `script_user` is not set: the user
    /// `keepalived_script` if it exists, otherwise the user kad runs as (root, normally).
    ///
    /// - Returns: the identity, and whether it is the fallback (keepalived then warns that
    ///   `keepalived_script` does not exist).
    public static func defaultIdentity() throws(ScriptUserError) -> (identity: ScriptIdentity, isFallback: Bool) {
        if let pw = try passwordEntry(keepalivedDefaultUser) {
            return (ScriptIdentity(userName: keepalivedDefaultUser, uid: pw.uid, gid: pw.gid, home: pw.home, shell: pw.shell), false)
        }
        return (try current(), true)
    }

    /// The identity kad itself runs with (effective uid and gid), keeping its groups.
    public static func current() throws(ScriptUserError) -> ScriptIdentity {
        let uid = geteuid()
        var name = "\(uid)"
        var home = "/"
        var shell = "/bin/sh"
        if let pw = try passwordEntry(uid: uid) {
            name = pw.name
            home = pw.home
            shell = pw.shell
        }
        var groups = [gid_t](repeating: 0, count: 256)
        let n = getgroups(CInt(groups.count), &groups)
        return ScriptIdentity(userName: name, uid: uid, gid: getegid(), supplementaryGroups: n > 0 ? Array(groups.prefix(Int(n))) : [],
                              home: home, shell: shell)
    }

    struct PasswordEntry {
        var name: String
        var uid: uid_t
        var gid: gid_t
        var home: String
        var shell: String
    }

    static func passwordEntry(_ name: String) throws(ScriptUserError) -> PasswordEntry? {
        var size = 4096
        while true {
            var entry = passwd()
            var result: UnsafeMutablePointer<passwd>?
            var buffer = [CChar](repeating: 0, count: size)
            let r = name.withCString { n in
                buffer.withUnsafeMutableBufferPointer { SystemCalls.current.getpwnam(n, &entry, $0.baseAddress!, size, &result) }
            }
            if r == ERANGE, size < 1 << 20 { size *= 4; continue }
            if r != 0 && r != ENOENT && r != ESRCH { throw .lookupFailed(name, Errno(rawValue: r)) }
            guard result != nil else { return nil }
            return PasswordEntry(name: String(cString: entry.pw_name), uid: entry.pw_uid, gid: entry.pw_gid,
                                 home: String(cString: entry.pw_dir), shell: String(cString: entry.pw_shell))
        }
    }

    static func passwordEntry(uid: uid_t) throws(ScriptUserError) -> PasswordEntry? {
        var entry = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 16384)
        let r = getpwuid_r(uid, &entry, &buffer, buffer.count, &result)
        guard r == 0, result != nil else { return nil }
        return PasswordEntry(name: String(cString: entry.pw_name), uid: entry.pw_uid, gid: entry.pw_gid,
                             home: String(cString: entry.pw_dir), shell: String(cString: entry.pw_shell))
    }

    static func groupID(_ name: String) throws(ScriptUserError) -> gid_t? {
        var size = 4096
        while true {
            var entry = group()
            var result: UnsafeMutablePointer<group>?
            var buffer = [CChar](repeating: 0, count: size)
            let r = name.withCString { n in
                buffer.withUnsafeMutableBufferPointer { SystemCalls.current.getgrnam(n, &entry, $0.baseAddress!, size, &result) }
            }
            if r == ERANGE, size < 1 << 22 { size *= 4; continue }
            if r != 0 && r != ENOENT && r != ESRCH { throw .lookupFailed(name, Errno(rawValue: r)) }
            guard result != nil else { return nil }
            return entry.gr_gid
        }
    }
}

/// A script user or group that cannot be used.
public enum ScriptUserError: Error, Sendable, Hashable, CustomStringConvertible {
    case noSuchUser(String)
    case noSuchGroup(String)
    /// The user database could not be read (`getpwnam_r` / `getgrnam_r` failed).
    case lookupFailed(String, Errno)

    public var description: String {
        switch self {
        case .noSuchUser(let u): return "script user '\(u)' does not exist"
        case .noSuchGroup(let g): return "script group '\(g)' does not exist"
        case .lookupFailed(let n, let e): return "looking up '\(n)' in the user database: \(plainDescription(e))"
        }
    }
}
