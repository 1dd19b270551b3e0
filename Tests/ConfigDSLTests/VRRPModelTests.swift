import Testing
@testable import ConfigDSL

@Suite struct SeedExampleTests {
    func check(_ name: String) -> LoadResult {
        var options = ConfigLoader.Options()
        options.preprocessor = PreprocessorOptions(configID: "x")
        options.host = HostEnvironment(interfaceExists: { $0 == "eth0" }, missingInterfaceSeverity: .warning, inspectScriptFiles: false)
        return ConfigLoader(options: options).load(path: repositoryRoot + "/Examples/" + name)
    }

    @Test func firstExampleIsValidWithNoWarnings() {
        let r = check("seed-1-basic.conf")
        #expect(r.diagnostics.isEmpty)
        #expect(r.exitStatus == 0)
        let i = r.config.vrrpInstances[0]
        #expect(i.name == "VI_1")
        #expect(i.state == .master)
        #expect(i.interface == "eth0")
        #expect(i.virtualRouterID == 51)
        #expect(i.priority == 100)
        #expect(i.advertInterval == 1)
        #expect(i.authentication?.type == .pass)
        #expect(i.authentication?.password == "1111")
        #expect(i.virtualIPAddresses.map(\.prefix.description) == ["192.168.33.111/24"])
    }

    @Test func secondExampleTakesLvsIDAsRouterIDWithAWarning() {
        let r = check("seed-2-global-defs.conf")
        #expect(r.exitStatus == 0)
        #expect(r.config.globalDefs.routerID == "LVS_DEVEL")
        #expect(r.diagnostics.map(\.code) == ["deprecated-keyword"])
        #expect(r.diagnostics[0].location?.line == 3)
    }

    @Test func thirdExampleHoistsTheNestedVirtualServer() {
        let r = check("seed-3-track-and-lvs.conf")
        #expect(r.exitStatus == 0)
        #expect(r.codes(.warning) == ["no-such-interface", "nested-virtual-server"])
        let i = r.config.vrrpInstances[0]
        #expect(i.state == .backup)
        #expect(i.priority == 50)
        #expect(i.trackInterfaces == [TrackReference(name: "eth1")])
        #expect(r.config.virtualServers.count == 1)
        let vs = r.config.virtualServers[0]
        #expect(vs.realServers.count == 2)
        #expect(vs.realServers.map(\.weight) == [4, 6])
    }
}

@Suite struct InstanceDefaultsTests {
    @Test func defaultsOfAMinimalInstance() {
        let r = load(minimalInstance)
        #expect(r.diagnostics.isEmpty)
        let i = r.config.vrrpInstances[0]
        #expect(i.state == .backup)
        #expect(i.priority == 100)
        #expect(i.advertInterval == 1)
        #expect(i.version == nil)
        #expect(!i.nopreempt)
        #expect(i.preemptDelay == nil)
        #expect(i.accept == nil)
        #expect(i.virtualIPAddresses[0].prefix.length == 24)
        let g = r.config.globalDefs
        #expect(g.vrrpVersion == 2)
        #expect(g.vrrpGarpMasterDelay == 5)
        #expect(g.vrrpGarpMasterRepeat == 5)
        #expect(g.vrrpGarpMasterRefresh == 0)
        #expect(g.vrrpGarpMasterRefreshRepeat == 1)
        #expect(g.vrrpDownTimerAdverts == 3)
        #expect(g.smtpConnectTimeout == 30)
        #expect(!g.vrrpStrict)
        #expect(r.config.childWaitTime == 5)
    }

    @Test func stateMasterWithoutPriorityMeans255() {
        let r = load("vrrp_instance V { state MASTER\n interface eth0\n virtual_router_id 1\n virtual_ipaddress { 192.0.2.1 } }")
        #expect(r.config.vrrpInstances[0].priority == 255)
    }

    @Test func priority255WithoutStateMeansMaster() {
        let r = load("vrrp_instance V { priority 255\n interface eth0\n virtual_router_id 1\n virtual_ipaddress { 192.0.2.1 } }")
        #expect(r.config.vrrpInstances[0].state == .master)
    }

    @Test func hostAddressesDefaultToFullPrefixAndIPv6HostsAreDeprecated() {
        let r = load("vrrp_instance V { interface eth0\n virtual_router_id 1\n virtual_ipaddress { fe80::1\n 2001:db8::5 } }")
        let vips = r.config.vrrpInstances[0].virtualIPAddresses
        #expect(vips.map(\.prefix.length) == [128, 128])
        #expect(vips.map(\.preferredLifetime) == [.seconds(0), .seconds(0)])
        #expect(r.config.vrrpInstances[0].family == .inet6)
    }

    @Test func scriptTimeoutDefaultsToInterval() {
        let r = load("vrrp_script s { script /bin/true\n interval 3 }\nvrrp_script t { script /bin/true\n interval 3\n timeout 1 }", unknown: .error)
        #expect(r.config.vrrpScripts.map(\.timeout) == [3, 1])
        #expect(r.config.vrrpScripts[0].weight == TrackWeight(weight: 0))
        #expect(r.config.vrrpScripts[0].rise == 1)
        #expect(r.config.vrrpScripts[0].fall == 1)
    }

    @Test func everyInstanceKeyword() {
        let text = """
            vrrp_instance VI_9 {
                state BACKUP
                interface eth0
                virtual_router_id 9
                priority 90
                advert_int 2
                version 3
                virtual_ipaddress {
                    192.0.2.1/24 brd + dev eth0 scope global label eth0:vip peer 192.0.2.254 home -nodad noprefixroute no_track preferred_lft forever
                    192.0.2.2 use_vmac autojoin mngtmpaddr
                }
                virtual_ipaddress_excluded { 2001:db8::1/64 }
                virtual_routes {
                    198.51.100.0/24 via 192.0.2.254 dev eth0 table 100 metric 5 proto static scope link mtu lock 1400 onlink
                    append blackhole 203.0.113.0/24
                    default via 192.0.2.254 or 192.0.2.253
                }
                virtual_rules {
                    from 192.0.2.0/24 table 100 preference 10
                    to 198.51.100.0/24 iif eth0 fwmark 0x10 goto 20 pref 30
                }
                unicast_src_ip 192.0.2.5
                unicast_peer {
                    192.0.2.6 min_ttl 250 max_ttl 255
                    192.0.2.7
                }
                unicast_ttl 64
                unicast_fault_no_peer
                check_unicast_src
                vrf vrf-red
                track_src_ip
                track_interface {
                    eth1 weight -20
                    eth2 weight 10 reverse
                }
                track_script { chk weight 5 noreverse }
                dont_track_primary
                nopreempt
                preempt_delay 5
                no_accept
                garp_master_delay 2
                garp_master_repeat 3
                garp_master_refresh 60
                garp_master_refresh_repeat 2
                garp_lower_prio_delay 4
                garp_lower_prio_repeat 6
                garp_extra_if all 30
                down_timer_adverts 4
                lower_prio_no_advert
                higher_prio_send_advert on
                owner_ignore_adverts false
                timer_expired_backup
                use_vmac vrrp.9
                vmac_xmit_base
                promote_secondaries
                strict_mode off
                skip_check_adv_addr yes
                v3_checksum_as_v2
                old_unicast_checksum never
                notify_master "/etc/keepalived/notify.sh master" root
                notify_backup /etc/keepalived/backup.sh nobody:nogroup
                notify_fault /f.sh
                notify_stop /s.sh
                notify /n.sh
                notify_deleted
                notify_master_rx_lower_pri /l.sh
                smtp_alert true
                notify_priority_changes
                kernel_rx_buf_size 65536
            }
            vrrp_script chk { script /bin/true }
            global_defs { enable_script_security }
            """
        let r = load(text)
        #expect(r.errors.isEmpty, "\(r.errors)")
        let i = r.config.vrrpInstances[0]
        #expect(i.priority == 90)
        #expect(i.advertInterval == 2)
        #expect(i.version == 3)
        let v = i.virtualIPAddresses[0]
        #expect(v.broadcast == "+")
        #expect(v.device == "eth0")
        #expect(v.scope == .global)
        #expect(v.label == "eth0:vip")
        #expect(v.peer?.description == "192.0.2.254/32")
        #expect(v.home && v.noDAD && v.noPrefixRoute && v.noTrack)
        #expect(v.preferredLifetime == .forever)
        #expect(i.virtualIPAddresses[1].useVMAC && i.virtualIPAddresses[1].autoJoin && i.virtualIPAddresses[1].manageTemporaryAddress)
        #expect(i.excludedIPAddresses[0].prefix.description == "2001:db8::1/64")
        #expect(i.virtualRoutes.count == 3)
        #expect(i.virtualRoutes[0].via?.description == "192.0.2.254")
        #expect(i.virtualRoutes[0].table == "100")
        #expect(i.virtualRoutes[0].metric == 5)
        #expect(i.virtualRoutes[0].metrics["mtu"] == 1400)
        #expect(i.virtualRoutes[0].lockedMetrics == ["mtu"])
        #expect(i.virtualRoutes[0].onlink)
        #expect(i.virtualRoutes[1].append)
        #expect(i.virtualRoutes[1].type == .blackhole)
        #expect(i.virtualRoutes[2].destination == nil)
        #expect(i.virtualRoutes[2].alternateVia?.description == "192.0.2.253")
        #expect(i.virtualRules[0].from?.description == "192.0.2.0/24")
        #expect(i.virtualRules[0].preference == 10)
        #expect(i.virtualRules[1].goto == 20)
        #expect(i.virtualRules[1].preference == 30)
        #expect(i.virtualRules[1].fwmark == "0x10")
        #expect(i.sourceAddress?.description == "192.0.2.5")
        #expect(i.unicastPeers == [
            UnicastPeer(address: IPAddress("192.0.2.6")!, minTTL: 250, maxTTL: 255), UnicastPeer(address: IPAddress("192.0.2.7")!),
        ])
        #expect(i.unicastTTL == 64)
        #expect(i.unicastFaultNoPeer)
        #expect(i.checkUnicastSource == true)
        #expect(i.vrf == "vrf-red")
        #expect(i.trackSourceIP)
        #expect(i.trackInterfaces == [TrackReference(name: "eth1", weight: -20), TrackReference(name: "eth2", weight: 10, reverse: true)])
        #expect(i.trackScripts == [TrackReference(name: "chk", weight: 5, reverse: false)])
        #expect(i.dontTrackPrimary && i.nopreempt)
        #expect(i.preemptDelay == 5)
        #expect(i.accept == false)
        #expect(i.garpMasterDelay == 2 && i.garpMasterRepeat == 3 && i.garpMasterRefresh == 60 && i.garpMasterRefreshRepeat == 2)
        #expect(i.garpLowerPriorityDelay == 4 && i.garpLowerPriorityRepeat == 6)
        #expect(i.garpExtraInterface == GarpExtraInterface(all: true, interval: 30))
        #expect(i.downTimerAdverts == 4)
        #expect(i.lowerPriorityNoAdvert == true && i.higherPrioritySendAdvert == true && i.ownerIgnoreAdverts == false)
        #expect(i.timerExpiredBackup == 254)
        #expect(i.useVMAC?.words == ["vrrp.9"])
        #expect(i.vmacTransmitBase && i.promoteSecondaries)
        #expect(i.strictMode == false && i.skipCheckAdvertAddresses == true && i.v3ChecksumAsV2 == true)
        #expect(i.oldUnicastChecksum == "never")
        #expect(i.notifyMaster == ScriptCommand(command: "/etc/keepalived/notify.sh master", user: "root"))
        #expect(i.notifyBackup == ScriptCommand(command: "/etc/keepalived/backup.sh", user: "nobody", group: "nogroup"))
        #expect(i.notifyFault?.command == "/f.sh" && i.notifyStop?.command == "/s.sh" && i.notify?.command == "/n.sh")
        #expect(i.notifyDeleted && i.notifyDeletedCommand == nil)
        #expect(i.notifyMasterRxLowerPriority?.command == "/l.sh")
        #expect(i.smtpAlert == true && i.notifyPriorityChanges == true)
        #expect(i.kernelRxBufferSize == 65536)
    }
}

@Suite struct GlobalBlocksTests {
    @Test func globalDefsKeywords() {
        let text = """
            global_defs {
                router_id lb1
                notification_email { a@example.com
                    b@example.com }
                notification_email_from kad@example.com
                smtp_server 192.0.2.25 2525
                smtp_connect_timeout 10
                vrrp_mcast_group4 224.0.0.19
                vrrp_mcast_group6 ff02::13
                vrrp_version 3
                vrrp_garp_master_delay 1
                vrrp_garp_master_repeat 2
                vrrp_garp_interval 0.001
                vrrp_strict
                vrrp_skip_check_adv_addr
                vrrp_check_unicast_src
                enable_script_security
                script_user keepalived_script
                vrrp_startup_delay 5.5
                vrrp_priority -10
                vrrp_rt_priority 50
                vrrp_no_swap
                vrrp_netlink_cmd_rcv_bufs 1048576
                vrrp_netlink_cmd_rcv_bufs_force
                lvs_flush_onstop VS
                dynamic_interfaces allow_if_changes
                max_auto_priority 10
            }
            """
        let r = load(text)
        #expect(r.errors.isEmpty, "\(r.errors)")
        let g = r.config.globalDefs
        #expect(g.routerID == "lb1")
        #expect(g.notificationEmail == ["a@example.com", "b@example.com"])
        #expect(g.smtpServer == ["192.0.2.25", "2525"])
        #expect(g.smtpConnectTimeout == 10)
        #expect(g.vrrpMulticastGroup4?.description == "224.0.0.19")
        #expect(g.vrrpMulticastGroup6?.description == "ff02::13")
        #expect(g.vrrpVersion == 3 && g.vrrpGarpMasterDelay == 1 && g.vrrpGarpMasterRepeat == 2)
        #expect(g.vrrpGarpInterval == 0.001)
        #expect(g.vrrpStrict && g.vrrpSkipCheckAdvertAddresses && g.vrrpCheckUnicastSource && g.enableScriptSecurity)
        #expect(g.scriptUser == ["keepalived_script"])
        #expect(g.vrrpStartupDelay == 5.5)
        #expect(g.scheduling["vrrp_priority"] == ["-10"] && g.scheduling["vrrp_no_swap"] == [])
        #expect(g.buffers["vrrp_netlink_cmd_rcv_bufs"] == ["1048576"] && g.buffers["vrrp_netlink_cmd_rcv_bufs_force"] == ["true"])
        #expect(g.lvsFlushOnStop == ["VS"])
        #expect(g.dynamicInterfaces == ["allow_if_changes"])
        #expect(g.maxAutoPriority == 10)
    }

    @Test func rootAndOtherGlobalBlocks() {
        let text = """
            net_namespace blue
            net_namespace_ipvs
            instance lb
            use_pid_dir
            child_wait_time 3
            linkbeat_interfaces { eth0 MII
                eth1 }
            interface_up_down_delays { eth0 2 5
                eth1 1 }
            track_group TG { group { VI_1 } }
            static_ipaddress { 192.0.2.50/24 dev eth0 track_group TG }
            static_routes { 198.51.100.0/24 via 192.0.2.1 track_group TG }
            static_rules { from 192.0.2.50 table 5 preference 100 track_group TG }
            garp_group { garp_interval 0.01
                gna_interval 0.02
                interfaces { eth0 eth1 } }
            track_file tf { file "/run/kad/tf"
                weight -2 reverse
                init_file 0 overwrite }
            vrrp_track_file tf2 { file /run/kad/tf2 }
            vrrp_track_process nginx { process nginx
                quorum 2
                quorum_max 4
                weight -10
                delay 0.5
                full_command }
            bfd_instance b1 { neighbour_ip 192.0.2.9
                min_rx 50
                multiplier 3
                weight 20 }
            \(minimalInstance)
            """
        let r = load(text)
        #expect(r.errors.isEmpty, "\(r.errors)")
        let c = r.config
        #expect(c.netNamespace == "blue" && c.netNamespaceIPVS == "" && c.instanceName == "lb" && c.usePidDirectory && c.childWaitTime == 3)
        #expect(c.linkbeatInterfaces == [LinkbeatInterface(interface: "eth0", method: .mii), LinkbeatInterface(interface: "eth1", method: nil)])
        #expect(c.interfaceUpDownDelays == [InterfaceDelay(interface: "eth0", downDelay: 2, upDelay: 5), InterfaceDelay(interface: "eth1", downDelay: 1, upDelay: 1)])
        #expect(c.trackGroups.map(\.name) == ["TG"] && c.trackGroups[0].group == ["VI_1"])
        #expect(c.staticIPAddresses[0].trackGroup == "TG")
        #expect(c.staticRoutes[0].trackGroup == "TG")
        #expect(c.staticRules[0].trackGroup == "TG" && c.staticRules[0].preference == 100)
        #expect(c.garpGroups[0].interfaces == ["eth0", "eth1"] && c.garpGroups[0].garpInterval == 0.01)
        #expect(c.trackFiles.map(\.name) == ["tf", "tf2"])
        #expect(c.trackFiles[0].weight == TrackWeight(weight: -2, reverse: true))
        #expect(c.trackFiles[0].initFile == TrackFile.InitFile(value: 0, overwrite: true))
        #expect(c.trackFiles[1].weight == TrackWeight(weight: 1))
        #expect(c.trackProcesses[0].process == ["nginx"] && c.trackProcesses[0].quorum == 2 && c.trackProcesses[0].quorumMax == 4)
        #expect(c.trackProcesses[0].delay == 0.5 && c.trackProcesses[0].fullCommand)
        #expect(c.bfdInstances[0].neighborIP?.description == "192.0.2.9" && c.bfdInstances[0].minRx == 50 && c.bfdInstances[0].minTx == 10)
        #expect(c.bfdInstances[0].multiplier == 3 && c.bfdInstances[0].idleTx == 1000)
    }

    @Test func syncGroups() {
        let text = """
            global_defs { enable_script_security }
            vrrp_sync_group G1 {
                group { VI_1
                    VI_2 }
                track_script { s }
                notify_master /m.sh
                notify "/n.sh arg"
                smtp_alert
                sync_group_tracking_weight
            }
            vrrp_script s { script /bin/true }
            \(minimalInstance)
            vrrp_instance VI_2 { interface eth0
                virtual_router_id 52
                virtual_ipaddress { 192.0.2.11 } }
            """
        let r = load(text)
        #expect(r.errors.isEmpty, "\(r.errors)")
        let g = r.config.syncGroups[0]
        #expect(g.group == ["VI_1", "VI_2"])
        #expect(g.trackScripts == [TrackReference(name: "s")])
        #expect(g.notifyMaster?.command == "/m.sh" && g.notify?.arguments == ["/n.sh", "arg"])
        #expect(g.smtpAlert == true && g.syncGroupTrackingWeight)
    }
}

@Suite struct KeepalivedDefaultsTests {
    @Test func globalDefaultsMatchKeepalived() {
        let g = load("").config.globalDefs
        #expect(g.routerID == nil)
        #expect(g.smtpConnectTimeout == 30)
        #expect(g.vrrpVersion == 2)
        #expect(g.vrrpGarpMasterDelay == 5 && g.vrrpGarpMasterRepeat == 5)
        #expect(g.vrrpGarpLowerPriorityDelay == nil && g.vrrpGarpLowerPriorityRepeat == nil)
        #expect(g.vrrpGarpMasterRefresh == 0 && g.vrrpGarpMasterRefreshRepeat == 1)
        #expect(g.vrrpGarpInterval == 0 && g.vrrpGnaInterval == 0)
        #expect(g.vrrpDownTimerAdverts == 3)
        #expect(g.vrrpLowerPriorityNoAdvert == nil && !g.vrrpHigherPrioritySendAdvert)
        #expect(!g.v3ChecksumAsV2 && !g.vrrpStrict && !g.enableScriptSecurity)
        #expect(g.startupScriptTimeout == 10 && g.shutdownScriptTimeout == 10)
        #expect(g.vrrpStartupDelay == 0 && g.vrrpDelayAfterBoot == 0)
    }

    @Test func trackerDefaultsMatchKeepalived() {
        let c = load("vrrp_track_process p { process x }\ntrack_file f { file /x }\nbfd_instance b { neighbor_ip 192.0.2.1 }").config
        #expect(c.trackProcesses[0].weight == TrackWeight(weight: 0))
        #expect(c.trackProcesses[0].quorum == 1 && c.trackProcesses[0].quorumMax == nil)
        #expect(c.trackFiles[0].weight == TrackWeight(weight: 1))
        let b = c.bfdInstances[0]
        #expect(b.minRx == 10 && b.minTx == 10 && b.idleTx == 1000 && b.multiplier == 5 && b.maxHops == 0 && !b.multihop && !b.passive)
    }
}
