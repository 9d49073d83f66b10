/*
 * bench / bench_paging (and their _small variants) - a CPU-bound benchmark.
 *
 * Why: measures the raw speed of an execution engine on ordinary integer
 * code (loads, stores, table lookups, shifts, xors, branches) and, in
 * bench_paging, the cost of address translation with 4 KiB pages.  The
 * result is checked so a fast but wrong engine cannot pass.
 *
 * BENCH_PASSES passes of bench_run() (bench_algo.h), about 0.6 M
 * instructions each: the default build has ~500 M instructions, the _small
 * variants ~20 M (CMake cache variables FAULTLINE_BENCH_ITERS and
 * FAULTLINE_BENCH_SMALL_ITERS).  The TSC delta printed is informational; under
 * QEMU with -icount shift=0 it equals the number of instructions executed.  BENCH_EXPECTED comes from tools/bench_expected.c, run on
 * the host at build time.  Before the timed loop the CRC table is
 * cross-checked against a bitwise CRC-32 of a known string and of a prefix
 * of the buffer.
 */
#include "guest.h"
#include "bench_algo.h"
#include "bench_expected.h"

#ifndef BENCH_PAGING
#define BENCH_PAGING 0
#endif

static uint8_t buf[BENCH_BUF_SIZE] ALIGNED(4096);
static uint32_t table[256];
#if BENCH_PAGING
static volatile uint32_t pd[1024] ALIGNED(4096);
static volatile uint32_t pts[4][1024] ALIGNED(4096);
#endif

static uint64_t rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}

int kmain(void)
{
    printf("bench%s: %u passes of CRC-32 over 64 KiB + integer mix\n",
           BENCH_PAGING ? "_paging" : "", BENCH_PASSES);
    bench_crc_table(table);
    check_eq(bench_crc_bitwise((const uint8_t *)"123456789", 9), 0xCBF43926, 1,
             "bitwise CRC-32 of \"123456789\"");
    check_eq(~bench_crc_table_driven(table, (const uint8_t *)"123456789", 9, 0xFFFFFFFFu),
             0xCBF43926, 2, "table-driven CRC-32 of \"123456789\"");
    bench_fill(buf);
    check_eq(~bench_crc_table_driven(table, buf, 4096, 0xFFFFFFFFu), bench_crc_bitwise(buf, 4096),
             3, "table-driven and bitwise CRC agree on 4 KiB of the buffer");

#if BENCH_PAGING
    for (uint32_t t = 0; t < 4; t++)
        for (uint32_t i = 0; i < 1024; i++)
            pts[t][i] = ((t << 22) | (i << 12)) | PTE_P | PTE_W;
    for (uint32_t t = 0; t < 4; t++)
        pd[t] = (uint32_t)pts[t] | PTE_P | PTE_W;
    write_cr3((uint32_t)pd);
    write_cr0(read_cr0() | CR0_PG);
    check((read_cr0() & CR0_PG) && !(read_cr4() & CR4_PSE), 4,
          "paging on: 16 MiB identity-mapped with 4 KiB pages");
#endif

    uint64_t t0 = rdtsc();
    uint32_t result = bench_run(buf, table, BENCH_PASSES);
    uint64_t t1 = rdtsc();

#if BENCH_PAGING
    write_cr0(read_cr0() & ~CR0_PG);
#endif
    printf("  result 0x%08x, expected 0x%08x\n", result, BENCH_EXPECTED);
    printf("  TSC delta %u * 2^20 + %u\n", (uint32_t)((t1 - t0) >> 20),
           (uint32_t)((t1 - t0) & 0xFFFFF));
    check_eq(result, BENCH_EXPECTED, 5, "benchmark result");
    return 0;
}
