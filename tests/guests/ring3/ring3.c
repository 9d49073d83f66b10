/*
 * ring3 - privilege levels: running code at CPL 3 and getting back to 0.
 *
 * Why: every user process of a guest OS runs at CPL 3, and faultline's
 * direct-execution engine runs exactly that code natively; the transitions
 * (IRET to an outer ring, stack switch from the TSS, gates, privilege checks)
 * must match the hardware.
 *
 * Checked:
 *   - IRET to CPL 3 (CS/SS RPL 3); ring 3 prints on 0xE9 directly because
 *     the TSS I/O permission bitmap allows exactly that port
 *   - INT 0x80 through a DPL-3 trap gate: the handler runs on TSS.ESP0 (ESP
 *     = ESP0 minus the 5-dword frame) with the user SS:ESP and CS (RPL 3)
 *     saved; a trap gate keeps IF, a DPL-3 interrupt gate clears it; IRET
 *     returns to ring 3 with EAX from the handler
 *   - #GP(0) for privileged instructions at CPL 3 (cli/sti with IOPL=0,
 *     hlt, mov to/from CR0/CR3/DR7, lgdt, lidt, clts, invlpg, rdmsr) and
 *     for port I/O the bitmap denies (outb 0xF4, outw 0xE9 which also covers
 *     0xEA, inb 0x80); popf silently keeps IOPL and IF
 *   - INT n to a DPL-0 gate: #GP(n*8+2); int3 with a DPL-0 gate #GP(0x1A);
 *     into through a DPL-3 gate delivers #OF
 *   - a call gate (DPL 3 -> ring-0 code, 2 dword parameters): stack switch,
 *     parameters copied, CS/SS/ESP saved, lret $8 pops them on both stacks
 *   - #PF from user access to a supervisor page (error U|P and U|W|P) and
 *     write to a read-only user page
 *   - #AC: CR0.AM=1 and EFLAGS.AC=1, misaligned access at CPL 3
 *   - with IOPL=3: cli/sti/popf change IF, port I/O allowed without bitmap
 */
#include "guest.h"

#define SEL_CALLGATE 0x43   /* GDT index 8, RPL 3 */
#define VA_SUPER 0x04000000u /* 4 MiB supervisor page */
#define VA_USER_RO 0x04400000u /* 4 MiB user read-only page */

enum { SYS_EXIT, SYS_FRAME, SYS_ADD };

static struct {
    struct tss32 t;
    uint8_t iomap[8192 + 1];
} tss_io ALIGNED(128);
static uint32_t pd[1024] ALIGNED(4096);
static uint8_t kstack[8192] ALIGNED(16);
static uint8_t ustack[8192] ALIGNED(16);

int enter_user(void (*entry)(void), uint32_t user_esp, uint32_t eflags);
void user_return(void);
void callgate_entry(void);
uint32_t cg_frame[6], cg_esp, cg_cs;

/* values recorded by the SYS_FRAME system call */
static volatile struct {
    uint32_t frame_eip_addr, esp0, cs, ss, esp, user_esp, eflags, cpl_cs, handler_ss, if_in_handler;
} sysframe;
static volatile uint32_t int81_if;

static void syscall_handler(struct regs *r)
{
    switch (r->eax) {
    case SYS_EXIT:
        r->eax = r->ebx;
        r->eip = (uint32_t)user_return;
        r->cs = SEL_KCODE;
        r->eflags = 0x2;
        break;
    case SYS_FRAME:
        sysframe.frame_eip_addr = (uint32_t)&r->eip;
        sysframe.esp0 = tss_io.t.esp0;
        sysframe.cs = r->cs & 0xFFFF;
        sysframe.ss = r->ss & 0xFFFF;
        sysframe.esp = r->esp;
        sysframe.user_esp = r->ebx;
        sysframe.eflags = r->eflags;
        sysframe.cpl_cs = read_cs();
        sysframe.handler_ss = read_ss();
        sysframe.if_in_handler = read_eflags() & EFL_IF;
        r->eax = 0x600D;
        break;
    case SYS_ADD:
        r->eax = r->ebx + r->ecx;
        break;
    default:
        r->eax = (uint32_t)-1;
    }
}

static void int81_handler(struct regs *r) { (void)r; int81_if = read_eflags() & EFL_IF; }

static inline uint32_t sys(uint32_t n, uint32_t a, uint32_t b)
{
    uint32_t ret;
    __asm__ volatile("int $0x80" : "=a"(ret) : "a"(n), "b"(a), "c"(b) : "memory");
    return ret;
}

static NORETURN void user_exit(uint32_t status)
{
    sys(SYS_EXIT, status, 0);
    for (;;)
        ;
}

/* `setup` runs first, then `insn` must raise #GP(0) */
#define UGP2(setup, insn, code, name)                                          \
    do {                                                                       \
        uint32_t before = exc.count;                                           \
        __asm__ volatile(setup "\n\t" FAULT_ASM(insn) ::: "eax", "ecx", "edx", "memory"); \
        expect_exc(before, 13, 0, EIP_FAULT, code, name);                      \
    } while (0)
#define UGP(insn, code, name) UGP2("", insn, code, name)

/* ---------------------------------------------------------------- CPL 3 -- */
static NORETURN void user_main(void)
{
    puts("ring3: hello from CPL 3 (through port 0xE9 and the I/O bitmap)\n");
    check_eq(read_cs(), SEL_UCODE, 20, "CS = user code selector, CPL 3");
    check_eq(read_ss(), SEL_UDATA, 21, "SS = user data selector");

    uint32_t r;
    __asm__ volatile("movl %%esp, %%ebx\n\tint $0x80" : "=a"(r) : "a"(SYS_FRAME) : "ebx", "memory");
    check_eq(r, 0x600D, 22, "int 0x80 (DPL-3 trap gate) returns a value in EAX");
    check_eq(sys(SYS_ADD, 40, 2), 42, 23, "system call with arguments in EBX/ECX");
    __asm__ volatile("int $0x81" ::: "memory");

    puts("privileged instructions at CPL 3\n");
    UGP("cli", 30, "cli with IOPL=0");
    UGP("sti", 31, "sti with IOPL=0");
    UGP("hlt", 32, "hlt");
    UGP("movl %%cr0, %%eax", 33, "mov from CR0");
    UGP("movl %%eax, %%cr3", 34, "mov to CR3");
    UGP("movl %%eax, %%dr7", 35, "mov to DR7");
    UGP("lgdt (%%esp)", 36, "lgdt");
    UGP("lidt (%%esp)", 37, "lidt");
    UGP("clts", 38, "clts");
    UGP("invlpg (%%esp)", 39, "invlpg");
    UGP2("xorl %%ecx, %%ecx", "rdmsr", 40, "rdmsr");
    UGP2("movb $0x55, %%al", "outb %%al, $0xF4", 41, "outb to port 0xF4 (bitmap denies it)");
    UGP2("movw $0x4141, %%ax", "outw %%ax, $0xE9", 42, "outw to 0xE9 (port 0xEA denied)");
    UGP("inb $0x80, %%al", 43, "inb from port 0x80 (bitmap denies it)");

    uint32_t fl_before = read_eflags(), fl_after;
    __asm__ volatile("pushfl\n\t"
                     "xorl $0x3200, (%%esp)\n\t" /* try to set IOPL=3 and flip IF */
                     "popfl\n\t"
                     "pushfl\n\t"
                     "popl %0" : "=r"(fl_after) :: "memory", "cc");
    check_eq(fl_after & (EFL_IOPL_MASK | EFL_IF), fl_before & (EFL_IOPL_MASK | EFL_IF), 44,
             "popf at CPL 3 silently keeps IOPL and IF");

    puts("gates and privilege\n");
    uint32_t before = exc.count;
    __asm__ volatile(FAULT_ASM("int $0x40") ::: "memory");
    expect_exc(before, 13, 0x40 * 8 + 2, EIP_FAULT, 50, "int $0x40 to a DPL-0 gate: #GP(0x202)");
    before = exc.count;
    __asm__ volatile(FAULT_ASM("int3") ::: "memory");
    expect_exc(before, 13, 3 * 8 + 2, EIP_FAULT, 51, "int3 to a DPL-0 gate: #GP(0x1A)");
    before = exc.count;
    __asm__ volatile("movl $0x7fffffff, %%eax\n\taddl $1, %%eax\n\t" FAULT_ASM("into")
                     ::: "eax", "memory", "cc");
    expect_exc(before, 4, -1, EIP_TRAP, 52, "into through a DPL-3 gate: #OF");
    check_eq(exc.cs, SEL_UCODE, 52, "  saved CS has RPL 3");

    uint32_t esp_before, esp_after, ret_label;
    __asm__ volatile("movl %%esp, %0\n\t"
                     "movl $1f, %2\n\t"
                     "pushl $0x11111111\n\t"
                     "pushl $0x22222222\n\t"
                     "lcall %3, $0\n"
                     "1:\tmovl %%esp, %1"
                     : "=&r"(esp_before), "=&r"(esp_after), "=m"(ret_label)
                     : "i"(SEL_CALLGATE)
                     : "memory");
    check_eq(cg_cs, SEL_KCODE, 53, "call gate: handler runs with CS = ring-0 code");
    check_eq(cg_esp, tss_io.t.esp0 - 24, 54, "  stack switched to ESP0 minus 6 dwords");
    check_eq(cg_frame[0], ret_label, 55, "  saved EIP = return address");
    check_eq(cg_frame[1] & 0xFFFF, SEL_UCODE, 56, "  saved CS = user code (RPL 3)");
    check_eq(cg_frame[2], 0x22222222, 57, "  parameter 1 (last pushed) copied");
    check_eq(cg_frame[3], 0x11111111, 58, "  parameter 2 copied");
    check_eq(cg_frame[4], esp_before - 8, 59, "  saved user ESP points at the parameters");
    check_eq(cg_frame[5] & 0xFFFF, SEL_UDATA, 60, "  saved SS = user data");
    check_eq(esp_after, esp_before, 61, "  lret $8 removed the parameters from the user stack");

    puts("user/supervisor pages\n");
    check_eq(*(volatile uint32_t *)VA_USER_RO, 0xC0FFEE00, 70, "user read of a read-only user page");
    before = exc.count;
    __asm__ volatile(FAULT_ASM("movl (%0), %%eax") ::"r"(VA_SUPER + 0x10) : "eax", "memory");
    expect_exc(before, 14, 5, EIP_FAULT, 71, "user read of a supervisor page: #PF(U|P)");
    check_eq(exc.cr2, VA_SUPER + 0x10, 72, "  CR2");
    before = exc.count;
    __asm__ volatile(FAULT_ASM("movl %%eax, (%0)") ::"r"(VA_SUPER + 0x20) : "memory");
    expect_exc(before, 14, 7, EIP_FAULT, 73, "user write to a supervisor page: #PF(U|W|P)");
    before = exc.count;
    __asm__ volatile(FAULT_ASM("movl %%eax, (%0)") ::"r"(VA_USER_RO + 0x20) : "memory");
    expect_exc(before, 14, 7, EIP_FAULT, 74, "user write to a read-only user page: #PF(U|W|P)");

    puts("alignment check\n");
    static volatile uint32_t aligned_words[4] = {0x33221100, 0x77665544, 0, 0};
    __asm__ volatile("pushfl\n\torl $0x40000, (%%esp)\n\tpopfl" ::: "memory", "cc");
    check(read_eflags() & EFL_AC, 80, "EFLAGS.AC can be set at CPL 3");
    check_eq(aligned_words[1], 0x77665544, 81, "aligned access with AC=1 is fine");
    if (on_qemu()) {
        skip("misaligned access with CR0.AM=1, AC=1 at CPL 3: #AC(0)", "not emulated by QEMU TCG");
    } else {
        before = exc.count;
        __asm__ volatile(FAULT_ASM("movl 1(%0), %%eax") ::"r"(aligned_words) : "eax", "memory");
        expect_exc(before, 17, 0, EIP_FAULT, 82, "misaligned dword read, CR0.AM=1, AC=1 at CPL 3: #AC(0)");
        before = exc.count;
        __asm__ volatile(FAULT_ASM("movw %%ax, 3(%0)") ::"r"(aligned_words) : "memory");
        expect_exc(before, 17, 0, EIP_FAULT, 83, "misaligned word write: #AC(0)");
    }
    __asm__ volatile("pushfl\n\tandl $~0x40000, (%%esp)\n\tpopfl" ::: "memory", "cc");
    before = exc.count;
    __asm__ volatile("movl 1(%0), %%eax" ::"r"(aligned_words) : "eax", "memory");
    check(exc.count == before, 84, "misaligned access with AC=0: no exception");

    user_exit(0);
}

static NORETURN void user_main_iopl3(void)
{
    puts("ring3: IOPL=3\n");
    check_eq((read_eflags() >> 12) & 3, 3, 90, "running with IOPL=3");
    __asm__ volatile("cli");
    check(!(read_eflags() & EFL_IF), 91, "cli at CPL 3, IOPL 3 clears IF");
    __asm__ volatile("sti");
    check(read_eflags() & EFL_IF, 92, "sti sets IF");
    write_eflags(read_eflags() & ~EFL_IF);
    check(!(read_eflags() & EFL_IF), 93, "popf changes IF at IOPL 3");
    uint32_t before = exc.count;
    __asm__ volatile("movb $0, %%al\n\toutb %%al, $0x80" ::: "eax", "memory");
    check(exc.count == before, 94, "outb to a port the bitmap denies is allowed at IOPL 3");
    UGP("hlt", 95, "hlt is still privileged at IOPL 3");
    user_exit(0);
}

/* ---------------------------------------------------------------- CPL 0 -- */
int kmain(void)
{
    puts("ring3: privilege levels, TSS, gates\n");

    memset(tss_io.iomap, 0xFF, sizeof(tss_io.iomap));
    tss_io.iomap[0xE9 / 8] &= (uint8_t)~(1u << (0xE9 % 8));
    tss_io.t.iomap_base = sizeof(struct tss32);
    tss_install(&tss_io.t, sizeof(tss_io) - 1, (uint32_t)kstack + sizeof(kstack));
    gdt_set_callgate(SEL_CALLGATE >> 3, SEL_KCODE, (uint32_t)callgate_entry, 3, 2);
    gdt_load();

    exc_handlers[0x80] = syscall_handler;
    idt_set_gate(0x80, isr_table[0x80], SEL_KCODE, GATE_TRAP32 | 0x60);
    exc_handlers[0x81] = int81_handler;
    idt_set_gate(0x81, isr_table[0x81], SEL_KCODE, GATE_INT32 | 0x60);
    idt_set_gate(4, isr_table[4], SEL_KCODE, GATE_INT32 | 0x60);
    exit_hook = user_exit;

    pd_identity_4m(pd, 16, PTE_P | PTE_W | PTE_U);
    pd[VA_SUPER >> 22] = 0x00C00000 | PTE_PS | PTE_P | PTE_W;
    pd[VA_USER_RO >> 22] = 0x00C00000 | PTE_PS | PTE_P | PTE_U;
    *(volatile uint32_t *)0x00C00000 = 0xC0FFEE00;
    paging_enable(pd);
    write_cr0(read_cr0() | CR0_AM | CR0_WP);

    uint32_t ustack_top = (uint32_t)ustack + sizeof(ustack);
    int status = enter_user(user_main, ustack_top, 0x2 | EFL_IF);
    if (status)
        exit(status);
    puts("ring3: back at CPL 0\n");
    check_eq(read_cs(), SEL_KCODE, 2, "back at CPL 0");
    check_eq(sysframe.frame_eip_addr, sysframe.esp0 - 20, 3,
             "int 0x80: CPU frame at ESP0 minus 5 dwords (stack switch)");
    check_eq(sysframe.cs, SEL_UCODE, 4, "int 0x80: saved CS = 0x1B (RPL 3)");
    check_eq(sysframe.ss, SEL_UDATA, 5, "int 0x80: saved SS = 0x23 (RPL 3)");
    check_eq(sysframe.esp, sysframe.user_esp, 6, "int 0x80: saved ESP = user ESP");
    check_eq(sysframe.cpl_cs, SEL_KCODE, 7, "int 0x80: handler runs at CPL 0");
    check_eq(sysframe.handler_ss, SEL_KDATA, 8, "int 0x80: SS loaded from TSS.SS0");
    check(sysframe.eflags & EFL_IF, 9, "int 0x80: saved EFLAGS has the user's IF=1");
    check(sysframe.if_in_handler, 10, "trap gate: IF still 1 in the handler");
    check(!int81_if, 11, "DPL-3 interrupt gate: IF 0 in the handler");

    status = enter_user(user_main_iopl3, ustack_top, 0x2 | EFL_IF | EFL_IOPL(3));
    if (status)
        exit(status);
    check_eq(read_cs(), SEL_KCODE, 12, "back at CPL 0 after the IOPL=3 run");

    write_cr0(read_cr0() & ~CR0_AM);
    paging_disable();
    puts("ring3: all checks passed\n");
    return 0;
}
