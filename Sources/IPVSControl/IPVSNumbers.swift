import CNetLinux

// The numbers of the IPVS generic netlink protocol, taken from the kernel's uapi header
// (linux/ip_vs.h, through CNetLinux) so that they cannot drift from it. The unit tests
// spell the same numbers out by hand.

/// `IPVS_CMD_*`: the commands of the `IPVS` generic netlink family.
enum IPVSCommand {
    static let newService = UInt8(IPVS_CMD_NEW_SERVICE)        // 1
    static let setService = UInt8(IPVS_CMD_SET_SERVICE)        // 2
    static let deleteService = UInt8(IPVS_CMD_DEL_SERVICE)     // 3
    static let getService = UInt8(IPVS_CMD_GET_SERVICE)        // 4
    static let newDestination = UInt8(IPVS_CMD_NEW_DEST)       // 5
    static let setDestination = UInt8(IPVS_CMD_SET_DEST)       // 6
    static let deleteDestination = UInt8(IPVS_CMD_DEL_DEST)    // 7
    static let getDestination = UInt8(IPVS_CMD_GET_DEST)       // 8
    static let newDaemon = UInt8(IPVS_CMD_NEW_DAEMON)          // 9
    static let deleteDaemon = UInt8(IPVS_CMD_DEL_DAEMON)       // 10
    static let getDaemon = UInt8(IPVS_CMD_GET_DAEMON)          // 11
    static let setConfig = UInt8(IPVS_CMD_SET_CONFIG)          // 12
    static let getConfig = UInt8(IPVS_CMD_GET_CONFIG)          // 13
    static let setInfo = UInt8(IPVS_CMD_SET_INFO)              // 14, only in GET_INFO's reply
    static let getInfo = UInt8(IPVS_CMD_GET_INFO)              // 15
    static let zero = UInt8(IPVS_CMD_ZERO)                     // 16
    static let flush = UInt8(IPVS_CMD_FLUSH)                   // 17
}

/// `IPVS_CMD_ATTR_*`: attributes at the top level of a command.
enum IPVSCommandAttribute {
    static let service = UInt16(IPVS_CMD_ATTR_SERVICE)                 // 1, nested IPVS_SVC_ATTR_*
    static let destination = UInt16(IPVS_CMD_ATTR_DEST)                // 2, nested IPVS_DEST_ATTR_*
    static let daemon = UInt16(IPVS_CMD_ATTR_DAEMON)                   // 3, nested IPVS_DAEMON_ATTR_*
    static let timeoutTCP = UInt16(IPVS_CMD_ATTR_TIMEOUT_TCP)          // 4, u32 seconds
    static let timeoutTCPFin = UInt16(IPVS_CMD_ATTR_TIMEOUT_TCP_FIN)   // 5, u32 seconds
    static let timeoutUDP = UInt16(IPVS_CMD_ATTR_TIMEOUT_UDP)          // 6, u32 seconds
}

/// `IPVS_SVC_ATTR_*`: inside `IPVS_CMD_ATTR_SERVICE`.
enum IPVSServiceAttribute {
    static let addressFamily = UInt16(IPVS_SVC_ATTR_AF)            // 1, u16
    static let `protocol` = UInt16(IPVS_SVC_ATTR_PROTOCOL)         // 2, u16
    static let address = UInt16(IPVS_SVC_ATTR_ADDR)                // 3, 4 or 16 bytes (replies: 16)
    static let port = UInt16(IPVS_SVC_ATTR_PORT)                   // 4, be16
    static let firewallMark = UInt16(IPVS_SVC_ATTR_FWMARK)         // 5, u32
    static let schedulerName = UInt16(IPVS_SVC_ATTR_SCHED_NAME)    // 6, string, < 16 bytes
    static let flags = UInt16(IPVS_SVC_ATTR_FLAGS)                 // 7, struct ip_vs_flags
    static let timeout = UInt16(IPVS_SVC_ATTR_TIMEOUT)             // 8, u32 seconds
    static let netmask = UInt16(IPVS_SVC_ATTR_NETMASK)             // 9, be32 mask (IPv4) or u32 prefix length (IPv6)
    static let statistics = UInt16(IPVS_SVC_ATTR_STATS)            // 10, nested IPVS_STATS_ATTR_*
    static let persistenceEngine = UInt16(IPVS_SVC_ATTR_PE_NAME)   // 11, string, < 16 bytes
    static let statistics64 = UInt16(IPVS_SVC_ATTR_STATS64)        // 12, nested IPVS_STATS_ATTR_*

}

/// `IPVS_DEST_ATTR_*`: inside `IPVS_CMD_ATTR_DEST`.
enum IPVSDestinationAttribute {
    static let address = UInt16(IPVS_DEST_ATTR_ADDR)                        // 1, 4 or 16 bytes (replies: 16)
    static let port = UInt16(IPVS_DEST_ATTR_PORT)                           // 2, be16
    static let forwardingMethod = UInt16(IPVS_DEST_ATTR_FWD_METHOD)         // 3, u32 (IP_VS_CONN_F_*)
    static let weight = UInt16(IPVS_DEST_ATTR_WEIGHT)                       // 4, u32 (the kernel's int)
    static let upperThreshold = UInt16(IPVS_DEST_ATTR_U_THRESH)             // 5, u32
    static let lowerThreshold = UInt16(IPVS_DEST_ATTR_L_THRESH)             // 6, u32
    static let activeConnections = UInt16(IPVS_DEST_ATTR_ACTIVE_CONNS)      // 7, u32
    static let inactiveConnections = UInt16(IPVS_DEST_ATTR_INACT_CONNS)     // 8, u32
    static let persistentConnections = UInt16(IPVS_DEST_ATTR_PERSIST_CONNS) // 9, u32
    static let statistics = UInt16(IPVS_DEST_ATTR_STATS)                    // 10, nested
    static let addressFamily = UInt16(IPVS_DEST_ATTR_ADDR_FAMILY)           // 11, u16
    static let statistics64 = UInt16(IPVS_DEST_ATTR_STATS64)                // 12, nested
    static let tunnelType = UInt16(IPVS_DEST_ATTR_TUN_TYPE)                 // 13, u8
    static let tunnelPort = UInt16(IPVS_DEST_ATTR_TUN_PORT)                 // 14, be16
    static let tunnelFlags = UInt16(IPVS_DEST_ATTR_TUN_FLAGS)               // 15, u16

}

/// `IPVS_DAEMON_ATTR_*`: inside `IPVS_CMD_ATTR_DAEMON`.
enum IPVSDaemonAttribute {
    static let state = UInt16(IPVS_DAEMON_ATTR_STATE)                   // 1, u32
    static let interface = UInt16(IPVS_DAEMON_ATTR_MCAST_IFN)           // 2, string, < 16 bytes
    static let syncID = UInt16(IPVS_DAEMON_ATTR_SYNC_ID)                // 3, u32
    static let maximumLength = UInt16(IPVS_DAEMON_ATTR_SYNC_MAXLEN)     // 4, u16
    static let group = UInt16(IPVS_DAEMON_ATTR_MCAST_GROUP)             // 5, 4 bytes (network order)
    static let group6 = UInt16(IPVS_DAEMON_ATTR_MCAST_GROUP6)           // 6, 16 bytes
    static let port = UInt16(IPVS_DAEMON_ATTR_MCAST_PORT)               // 7, u16 (host order)
    static let ttl = UInt16(IPVS_DAEMON_ATTR_MCAST_TTL)                 // 8, u8

}

/// `IPVS_STATS_ATTR_*`: inside the STATS (u32 counters, u64 bytes) and STATS64 (all u64) nests.
enum IPVSStatisticsAttribute {
    static let connections = UInt16(IPVS_STATS_ATTR_CONNS)              // 1
    static let incomingPackets = UInt16(IPVS_STATS_ATTR_INPKTS)         // 2
    static let outgoingPackets = UInt16(IPVS_STATS_ATTR_OUTPKTS)        // 3
    static let incomingBytes = UInt16(IPVS_STATS_ATTR_INBYTES)          // 4
    static let outgoingBytes = UInt16(IPVS_STATS_ATTR_OUTBYTES)         // 5
    static let connectionRate = UInt16(IPVS_STATS_ATTR_CPS)             // 6
    static let incomingPacketRate = UInt16(IPVS_STATS_ATTR_INPPS)       // 7
    static let outgoingPacketRate = UInt16(IPVS_STATS_ATTR_OUTPPS)      // 8
    static let incomingByteRate = UInt16(IPVS_STATS_ATTR_INBPS)         // 9
    static let outgoingByteRate = UInt16(IPVS_STATS_ATTR_OUTBPS)        // 10
    static let padding = UInt16(IPVS_STATS_ATTR_PAD)                    // 11
}

/// `IPVS_INFO_ATTR_*`: at the top level of GET_INFO's reply.
enum IPVSInfoAttribute {
    static let version = UInt16(IPVS_INFO_ATTR_VERSION)                 // 1, u32
    static let connectionTableSize = UInt16(IPVS_INFO_ATTR_CONN_TAB_SIZE) // 2, u32
}

/// Address families as IPVS carries them (`AF_INET`, `AF_INET6` of the kernel).
enum IPVSAddressFamily {
    static let inet: UInt16 = 2      // AF_INET
    static let inet6: UInt16 = 10    // AF_INET6
}
