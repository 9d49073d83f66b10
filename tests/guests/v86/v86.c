/*
 * v86 - virtual-8086 mode under a 32-bit monitor.
 *
 * Why: DOS-era software, BIOS calls from protected-mode kernels and some
 * boot paths run real-mode code in v86 mode; the interesting parts for the
 * simulator are the 9-dword IRET/interrupt frame, the segment registers
 * being zeroed on entry to the monitor, IOPL-sensitive instructions raising
 * #GP and the I/O bitmap applying regardless of IOPL.
 *
 * The same 16-bit program (v86_code.S) runs twice:
 *   pass 0, IOPL=0: int 0x21, cli, sti, pushf, popf trap with #GP(0) to the
 *     monitor (vector 13), which decodes and emulates them (virtual IF) and
 *     resumes after the instruction;
 *   pass 1, IOPL=3: the same instructions run directly; int 0x21 goes
 *     through a DPL-3 IDT gate to the same service code.
 * Both passes check: direct outb to 0xE9 (allowed by the bitmap with IOPL
 * 0) and #GP for outb to 0x80 (denied by the bitmap even with IOPL=3), segment*16+offset addressing, service results, the v86 frame on the
 * ring-0 stack (ES, DS, FS, GS, SS, ESP, EFLAGS with VM, CS, EIP at ESP0-36),
 * DS/ES/FS/GS = 0 inside the monitor, a divide error delivered through the
 * protected-mode IDT even with IOPL=0, the resulting EIP/IP, a normal div,
 * rep movsb, and the exit service returning to 32-bit code.
 */
#include "guest.h"
#include "v86.h"

extern char v86_start[], v86_end[];
void v86_return(void);
int enter_v86(uint32_t eflags, uint32_t fs);

static struct {
    struct tss32 t;
    uint8_t iomap[8192 + 1];
} tss_io ALIGNED(128);
static uint8_t kstack[8192] ALIGNED(16);

static int pass;
static int vif;
static uint32_t gp_count, int21_count, de_count, io_gp_count;
static struct {
    uint32_t frame_off, es, ds, fs, gs, ss, esp, cs, eip, eflags, pm_segs, error, vector;
} fr;

#define VRES16(p, off) (*(volatile uint16_t *)(VRES_BASE + (p) * 0x80 + (off)))
#define VRES32(p, off) (*(volatile uint32_t *)(VRES_BASE + (p) * 0x80 + (off)))

static void service(struct regs *r)
{
    int21_count++;
    switch ((r->eax >> 8) & 0xFF) {
    case 0x02:
        putc((char)(r->edx & 0xFF));
        break;
    case 0x30:
        r->eax = (r->eax & 0xFFFF0000) | 0x1234;
        break;
    case 0x31:
        fr.frame_off = tss_io.t.esp0 - (uint32_t)&r->eip;
        fr.es = r->v86_es & 0xFFFF;
        fr.ds = r->v86_ds & 0xFFFF;
        fr.fs = r->v86_fs & 0xFFFF;
        fr.gs = r->v86_gs & 0xFFFF;
        fr.ss = r->ss & 0xFFFF;
        fr.esp = r->esp;
        fr.cs = r->cs & 0xFFFF;
        fr.eip = exc.eip; /* as pushed by the CPU */
        fr.eflags = r->eflags;
        fr.pm_segs = (r->ds | r->es | r->fs | r->gs) & 0xFFFF;
        fr.error = exc.error;
        fr.vector = exc.vector;
        break;
    case 0x4C:
        r->eax = r->eax & 0xFF;
        r->eip = (uint32_t)v86_return;
        r->cs = SEL_KCODE;
        r->eflags = 0x2;
        r->ds = r->es = r->fs = r->gs = SEL_KDATA;
        break;
    default:
        printf("v86: unknown service %02x\n", (r->eax >> 8) & 0xFF);
        exit(80);
    }
}

static uint8_t *v86_lin(uint32_t seg, uint32_t off) { return (uint8_t *)((seg & 0xFFFF) * 16 + (off & 0xFFFF)); }

/* #GP from v86 mode with IOPL < 3: emulate the sensitive instruction */
static void gp_monitor(struct regs *r)
{
    if (!(r->eflags & EFL_VM)) {
        printf("v86: #GP outside v86 mode at %08x error %x\n", r->eip, r->error);
        exit(81);
    }
    gp_count++;
    uint8_t *ip = v86_lin(r->cs, r->eip);
    uint16_t sp = (uint16_t)r->esp;
    switch (ip[0]) {
    case 0xCD:
        r->eip = (r->eip + 2) & 0xFFFF;
        if (ip[1] != 0x21) {
            printf("v86: unexpected int %02x\n", ip[1]);
            exit(82);
        }
        service(r);
        return;
    case 0xE6: /* out imm8, al: only reached when the I/O bitmap denies the port */
        io_gp_count++;
        r->eip = (r->eip + 2) & 0xFFFF;
        return;
    case 0xFA:
        vif = 0;
        break;
    case 0xFB:
        vif = 1;
        break;
    case 0x9C: /* pushf (16-bit): the image carries the virtual IF */
        sp -= 2;
        *(uint16_t *)v86_lin(r->ss, sp) = (uint16_t)((r->eflags & ~EFL_IF) | (vif ? EFL_IF : 0));
        r->esp = (r->esp & 0xFFFF0000) | sp;
        break;
    case 0x9D: { /* popf (16-bit) */
        uint16_t v = *(uint16_t *)v86_lin(r->ss, sp);
        sp += 2;
        r->esp = (r->esp & 0xFFFF0000) | sp;
        vif = !!(v & EFL_IF);
        r->eflags = (r->eflags & ~0x0DD5u) | (v & 0x0DD5u);
        break;
    }
    default:
        printf("v86: cannot emulate opcode %02x at %04x:%04x\n", ip[0], r->cs & 0xFFFF, r->eip);
        exit(83);
    }
    r->eip = (r->eip + 1) & 0xFFFF;
}

/* int 0x21 through the IDT (IOPL = 3) */
static void int21_gate(struct regs *r)
{
    if (!(r->eflags & EFL_VM)) {
        puts("v86: int 0x21 from protected mode\n");
        exit(84);
    }
    service(r);
}

static void de_handler(struct regs *r)
{
    if (!(r->eflags & EFL_VM)) {
        puts("v86: #DE outside v86 mode\n");
        exit(85);
    }
    de_count++;
    VRES16(pass, V_DE)++;
    r->eip += 2; /* skip "div %bl" */
}

static void run_pass(int p, uint32_t iopl)
{
    int base = 10 + 30 * p;
    pass = p;
    vif = 0;
    gp_count = int21_count = de_count = io_gp_count = 0;
    memset(&fr, 0, sizeof(fr));
    memset((void *)(VRES_BASE + p * 0x80), 0, 0x80);
    printf("pass %d: IOPL=%u\n", p, iopl);

    int status = enter_v86(0x2 | EFL_VM | EFL_IOPL(iopl), VRES_SEG + p * 8);
    check_eq(read_cs(), SEL_KCODE, base, "back in 32-bit protected mode");
    check_eq(status, 0, base + 1, "exit service returned AL = 0");
    check_eq(VRES32(p, V_MAGIC), 0x56383621, base + 2, "v86 program ran to the end");
    check_eq(VRES32(p, V_SEG1), 0xCAFEBABE, base + 3, "2000:0010 reads physical 0x20010");
    check_eq(VRES32(p, V_SEG2), 0xCAFEBABE, base + 4, "1FFF:0020 reads physical 0x20010");
    check_eq(VRES16(p, V_VER), 0x1234, base + 5, "service 0x30 returned AX");
    check_eq(fr.frame_off, 36, base + 6, "v86 frame: 9 dwords below ESP0");
    check_eq(fr.es, 0x2100, base + 7, "frame ES");
    check_eq(fr.ds, 0x2000, base + 8, "frame DS");
    check_eq(fr.fs, VRES_SEG + p * 8, base + 9, "frame FS");
    check_eq(fr.gs, 0x4000, base + 10, "frame GS");
    check_eq(fr.ss, V86_STACK_SEG, base + 11, "frame SS");
    check_eq(fr.esp, VRES16(p, V_SP), base + 12, "frame ESP = SP at the int");
    check_eq(fr.cs, V86_SEG, base + 13, "frame CS");
    check(fr.eflags & EFL_VM, base + 14, "frame EFLAGS has VM set");
    check_eq((fr.eflags >> 12) & 3, iopl, base + 15, "frame EFLAGS IOPL");
    check_eq(fr.pm_segs, 0, base + 16, "DS/ES/FS/GS are null inside the monitor");
    uint8_t *ins = (uint8_t *)(V86_BASE + fr.eip);
    if (iopl < 3) {
        check_eq(fr.vector, 13, base + 17, "IOPL<3: int 0x21 raised #GP");
        check_eq(fr.error, 0, base + 18, "  with error code 0");
        check(ins[0] == 0xCD && ins[1] == 0x21, base + 19, "  saved EIP points at the int instruction");
    } else {
        check_eq(fr.vector, 0x21, base + 17, "IOPL=3: int 0x21 went through the IDT");
        check(ins[-2] == 0xCD && ins[-1] == 0x21, base + 19, "  saved EIP follows the int instruction");
    }
    check_eq(VRES16(p, V_FL_CLI) & EFL_IF, 0, base + 20, "cli then pushf: IF = 0");
    check_eq(VRES16(p, V_FL_STI) & EFL_IF, EFL_IF, base + 21, "sti then pushf: IF = 1");
    check_eq(VRES16(p, V_DE), 0xDE01, base + 22, "divide error went through the IDT once");
    check_eq(de_count, 1, base + 22, "#DE handler saw VM=1");
    check_eq(VRES16(p, V_DIV_AX), 0x020E, base + 23, "100 / 7 = 14 remainder 2");
    check_eq(VRES16(p, V_MOVS_DI), 0x0108, base + 24, "rep movsb: DI");
    check(memcmp((void *)0x20100, (void *)0x20010, 8) == 0, base + 25, "rep movsb copied 8 bytes");
    /* sensitive instructions: 34 greeting chars + 0x30 + 0x31 + 0x4C = 37 int 0x21,
     * plus cli, pushf, sti, pushf, cli = 42, plus the denied outb */
    check_eq(io_gp_count, 1, base + 26, "outb to port 0x80 (denied by the I/O bitmap): #GP");
    if (iopl < 3)
        check_eq(gp_count, 43, base + 28, "IOPL<3: every sensitive instruction trapped");
    else
        check_eq(gp_count, 1, base + 28, "IOPL=3: no other #GP");
    check_eq(int21_count, 37, base + 27, "int 0x21 services executed");
}

int kmain(void)
{
    puts("v86: virtual-8086 mode with a 32-bit monitor\n");
    memset(tss_io.iomap, 0xFF, sizeof(tss_io.iomap));
    tss_io.iomap[0xE9 / 8] &= (uint8_t)~(1u << (0xE9 % 8));
    tss_io.t.iomap_base = sizeof(struct tss32);
    tss_install(&tss_io.t, sizeof(tss_io) - 1, (uint32_t)kstack + sizeof(kstack));

    uint32_t len = (uint32_t)(v86_end - v86_start);
    memcpy((void *)V86_BASE, v86_start, len);
    memset((void *)0x20000, 0, 0x10000);
    *(volatile uint32_t *)0x20010 = 0xCAFEBABE;
    *(volatile uint32_t *)0x20014 = 0x87654321;

    exc_handlers[13] = gp_monitor;
    exc_handlers[0x21] = int21_gate;
    exc_handlers[0] = de_handler;
    idt_set_gate(0x21, isr_table[0x21], SEL_KCODE, GATE_INT32 | 0x60);

    run_pass(0, 0);
    run_pass(1, 3);

    puts("v86: all checks passed\n");
    return 0;
}
