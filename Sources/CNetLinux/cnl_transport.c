// Control-message helpers for the VRRP transport (NetLinux/Transport). The CMSG_* macros and
// the packet-info structures are not importable into Swift, so they are used here only.
#define _GNU_SOURCE
#include <netinet/in.h>
#include <string.h>
#include <sys/eventfd.h>
#include "CNetLinux.h"

int cnl_eventfd(unsigned int initial_value, int flags) {
    return eventfd(initial_value, flags | EFD_CLOEXEC | EFD_NONBLOCK);
}

void cnl_vrrp_parse_control(const struct msghdr *message, struct cnl_vrrp_rx_info *info) {
    memset(info, 0, sizeof *info);
    info->hop_limit = -1;
    for (struct cmsghdr *c = CMSG_FIRSTHDR((struct msghdr *)message); c != NULL;
         c = CMSG_NXTHDR((struct msghdr *)message, c)) {
        const unsigned char *data = CMSG_DATA(c);
        size_t length = c->cmsg_len - CMSG_LEN(0);
        if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO && length >= sizeof(struct in_pktinfo)) {
            struct in_pktinfo p;
            memcpy(&p, data, sizeof p);
            info->ifindex = (uint32_t)p.ipi_ifindex;
            memcpy(info->destination, &p.ipi_addr, 4);
            info->has_destination = 1;
        } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO &&
                   length >= sizeof(struct in6_pktinfo)) {
            struct in6_pktinfo p;
            memcpy(&p, data, sizeof p);
            info->ifindex = p.ipi6_ifindex;
            memcpy(info->destination, &p.ipi6_addr, 16);
            info->has_destination = 1;
        } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_HOPLIMIT && length >= sizeof(int)) {
            int h;
            memcpy(&h, data, sizeof h);
            info->hop_limit = h;
        } else if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_RXQ_OVFL && length >= sizeof(uint32_t)) {
            memcpy(&info->dropped, data, sizeof info->dropped);
            info->has_dropped = 1;
        }
    }
}

size_t cnl_vrrp_put_ipv6_pktinfo(void *control, size_t capacity, const uint8_t source[16], uint32_t ifindex) {
    size_t space = CMSG_SPACE(sizeof(struct in6_pktinfo));
    if (capacity < space) return 0;
    memset(control, 0, space);
    struct cmsghdr *c = (struct cmsghdr *)control;
    c->cmsg_level = IPPROTO_IPV6;
    c->cmsg_type = IPV6_PKTINFO;
    c->cmsg_len = CMSG_LEN(sizeof(struct in6_pktinfo));
    struct in6_pktinfo p;
    memset(&p, 0, sizeof p);
    memcpy(&p.ipi6_addr, source, 16);
    p.ipi6_ifindex = ifindex;
    memcpy(CMSG_DATA(c), &p, sizeof p);
    return space;
}

#include <pthread.h>

int cnl_set_thread_name(const char *name) {
    char shortened[16];
    strncpy(shortened, name, sizeof shortened - 1);
    shortened[sizeof shortened - 1] = '\0';
    return pthread_setname_np(pthread_self(), shortened);
}
