/*
 * exceptions - delivery of every architectural exception class through a
 * 32-bit IDT, and of software interrupts 32..255.
 *
 * Why: the interpreter must record a pending exception, abandon the
 * instruction without side effects and deliver it with the right vector,
 * error code and saved EIP (the faulting instruction for faults, the next
 * instruction for traps).  Fault injection campaigns classify outcomes by
 * these exceptions, so they must be exact.
 *
 * Checked: #DE (div/idiv/8-bit overflow), #DB (TF single step with DR6.BS,
 * icebp, int $1, DR0 execute and DR1 write breakpoints), #BP (int3, int $3),
 * #OF (into with OF=1 and no trap with OF=0), #BR (bound), #UD (ud2, lock
 * nop, lock on a register operand, UD0, mov to CS), #NM (CR0.TS, CR0.EM,
 * fwait with MP), #DF (contributory #NP while delivering #GP or #DE), #TS
 * (jump to a TSS whose limit is < 0x67), #NP (segment not present, IDT gate
 * not present), #SS (SS limit, expand-down SS, not-present SS), #GP (many
 * segment rule violations, IDT limit, instruction longer than 15 bytes),
 * #PF (paging), #MF (unmasked x87 zero divide with CR0.NE=1), software
 * INT n for every vector 32..255 (vector and saved EIP), interrupt gate vs
 * trap gate (IF cleared or kept).  #AC needs CPL 3 and is in `ring3`.
 */
#include "guest.h"

#define SEL_NOTPRESENT 0x40
#define SEL_RODATA 0x48
#define SEL_SMALL 0x50     /* limit 0xFFF */
#define SEL_BIGSS 0x58     /* limit 0x7FFFFFFF */
#define SEL_EXPDOWN 0x60   /* expand-down, limit 0xFFFFF, B=1 */
#define SEL_XONLY 0x68     /* execute-only code */
#define SEL_BADTSS 0x70    /* TSS with limit 0x20 */

static struct tss32 tss;
static uint8_t tss_small[0x68] ALIGNED(16);
static uint32_t pd[1024] ALIGNED(4096);
static volatile uint32_t scratch = 0x5A5A5A5A;
static volatile uint32_t watched ALIGNED(4);
static uint32_t handler_eflags;
static uint32_t db_dr6;
extern char int_stubs[];

/* 256 stubs "int $n; ret", 4 bytes apart */
__asm__(".pushsection .text\n"
        ".p2align 2\n"
        "int_stubs:\n"
        ".set n, 0\n"
        ".rept 256\n"
        ".p2align 2\n"
        ".byte 0xCD, n\n"
        "ret\n"
        ".set n, n + 1\n"
        ".endr\n"
        ".popsection\n");

static uint32_t dr6_read(void) { uint32_t v; __asm__ volatile("mov %%dr6, %0" : "=r"(v)); return v; }
static void dr6_write(uint32_t v) { __asm__ volatile("mov %0, %%dr6" ::"r"(v)); }
static void dr7_write(uint32_t v) { __asm__ volatile("mov %0, %%dr7" ::"r"(v)); }

static void record_only(struct regs *r) { (void)r; handler_eflags = read_eflags(); }

static void db_step_handler(struct regs *r)
{
    db_dr6 = dr6_read();
    r->eflags &= ~EFL_TF;
}

#define BEFORE uint32_t before = exc.count

/* QEMU's TCG does not check segment limits or data-segment write permission
 * on ordinary memory accesses: such checks run only under faultline. */
static void qemu_gap(const char *what) { skip(what, "not emulated by QEMU TCG"); }

static void test_de(void)
{
    puts("#DE divide error\n");
    BEFORE;
    __asm__ volatile("xorl %%edx, %%edx\n\tmovl $1, %%eax\n\txorl %%ecx, %%ecx\n\t" FAULT_ASM("divl %%ecx")
                     ::: "eax", "ecx", "edx", "memory");
    expect_exc(before, 0, -1, EIP_FAULT, 1, "div by zero");
    before = exc.count;
    __asm__ volatile("movl $0x80000000, %%eax\n\tmovl $0xffffffff, %%edx\n\tmovl $-1, %%ecx\n\t"
                     FAULT_ASM("idivl %%ecx") ::: "eax", "ecx", "edx", "memory");
    expect_exc(before, 0, -1, EIP_FAULT, 2, "idiv INT_MIN / -1 overflow");
    before = exc.count;
    __asm__ volatile("movl $0x1000, %%eax\n\tmovb $0x10, %%cl\n\t" FAULT_ASM("divb %%cl")
                     ::: "eax", "ecx", "memory");
    expect_exc(before, 0, -1, EIP_FAULT, 3, "8-bit div quotient overflow");
}

static void test_db(void)
{
    puts("#DB debug\n");
    uint32_t expect_eip;
    dr6_write(0);
    exc_handlers[1] = db_step_handler;
    BEFORE;
    __asm__ volatile("movl $2f, %0\n\t"
                     "pushfl\n\t"
                     "orl $0x100, (%%esp)\n\t"
                     "popfl\n\t"
                     "1: nop\n\t"      /* TF set by popf: trap after this one */
                     "2: nop\n\t"
                     : "=m"(expect_eip)::"memory");
    exc_handlers[1] = NULL;
    check(exc.count == before + 1 && exc.vector == 1, 4, "TF single step: exactly one #DB");
    check_eq(exc.eip, expect_eip, 5, "  saved EIP after the instruction following popf");
    check(db_dr6 & 0x4000, 6, "  DR6.BS set");

    if (on_qemu()) {
        /* QEMU's TCG decodes F1 as an invalid opcode unless built with ICEBP */
        skip("icebp (0xF1) traps to vector 1", "QEMU raises #UD");
    } else {
        before = exc.count;
        __asm__ volatile(FAULT_ASM(".byte 0xF1") ::: "memory");
        expect_exc(before, 1, -1, EIP_TRAP, 7, "icebp (0xF1) traps to vector 1");
    }
    before = exc.count;
    __asm__ volatile(FAULT_ASM("int $1") ::: "memory");
    expect_exc(before, 1, -1, EIP_TRAP, 8, "int $1");

    /* DR0: instruction breakpoint (fault, EIP = the instruction) */
    dr6_write(0);
    before = exc.count;
    __asm__ volatile("movl $8888f, %%eax\n\t"
                     "movl %%eax, %%dr0\n\t"
                     "movl $0x401, %%eax\n\t"
                     "movl %%eax, %%dr7\n\t"
                     "nop\n\t" FAULT_ASM("nop") ::: "eax", "memory");
    dr7_write(0x400);
    expect_exc(before, 1, -1, EIP_FAULT, 9, "DR0 execute breakpoint: fault at the instruction");
    check(dr6_read() & 1, 9, "  DR6.B0 set");

    /* DR1: 4-byte data write breakpoint (trap, EIP after the write) */
    dr6_write(0);
    before = exc.count;
    __asm__ volatile("movl %0, %%dr1\n\t"
                     "movl $0x00D00404, %%eax\n\t"
                     "movl %%eax, %%dr7\n\t"
                     "movl (%0), %%eax\n\t"    /* a read must not trigger */
                     FAULT_ASM("movl %%eax, (%0)") ::"r"(&watched)
                     : "eax", "memory");
    dr7_write(0x400);
    expect_exc(before, 1, -1, EIP_TRAP, 10, "DR1 data write breakpoint: trap after the write");
    check(dr6_read() & 2, 10, "  DR6.B1 set");
}

static void test_bp_of_br(void)
{
    puts("#BP, #OF, #BR\n");
    BEFORE;
    __asm__ volatile(FAULT_ASM("int3") ::: "memory");
    expect_exc(before, 3, -1, EIP_TRAP, 11, "int3 (0xCC): EIP after");
    before = exc.count;
    __asm__ volatile(FAULT_ASM("int $3") ::: "memory");
    expect_exc(before, 3, -1, EIP_TRAP, 12, "int $3 (CD 03): EIP after");

    before = exc.count;
    __asm__ volatile("movl $0x7fffffff, %%eax\n\taddl $1, %%eax\n\t" FAULT_ASM("into")
                     ::: "eax", "memory", "cc");
    expect_exc(before, 4, -1, EIP_TRAP, 13, "into with OF=1: #OF, EIP after");
    before = exc.count;
    __asm__ volatile("xorl %%eax, %%eax\n\tinto" ::: "eax", "memory", "cc");
    check(exc.count == before, 14, "into with OF=0: no exception");

    static int32_t bounds[2] = {10, 20};
    before = exc.count;
    __asm__ volatile("movl $15, %%eax\n\tboundl %%eax, %0\n\t"
                     "movl $20, %%eax\n\tboundl %%eax, %0" ::"m"(bounds)
                     : "eax", "memory");
    check(exc.count == before, 15, "bound with index inside [10,20]: no exception");
    __asm__ volatile("movl $21, %%eax\n\t" FAULT_ASM("boundl %%eax, %0") ::"m"(bounds)
                     : "eax", "memory");
    expect_exc(before, 5, -1, EIP_FAULT, 16, "bound with index 21 > 20: #BR");
}

static void test_ud(void)
{
    puts("#UD invalid opcode\n");
    BEFORE;
    __asm__ volatile(FAULT_ASM("ud2") ::: "memory");
    expect_exc(before, 6, -1, EIP_FAULT, 17, "ud2");
    before = exc.count;
    __asm__ volatile(FAULT_ASM(".byte 0xF0, 0x90") ::: "memory");
    expect_exc(before, 6, -1, EIP_FAULT, 18, "lock nop (F0 90)");
    before = exc.count;
    __asm__ volatile(FAULT_ASM(".byte 0xF0, 0x01, 0xC0") ::: "memory");
    expect_exc(before, 6, -1, EIP_FAULT, 19, "lock add %eax,%eax (register destination)");
    before = exc.count;
    __asm__ volatile(FAULT_ASM(".byte 0x0F, 0xFF") ::: "memory");
    expect_exc(before, 6, -1, EIP_FAULT, 20, "UD0 (0F FF)");
    before = exc.count;
    __asm__ volatile(FAULT_ASM(".byte 0x8E, 0xC8") ::: "memory");
    expect_exc(before, 6, -1, EIP_FAULT, 21, "mov %ax, %cs (8E C8)");
}

static void test_nm(void)
{
    puts("#NM device not available\n");
    uint32_t cr0 = read_cr0() & ~(CR0_EM | CR0_TS);
    write_cr0(cr0 | CR0_MP | CR0_TS);
    BEFORE;
    __asm__ volatile(FAULT_ASM("fld1") ::: "memory");
    expect_exc(before, 7, -1, EIP_FAULT, 22, "CR0.TS=1: fld1 raises #NM");
    before = exc.count;
    __asm__ volatile(FAULT_ASM("fwait") ::: "memory");
    expect_exc(before, 7, -1, EIP_FAULT, 23, "CR0.TS=1, MP=1: fwait raises #NM");
    write_cr0((cr0 | CR0_TS) & ~CR0_MP);
    before = exc.count;
    __asm__ volatile("fwait" ::: "memory");
    check(exc.count == before, 24, "CR0.TS=1, MP=0: fwait does not fault");
    __asm__ volatile("clts");
    check_eq(read_cr0() & CR0_TS, 0, 25, "clts clears CR0.TS");
    write_cr0(cr0 | CR0_EM);
    before = exc.count;
    __asm__ volatile(FAULT_ASM("fld1") ::: "memory");
    expect_exc(before, 7, -1, EIP_FAULT, 26, "CR0.EM=1: fld1 raises #NM");
    write_cr0(cr0 | CR0_MP | CR0_NE);
    __asm__ volatile("fninit");
}

static void test_np_ss(void)
{
    puts("#NP segment not present, #SS stack fault\n");
    BEFORE;
    __asm__ volatile("movw %0, %%ax\n\t" FAULT_ASM("movw %%ax, %%ds") ::"i"(SEL_NOTPRESENT)
                     : "eax", "memory");
    expect_exc(before, 11, SEL_NOTPRESENT, EIP_FAULT, 27, "mov to DS of a not-present segment");
    before = exc.count;
    __asm__ volatile("movw %0, %%ax\n\t" FAULT_ASM("movw %%ax, %%fs") ::"i"(SEL_NOTPRESENT)
                     : "eax", "memory");
    expect_exc(before, 11, SEL_NOTPRESENT, EIP_FAULT, 28, "mov to FS of a not-present segment");
    idt[0x41] &= ~(1ull << 47);
    before = exc.count;
    __asm__ volatile(FAULT_ASM("int $0x41") ::: "memory");
    idt[0x41] |= 1ull << 47;
    expect_exc(before, 11, 0x41 * 8 + 2, EIP_FAULT, 29, "int $0x41 with gate not present: #NP(0x20A)");
    idt[3] &= ~(1ull << 47);
    before = exc.count;
    __asm__ volatile(FAULT_ASM("int3") ::: "memory");
    idt[3] |= 1ull << 47;
    expect_exc(before, 11, 3 * 8 + 2, EIP_FAULT, 30, "int3 with gate not present: #NP(0x1A), no #DF");

    before = exc.count;
    __asm__ volatile("movw %0, %%ax\n\t" FAULT_ASM("movw %%ax, %%ss") ::"i"(SEL_NOTPRESENT)
                     : "eax", "memory");
    expect_exc(before, 12, SEL_NOTPRESENT, EIP_FAULT, 31, "mov to SS of a not-present segment: #SS(sel)");
    if (on_qemu()) {
        qemu_gap("SS limit and expand-down SS checks");
        return;
    }
    before = exc.count;
    __asm__ volatile("movw %%ss, %%bx\n\t"
                     "movw %0, %%ax\n\t"
                     "movw %%ax, %%ss\n\t" FAULT_ASM("movl %%ss:0x80000000, %%eax")
                     "movw %%bx, %%ss\n\t" ::"i"(SEL_BIGSS)
                     : "eax", "ebx", "memory");
    expect_exc(before, 12, 0, EIP_FAULT, 32, "SS limit 0x7FFFFFFF, access at 0x80000000: #SS(0)");
    before = exc.count;
    __asm__ volatile("movw %%ss, %%bx\n\t"
                     "movw %0, %%ax\n\t"
                     "movw %%ax, %%ss\n\t"
                     "movl %%ss:0x100000, %%eax\n\t"  /* first valid offset */
                     FAULT_ASM("movl %%ss:0xFFFFC, %%eax")
                     "movw %%bx, %%ss\n\t" ::"i"(SEL_EXPDOWN)
                     : "eax", "ebx", "memory");
    expect_exc(before, 12, 0, EIP_FAULT, 33, "expand-down SS (limit 0xFFFFF): access below the limit");
}

static void test_gp(void)
{
    puts("#GP general protection\n");
    BEFORE;
    __asm__ volatile("movw $0x1F8, %%ax\n\t" FAULT_ASM("movw %%ax, %%ds") ::: "eax", "memory");
    expect_exc(before, 13, 0x1F8, EIP_FAULT, 34, "DS selector beyond the GDT limit");
    before = exc.count;
    __asm__ volatile("xorl %%eax, %%eax\n\tlldt %%ax\n\t" /* the reset LDTR would be usable */
                     "movw $0x0C, %%ax\n\t" FAULT_ASM("movw %%ax, %%es") ::: "eax", "memory");
    expect_exc(before, 13, 0x0C, EIP_FAULT, 35, "LDT selector with a null LDT");
    before = exc.count;
    __asm__ volatile("xorl %%eax, %%eax\n\t" FAULT_ASM("movw %%ax, %%ss") ::: "eax", "memory");
    expect_exc(before, 13, 0, EIP_FAULT, 36, "null selector into SS");
    before = exc.count;
    __asm__ volatile("movw %0, %%ax\n\t" FAULT_ASM("movw %%ax, %%ss") ::"i"(SEL_RODATA)
                     : "eax", "memory");
    expect_exc(before, 13, SEL_RODATA, EIP_FAULT, 37, "read-only data segment into SS");
    before = exc.count;
    __asm__ volatile("movw %0, %%ax\n\t" FAULT_ASM("movw %%ax, %%ds") ::"i"(SEL_XONLY)
                     : "eax", "memory");
    expect_exc(before, 13, SEL_XONLY, EIP_FAULT, 38, "execute-only code segment into DS");
    before = exc.count;
    __asm__ volatile(FAULT_ASM("ljmp $0x10, $0") ::: "memory");
    expect_exc(before, 13, 0x10, EIP_FAULT, 39, "far jmp to a data segment");
    if (on_qemu()) {
        qemu_gap("write through read-only DS/CS, ES limit checks");
    } else {
        before = exc.count;
        __asm__ volatile("movw %0, %%ax\n\tmovw %%ax, %%es\n\t" FAULT_ASM("movl %%eax, %%es:(%1)")
                         "movw $0x10, %%ax\n\tmovw %%ax, %%es" ::"i"(SEL_RODATA), "r"(&scratch)
                         : "eax", "memory");
        expect_exc(before, 13, 0, EIP_FAULT, 40, "write through a read-only data segment");
        check_eq(scratch, 0x5A5A5A5A, 40, "  memory unchanged");
        before = exc.count;
        __asm__ volatile(FAULT_ASM("movl %%eax, %%cs:(%0)") ::"r"(&scratch) : "memory");
        expect_exc(before, 13, 0, EIP_FAULT, 41, "write through CS");
        before = exc.count;
        __asm__ volatile("movw %0, %%ax\n\tmovw %%ax, %%es\n\t"
                         "movl %%es:0xFFC, %%eax\n\t"   /* last full dword: fine */
                         FAULT_ASM("movl %%es:0xFFD, %%eax")
                         "movw $0x10, %%ax\n\tmovw %%ax, %%es" ::"i"(SEL_SMALL)
                         : "eax", "memory");
        expect_exc(before, 13, 0, EIP_FAULT, 42, "dword at offset 0xFFD crosses ES limit 0xFFF");
    }
    before = exc.count;
    __asm__ volatile(FAULT_ASM(".fill 15, 1, 0x66\n\tnop") ::: "memory");
    expect_exc(before, 13, 0, EIP_FAULT, 43, "instruction of 16 bytes (15 prefixes + nop)");
    before = exc.count;
    __asm__ volatile(".fill 14, 1, 0x66\n\tnop" ::: "memory");
    check(exc.count == before, 43, "instruction of 15 bytes is fine");

    static struct dtr small_idt;
    small_idt.limit = 0x40 * 8 - 1;
    small_idt.base = (uint32_t)idt;
    before = exc.count;
    __asm__ volatile("lidt %0\n\t" FAULT_ASM("int $0x50") ::"m"(small_idt) : "memory");
    idt_load();
    expect_exc(before, 13, 0x50 * 8 + 2, EIP_FAULT, 44, "int $0x50 beyond the IDT limit: #GP(0x282)");
}

static void test_df_ts(void)
{
    puts("#DF double fault, #TS invalid TSS\n");
    idt[13] &= ~(1ull << 47);
    BEFORE;
    __asm__ volatile("movw $0x1F8, %%ax\n\t" FAULT_ASM("movw %%ax, %%ds") ::: "eax", "memory");
    idt[13] |= 1ull << 47;
    expect_exc(before, 8, 0, EIP_ANY, 45, "#GP with its gate not present -> #NP -> #DF(0)");
    idt[0] &= ~(1ull << 47);
    before = exc.count;
    __asm__ volatile("xorl %%edx, %%edx\n\tmovl $1, %%eax\n\txorl %%ecx, %%ecx\n\t" FAULT_ASM("divl %%ecx")
                     ::: "eax", "ecx", "edx", "memory");
    idt[0] |= 1ull << 47;
    expect_exc(before, 8, 0, EIP_ANY, 46, "#DE with its gate not present -> #DF(0)");

    before = exc.count;
    __asm__ volatile(FAULT_ASM("ljmp %0, $0") ::"i"(SEL_BADTSS) : "memory");
    expect_exc(before, 10, SEL_BADTSS, EIP_FAULT, 47, "jmp to a TSS with limit 0x20: #TS(sel)");
}

static void test_pf(void)
{
    puts("#PF page fault\n");
    pd_identity_4m(pd, 16, PTE_P | PTE_W);
    paging_enable(pd);
    BEFORE;
    __asm__ volatile(FAULT_ASM("movl (%0), %%eax") ::"r"(0x40000010) : "eax", "memory");
    expect_exc(before, 14, 0, EIP_FAULT, 48, "read of an unmapped address");
    check_eq(exc.cr2, 0x40000010, 48, "  CR2");
    before = exc.count;
    __asm__ volatile(FAULT_ASM("movl %%eax, (%0)") ::"r"(0x40001234) : "memory");
    expect_exc(before, 14, 2, EIP_FAULT, 49, "write to an unmapped address");
    check_eq(exc.cr2, 0x40001234, 49, "  CR2");
    paging_disable();
}

static void test_mf(void)
{
    puts("#MF x87 floating-point error\n");
    write_cr0((read_cr0() | CR0_NE | CR0_MP) & ~(CR0_EM | CR0_TS));
    static const uint16_t cw_zm_unmasked = 0x037B;
    uint16_t sw;
    __asm__ volatile("fninit\n\tfldcw %0\n\tfldz\n\tfld1\n\tfdiv %%st(1), %%st" ::"m"(cw_zm_unmasked)
                     : "memory");
    __asm__ volatile("fnstsw %0" : "=m"(sw));
    check((sw & 0x84) == 0x84, 50, "unmasked 1/0 sets SW.ZE and SW.ES without faulting");
    BEFORE;
    __asm__ volatile(FAULT_ASM("fwait") ::: "memory");
    expect_exc(before, 16, -1, EIP_FAULT, 51, "next fwait raises #MF");
    __asm__ volatile("fnclex\n\tfnstsw %0" : "=m"(sw));
    check((sw & 0x80) == 0, 52, "fnclex clears SW.ES");
    if (on_qemu()) {
        /* QEMU checks for a pending x87 error only in fwait */
        skip("next waiting x87 instruction (fld1) raises #MF", "QEMU checks only in fwait");
    } else {
        __asm__ volatile("fld1\n\tfdiv %%st(2), %%st" ::: "memory");
        before = exc.count;
        __asm__ volatile(FAULT_ASM("fld1") ::: "memory");
        expect_exc(before, 16, -1, EIP_FAULT, 53, "next waiting x87 instruction (fld1) raises #MF");
    }
    __asm__ volatile("fnclex\n\tfninit");
}

static void test_int_n(void)
{
    puts("software INT n, n = 32..255\n");
    for (int v = 32; v < 256; v++)
        exc_handlers[v] = record_only;
    int bad = 0;
    for (int v = 32; v < 256; v++) {
        uint32_t stub = (uint32_t)int_stubs + 4 * v;
        BEFORE;
        __asm__ volatile("call *%0" ::"r"(stub) : "memory");
        if (exc.count != before + 1 || exc.vector != (uint32_t)v || exc.eip != stub + 2 ||
            exc.cs != SEL_KCODE) {
            printf("  FAIL int $%u: count %u vector %u eip %08x (expected %08x)\n", v,
                   exc.count - before, exc.vector, exc.eip, stub + 2);
            bad = 1;
        }
    }
    check(!bad, 54, "int $n reaches vector n with EIP after the instruction, for all 224");

    idt_set_gate(0x80, isr_table[0x80], SEL_KCODE, GATE_TRAP32);
    __asm__ volatile("sti\n\tint $0x80\n\tcli" ::: "memory");
    check(handler_eflags & EFL_IF, 55, "trap gate keeps IF=1 in the handler");
    __asm__ volatile("sti\n\tint $0x81\n\tcli" ::: "memory");
    check(!(handler_eflags & EFL_IF), 56, "interrupt gate clears IF in the handler");
    check(!(read_eflags() & EFL_IF), 56, "IF back to 0");
    for (int v = 32; v < 256; v++)
        exc_handlers[v] = NULL;
}

int kmain(void)
{
    puts("exceptions: CPU exceptions and software interrupts\n");
    gdt_set(SEL_NOTPRESENT >> 3, 0, 0xFFFFF, ACC_DATA_RW, FLG_G | FLG_D);  /* P=0 */
    gdt_set(SEL_RODATA >> 3, 0, 0xFFFFF, ACC_P | ACC_DATA_RO, FLG_G | FLG_D);
    gdt_set(SEL_SMALL >> 3, 0, 0xFFF, ACC_P | ACC_DATA_RW, FLG_D);
    gdt_set(SEL_BIGSS >> 3, 0, 0x7FFFF, ACC_P | ACC_DATA_RW, FLG_G | FLG_D);
    gdt_set(SEL_EXPDOWN >> 3, 0, 0xFFFFF, ACC_P | ACC_DATA_RW | 0x04, FLG_D);
    gdt_set(SEL_XONLY >> 3, 0, 0xFFFFF, ACC_P | 0x18, FLG_G | FLG_D);
    gdt_set(SEL_BADTSS >> 3, (uint32_t)tss_small, 0x20, ACC_P | ACC_TSS32, 0);
    gdt_load();
    tss_install(&tss, sizeof(tss) - 1, (uint32_t)boot_stack_top);

    test_de();
    test_db();
    test_bp_of_br();
    test_ud();
    test_nm();
    test_np_ss();
    test_gp();
    test_df_ts();
    test_pf();
    test_mf();
    test_int_n();

    puts("exceptions: all checks passed\n");
    return 0;
}
