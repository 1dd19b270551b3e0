#define _GNU_SOURCE
#include <sched.h>
#include <sys/ioctl.h>
#include "CNetLinux.h"

int cnl_setns_net(int fd) { return setns(fd, CLONE_NEWNET); }
int cnl_ioctl_ptr(int fd, unsigned long request, void *argument) { return ioctl(fd, request, argument); }
