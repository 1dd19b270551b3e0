// CNetLinux shims for NetLinux/packet (owned by that area). Not API.
#pragma once
#include <sys/socket.h>

/// The ioctl requests NetLinux/Announcer issues on its AF_PACKET socket, as `unsigned long`
/// (the macros live in <bits/ioctls.h>, which the header module does not pull in).
extern const unsigned long cnl_siocgifindex;   // SIOCGIFINDEX: interface name -> index
extern const unsigned long cnl_siocgifhwaddr;  // SIOCGIFHWADDR: interface name -> hardware address
