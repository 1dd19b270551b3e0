// CNetLinux shims for NetLinux/packet (owned by that area). Not API.
#pragma once
#include <sys/socket.h>
