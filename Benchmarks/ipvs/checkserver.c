#define _GNU_SOURCE
/* The real servers of the checker benchmark: one epoll loop on [::]:PORT that answers every
 * connection (any local address, so with `ip -6 route add local 2001:db8::/64 dev lo` it stands
 * for thousands of real servers) and counts them.
 *   checkserver tcp PORT    accept, then close
 *   checkserver http PORT   read the request head, answer 200 with a 2-byte body, close
 * SIGUSR1 prints the number of connections answered so far; SIGTERM prints it and exits. */
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

static volatile sig_atomic_t report, done;
static void on_usr1(int s) { (void)s; report = 1; }
static void on_term(int s) { (void)s; done = 1; }

int main(int argc, char **argv) {
    if (argc != 3) { fprintf(stderr, "usage: checkserver tcp|http PORT\n"); return 2; }
    int http = strcmp(argv[1], "http") == 0;
    int l = socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK, 0);
    int one = 1, zero = 0;
    setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    setsockopt(l, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
    struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_port = htons(atoi(argv[2])), .sin6_addr = in6addr_any };
    if (bind(l, (struct sockaddr *)&a, sizeof a) < 0 || listen(l, 4096) < 0) { perror("bind/listen"); return 1; }
    struct sigaction sa = { 0 };
    sa.sa_handler = on_usr1; sigaction(SIGUSR1, &sa, NULL);
    sa.sa_handler = on_term; sigaction(SIGTERM, &sa, NULL);
    int ep = epoll_create1(0);
    struct epoll_event ev = { .events = EPOLLIN, .data.fd = l };
    epoll_ctl(ep, EPOLL_CTL_ADD, l, &ev);
    unsigned long long answered = 0;
    static const char reply[] = "HTTP/1.0 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
    struct epoll_event events[256];
    char buf[4096];
    while (!done) {
        if (report) { report = 0; printf("%llu\n", answered); fflush(stdout); }
        int n = epoll_wait(ep, events, 256, 200);
        for (int i = 0; i < n; i++) {
            int fd = events[i].data.fd;
            if (fd == l) {
                int c;
                while ((c = accept4(l, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
                    if (!http) { answered++; close(c); continue; }
                    struct epoll_event cev = { .events = EPOLLIN | EPOLLRDHUP, .data.fd = c };
                    epoll_ctl(ep, EPOLL_CTL_ADD, c, &cev);
                }
                continue;
            }
            ssize_t r = read(fd, buf, sizeof buf - 1);
            if (r > 0) {
                buf[r] = 0;
                if (strstr(buf, "\r\n\r\n")) {   /* checkers send the whole head in one write */
                    if (write(fd, reply, sizeof reply - 1) > 0) answered++;
                    close(fd);
                }
            } else if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
                close(fd);
            }
        }
    }
    printf("%llu\n", answered);
    return 0;
}
