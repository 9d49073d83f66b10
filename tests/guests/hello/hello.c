/*
 * hello - the smallest guest: proves the multiboot boot path and the two
 * simulator ports work.
 *
 * Checks: the loader passed EAX = 0x2BADB002; the multiboot info structure
 * has mem_lower/mem_upper (we asked for them with header flag bit 1) with
 * plausible values for a PC with at least 16 MiB; the loader zeroed .bss;
 * the command line (if flag bit 2 is set) is printed; a memory map (flag bit
 * 6), if given, is printed.  Then "Hello from faultline guest" and exit 0.
 */
#include "guest.h"

int kmain(void)
{
    puts("Hello from faultline guest\n");

    check_eq(mb_magic, MULTIBOOT_BOOT_MAGIC, 1, "EAX holds the multiboot magic 0x2BADB002");
    check(mb_info_addr != 0, 2, "EBX points to a multiboot info structure");
    const struct multiboot_info *mbi = (const struct multiboot_info *)mb_info_addr;
    printf("  info at %08x, flags %08x\n", mb_info_addr, mbi->flags);
    check(mbi->flags & 1, 3, "flags bit 0: mem_lower/mem_upper present");
    printf("  mem_lower = %u KiB, mem_upper = %u KiB\n", mbi->mem_lower, mbi->mem_upper);
    check(mbi->mem_lower >= 64 && mbi->mem_lower <= 640, 4, "mem_lower is between 64 and 640 KiB");
    check(mbi->mem_upper >= 15 * 1024, 5, "mem_upper covers at least 16 MiB of RAM");
    check(boot_bss_dirty == 0, 6, "loader zeroed .bss");

    if (mbi->flags & (1u << 2)) {
        check(mbi->cmdline != 0, 7, "flags bit 2: cmdline pointer is non-null");
        printf("  cmdline: \"%s\"\n", (const char *)mbi->cmdline);
    } else {
        puts("  no command line (flags bit 2 clear)\n");
    }

    if (mbi->flags & (1u << 6)) {
        printf("  memory map at %08x, %u bytes:\n", mbi->mmap_addr, mbi->mmap_length);
        uint32_t p = mbi->mmap_addr, end = mbi->mmap_addr + mbi->mmap_length;
        int n = 0;
        while (p < end && n < 32) {
            const uint32_t *e = (const uint32_t *)p;
            /* size, base_lo, base_hi, len_lo, len_hi, type */
            printf("    base %08x%08x len %08x%08x type %u\n", e[2], e[1], e[4], e[3], e[5]);
            check(e[0] >= 20, 8, "memory map entry size >= 20");
            p += e[0] + 4;
            n++;
        }
    }

    /* the stack we run on is our own and 16-byte aligned inside .bss */
    uint32_t esp = read_esp();
    check(esp < (uint32_t)boot_stack_top && esp > (uint32_t)boot_stack_top - 32768, 9,
          "running on the kernel's own stack");
    check_eq(read_cs(), SEL_KCODE, 10, "CS is the kernel's own code selector");

    puts("hello: all checks passed\n");
    return 0;
}
