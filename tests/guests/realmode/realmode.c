/*
 * realmode - leave protected mode for real mode and come back.
 *
 * Why: firmware, boot loaders and Linux's early boot run in real mode, and
 * the mode switch itself (16-bit protected-mode segment, CR0.PE=0, far jump
 * to reload CS, the hidden segment caches) is easy to get subtly wrong.
 *
 * The real-mode part (realmode_tramp.S, copied below 1 MiB) checks:
 * segment*16+offset addressing (several segment:offset aliases of one
 * address, an address-size-prefixed access), a software interrupt through an
 * IVT entry we installed (pushed IP/CS/FLAGS, handler result), a divide
 * error delivered through IVT[0] with IP pointing at the div, 16-bit string
 * instructions (rep movsb, backwards rep movsw, rep stosw, repe cmpsb,
 * repne scasb, lodsw), 16-bit mul, far call/return and 16-bit push.  It
 * writes everything into a result block that this 32-bit code verifies after
 * returning to protected mode.
 */
#include "guest.h"
#include "realmode.h"

extern char tramp_start[], tramp_end[];
extern char rm_int30_off[], rm_de_off[];
void rm_run(void);

#define RES8(off) (*(volatile uint8_t *)(RES_BASE + (off)))
#define RES16(off) (*(volatile uint16_t *)(RES_BASE + (off)))
#define RES32(off) (*(volatile uint32_t *)(RES_BASE + (off)))
#define PHYS32(a) (*(volatile uint32_t *)(a))

static const char rm_string[] = "faultline-rm-str";

int kmain(void)
{
    puts("realmode: protected mode -> real mode -> protected mode\n");

    /* 16-bit code segment based at the trampoline, 64 KiB limit */
    gdt_set(SEL_CODE16 >> 3, TRAMP_BASE, 0xFFFF, ACC_P | ACC_CODE_XR, 0);
    gdt_set(SEL_DATA16 >> 3, 0, 0xFFFF, ACC_P | ACC_DATA_RW, 0);
    gdt_load();

    uint32_t len = (uint32_t)(tramp_end - tramp_start);
    check(len < 0x8000, 1, "trampoline fits in its 32 KiB window");
    memcpy((void *)TRAMP_BASE, tramp_start, len);
    memset((void *)RES_BASE, 0, R_SIZE);

    /* real-mode IVT: int 0x30 and #DE (vector 0) go to our handlers */
    uint32_t ivt_addr = 0;
    __asm__("" : "+r"(ivt_addr)); /* physical address 0 is a real address here */
    volatile uint16_t *ivt = (volatile uint16_t *)ivt_addr;
    ivt[0x30 * 2] = (uint16_t)(uint32_t)rm_int30_off;
    ivt[0x30 * 2 + 1] = TRAMP_SEG;
    ivt[0] = (uint16_t)(uint32_t)rm_de_off;
    ivt[1] = TRAMP_SEG;

    /* test data */
    memset((void *)DATA_BASE, 0, 0x10000);
    PHYS32(DATA_BASE + 0x10) = 0xCAFEBABE;
    PHYS32(0x2FFF0) = 0x12345678;
    memcpy((void *)(DATA_BASE + 0x500), "faultLine-rm-str", 16);

    rm_run();
    puts("  back in 32-bit protected mode\n");

    check_eq(RES32(R_MAGIC), 0x524D4F4B, 2, "real-mode code ran to the end");
    check_eq(read_cr0() & CR0_PE, CR0_PE, 3, "CR0.PE set again after return");
    check_eq(RES32(R_CR0) & CR0_PE, 0, 4, "CR0.PE read as 0 in real mode");
    check_eq(read_cs(), SEL_KCODE, 5, "CS is the 32-bit code selector again");

    check_eq(RES32(R_SEG1), 0xCAFEBABE, 10, "2000:0010 reads physical 0x20010");
    check_eq(RES32(R_SEG2), 0xCAFEBABE, 11, "1FFF:0020 aliases physical 0x20010");
    check_eq(RES32(R_SEG3), 0x12345678, 12, "2FFF:0000 reads physical 0x2FFF0");
    check_eq(RES32(R_SEG4), 0xCAFEBABE, 13, "address-size prefix: DS:[ESI=0x10]");
    check_eq(PHYS32(0x21004), 0xA5A5F00D, 14, "write through ES:DI = 2100:0004");

    check_eq(RES16(R_INT_AX), 0x2345, 20, "int 0x30 handler ran (AX = AX + BX)");
    check_eq(RES16(R_INT_IP), RES16(R_INT_RET), 21, "int 0x30 pushed IP of the next instruction");
    check_eq(RES16(R_INT_CS), TRAMP_SEG, 22, "int 0x30 pushed CS");
    check_eq(RES16(R_INT_FL) & (EFL_CF | 0x2), EFL_CF | 0x2, 23, "int 0x30 pushed FLAGS (CF set)");
    check_eq(RES16(R_INT_SP), RM_STACK_TOP - 6, 24, "int 0x30 pushed 3 words");
    check_eq(RES16(R_INT_HFL) & (EFL_TF | EFL_IF), 0, 25, "IF and TF clear in the handler");

    check_eq(RES16(R_DE_CNT), 1, 30, "div by zero went through IVT[0] once");
    check_eq(RES16(R_DE_IP), RES16(R_DE_SITE), 31, "#DE pushed IP of the div (fault)");

    check(memcmp((void *)(DATA_BASE + 0x200), rm_string, 16) == 0, 40, "rep movsb copied the string");
    check(memcmp((void *)(DATA_BASE + 0x300), rm_string, 16) == 0, 41, "backwards rep movsw copied it");
    check_eq(RES16(R_MOVSW_SI), 0x01FE, 42, "SI after backwards rep movsw");
    check_eq(RES16(R_MOVSW_DI), 0x02FE, 43, "DI after backwards rep movsw");
    int stos_ok = 1;
    for (int i = 0; i < 5; i++)
        stos_ok &= *(volatile uint16_t *)(DATA_BASE + 0x400 + 2 * i) == 0xBEEF;
    stos_ok &= *(volatile uint16_t *)(DATA_BASE + 0x40A) == 0;
    check(stos_ok, 44, "rep stosw stored 5 words");
    check_eq(RES16(R_STOS_DI), 0x040A, 45, "DI after rep stosw");
    check_eq(RES16(R_STOS_CX), 0, 46, "CX after rep stosw");
    check_eq(RES16(R_CMPS_CX), 10, 47, "repe cmpsb stopped after the 6th byte (CX)");
    check_eq(RES16(R_CMPS_SI), 0x0206, 48, "SI after repe cmpsb");
    check_eq(RES16(R_CMPS_FL) & (EFL_ZF | EFL_CF), 0, 49, "repe cmpsb: ZF=0, CF=0 ('l' > 'L')");
    check_eq(RES16(R_SCAS_CX), 6, 50, "repne scasb found '-' (CX)");
    check_eq(RES16(R_SCAS_DI), 0x020A, 51, "DI after repne scasb");
    check_eq(RES16(R_LODS_AX), 0xBABE, 52, "lodsw loaded the word");
    check_eq(RES16(R_LODS_SI), 0x0012, 53, "SI after lodsw");

    check_eq(RES16(R_MUL_AX), 0x2340, 60, "16-bit mul: AX");
    check_eq(RES16(R_MUL_DX), 0x0001, 61, "16-bit mul: DX");
    check_eq(RES16(R_FAR_CS), TRAMP_SEG, 62, "far call pushed CS");
    check_eq(RES16(R_FAR_IP), RES16(R_FAR_RET), 63, "far call pushed the return IP");
    check_eq(RES16(R_PUSH_SP), RM_STACK_TOP - 2, 64, "16-bit push decrements SP by 2");

    /* protected-mode IDT is back: an int3 must arrive through it */
    uint32_t before = exc.count;
    __asm__ volatile(FAULT_ASM("int3") ::: "memory");
    expect_exc(before, 3, -1, EIP_TRAP, 70, "protected-mode IDT restored (int3)");

    puts("realmode: all checks passed\n");
    return 0;
}
