// CNetLinux shims for NetLinux/system (owned by that area). Not API.
#pragma once
#include <sys/socket.h>
