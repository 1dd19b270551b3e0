/// The script commands of the LVS side, for the script-security check.
enum LVSScripts {
    /// Every quorum_up/down, notify_up/down and misc_path command, with its block path and keyword.
    static func commands(in servers: [VirtualServer]) -> [(ScriptCommand, String, String)] {
        var result: [(ScriptCommand, String, String)] = []
        for (i, vs) in servers.enumerated() {
            let path = "virtual_server #\(i)"
            if let c = vs.quorumUp { result.append((c, path, "quorum_up")) }
            if let c = vs.quorumDown { result.append((c, path, "quorum_down")) }
            for (j, rs) in vs.realServers.enumerated() {
                let rsPath = "\(path)/real_server #\(j + 1)"
                if let c = rs.notifyUp { result.append((c, rsPath, "notify_up")) }
                if let c = rs.notifyDown { result.append((c, rsPath, "notify_down")) }
                for (k, checker) in rs.checkers.enumerated() {
                    if case .misc(let misc) = checker.kind, let c = misc.command {
                        result.append((c, "\(rsPath)/MISC_CHECK #\(k + 1)", "misc_path"))
                    }
                }
            }
        }
        return result
    }
}
