/*
 * paging - two-level i386 paging with 4 KiB and 4 MiB (CR4.PSE) pages.
 *
 * Why: every modern guest runs with paging, and the MMU is where the
 * interpreter's TLB, the JIT's fast-memory window and fault injection into
 * page tables meet.  Checked here:
 *   - identity-mapped kernel keeps running when CR0.PG is set
 *   - aliases: two 4 KiB virtual pages on one frame see each other's writes;
 *     a 4 MiB page translates all 22 offset bits
 *   - not-present PTE and PDE: #PF with CR2 = the linear address and error
 *     code P=0, W/R as the access; instruction fetch from a not-present page
 *   - ring-0 write to a read-only PTE (and to a page under a read-only PDE)
 *     faults with CR0.WP=1 (error P=1,W=1) and succeeds with CR0.WP=0
 *   - the CPU sets Accessed in PDE/PTE on a read and Dirty in the PTE (or the
 *     4 MiB PDE) on a write
 *   - after changing a PTE, INVLPG makes the new mapping visible; so does a
 *     CR3 reload; with CR4.PGE, global kernel pages keep working across CR3
 *     reloads and toggling CR4.PGE makes a changed global PTE visible.
 * Stale-TLB behaviour is never checked (it is not architecturally visible).
 */
#include "guest.h"

static volatile uint32_t pd[1024] ALIGNED(4096);
static volatile uint32_t pt0[1024] ALIGNED(4096);    /* identity 0..4 MiB, 4 KiB pages */
static volatile uint32_t pt_test[1024] ALIGNED(4096); /* VA 0x40000000.. (PDE 256 and 257) */

#define VA_TEST 0x40000000u
#define VA_ROPDE 0x40400000u   /* PDE 257: same page table, PDE read-only */
#define VA_BIG 0x80000000u     /* PDE 512: 4 MiB page -> 8 MiB */
#define VA_NOPDE 0xC0001234u   /* PDE 768: not present */
#define FRAME_A 0x00500000u
#define FRAME_B 0x00501000u
#define FRAME_C 0x00502000u
#define PHYS_BIG 0x00800000u

#define P32(a) (*(volatile uint32_t *)(a))

static uint32_t read_va(uint32_t va) { return P32(va); }

static void pf_read(uint32_t va, int code, const char *name)
{
    uint32_t before = exc.count;
    __asm__ volatile(FAULT_ASM("movl (%%eax), %%edx") ::"a"(va) : "edx", "memory");
    expect_exc(before, 14, 0, EIP_FAULT, code, name);
    check_eq(exc.cr2, va, code, "  CR2 = faulting linear address");
}

static void pf_write(uint32_t va, int err, int code, const char *name)
{
    uint32_t before = exc.count;
    __asm__ volatile(FAULT_ASM("movl $0xdeadbeef, (%%eax)") ::"a"(va) : "memory");
    expect_exc(before, 14, err, EIP_FAULT, code, name);
    check_eq(exc.cr2, va, code, "  CR2 = faulting linear address");
}

int kmain(void)
{
    puts("paging: 4 KiB and 4 MiB pages\n");

    uint32_t eax, ebx, ecx, edx;
    __asm__ volatile("cpuid" : "=a"(eax), "=b"(ebx), "=c"(ecx), "=d"(edx) : "a"(1));
    check((edx & (1u << 3)) && (edx & (1u << 13)), 1, "CPUID reports PSE and PGE");

    for (uint32_t i = 0; i < 1024; i++)
        pt0[i] = (i << 12) | PTE_P | PTE_W;
    pd[0] = (uint32_t)pt0 | PTE_P | PTE_W;
    for (uint32_t i = 1; i < 4; i++)
        pd[i] = (i << 22) | PTE_PS | PTE_P | PTE_W;
    pd[256] = (uint32_t)pt_test | PTE_P | PTE_W;
    pd[257] = (uint32_t)pt_test | PTE_P;   /* read-only at the PDE level */
    pd[512] = PHYS_BIG | PTE_PS | PTE_P | PTE_W;

    pt_test[0] = FRAME_A | PTE_P | PTE_W;
    pt_test[1] = FRAME_A | PTE_P | PTE_W;   /* alias of page 0 */
    pt_test[2] = 0;                         /* not present */
    pt_test[3] = FRAME_B | PTE_P;           /* read-only */
    pt_test[4] = FRAME_C | PTE_P | PTE_W;   /* A/D test */
    pt_test[5] = FRAME_A | PTE_P | PTE_W;   /* remapped by the TLB tests */

    memset((void *)FRAME_A, 0, 3 * 4096);
    P32(FRAME_A + 0x40) = 0x1111;
    P32(FRAME_B + 0x40) = 0x2222;
    P32(FRAME_B + 0x80) = 0x0B0B0B0B;

    paging_enable((uint32_t *)pd);
    check((read_cr0() & CR0_PG) && read_cr3() == (uint32_t)pd, 2, "paging enabled, CR3 = page directory");
    check_eq(read_va((uint32_t)&pt0[5]), pt0[5], 3, "identity-mapped kernel data readable");

    /* ---- aliases ---- */
    P32(VA_TEST + 0x10) = 0x11223344;
    check_eq(P32(VA_TEST + 0x1000 + 0x10), 0x11223344, 10, "4 KiB alias sees the write");
    check_eq(P32(FRAME_A + 0x10), 0x11223344, 11, "write reached the physical frame");
    P32(VA_TEST + 0x1000 + 0x14) = 0x55667788;
    check_eq(P32(VA_TEST + 0x14), 0x55667788, 12, "write through the alias seen by the first page");
    P32(VA_BIG + 0x123458) = 0xB16B00B5;
    check_eq(P32(PHYS_BIG + 0x123458), 0xB16B00B5, 13, "4 MiB page maps offset 0x123458");
    P32(PHYS_BIG + 0x3FFFFC) = 0x600DF00D;
    check_eq(P32(VA_BIG + 0x3FFFFC), 0x600DF00D, 14, "4 MiB page: last dword of the page");

    /* ---- not present ---- */
    pf_read(VA_TEST + 0x2ABC, 20, "read of a not-present PTE: #PF, error 0");
    pf_write(VA_TEST + 0x2FF0, 2, 21, "write to a not-present PTE: #PF, error W");
    pf_read(VA_NOPDE, 22, "read under a not-present PDE: #PF, error 0");
    {
        uint32_t before = exc.count;
        uint32_t target = VA_TEST + 0x2000;
        __asm__ volatile("movl $1f, exc_resume\n\t"
                         "jmp *%0\n"
                         "1:" ::"r"(target)
                         : "memory");
        exc_resume = 0;
        check(exc.count == before + 1 && exc.vector == 14, 23, "instruction fetch from a not-present page: #PF");
        check_eq(exc.cr2, target, 24, "  CR2 = the jump target");
        check_eq(exc.eip, target, 25, "  saved EIP = the jump target");
        check_eq(exc.error, 0, 26, "  error code 0 (no P, no W, supervisor)");
    }

    /* ---- read-only pages and CR0.WP ---- */
    check_eq(P32(VA_TEST + 0x3080), 0x0B0B0B0B, 30, "read-only page is readable");
    write_cr0(read_cr0() | CR0_WP);
    pf_write(VA_TEST + 0x3080, 3, 31, "WP=1: ring-0 write to read-only PTE: #PF, error P|W");
    check_eq(P32(FRAME_B + 0x80), 0x0B0B0B0B, 32, "  the faulting write did not happen");
    pf_write(VA_ROPDE + 0x10, 3, 33, "WP=1: ring-0 write under a read-only PDE: #PF, error P|W");
    write_cr0(read_cr0() & ~CR0_WP);
    invlpg(VA_TEST + 0x3000);
    P32(VA_TEST + 0x3080) = 0x12121212;
    check_eq(P32(FRAME_B + 0x80), 0x12121212, 34, "WP=0: ring-0 write to read-only PTE succeeds");
    P32(VA_ROPDE + 0x18) = 0x34343434;
    check_eq(P32(FRAME_A + 0x18), 0x34343434, 35, "WP=0: ring-0 write under a read-only PDE succeeds");

    /* ---- accessed and dirty bits ---- */
    pt_test[4] = FRAME_C | PTE_P | PTE_W;
    pd[256] &= ~PTE_A;
    write_cr3(read_cr3());
    (void)read_va(VA_TEST + 0x4000);
    check_eq(pt_test[4] & (PTE_A | PTE_D), PTE_A, 40, "read sets PTE.A, not PTE.D");
    check_eq(pd[256] & PTE_A, PTE_A, 41, "read sets PDE.A");
    P32(VA_TEST + 0x4004) = 1;
    check_eq(pt_test[4] & (PTE_A | PTE_D), PTE_A | PTE_D, 42, "write sets PTE.D");
    pd[512] &= ~(PTE_A | PTE_D);
    invlpg(VA_BIG);
    (void)read_va(VA_BIG + 0x100);
    check_eq(pd[512] & (PTE_A | PTE_D), PTE_A, 43, "read of a 4 MiB page sets PDE.A only");
    P32(VA_BIG + 0x200) = 2;
    check_eq(pd[512] & (PTE_A | PTE_D), PTE_A | PTE_D, 44, "write to a 4 MiB page sets PDE.D");

    /* ---- INVLPG and CR3 reload after changing a PTE ---- */
    check_eq(P32(VA_TEST + 0x5040), 0x1111, 50, "page 5 maps frame A");
    pt_test[5] = FRAME_B | PTE_P | PTE_W;
    invlpg(VA_TEST + 0x5000);
    check_eq(P32(VA_TEST + 0x5040), 0x2222, 51, "after PTE change + INVLPG: frame B");
    pt_test[5] = FRAME_A | PTE_P | PTE_W;
    write_cr3(read_cr3());
    check_eq(P32(VA_TEST + 0x5040), 0x1111, 52, "after PTE change + CR3 reload: frame A");

    /* ---- global pages (CR4.PGE) ---- */
    for (uint32_t i = 0; i < 1024; i++)
        pt0[i] |= PTE_G;
    for (uint32_t i = 1; i < 4; i++)
        pd[i] |= PTE_G;
    write_cr4(read_cr4() | CR4_PGE);
    write_cr3(read_cr3());
    check_eq(read_cr4() & CR4_PGE, CR4_PGE, 60, "CR4.PGE set");
    check_eq(read_va((uint32_t)&pt0[7]), pt0[7], 61, "global kernel pages work across CR3 reload");
    pt_test[6] = FRAME_A | PTE_P | PTE_W | PTE_G;
    check_eq(P32(VA_TEST + 0x6040), 0x1111, 62, "global test page maps frame A");
    pt_test[6] = FRAME_B | PTE_P | PTE_W | PTE_G;
    write_cr4(read_cr4() & ~CR4_PGE);
    write_cr4(read_cr4() | CR4_PGE);
    check_eq(P32(VA_TEST + 0x6040), 0x2222, 63, "changed global PTE visible after toggling CR4.PGE");
    pt_test[6] = FRAME_A | PTE_P | PTE_W | PTE_G;
    invlpg(VA_TEST + 0x6000);
    check_eq(P32(VA_TEST + 0x6040), 0x1111, 64, "INVLPG also flushes a global page");
    for (int i = 0; i < 100; i++)
        write_cr3(read_cr3());
    check_eq(P32(VA_TEST + 0x1010), 0x11223344, 65, "kernel still running after many CR3 reloads");

    /* ---- paging off again ---- */
    write_cr4(read_cr4() & ~CR4_PGE);
    paging_disable();
    check_eq(read_cr0() & CR0_PG, 0, 70, "paging disabled again");
    check_eq(P32(FRAME_A + 0x10), 0x11223344, 71, "physical memory intact after paging off");

    puts("paging: all checks passed\n");
    return 0;
}
