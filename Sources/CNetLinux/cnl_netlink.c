#define _GNU_SOURCE
#include "CNetLinux.h"
