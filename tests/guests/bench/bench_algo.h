/*
 * bench_algo.h - the benchmark workload, shared by the bench kernels and the
 * host tool (tools/bench_expected.c) that computes the expected result.
 *
 * One pass = a table-driven CRC-32 (reflected, polynomial 0xEDB88320) over a
 * 64 KiB buffer, followed by a short integer mix (LCG, shifts, xors, byte
 * stores into the buffer, data-dependent branches) that changes the buffer
 * so that every pass computes something new.  About 0.6 M instructions per
 * pass.  Plain C on uint32_t only, so host and guest agree bit for bit.
 * Needs uint8_t/uint32_t typedefs before inclusion.
 */
#define BENCH_BUF_SIZE 65536u
#define BENCH_MIX_STEPS 512u

static void bench_fill(uint8_t *buf)
{
    uint32_t x = 0x2545F491u;
    for (uint32_t i = 0; i < BENCH_BUF_SIZE; i++) {
        x = x * 1664525u + 1013904223u;
        buf[i] = (uint8_t)(x >> 24);
    }
}

static void bench_crc_table(uint32_t *table)
{
    for (uint32_t n = 0; n < 256; n++) {
        uint32_t c = n;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        table[n] = c;
    }
}

/* bit-at-a-time CRC-32, used to cross-check the table */
static __attribute__((unused)) uint32_t bench_crc_bitwise(const uint8_t *p, uint32_t n)
{
    uint32_t crc = 0xFFFFFFFFu;
    for (uint32_t i = 0; i < n; i++) {
        crc ^= p[i];
        for (int k = 0; k < 8; k++)
            crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1)));
    }
    return ~crc;
}

static uint32_t bench_crc_table_driven(const uint32_t *table, const uint8_t *p, uint32_t n,
                                       uint32_t crc)
{
    for (uint32_t i = 0; i < n; i++)
        crc = table[(crc ^ p[i]) & 0xFF] ^ (crc >> 8);
    return crc;
}

static uint32_t bench_run(uint8_t *buf, const uint32_t *table, uint32_t passes)
{
    uint32_t crc = 0xFFFFFFFFu, mix = 0x12345678u, acc = 0;
    for (uint32_t pass = 0; pass < passes; pass++) {
        crc = bench_crc_table_driven(table, buf, BENCH_BUF_SIZE, crc);
        for (uint32_t i = 0; i < BENCH_MIX_STEPS; i++) {
            mix = mix * 1103515245u + 12345u;
            mix ^= mix >> 7;
            buf[(mix >> 8) & (BENCH_BUF_SIZE - 1)] ^= (uint8_t)(mix ^ crc);
            if (mix & 0x10)
                acc += mix >> 3;
            else
                acc ^= (mix << 5) | (crc & 0xFF);
        }
        crc ^= acc;
    }
    return ~crc ^ acc;
}
