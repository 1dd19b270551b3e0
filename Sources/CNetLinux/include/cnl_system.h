// CNetLinux shims for NetLinux/system and NetLinux/Host (owned by those areas). Not API.
#pragma once
#include <sys/socket.h>
#include <sys/types.h>
#include <stdint.h>

/// pipe2(2) with O_CLOEXEC, so that no process spawned concurrently inherits the pipe
/// (Glibc's module hides pipe2 behind _GNU_SOURCE).
int cnl_pipe_cloexec(int fds[2]);

/// SIGRTMIN, a function-like macro in glibc.
int cnl_sigrtmin(void);

/// gettid(2): the calling thread's kernel id.
int cnl_gettid(void);

/// sched_setaffinity(2) for thread `tid` (0: the calling one): the `count` CPUs in `cpus`; -1
/// with errno on failure (EINVAL for a CPU below 0 or at CPU_SETSIZE or above). Glibc's module
/// hides it behind _GNU_SOURCE.
int cnl_set_affinity(int tid, const int *cpus, size_t count);

/// prctl(PR_GET_SECUREBITS); -1 with errno on failure.
int cnl_get_securebits(void);

/// What one call of cnl_caps_apply_all_threads did.
struct cnl_caps_outcome {
    /// Threads that applied the state, the calling one included.
    int threads;
    /// The thread that failed (0 when none did).
    int failed_tid;
    /// The step that failed: 0 none, 1 bounding set, 2 ambient set, 3 capset, 4 signal delivery,
    /// 5 no answer within the time limit, 6 listing threads, 7 installing the signal handler.
    int failed_step;
};

/// Gives every thread of the process the capability state
///   effective = permitted = `keep`, inheritable = {}, ambient = {},
/// and, when `limit_bounding` is non-zero, drops from the bounding set every capability
/// (0...`last_cap`) not in `keep`.
///
/// Capabilities are per thread on Linux (capset(2), PR_CAPBSET_DROP), so the calling thread
/// applies the state itself and asks every other thread to do the same through signal
/// `signo`, whose handler makes only async-signal-safe system calls. The threads are listed
/// from /proc/self/task until a listing shows no thread that has not answered.
/// Returns 0, or the errno of the first failure (ETIMEDOUT when a thread did not answer
/// within `timeout_ms`, for example because it blocks `signo`).
int cnl_caps_apply_all_threads(uint64_t keep, int limit_bounding, int last_cap, int signo, int timeout_ms,
                               struct cnl_caps_outcome *outcome);

/// What cnl_spawn starts.
struct cnl_spawn_request {
    const char *path;            ///< executed as is (absolute)
    char *const *argv;           ///< NULL-terminated
    char *const *envp;           ///< NULL-terminated
    const char *directory;       ///< working directory
    int stdin_fd, stdout_fd, stderr_fd;
    int switch_identity;         ///< non-zero: setgroups(groups), setresgid(gid), setresuid(uid)
    uid_t uid;
    gid_t gid;
    const gid_t *groups;
    int group_count;
};

/// What cnl_spawn did.
struct cnl_spawn_result {
    pid_t pid;
    /// pidfd_open(2) of the child, close-on-exec; -1 when the kernel has none.
    int pidfd;
    /// On failure, the step: 1 pipe, 2 fork, 3 setsid, 4 setgroups, 5 setresgid, 6 setresuid,
    /// 7 standard descriptors, 8 chdir, 9 execve.
    int failed_step;
};

/// Starts a program in a new session (so its process group id is its pid), as another user
/// when asked, with stdin/stdout/stderr from the given descriptors, every other descriptor
/// closed, default signal dispositions and an empty signal mask.
///
/// The child is made with fork(2) and then makes only async-signal-safe calls; the user
/// switch uses the raw system calls, so no other thread of the parent is involved (glibc's
/// setuid/setgid wrappers signal every thread they know of, which deadlocks in a child
/// created without glibc's fork). Failures in the child before exec are reported back through
/// a close-on-exec pipe, and such a child is reaped here.
/// Returns 0, or the errno of the failed step.
int cnl_spawn(const struct cnl_spawn_request *request, struct cnl_spawn_result *result);
