import Foundation
import Testing
@testable import ConfigDSL

/// The keyword lists of the compatibility reference (§1), block by block: each must be known.
@Suite struct KeywordCoverageTests {
    static let globalDefs = """
        checker_log_all_failures config_save_dir data_use_instance dbus_no_interface_name dbus_service_name default_interface \
        disable_local_igmp dynamic_interfaces enable_dbus enable_script_security enable_snmp_vrrp enable_snmp_checker enable_snmp_rfc \
        enable_snmp_rfcv2 enable_snmp_rfcv3 enable_traps fifo_write_vrrp_states_on_reload iproute_etc_dir iproute_usr_dir json_dump_file \
        json_version log_unknown_vrids lvs_flush lvs_flush_on_stop lvs_notify_fifo lvs_notify_fifo_script lvs_sync_daemon lvs_timeouts \
        max_auto_priority min_auto_priority_delay nftables nftables_counters nftables_ifindex nftables_ipvs nftables_ipvs_priority \
        nftables_ipvs_start_fwmark nftables_priority no_checker_emails no_email_faults notification_email notification_email_from \
        notify_fifo notify_fifo_script process_monitor_rcv_bufs process_name process_names random_seed reload_check_config reload_file \
        reload_repeat reload_time_file router_id rs_init_notifies script_user set_supplementary_groups shutdown_script \
        shutdown_script_timeout startup_script startup_script_timeout smtp_alert smtp_alert_checker smtp_alert_vrrp smtp_connect_timeout \
        smtp_helo_name smtp_server snmp_socket snmp_vs_stats_update_interval snmp_rs_stats_update_interval state_dump_file \
        stats_dump_file tmp_config_directory umask use_symlink_paths v3_checksum_as_v2 vmac_addr_prefix vmac_prefix \
        vrrp_check_unicast_src vrrp_delay_after_boot vrrp_down_timer_adverts vrrp_garp_extra_if vrrp_garp_interval \
        vrrp_garp_lower_prio_delay vrrp_garp_lower_prio_repeat vrrp_garp_master_delay vrrp_garp_master_refresh \
        vrrp_garp_master_refresh_repeat vrrp_garp_master_repeat vrrp_gna_interval vrrp_higher_prio_send_advert vrrp_ipsets \
        vrrp_iptables vrrp_lower_prio_no_advert vrrp_mcast_group4 vrrp_mcast_group6 vrrp_min_garp vrrp_notify_fifo \
        vrrp_notify_fifo_script vrrp_notify_priority_changes vrrp_owner_ignore_adverts vrrp_rx_bufs_policy vrrp_rx_bufs_multiplier \
        vrrp_skip_check_adv_addr vrrp_startup_delay vrrp_strict vrrp_version vrrp_priority vrrp_no_swap vrrp_rt_priority \
        vrrp_cpu_affinity vrrp_rlimit_rttime checker_priority checker_no_swap checker_rt_priority checker_cpu_affinity \
        checker_rlimit_rttime bfd_priority bfd_no_swap bfd_rt_priority bfd_cpu_affinity bfd_rlimit_rttime vrrp_netlink_cmd_rcv_bufs \
        vrrp_netlink_cmd_rcv_bufs_force vrrp_netlink_monitor_rcv_bufs vrrp_netlink_monitor_rcv_bufs_force lvs_netlink_cmd_rcv_bufs \
        lvs_netlink_monitor_rcv_bufs vrrp_process_name checker_process_name bfd_process_name lvs_id owner_ignore_adverts \
        lvs_flush_onstop enable_snmp_keepalived lvs_process_name vrrp_rlimit_rtime
        """

    static let instance = """
        accept advert_int auth_hmac authentication check_unicast_src debug dont_track_primary down_timer_adverts garp_extra_if \
        garp_lower_prio_delay garp_lower_prio_repeat garp_master_delay garp_master_refresh garp_master_refresh_repeat garp_master_repeat \
        higher_prio_send_advert interface kernel_rx_buf_size linkbeat_use_polling lower_prio_no_advert lvs_sync_daemon_interface \
        mcast_dst_ip mcast_src_ip native_ipv6 no_accept no_virtual_ipaddress nopreempt notify notify_backup notify_fault notify_stop \
        notify_deleted notify_master notify_master_rx_lower_pri notify_priority_changes old_unicast_checksum owner_ignore_adverts \
        preempt preempt_delay priority promote_secondaries skip_check_adv_addr smtp_alert state strict_mode thread_timer_expired \
        timer_expired_backup track_interface track_script track_file track_process track_bfd track_src_ip unicast_fault_no_peer \
        unicast_peer unicast_src_ip unicast_ttl use_ipvlan use_vmac use_vmac_addr v3_checksum_as_v2 version virtual_ipaddress \
        virtual_ipaddress_excluded virtual_router_id virtual_routes virtual_rules vmac_garp_intvl vmac_xmit_base vrf
        """

    static let root = """
        global_defs net_namespace net_namespace_ipvs namespace_with_ipsets instance use_pid_dir linkbeat_use_polling child_wait_time \
        linkbeat_interfaces interface_up_down_delays track_group static_ipaddress static_routes static_rules track_file \
        vrrp_track_file vrrp_track_process vrrp_script vrrp_sync_group garp_group vrrp_instance bfd_instance SSL \
        virtual_server_group virtual_server
        """

    static func words(_ s: String) -> [String] { s.split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init) }

    @Test func everyGlobalDefsKeywordIsKnown() {
        let unknown = Self.words(Self.globalDefs).filter { GlobalDefs.schema.rule(named: $0) == nil }
        #expect(unknown.isEmpty, "\(unknown)")
    }

    @Test func everyInstanceKeywordIsKnown() {
        let unknown = Self.words(Self.instance).filter { VRRPInstance.schema.rule(named: $0) == nil }
        #expect(unknown.isEmpty, "\(unknown)")
    }

    @Test func everyRootKeywordIsKnown() {
        let unknown = Self.words(Self.root).filter { ConfigDecoder.rootSchema.rule(named: $0) == nil }
        #expect(unknown.isEmpty, "\(unknown)")
    }

    @Test func otherBlocks() {
        let lists: [(String, [String], (String) -> Bool)] = [
            ("vrrp_script", ["script", "interval", "timeout", "weight", "rise", "fall", "user", "init_fail"], { VRRPScript.schema.rule(named: $0) != nil }),
            ("track_file", ["file", "weight", "init_file"], { TrackFile.schema.rule(named: $0) != nil }),
            ("vrrp_track_process", ["process", "param_match", "weight", "quorum", "quorum_max", "fork_delay", "terminate_delay", "delay", "full_command"],
             { TrackProcess.schema.rule(named: $0) != nil }),
            ("vrrp_sync_group", ["group", "track_interface", "track_script", "track_file", "track_process", "track_bfd", "notify_master",
                                 "notify_backup", "notify_fault", "notify_stop", "notify_deleted", "notify", "smtp_alert",
                                 "notify_priority_changes", "sync_group_tracking_weight", "global_tracking"], { SyncGroup.schema.rule(named: $0) != nil }),
            ("bfd_instance", ["neighbor_ip", "neighbour_ip", "source_ip", "min_rx", "min_tx", "idle_tx", "multiplier", "passive", "ttl",
                              "hoplimit", "max_hops", "multihop", "weight", "vrrp", "checker"], { BFDInstance.schema.rule(named: $0) != nil }),
            ("garp_group", ["garp_interval", "gna_interval", "interface", "interfaces"], { GarpGroup.schema.rule(named: $0) != nil }),
        ]
        for (block, keywords, known) in lists {
            let unknown = keywords.filter { !known($0) }
            #expect(unknown.isEmpty, "\(block): \(unknown)")
        }
    }

    @Test func keywordReferenceDocIsUpToDate() throws {
        let doc = try String(contentsOfFile: repositoryRoot + "/Docs/keywords.md", encoding: .utf8)
        #expect(doc == ConfigDecoder.keywordReference, "regenerate with: .build/debug/kad keywords > Docs/keywords.md")
    }

    @Test func everyKeywordHasHelp() {
        for (block, keywords) in ConfigDecoder.keywordTable {
            for k in keywords { #expect(!k.help.isEmpty, "\(block).\(k.name)") }
        }
    }
}
