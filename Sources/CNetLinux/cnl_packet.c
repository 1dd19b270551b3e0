#define _GNU_SOURCE
#include <sys/ioctl.h>
#include "CNetLinux.h"

const unsigned long cnl_siocgifindex = SIOCGIFINDEX;
const unsigned long cnl_siocgifhwaddr = SIOCGIFHWADDR;
