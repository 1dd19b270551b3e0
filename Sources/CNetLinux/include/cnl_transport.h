// CNetLinux shims for NetLinux/transport (owned by that area). Not API.
#pragma once
#include <sys/socket.h>
