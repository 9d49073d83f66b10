/* forkexec: 200 x fork + execve(/bin/true) + waitpid, then tight loops of
 * getpid, and write/read through a pipe. Prints the counts. */
#include "fl.h"

#include <errno.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define FE_SPAWNS 200
#define FE_GETPID 100000
#define FE_PIPE 10000

int forkexec_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    const char *target = access("/bin/true", X_OK) == 0 ? "/bin/true" : "/proc/self/exe";
    int spawned = 0;
    for (int i = 0; i < FE_SPAWNS; i++) {
        pid_t pid = fork();
        if (pid < 0) {
            fl_printf("forkexec: fork failed: %s\n", strerror(errno));
            return 1;
        }
        if (pid == 0) {
            char *const args[] = {"true", "true", NULL};
            char *const envp[] = {NULL};
            execve(target, args, envp);
            _exit(127);
        }
        int status;
        while (waitpid(pid, &status, 0) < 0)
            if (errno != EINTR)
                return 1;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            fl_printf("forkexec: child %d failed (status 0x%x)\n", i, status);
            return 1;
        }
        spawned++;
    }

    /* raw syscall so no libc caching of the pid can skip the kernel */
    long pid_sum = 0;
    long self = syscall(SYS_getpid);
    for (int i = 0; i < FE_GETPID; i++)
        pid_sum += syscall(SYS_getpid);
    if (pid_sum != self * FE_GETPID) {
        fl_printf("forkexec: getpid returned inconsistent values\n");
        return 1;
    }

    int p[2];
    if (pipe(p) != 0) {
        fl_printf("forkexec: pipe failed: %s\n", strerror(errno));
        return 1;
    }
    char out[64], in[64];
    int rw = 0;
    for (int i = 0; i < FE_PIPE; i++) {
        memset(out, (char)i, sizeof out);
        if (write(p[1], out, sizeof out) != (ssize_t)sizeof out ||
            read(p[0], in, sizeof in) != (ssize_t)sizeof in || memcmp(in, out, sizeof in) != 0) {
            fl_printf("forkexec: pipe round trip %d failed\n", i);
            return 1;
        }
        rw++;
    }
    close(p[0]);
    close(p[1]);
    fl_printf("forkexec: spawned %d, getpid %d, pipe write+read %d\n", spawned, FE_GETPID, rw);
    return 0;
}
