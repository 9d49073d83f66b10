/* /init: mounts the pseudo file systems, runs the workloads (or the shell when
 * the kernel command line has fl.shell=1), reports, and ends the machine:
 *   1. writes the status byte to I/O port 0xF4 (faultline's exit port; QEMU
 *      needs -device isa-debug-exit,iobase=0xf4 and exits with (status<<1)|1),
 *   2. if the machine is still running, reboot(LINUX_REBOOT_CMD_POWER_OFF).
 *      On a PC without ACPI/APM the kernel turns that into a halt: it prints
 *      "reboot: System halted" and stops the CPU with interrupts disabled.
 *      With fl.reboot=1 on the command line it uses LINUX_REBOOT_CMD_RESTART
 *      instead (QEMU -no-reboot then exits; Bochs resets). */
#include "fl.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/reboot.h>
#include <string.h>
#include <sys/io.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#define FL_EXIT_PORT 0xF4

static void do_mount(const char *src, const char *dst, const char *type)
{
    mkdir(dst, 0755);
    if (mount(src, dst, type, 0, NULL) != 0 && errno != EBUSY)
        fl_printf("faultline-init: mount %s on %s failed: %s\n", type, dst, strerror(errno));
}

static void ensure_console(void)
{
    if (fcntl(0, F_GETFD) >= 0 && fcntl(1, F_GETFD) >= 0 && fcntl(2, F_GETFD) >= 0)
        return;
    int fd = open("/dev/console", O_RDWR);
    if (fd < 0)
        return;
    for (int i = 0; i < 3; i++)
        if (fcntl(i, F_GETFD) < 0)
            dup2(fd, i);
    if (fd > 2)
        close(fd);
}

/* Reads /proc/cmdline; returns 1 if the word KEY appears in it. */
static int cmdline_has(const char *key)
{
    char buf[1024];
    int fd = open("/proc/cmdline", O_RDONLY);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    size_t klen = strlen(key);
    for (char *p = buf; (p = strstr(p, key)) != NULL; p += klen) {
        int start_ok = p == buf || p[-1] == ' ';
        char end = p[klen];
        if (start_ok && (end == ' ' || end == '\n' || end == '\0'))
            return 1;
    }
    return 0;
}

static void uptime_line(const char *what)
{
    char buf[64] = "?";
    int fd = open("/proc/uptime", O_RDONLY);
    if (fd >= 0) {
        ssize_t n = read(fd, buf, sizeof buf - 1);
        buf[n > 0 ? n : 0] = '\0';
        close(fd);
        char *sp = strchr(buf, ' ');
        if (sp)
            *sp = '\0';
    }
    fl_printf("faultline-init: %s (uptime %s s)\n", what, buf);
}

static int run_shell(void)
{
    pid_t pid = fork();
    if (pid == 0) {
        char *const argv[] = {"shell", NULL};
        char *const envp[] = {"PATH=/bin", NULL};
        execve("/bin/shell", argv, envp);
        _exit(127);
    }
    if (pid < 0)
        return 1;
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return 1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void finish(int status)
{
    sync();
    fl_printf("faultline-init: exit status %d, powering off\n", status);
    /* The console tty sends its buffer from the UART interrupt; a halt or an
     * exit-port write would cut off whatever is still queued (visible on
     * peers that model the baud rate, like Bochs). Wait until it is out. */
    tcdrain(1);
    tcdrain(2);
    if (ioperm(FL_EXIT_PORT, 1, 1) == 0)
        outb((unsigned char)status, FL_EXIT_PORT);
    else
        fl_printf("faultline-init: ioperm(0x%x) failed: %s\n", FL_EXIT_PORT, strerror(errno));
    reboot(cmdline_has("fl.reboot=1") ? LINUX_REBOOT_CMD_RESTART : LINUX_REBOOT_CMD_POWER_OFF);
    /* Not reached: the reboot call does not return when it succeeds. */
    for (;;)
        pause();
}

int init_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    do_mount("proc", "/proc", "proc");
    do_mount("sysfs", "/sys", "sysfs");
    do_mount("devtmpfs", "/dev", "devtmpfs");
    ensure_console();
    fl_printf("faultline-init: started\n");
    uptime_line("boot done");

    int status;
    if (cmdline_has("fl.shell=1")) {
        status = run_shell();
    } else {
        int failed = 0;
        for (int i = 0; fl_workloads[i]; i++)
            if (fl_run_workload(fl_workloads[i]) != 0)
                failed++;
        if (failed)
            fl_printf("faultline-init: %d workload(s) FAILED\n", failed);
        else
            fl_printf("faultline-init: all workloads ok\n");
        status = failed ? 1 : 0;
    }
    uptime_line("done");
    finish(status);
    return status;
}
