/*
 * console.c - output on the debug console port (0xE9), checks and exit.
 *
 * printf understands %s %c %d %u %x %X %p and %% with an optional '0' flag
 * and field width (e.g. %08x).  exit() writes the status to port 0xF4 as a
 * dword; if the simulator ignored that, it halts forever.
 */
#include "guest.h"

void putc(char c) { outb(PORT_CONSOLE, (uint8_t)c); }

void puts(const char *s)
{
    while (*s)
        putc(*s++);
}

static void put_num(uint32_t v, unsigned base, int width, char pad, int upper)
{
    char buf[12];
    int n = 0;
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    do {
        buf[n++] = digits[v % base];
        v /= base;
    } while (v);
    while (width-- > n)
        putc(pad);
    while (n)
        putc(buf[--n]);
}

void put_hex(uint32_t v, int digits) { put_num(v, 16, digits, '0', 0); }
void put_udec(uint32_t v) { put_num(v, 10, 0, ' ', 0); }

void put_dec(int32_t v)
{
    if (v < 0) {
        putc('-');
        put_num(-(uint32_t)v, 10, 0, ' ', 0);
    } else {
        put_num((uint32_t)v, 10, 0, ' ', 0);
    }
}

void printf(const char *fmt, ...)
{
    __builtin_va_list ap;
    __builtin_va_start(ap, fmt);
    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            putc(*fmt);
            continue;
        }
        fmt++;
        char pad = ' ';
        int width = 0;
        if (*fmt == '0') {
            pad = '0';
            fmt++;
        }
        while (*fmt >= '0' && *fmt <= '9')
            width = width * 10 + (*fmt++ - '0');
        switch (*fmt) {
        case 's': {
            const char *s = __builtin_va_arg(ap, const char *);
            int len = (int)strlen(s);
            while (width-- > len)
                putc(' ');
            puts(s);
            break;
        }
        case 'c': putc((char)__builtin_va_arg(ap, int)); break;
        case 'd': {
            int32_t v = __builtin_va_arg(ap, int32_t);
            if (v < 0) {
                putc('-');
                put_num(-(uint32_t)v, 10, width - 1, pad, 0);
            } else {
                put_num((uint32_t)v, 10, width, pad, 0);
            }
            break;
        }
        case 'u': put_num(__builtin_va_arg(ap, uint32_t), 10, width, pad, 0); break;
        case 'x': put_num(__builtin_va_arg(ap, uint32_t), 16, width, pad, 0); break;
        case 'X': put_num(__builtin_va_arg(ap, uint32_t), 16, width, pad, 1); break;
        case 'p': put_num(__builtin_va_arg(ap, uint32_t), 16, 8, '0', 0); break;
        case '%': putc('%'); break;
        case 0: fmt--; break;
        default: putc('%'); putc(*fmt); break;
        }
    }
    __builtin_va_end(ap);
}

void (*exit_hook)(uint32_t status);

NORETURN void exit(uint32_t status)
{
    /* at CPL > 0 the exit port is not accessible: let the kernel do it */
    if ((read_cs() & 3) && exit_hook)
        exit_hook(status);
    if (status == 0)
        puts("PASS\n");
    else
        printf("FAIL (exit status %u)\n", status);
    outl(PORT_EXIT, status);
    for (;;)
        __asm__ volatile("cli; hlt");
}

NORETURN void fail(int code, const char *name)
{
    printf("  FAIL %s\n", name);
    exit(code);
}

void check(int cond, int code, const char *name)
{
    if (!cond)
        fail(code, name);
    printf("  ok   %s\n", name);
}

void check_eq(uint32_t got, uint32_t want, int code, const char *name)
{
    if (got != want) {
        printf("  FAIL %s: got %08x, expected %08x\n", name, got, want);
        exit(code);
    }
    printf("  ok   %s (%x)\n", name, got);
}

void skip(const char *name, const char *why) { printf("  SKIP %s (%s)\n", name, why); }
