// System shims for NetLinux/System and NetLinux/Host: pipe2, SIGRTMIN, and the per-thread
// capability change (see cnl_system.h).
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/capability.h>
#include "CNetLinux.h"

int cnl_pipe_cloexec(int fds[2]) { return pipe2(fds, O_CLOEXEC); }

int cnl_sigrtmin(void) { return SIGRTMIN; }

int cnl_gettid(void) { return (int)syscall(SYS_gettid); }

int cnl_set_affinity(int tid, const int *cpus, size_t count) {
    cpu_set_t set;
    CPU_ZERO(&set);
    for (size_t i = 0; i < count; i++) {
        if (cpus[i] < 0 || cpus[i] >= CPU_SETSIZE) { errno = EINVAL; return -1; }
        CPU_SET(cpus[i], &set);
    }
    return sched_setaffinity(tid, sizeof(set), &set);
}

int cnl_get_securebits(void) { return prctl(PR_GET_SECUREBITS, 0, 0, 0, 0); }

// ---- capabilities on every thread ----

// The state being applied; written before any thread is signalled, read by the handler.
static uint64_t caps_keep;
static int caps_limit_bounding;
static int caps_last_cap;
static atomic_int caps_answers;
#define CAPS_ACK_SLOTS 4096
static atomic_int caps_acked[CAPS_ACK_SLOTS];  // the threads that answered, in order
static atomic_int caps_error;
static atomic_int caps_error_tid;
static atomic_int caps_error_step;
static pthread_mutex_t caps_lock = PTHREAD_MUTEX_INITIALIZER;

// Applies the state to the calling thread with async-signal-safe calls only; returns 0 or an
// errno and sets *step.
static int caps_apply_here(int *step) {
    if (caps_limit_bounding) {
        for (int c = 0; c <= caps_last_cap && c < 64; c++) {
            if (caps_keep & (UINT64_C(1) << c)) continue;
            int present = prctl(PR_CAPBSET_READ, c, 0, 0, 0);
            if (present == 1 && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) != 0) {
                *step = 1;
                return errno;
            }
        }
    }
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL) {
        *step = 2;
        return errno;
    }
    struct __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct data[2];
    memset(data, 0, sizeof data);
    data[0].effective = data[0].permitted = (uint32_t)(caps_keep & 0xffffffffu);
    data[1].effective = data[1].permitted = (uint32_t)(caps_keep >> 32);
    if (syscall(SYS_capset, &header, data) != 0) {
        *step = 3;
        return errno;
    }
    *step = 0;
    return 0;
}

static void caps_record(int error, int step) {
    int expected = 0;
    if (error != 0 && atomic_compare_exchange_strong(&caps_error, &expected, error)) {
        atomic_store(&caps_error_tid, (int)syscall(SYS_gettid));
        atomic_store(&caps_error_step, step);
    }
}

static void caps_handler(int signo) {
    (void)signo;
    int saved = errno;
    int step = 0;
    int error = caps_apply_here(&step);
    caps_record(error, step);
    int slot = atomic_fetch_add(&caps_answers, 1);
    if (slot >= 0 && slot < CAPS_ACK_SLOTS) atomic_store(&caps_acked[slot], (int)syscall(SYS_gettid));
    errno = saved;
}

static int contains(const int *list, int count, int value) {
    for (int i = 0; i < count; i++)
        if (list[i] == value) return 1;
    return 0;
}

static long long now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

int cnl_caps_apply_all_threads(uint64_t keep, int limit_bounding, int last_cap, int signo, int timeout_ms,
                               struct cnl_caps_outcome *outcome) {
    memset(outcome, 0, sizeof *outcome);
    pthread_mutex_lock(&caps_lock);
    caps_keep = keep;
    caps_limit_bounding = limit_bounding;
    caps_last_cap = last_cap;
    atomic_store(&caps_answers, 0);
    atomic_store(&caps_error, 0);
    atomic_store(&caps_error_tid, 0);
    atomic_store(&caps_error_step, 0);

    int self = (int)syscall(SYS_gettid);
    int pid = getpid();
    int capacity = 256, done = 0, signalled = 0, result = 0;
    int *seen = malloc(sizeof(int) * (size_t)capacity);
    if (seen == NULL) {
        pthread_mutex_unlock(&caps_lock);
        return ENOMEM;
    }
    seen[done++] = self;

    // The calling thread first.
    int step = 0;
    int error = caps_apply_here(&step);
    if (error != 0) {
        outcome->failed_tid = self;
        outcome->failed_step = step;
        free(seen);
        pthread_mutex_unlock(&caps_lock);
        return error;
    }

    struct sigaction action, previous;
    memset(&action, 0, sizeof action);
    action.sa_handler = caps_handler;
    action.sa_flags = SA_RESTART;
    sigemptyset(&action.sa_mask);
    if (sigaction(signo, &action, &previous) != 0) {
        outcome->failed_tid = self;
        outcome->failed_step = 7;
        free(seen);
        pthread_mutex_unlock(&caps_lock);
        return errno;
    }

    long long deadline = now_ms() + timeout_ms;
    for (;;) {
        DIR *tasks = opendir("/proc/self/task");
        if (tasks == NULL) {
            result = errno;
            outcome->failed_step = 6;
            break;
        }
        int fresh = 0;
        struct dirent *entry;
        while ((entry = readdir(tasks)) != NULL) {
            if (entry->d_name[0] < '0' || entry->d_name[0] > '9') continue;
            int tid = atoi(entry->d_name);
            if (contains(seen, done, tid)) continue;
            if (done == capacity) {
                int *grown = realloc(seen, sizeof(int) * (size_t)capacity * 2);
                if (grown == NULL) { result = ENOMEM; break; }
                seen = grown;
                capacity *= 2;
            }
            seen[done++] = tid;
            if (syscall(SYS_tgkill, pid, tid, signo) == 0) {
                signalled++;
                fresh++;
            } else if (errno != ESRCH) {  // a thread that has just ended needs nothing
                result = errno;
                outcome->failed_tid = tid;
                outcome->failed_step = 4;
                break;
            }
        }
        closedir(tasks);
        if (result != 0) break;
        // Wait for every signalled thread to answer.
        while (atomic_load(&caps_answers) < signalled && now_ms() < deadline) {
            struct timespec pause = {0, 200000};
            nanosleep(&pause, NULL);
        }
        int answers = atomic_load(&caps_answers);
        if (answers < signalled) {
            result = ETIMEDOUT;
            outcome->failed_step = 5;
            // Name the first listed thread that did not answer.
            for (int i = 1; i < done && outcome->failed_tid == 0; i++) {
                int answered = 0;
                for (int k = 0; k < answers && k < CAPS_ACK_SLOTS; k++)
                    if (atomic_load(&caps_acked[k]) == seen[i]) answered = 1;
                if (!answered && syscall(SYS_tgkill, pid, seen[i], 0) == 0) outcome->failed_tid = seen[i];
            }
            break;
        }
        if (atomic_load(&caps_error) != 0) {
            result = atomic_load(&caps_error);
            outcome->failed_tid = atomic_load(&caps_error_tid);
            outcome->failed_step = atomic_load(&caps_error_step);
            break;
        }
        if (fresh == 0) break;  // every thread listed has answered
    }
    outcome->threads = 1 + atomic_load(&caps_answers);
    // A thread that never answered may still take the signal later: leave the handler in place
    // then (it applies the same state), otherwise restore what was there.
    if (result != ETIMEDOUT) sigaction(signo, &previous, NULL);
    free(seen);
    pthread_mutex_unlock(&caps_lock);
    return result;
}

// ---- spawning scripts ----

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_close_range
#define SYS_close_range 436
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

// In the child: report (step, errno) to the parent and end.
static void spawn_fail(int fd, int step) {
    int report[2] = {step, errno};
    ssize_t ignored = write(fd, report, sizeof report);
    (void)ignored;
    _exit(127);
}

// In the child: moves `fd` out of the way of 0..2 (close-on-exec copy), or -1 on failure.
static int spawn_lift(int fd) {
    return fd < 0 ? fd : fcntl(fd, F_DUPFD_CLOEXEC, 3);
}

int cnl_spawn(const struct cnl_spawn_request *r, struct cnl_spawn_result *result) {
    result->pid = -1;
    result->pidfd = -1;
    result->failed_step = 0;
    int report[2];
    if (pipe2(report, O_CLOEXEC) != 0) {
        result->failed_step = 1;
        return errno;
    }
    // No handler of the parent may run in the child before it has reset them.
    sigset_t all, previous;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &previous);
    pid_t pid = fork();
    if (pid == 0) {
        close(report[0]);
        struct sigaction dfl;
        memset(&dfl, 0, sizeof dfl);
        dfl.sa_handler = SIG_DFL;
        sigemptyset(&dfl.sa_mask);
        for (int s = 1; s < _NSIG; s++) (void)sigaction(s, &dfl, NULL);  // EINVAL for KILL/STOP and glibc's own: fine
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        if (setsid() < 0) spawn_fail(report[1], 3);
        if (r->switch_identity) {
            if (syscall(SYS_setgroups, (size_t)r->group_count, r->groups) != 0) spawn_fail(report[1], 4);
            if (syscall(SYS_setresgid, r->gid, r->gid, r->gid) != 0) spawn_fail(report[1], 5);
            if (syscall(SYS_setresuid, r->uid, r->uid, r->uid) != 0) spawn_fail(report[1], 6);
        }
        int in = spawn_lift(r->stdin_fd), out = spawn_lift(r->stdout_fd), err = spawn_lift(r->stderr_fd);
        if ((r->stdin_fd >= 0 && in < 0) || (r->stdout_fd >= 0 && out < 0) || (r->stderr_fd >= 0 && err < 0))
            spawn_fail(report[1], 7);
        if ((in >= 0 && dup2(in, 0) < 0) || (out >= 0 && dup2(out, 1) < 0) || (err >= 0 && dup2(err, 2) < 0))
            spawn_fail(report[1], 7);
        // Everything above 2 goes at exec (the report pipe too, which tells the parent exec worked).
        if (syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) != 0) {
            for (int fd = 3; fd < 65536; fd++) {
                int flags = fcntl(fd, F_GETFD);
                if (flags >= 0) (void)fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
            }
        }
        if (r->directory != NULL && chdir(r->directory) != 0) spawn_fail(report[1], 8);
        execve(r->path, r->argv, r->envp);
        spawn_fail(report[1], 9);
    }
    int fork_errno = errno;
    pthread_sigmask(SIG_SETMASK, &previous, NULL);
    close(report[1]);
    if (pid < 0) {
        close(report[0]);
        result->failed_step = 2;
        return fork_errno;
    }
    int child[2] = {0, 0};
    ssize_t n;
    do {
        n = read(report[0], child, sizeof child);
    } while (n < 0 && errno == EINTR);
    close(report[0]);
    if (n > 0) {
        // The child failed before exec and has exited: reap it.
        int status;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
        result->failed_step = child[0];
        return child[1] != 0 ? child[1] : EIO;
    }
    result->pid = pid;
    result->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    return 0;
}
