#include "fl.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

const char *const fl_workloads[] = {"checksum", "sort", "filerw", "forkexec", NULL};

void fl_printf(const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof buf)
        n = sizeof buf - 1;
    const char *p = buf;
    while (n > 0) {
        ssize_t w = write(1, p, (size_t)n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return;
        }
        p += w;
        n -= (int)w;
    }
}

uint64_t fl_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

uint32_t fl_crc32(uint32_t crc, const void *data, size_t len)
{
    static uint32_t table[256];
    static int ready;
    if (!ready) {
        for (uint32_t i = 0; i < 256; i++) {
            uint32_t c = i;
            for (int k = 0; k < 8; k++)
                c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            table[i] = c;
        }
        ready = 1;
    }
    const uint8_t *p = data;
    crc = ~crc;
    while (len--)
        crc = table[(crc ^ *p++) & 0xFF] ^ (crc >> 8);
    return ~crc;
}

int fl_run_workload(const char *name)
{
    char path[128];
    snprintf(path, sizeof path, "/bin/%s", name);
    if (access(path, X_OK) != 0) {
        fl_printf("workload %s: unknown\n", name);
        return -1;
    }
    uint64_t t0 = fl_now_us();
    pid_t pid = fork();
    if (pid < 0) {
        fl_printf("workload %s: fork failed: %s\n", name, strerror(errno));
        return -1;
    }
    if (pid == 0) {
        char *const argv[] = {(char *)name, NULL};
        char *const envp[] = {"PATH=/bin", NULL};
        execve(path, argv, envp);
        fl_printf("workload %s: exec failed: %s\n", name, strerror(errno));
        _exit(127);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            fl_printf("workload %s: waitpid failed: %s\n", name, strerror(errno));
            return -1;
        }
    }
    uint64_t dt = fl_now_us() - t0;
    int ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (ok)
        fl_printf("workload %s: ok (%llu.%03llu ms)\n", name,
                  (unsigned long long)(dt / 1000), (unsigned long long)(dt % 1000));
    else if (WIFSIGNALED(status))
        fl_printf("workload %s: FAILED (signal %d)\n", name, WTERMSIG(status));
    else
        fl_printf("workload %s: FAILED (exit %d)\n", name, WEXITSTATUS(status));
    return ok ? 0 : -1;
}
