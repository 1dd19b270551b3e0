// CNetLinux shims for NetLinux/netlink (owned by that area). Not API.
#pragma once
#include <sys/socket.h>
