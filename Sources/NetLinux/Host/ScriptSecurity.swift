#if canImport(Glibc)
import Glibc
#endif
import SystemPackage

/// keepalived's `enable_script_security`: a script must not be changeable by anyone but root
/// and the user it runs as.
///
/// The check walks the script's path from `/`, following symbolic links (a link's target is
/// walked too), and looks at every directory on the way and at the file itself. A component
/// is unsafe when
/// - it is owned by a user other than root and the script's user (an owner can always change
///   the mode back),
/// - it is writable by its group and that group is not root's (gid 0), or
/// - it is writable by everyone — except a directory with the sticky bit (like `/tmp`),
///   where only an entry's owner may replace it, which the next component's check covers.
///
/// For a script run as root this is keepalived's rule: nothing on the path may be writable by
/// a non-root user.
///
/// ```swift
/// if let finding = ScriptSecurity.check(executable: "/etc/kad/notify.sh", runningAs: root).finding {
///     print(finding)   // "/etc/kad/notify.sh must not run as root: /etc/kad is writable by everyone (mode 0777) ..."
/// }
/// ```
public enum ScriptSecurity {
    /// The outcome of walking a script's path.
    public struct Inspection: Sendable, Hashable {
        /// The path with every symbolic link resolved (what kad executes).
        public var resolvedPath: String
        /// The first unsafe component, or nil when the path is safe.
        public var finding: ScriptSecurityFinding?
    }

    /// Walks `path` (absolute) and reports the first component that someone other than root
    /// and `identity` could change. The corresponding C functions are `lstat(2)` and
    /// `readlink(2)`.
    public static func check(executable path: String, runningAs identity: ScriptIdentity) -> Inspection {
        var walk = Walk(script: path, identity: identity)
        let resolved = walk.run()
        return Inspection(resolvedPath: resolved, finding: walk.finding)
    }

    struct Walk {
        let script: String
        let identity: ScriptIdentity
        var finding: ScriptSecurityFinding?
        /// The symbolic link that led to the components now being walked.
        var via: String?

        init(script: String, identity: ScriptIdentity) {
            self.script = script
            self.identity = identity
        }

        mutating func fail(_ component: String, _ problem: ScriptSecurityFinding.Problem) {
            if finding == nil {
                finding = ScriptSecurityFinding(script: script, component: component, symlink: via, problem: problem,
                                                user: identity.userName, uid: identity.uid)
            }
        }

        /// Returns the resolved path; sets `finding` on the first problem.
        mutating func run() -> String {
            var pending = ArraySlice(components(script))
            var current: [String] = []  // resolved components below "/"
            var hops = 0
            var root = stat()
            if "/".withCString({ SystemCalls.current.lstat($0, &root) }) != 0 {
                fail("/", .cannotInspect(Errno(rawValue: errno)))
                return script
            }
            check("/", root)
            while let name = pending.popFirst() {
                if name == "." || name.isEmpty { continue }
                if name == ".." {
                    _ = current.popLast()
                    continue
                }
                let candidate = "/" + (current + [name]).joined(separator: "/")
                var st = stat()
                if candidate.withCString({ SystemCalls.current.lstat($0, &st) }) != 0 {
                    fail(candidate, .cannotInspect(Errno(rawValue: errno)))
                    return candidate
                }
                if st.st_mode & S_IFMT == S_IFLNK {
                    hops += 1
                    if hops > 40 {
                        fail(candidate, .tooManySymbolicLinks)
                        return candidate
                    }
                    // A link is never changed in place, only replaced through its directory
                    // (already checked); in a sticky directory its owner may replace it.
                    if isStickyDirectory("/" + current.joined(separator: "/")), st.st_uid != 0, st.st_uid != identity.uid {
                        fail(candidate, .ownedByOtherUser(uid: st.st_uid))
                    }
                    let target: String
                    do {
                        target = try HostFile.readLink(candidate)
                    } catch {
                        fail(candidate, .cannotInspect(error))
                        return candidate
                    }
                    via = candidate
                    if target.hasPrefix("/") { current = [] }
                    pending = ArraySlice(components(target) + pending)
                    continue
                }
                current.append(name)
                // A finding is recorded, and the walk goes on to resolve the whole path.
                check(candidate, st)
            }
            return "/" + current.joined(separator: "/")
        }

        /// Checks one resolved component, recording the first finding.
        mutating func check(_ path: String, _ st: stat) {
            let mode = st.st_mode
            let isDirectory = mode & S_IFMT == S_IFDIR
            if st.st_uid != 0 && st.st_uid != identity.uid {
                fail(path, .ownedByOtherUser(uid: st.st_uid))
            } else if mode & S_IWGRP != 0 && st.st_gid != 0 {
                fail(path, .writableByGroup(gid: st.st_gid, mode: mode & 0o7777))
            } else if mode & S_IWOTH != 0 && !(isDirectory && mode & S_ISVTX != 0) {
                // A sticky directory (like /tmp) only lets an entry's owner replace it: the
                // next component's own check covers that.
                fail(path, .writableByEveryone(mode: mode & 0o7777))
            }
        }

        func isStickyDirectory(_ path: String) -> Bool {
            var st = stat()
            guard path.withCString({ SystemCalls.current.lstat($0, &st) }) == 0 else { return false }
            return st.st_mode & S_IFMT == S_IFDIR && st.st_mode & S_ISVTX != 0
        }

        func components(_ path: String) -> [String] {
            path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        }
    }
}

/// Why a script may be changed by someone it should not trust, naming the path component.
public struct ScriptSecurityFinding: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Problem: Sendable, Hashable {
        /// Writable by everyone (`o+w`), and not a sticky directory.
        case writableByEveryone(mode: mode_t)
        /// Writable by a group other than root's.
        case writableByGroup(gid: gid_t, mode: mode_t)
        /// Owned by a user other than root and the script's user.
        case ownedByOtherUser(uid: uid_t)
        /// `lstat` or `readlink` failed (the file is missing, or a directory is not searchable).
        case cannotInspect(Errno)
        /// More than 40 symbolic links on the way.
        case tooManySymbolicLinks
    }

    /// The script as configured.
    public var script: String
    /// The offending path component (resolved: the real directory or file).
    public var component: String
    /// The symbolic link through which ``component`` was reached, if any.
    public var symlink: String?
    public var problem: Problem
    /// Who the script was to run as.
    public var user: String
    public var uid: uid_t

    public var description: String {
        let who = uid == 0 ? "root" : "user \(user)"
        let reached = symlink.map { " (reached through the symbolic link \($0))" } ?? ""
        let octal = { (m: mode_t) in "0" + String(m, radix: 8) }
        switch problem {
        case .writableByEveryone(let mode):
            return "\(script) must not run as \(who): \(component)\(reached) is writable by everyone (mode \(octal(mode))); "
                + "fix with `chmod o-w \(component)`"
        case .writableByGroup(let gid, let mode):
            return "\(script) must not run as \(who): \(component)\(reached) is writable by group \(gid) (mode \(octal(mode))); "
                + "fix with `chmod g-w \(component)`"
        case .ownedByOtherUser(let owner):
            return "\(script) must not run as \(who): \(component)\(reached) belongs to uid \(owner), who can change it; "
                + "fix with `chown root \(component)`"
        case .cannotInspect(let e):
            return "\(script) cannot be checked: \(component)\(reached): \(plainDescription(e))"
        case .tooManySymbolicLinks:
            return "\(script) cannot be checked: too many symbolic links at \(component)"
        }
    }
}
