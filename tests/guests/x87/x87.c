/*
 * x87 - the floating-point unit.
 *
 * Why: Linux guests, libm and user programs use the x87 (i686 has no SSE
 * requirement), and its 80-bit arithmetic, rounding/precision control,
 * status/tag words and masked-exception results are easy to approximate
 * with host doubles and get subtly wrong.
 *
 * Each case in x87_cases.h runs x87 instructions and stores results; this
 * kernel compares them with x87_expected.h, recorded by running the same
 * cases on real x86 hardware (tools/x87_gen.c).  Arithmetic, conversions,
 * BCD, constants, comparisons, fcmov, stack/tag handling, fnstenv/fldenv,
 * fnsave/frstor and masked exception results (inf, indefinite, denormals,
 * status flags) must match bit for bit; transcendental instructions (fsin,
 * fcos, fptan, fpatan, fsincos, f2xm1, fyl2x, fyl2xp1) within 4096 units in
 * the last place of the 64-bit significand (about 2^-52 relative).
 */
#include "guest.h"
#include "x87_cases.h"
#include "x87_expected.h"

static uint8_t out[X87_MAX_OUT + 16];

static uint64_t mant(const uint8_t *p)
{
    uint64_t m = 0;
    for (int i = 7; i >= 0; i--)
        m = (m << 8) | p[i];
    return m;
}

static void dump(const char *what, const uint8_t *p, int n)
{
    printf("    %s:", what);
    for (int i = 0; i < n; i++)
        printf("%s%02x", i % 10 ? " " : (i ? "\n      " : " "), p[i]);
    putc('\n');
}

int kmain(void)
{
    puts("x87: floating-point unit\n");
    write_cr0((read_cr0() | CR0_NE | CR0_MP) & ~(CR0_EM | CR0_TS));
    check(ARRAY_SIZE(x87_expected) == X87_NCASES, 1, "expected table matches the case list");

    uint16_t cw = 0, sw = 0xFFFF;
    __asm__ volatile("fninit\n\tfnstcw %0\n\tfnstsw %1" : "=m"(cw), "=m"(sw));
    check(cw == 0x037F && sw == 0, 2, "fninit: CW = 0x037F, SW = 0");

    int first_fail = 0;
    for (unsigned i = 0; i < X87_NCASES; i++) {
        const struct x87_case *c = &x87_cases[i];
        if (c->qemu_gap && on_qemu()) {
            skip(c->name, c->qemu_gap);
            continue;
        }
        memset(out, 0xAA, sizeof(out));
        int n = c->fn(out);
        __asm__ volatile("fninit");
        int code = 10 + (int)i;
        if (n != x87_expected[i].len) {
            printf("  FAIL %s: %d bytes, expected %d\n", c->name, n, x87_expected[i].len);
            exit(code);
        }
        const uint8_t *want = x87_expected[i].bytes;
        int ok = 1;
        if (c->tolerance == 0) {
            ok = memcmp(out, want, n) == 0;
        } else {
            for (int k = 0; k + 10 <= n; k += 10) {
                uint64_t a = mant(out + k), b = mant(want + k);
                uint64_t d = a > b ? a - b : b - a;
                if (out[k + 8] != want[k + 8] || out[k + 9] != want[k + 9] || d > c->tolerance) {
                    printf("    value %d differs by %u ulps (or in sign/exponent)\n", k / 10,
                           d > 0xFFFFFFFFull ? 0xFFFFFFFFu : (uint32_t)d);
                    ok = 0;
                }
            }
        }
        if (!ok) {
            for (int k = 0; k < n; k++) {
                if (out[k] != want[k]) {
                    printf("    first difference at byte %d\n", k);
                    break;
                }
            }
            dump("got     ", out, n);
            dump("expected", want, n);
            printf("  FAIL %s\n", c->name);
            if (!first_fail)
                first_fail = code;
            continue;
        }
        printf("  ok   %s%s\n", c->name, c->tolerance ? " (within tolerance)" : " (bit exact)");
    }

    if (first_fail)
        exit(first_fail);
    puts("x87: all checks passed\n");
    return 0;
}
