/*
 * checksum - a small, deterministic workload for fault-injection campaigns.
 *
 * Why: campaigns need a guest whose correct output is known and whose data
 * and code are easy to target by ELF symbol.  The kernel fills `data_buffer`
 * (16 KiB in .data) from a linear congruential generator, runs
 * `compute_checksum` over it (FNV-1a combined with a position-weighted byte
 * sum) and prints "checksum=0x%08x".  It exits 0 if the value equals
 * CHECKSUM_EXPECTED, else prints "checksum mismatch" and exits 1.  A flipped
 * bit in data_buffer, in the loop's registers or in the code shows up as a
 * mismatch (silent data corruption made visible) or as an exception (crash).
 *
 * CHECKSUM_EXPECTED was computed on the host from the same definition
 * (fill: x = x * 1103515245 + 12345 from x = 1, byte = (x >> 16) & 0xFF;
 * checksum below).  Symbols are kept in the ELF (the build does not strip).
 */
#include "guest.h"

#define DATA_SIZE 16384
#define CHECKSUM_EXPECTED 0xD660364Eu

__attribute__((section(".data"), aligned(64))) uint8_t data_buffer[DATA_SIZE];
uint32_t checksum_result;

NOINLINE void fill_buffer(uint8_t *p, uint32_t n)
{
    uint32_t x = 1;
    for (uint32_t i = 0; i < n; i++) {
        x = x * 1103515245u + 12345u;
        p[i] = (uint8_t)(x >> 16);
    }
}

NOINLINE uint32_t compute_checksum(const uint8_t *p, uint32_t n)
{
    uint32_t h = 0x811C9DC5u, sum = 0;
    for (uint32_t i = 0; i < n; i++) {
        h = (h ^ p[i]) * 0x01000193u;
        sum += p[i] * (i + 1);
    }
    return h ^ ((sum << 16) | (sum >> 16));
}

int kmain(void)
{
    fill_buffer(data_buffer, DATA_SIZE);
    checksum_result = compute_checksum(data_buffer, DATA_SIZE);
    printf("checksum=0x%08x\n", checksum_result);
    if (checksum_result != CHECKSUM_EXPECTED) {
        puts("checksum mismatch\n");
        return 1;
    }
    return 0;
}
