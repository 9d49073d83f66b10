/* checksum: CRC-32 over a generated 1 MiB data set, computed twice from
 * freshly generated data; the two digests must agree. */
#include "fl.h"

#include <stdlib.h>

#define CK_SIZE (1u << 20)

static uint32_t generate_and_crc(uint8_t *buf, uint32_t seed)
{
    uint32_t s = seed;
    for (uint32_t i = 0; i < CK_SIZE; i += 4) {
        uint32_t v = fl_xorshift32(&s);
        buf[i] = (uint8_t)v;
        buf[i + 1] = (uint8_t)(v >> 8);
        buf[i + 2] = (uint8_t)(v >> 16);
        buf[i + 3] = (uint8_t)(v >> 24);
    }
    return fl_crc32(0, buf, CK_SIZE);
}

int checksum_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    uint8_t *a = malloc(CK_SIZE);
    uint8_t *b = malloc(CK_SIZE);
    if (!a || !b) {
        fl_printf("checksum: out of memory\n");
        return 1;
    }
    uint32_t d1 = generate_and_crc(a, 0x12345678u);
    uint32_t d2 = generate_and_crc(b, 0x12345678u);
    fl_printf("checksum: crc32 %08x %08x\n", d1, d2);
    free(a);
    free(b);
    return d1 == d2 ? 0 : 1;
}
