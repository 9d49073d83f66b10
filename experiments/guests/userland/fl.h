/* faultline guest userland: shared helpers for the multi-call binary.
 * Everything here is written for this project; built with gcc -m32 -static -O2. */
#ifndef FL_H
#define FL_H

#include <stddef.h>
#include <stdint.h>

/* Formatted output straight to fd 1 with write(2): no stdio buffers, so
 * output never duplicates across fork() and appears in order on the console. */
void fl_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Monotonic time in microseconds. */
uint64_t fl_now_us(void);

/* Deterministic generator (xorshift32) so every run sees the same data. */
static inline uint32_t fl_xorshift32(uint32_t *s)
{
    uint32_t x = *s;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    *s = x;
    return x;
}

/* CRC-32 (IEEE 802.3 polynomial, reflected), table driven. */
uint32_t fl_crc32(uint32_t crc, const void *data, size_t len);

/* Runs /bin/NAME in a child, waits, returns 0 when it exited with status 0. */
int fl_run_workload(const char *name);

/* Applets. Each returns the process exit status. */
int init_main(int argc, char **argv);
int shell_main(int argc, char **argv);
int checksum_main(int argc, char **argv);
int sort_main(int argc, char **argv);
int filerw_main(int argc, char **argv);
int forkexec_main(int argc, char **argv);
int true_main(int argc, char **argv);

/* The workloads /init runs in order (NULL terminated). */
extern const char *const fl_workloads[];

#endif
