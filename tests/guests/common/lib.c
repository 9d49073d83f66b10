/*
 * lib.c - the few libc functions the compiler may call, multiboot command
 * line helpers and a minimal identity-paging helper.
 */
#include "guest.h"

/* written by entry.S before .bss is cleared, so they must live in .data */
__attribute__((section(".data"))) uint32_t mb_magic;
__attribute__((section(".data"))) uint32_t mb_info_addr;
__attribute__((section(".data"))) uint32_t boot_bss_dirty;

void *memset(void *d, int c, size_t n)
{
    uint8_t *p = d;
    while (n--)
        *p++ = (uint8_t)c;
    return d;
}

void *memcpy(void *d, const void *s, size_t n)
{
    uint8_t *p = d;
    const uint8_t *q = s;
    while (n--)
        *p++ = *q++;
    return d;
}

void *memmove(void *d, const void *s, size_t n)
{
    uint8_t *p = d;
    const uint8_t *q = s;
    if (p < q) {
        while (n--)
            *p++ = *q++;
    } else {
        while (n--)
            p[n] = q[n];
    }
    return d;
}

int memcmp(const void *a, const void *b, size_t n)
{
    const uint8_t *p = a, *q = b;
    for (; n; n--, p++, q++)
        if (*p != *q)
            return *p < *q ? -1 : 1;
    return 0;
}

size_t strlen(const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}

int strncmp(const char *a, const char *b, size_t n)
{
    for (; n; n--, a++, b++) {
        if (*a != *b)
            return (uint8_t)*a < (uint8_t)*b ? -1 : 1;
        if (!*a)
            return 0;
    }
    return 0;
}

/* copy of the command line taken at boot: some kernels later reuse low
 * memory where a loader may have put the multiboot structures */
static char cmdline_copy[256];

void cmdline_save(void)
{
    const struct multiboot_info *mbi = (const struct multiboot_info *)mb_info_addr;
    if (mb_magic != MULTIBOOT_BOOT_MAGIC || !mbi || !(mbi->flags & (1u << 2)) || !mbi->cmdline)
        return;
    const char *s = (const char *)mbi->cmdline;
    size_t i;
    for (i = 0; i < sizeof(cmdline_copy) - 1 && s[i]; i++)
        cmdline_copy[i] = s[i];
    cmdline_copy[i] = 0;
}

const char *cmdline(void) { return cmdline_copy; }

int cmdline_has(const char *word)
{
    const char *s = cmdline();
    size_t n = strlen(word);
    while (*s) {
        while (*s == ' ')
            s++;
        const char *w = s;
        while (*s && *s != ' ')
            s++;
        if ((size_t)(s - w) == n && strncmp(w, word, n) == 0)
            return 1;
    }
    return 0;
}

int on_qemu(void) { return cmdline_has("qemu"); }

void pd_identity_4m(uint32_t *pd, uint32_t mib, uint32_t flags)
{
    for (uint32_t i = 0; i < mib / 4; i++)
        pd[i] = (i << 22) | PTE_PS | flags;
}

void paging_enable(uint32_t *pd)
{
    write_cr4(read_cr4() | CR4_PSE);
    write_cr3((uint32_t)pd);
    write_cr0(read_cr0() | CR0_PG);
}

void paging_disable(void) { write_cr0(read_cr0() & ~CR0_PG); }
