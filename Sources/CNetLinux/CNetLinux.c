// Intentionally empty: the module exists for its headers (include/CNetLinux.h).
#include "CNetLinux.h"
