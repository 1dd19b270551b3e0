// CNetLinux: Linux kernel headers that Swift's Glibc module does not expose, for
// NetLinux and IPVSControl. Implementation detail, not API.
#ifndef CNETLINUX_H
#define CNETLINUX_H

#include <sys/socket.h>
#include <net/if.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/genetlink.h>
#include <linux/if_packet.h>
#include <linux/if_ether.h>
#include <linux/if_arp.h>
#include <linux/if_link.h>
#include <linux/ip_vs.h>
#include <linux/if_addr.h>
#include <linux/fib_rules.h>
#include <linux/neighbour.h>
#include <netinet/icmp6.h>

/// setns(2) with CLONE_NEWNET: Glibc's module hides it behind _GNU_SOURCE.
int cnl_setns_net(int fd);
/// ioctl(2) with a pointer argument (the variadic C function is unavailable in Swift).
int cnl_ioctl_ptr(int fd, unsigned long request, void *argument);

/// NLMSG_* and RTA_* are function-like macros Swift cannot import.
static inline unsigned int cnl_nlmsg_align(unsigned int len) { return NLMSG_ALIGN(len); }
static inline unsigned int cnl_nla_align(unsigned int len) { return NLA_ALIGN(len); }

// One shim header per NetLinux area, so that areas can grow independently.
#include "cnl_netlink.h"
#include "cnl_transport.h"
#include "cnl_packet.h"
#include "cnl_system.h"

#endif
