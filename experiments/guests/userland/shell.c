/* shell: prompt "fl$ ", one built-in command per console line:
 *   echo WORDS...   print the words
 *   run NAME        run workload NAME (prints "workload NAME: ok|FAILED")
 *   run all         run every workload in /init's order
 *   help            list the commands
 *   exit [N]        leave with status N (default: 0, or 1 if a run failed)
 * End of input behaves like "exit". Used by scripted keyboard experiments. */
#include "fl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Reads one line from fd 0 into buf (without the newline). Returns its
 * length, or -1 at end of input. */
static int read_line(char *buf, int cap)
{
    int n = 0;
    for (;;) {
        char c;
        ssize_t r = read(0, &c, 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return n > 0 ? n : -1;
        if (c == '\n' || c == '\r') {
            buf[n] = '\0';
            return n;
        }
        if (n < cap - 1)
            buf[n++] = c;
        buf[n] = '\0';
    }
}

static int split(char *line, char **words, int max)
{
    int n = 0;
    char *save = NULL;
    for (char *w = strtok_r(line, " \t", &save); w && n < max; w = strtok_r(NULL, " \t", &save))
        words[n++] = w;
    return n;
}

int shell_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    char line[256];
    int failures = 0;
    fl_printf("faultline shell; commands: echo, run NAME|all, help, exit [N]\n");
    for (;;) {
        fl_printf("fl$ ");
        if (read_line(line, sizeof line) < 0) {
            fl_printf("\n");
            break;
        }
        char *w[16];
        int n = split(line, w, 16);
        if (n == 0)
            continue;
        if (strcmp(w[0], "echo") == 0) {
            for (int i = 1; i < n; i++)
                fl_printf(i + 1 < n ? "%s " : "%s", w[i]);
            fl_printf("\n");
        } else if (strcmp(w[0], "run") == 0 && n == 2) {
            if (strcmp(w[1], "all") == 0) {
                for (int i = 0; fl_workloads[i]; i++)
                    if (fl_run_workload(fl_workloads[i]) != 0)
                        failures++;
            } else if (fl_run_workload(w[1]) != 0) {
                failures++;
            }
        } else if (strcmp(w[0], "help") == 0) {
            fl_printf("echo WORDS | run NAME | run all | exit [N]; workloads:");
            for (int i = 0; fl_workloads[i]; i++)
                fl_printf(" %s", fl_workloads[i]);
            fl_printf("\n");
        } else if (strcmp(w[0], "exit") == 0) {
            return n > 1 ? atoi(w[1]) & 0xFF : (failures ? 1 : 0);
        } else {
            fl_printf("%s: unknown command\n", w[0]);
        }
    }
    return failures ? 1 : 0;
}
