// CNetLinux shims for NetLinux/transport (owned by that area). Not API.
#pragma once
#include <sys/socket.h>
#include <stddef.h>
#include <stdint.h>

/// eventfd(2) with EFD_CLOEXEC | EFD_NONBLOCK added to `flags` (Glibc's module lacks <sys/eventfd.h>).
int cnl_eventfd(unsigned int initial_value, int flags);

/// What the control messages of one received packet said (see cnl_vrrp_parse_control).
struct cnl_vrrp_rx_info {
    /// Interface index from IP_PKTINFO / IPV6_PKTINFO; 0 when absent.
    uint32_t ifindex;
    /// Hop limit from IPV6_HOPLIMIT; -1 when absent (IPv4 carries its TTL in the header).
    int32_t hop_limit;
    /// The SO_RXQ_OVFL counter (packets the socket dropped so far); 0 when absent.
    uint32_t dropped;
    /// 1 when `destination` was filled in.
    uint8_t has_destination;
    uint8_t has_dropped;
    /// The IP header's destination from the packet-info message: 4 bytes (IPv4) or 16 (IPv6),
    /// network order.
    uint8_t destination[16];
};

/// Walks the control messages of a received message (CMSG_FIRSTHDR / CMSG_NXTHDR) and fills
/// `info` from IP_PKTINFO, IPV6_PKTINFO, IPV6_HOPLIMIT and SO_RXQ_OVFL; other messages are skipped.
void cnl_vrrp_parse_control(const struct msghdr *message, struct cnl_vrrp_rx_info *info);

/// Writes one IPV6_PKTINFO control message (source address and outgoing interface) at the
/// start of `control`. Returns the bytes used (CMSG_SPACE of struct in6_pktinfo), or 0 when
/// `capacity` is too small.
size_t cnl_vrrp_put_ipv6_pktinfo(void *control, size_t capacity, const uint8_t source[16], uint32_t ifindex);

/// pthread_setname_np(pthread_self(), name) (a GNU extension Glibc's module hides); names
/// longer than 15 bytes are cut. Returns 0 or an error number.
int cnl_set_thread_name(const char *name);
