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

#endif
