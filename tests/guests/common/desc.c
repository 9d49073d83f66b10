/*
 * desc.c - descriptor tables (GDT, IDT, TSS) and the exception dispatcher.
 *
 * The GDT starts with the standard layout from guest.h, loaded by entry.S
 * before any C code runs.  guest_init() fills the IDT with the stubs from
 * isr.S (32-bit interrupt gates, DPL 0) so that every kernel gets a readable
 * report of an unexpected exception instead of a triple fault.
 *
 * isr_dispatch() records every exception/interrupt in `exc`.  A test expects
 * an exception by arming `exc_resume` (see FAULT_ASM in guest.h): the handler
 * then resumes there.  A per-vector C handler in exc_handlers[] takes
 * precedence and can do anything with the frame (v86 monitor, system calls).
 */
#include "guest.h"

#define DESC(base, limit, access, flags)                                       \
    ((((uint64_t)(base) & 0xFF000000ull) << 32) | ((uint64_t)((flags) & 0xF) << 52) | \
     (((uint64_t)(limit) & 0xF0000ull) << 32) | ((uint64_t)((access) & 0xFF) << 40) | \
     (((uint64_t)(base) & 0x00FFFFFFull) << 16) | ((uint64_t)(limit) & 0xFFFFull))

uint64_t gdt[GDT_ENTRIES] ALIGNED(8) = {
    [0] = 0,
    [1] = DESC(0, 0xFFFFF, ACC_P | ACC_DPL(0) | ACC_CODE_XR, FLG_G | FLG_D),
    [2] = DESC(0, 0xFFFFF, ACC_P | ACC_DPL(0) | ACC_DATA_RW, FLG_G | FLG_D),
    [3] = DESC(0, 0xFFFFF, ACC_P | ACC_DPL(3) | ACC_CODE_XR, FLG_G | FLG_D),
    [4] = DESC(0, 0xFFFFF, ACC_P | ACC_DPL(3) | ACC_DATA_RW, FLG_G | FLG_D),
    [5] = 0, /* TSS, filled by tss_install */
    [6] = DESC(0, 0xFFFF, ACC_P | ACC_DPL(0) | ACC_CODE_XR, 0),
    [7] = DESC(0, 0xFFFF, ACC_P | ACC_DPL(0) | ACC_DATA_RW, 0),
};

struct dtr gdt_ptr = {sizeof(gdt) - 1, (uint32_t)gdt};
uint64_t idt[256] ALIGNED(8);
static struct dtr idt_ptr = {sizeof(idt) - 1, (uint32_t)idt};

volatile struct exc_record exc;
volatile uint32_t exc_resume;
volatile uint32_t fault_site;
volatile uint32_t fault_next;
exc_handler_t exc_handlers[256];

uint64_t make_desc(uint32_t base, uint32_t limit, uint8_t access, uint8_t flags)
{
    return DESC(base, limit, access, flags);
}

void gdt_set_raw(int index, uint64_t desc) { gdt[index] = desc; }

void gdt_set(int index, uint32_t base, uint32_t limit, uint8_t access, uint8_t flags)
{
    gdt[index] = DESC(base, limit, access, flags);
}

void gdt_set_callgate(int index, uint16_t sel, uint32_t offset, int dpl, int params)
{
    gdt[index] = ((uint64_t)(offset & 0xFFFF0000u) << 32) |
                 ((uint64_t)(ACC_P | ACC_DPL(dpl) | ACC_CALLGATE32) << 40) |
                 ((uint64_t)(params & 0x1F) << 32) | ((uint64_t)sel << 16) | (offset & 0xFFFF);
}

void gdt_load(void)
{
    __asm__ volatile("lgdt %0\n\t"
                     "ljmp $0x08, $1f\n"
                     "1:\tmovw $0x10, %%ax\n\t"
                     "movw %%ax, %%ds\n\t"
                     "movw %%ax, %%es\n\t"
                     "movw %%ax, %%fs\n\t"
                     "movw %%ax, %%gs\n\t"
                     "movw %%ax, %%ss\n\t" ::"m"(gdt_ptr)
                     : "eax", "memory");
}

void idt_set_raw(int vec, uint64_t gate) { idt[vec] = gate; }

void idt_set_gate(int vec, uint32_t offset, uint16_t sel, uint8_t type_attr)
{
    idt[vec] = ((uint64_t)(offset & 0xFFFF0000u) << 32) | ((uint64_t)type_attr << 40) |
               ((uint64_t)sel << 16) | (offset & 0xFFFF);
}

void idt_load(void) { __asm__ volatile("lidt %0" ::"m"(idt_ptr) : "memory"); }

void tss_install(struct tss32 *t, uint32_t limit, uint32_t esp0)
{
    t->ss0 = SEL_KDATA;
    t->esp0 = esp0;
    gdt_set(SEL_TSS >> 3, (uint32_t)t, limit, ACC_P | ACC_TSS32, 0);
    __asm__ volatile("ltr %w0" ::"r"(SEL_TSS) : "memory");
}

void cmdline_save(void);

void guest_init(void)
{
    cmdline_save();
    /* QEMU's and Bochs' PCs still have a PIC and PIT that their BIOS left
     * running; mask them so that kernels may set EFLAGS.IF.  faultline has
     * no PIC: this only runs with the "qemu" or "maskpic" command-line word. */
    if (on_qemu() || cmdline_has("maskpic")) {
        outb(0x21, 0xFF);
        outb(0xA1, 0xFF);
    }
    for (int v = 0; v < 256; v++)
        idt_set_gate(v, isr_table[v], SEL_KCODE, GATE_INT32);
    idt_load();
}

static const char *const exc_names[32] = {
    "#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "CSO", "#TS", "#NP",
    "#SS", "#GP", "#PF", "15", "#MF", "#AC", "#MC", "#XM", "20", "21", "22", "23",
    "24", "25", "26", "27", "28", "29", "30", "31"};

void isr_dispatch(struct regs *r)
{
    exc.vector = r->vector;
    exc.error = r->error;
    exc.eip = r->eip;
    exc.cs = r->cs & 0xFFFF;
    exc.eflags = r->eflags;
    exc.cr2 = read_cr2();
    exc.frame = (uint32_t)r;
    exc.count++;

    if (exc_handlers[r->vector]) {
        exc_handlers[r->vector](r);
        return;
    }
    if (exc_resume) {
        r->eip = exc_resume;
        r->eflags &= ~EFL_TF;
        exc_resume = 0;
        return;
    }
    printf("\nUNEXPECTED %s (vector %u) error=%08x eip=%04x:%08x eflags=%08x cr2=%08x\n",
           r->vector < 32 ? exc_names[r->vector] : "interrupt", r->vector, r->error,
           r->cs & 0xFFFF, r->eip, r->eflags, exc.cr2);
    printf("  eax=%08x ebx=%08x ecx=%08x edx=%08x esi=%08x edi=%08x ebp=%08x\n", r->eax, r->ebx,
           r->ecx, r->edx, r->esi, r->edi, r->ebp);
    exit(EXIT_UNEXPECTED_EXC + (r->vector < 32 ? r->vector : 31));
}

void expect_exc(uint32_t count_before, int vec, int err, int eip_kind, int code,
                const char *name)
{
    exc_resume = 0;
    if (exc.count == count_before) {
        printf("  FAIL %s: no exception (expected vector %d)\n", name, vec);
        exit(code);
    }
    if (exc.count != count_before + 1) {
        printf("  FAIL %s: %u exceptions instead of one\n", name, exc.count - count_before);
        exit(code);
    }
    int bad = 0;
    if ((int)exc.vector != vec) {
        printf("  FAIL %s: vector %u, expected %d\n", name, exc.vector, vec);
        bad = 1;
    }
    if (err >= 0 && exc.error != (uint32_t)err) {
        printf("  FAIL %s: error code %08x, expected %08x\n", name, exc.error, err);
        bad = 1;
    }
    if (eip_kind == EIP_FAULT && exc.eip != fault_site) {
        printf("  FAIL %s: saved EIP %08x, expected the instruction at %08x\n", name, exc.eip,
               fault_site);
        bad = 1;
    }
    if (eip_kind == EIP_TRAP && exc.eip != fault_next) {
        printf("  FAIL %s: saved EIP %08x, expected the next instruction at %08x\n", name,
               exc.eip, fault_next);
        bad = 1;
    }
    if (bad)
        exit(code);
    printf("  ok   %s (vector %u", name, exc.vector);
    if (err >= 0)
        printf(", error %x", exc.error);
    printf(", eip %08x)\n", exc.eip);
}
