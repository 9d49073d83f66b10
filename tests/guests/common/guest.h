/*
 * guest.h - shared declarations for faultline's own guest test kernels.
 *
 * The kernels are tiny freestanding multiboot v1 ELF32 programs.  They talk to
 * the simulator through exactly two I/O ports:
 *   0xE9  debug console, one character per OUTB
 *   0xF4  exit port: the value written ends the run, 0 = PASS, else FAIL
 * Everything else (GDT, IDT, TSS, paging, exception bookkeeping) is set up by
 * the kernels themselves; this header declares the small common library used
 * by all of them (the .c and .S files in common/).
 */
#ifndef FAULTLINE_GUEST_H
#define FAULTLINE_GUEST_H

typedef unsigned char uint8_t;
typedef unsigned short uint16_t;
typedef unsigned int uint32_t;
typedef unsigned long long uint64_t;
typedef signed char int8_t;
typedef short int16_t;
typedef int int32_t;
typedef long long int64_t;
typedef unsigned int uintptr_t;
typedef unsigned int size_t;

#define NULL ((void *)0)
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define ALIGNED(n) __attribute__((aligned(n)))
#define NOINLINE __attribute__((noinline))
#define NORETURN __attribute__((noreturn))
#define STR_(x) #x
#define STR(x) STR_(x)

/* ---- fixed ports and exit codes ------------------------------------------ */
#define PORT_CONSOLE 0xE9
#define PORT_EXIT 0xF4

/* Exit status used when an exception arrives that no test expected:
 * EXIT_UNEXPECTED_EXC + vector (vectors >= 32 all map to +31). Kernels use
 * codes 1..0x5F for their own checks so QEMU's (v<<1)|1 still fits a byte. */
#define EXIT_UNEXPECTED_EXC 0x60

/* ---- standard GDT layout (common/desc.c) --------------------------------- */
#define SEL_NULL 0x00
#define SEL_KCODE 0x08   /* 32-bit ring-0 code, base 0, 4 GiB */
#define SEL_KDATA 0x10   /* 32-bit ring-0 data, base 0, 4 GiB */
#define SEL_UCODE 0x1B   /* 32-bit ring-3 code, base 0, 4 GiB (index 3, RPL 3) */
#define SEL_UDATA 0x23   /* 32-bit ring-3 data, base 0, 4 GiB (index 4, RPL 3) */
#define SEL_TSS 0x28     /* 32-bit TSS (common tss) */
#define SEL_CODE16 0x30  /* 16-bit code, base/limit set by the kernel */
#define SEL_DATA16 0x38  /* 16-bit data, base/limit set by the kernel */
#define GDT_FIRST_FREE 8 /* indices 8.. are free for the individual tests */
#define GDT_ENTRIES 32

/* descriptor access bytes */
#define ACC_P 0x80
#define ACC_DPL(n) ((n) << 5)
#define ACC_S 0x10          /* code/data (as opposed to system) */
#define ACC_CODE_XR 0x1A    /* with S: code, execute/read */
#define ACC_DATA_RW 0x12    /* with S: data, read/write */
#define ACC_DATA_RO 0x10    /* with S: data, read-only */
#define ACC_TSS32 0x09      /* available 32-bit TSS */
#define ACC_TSS32_BUSY 0x0B
#define ACC_CALLGATE32 0x0C
/* descriptor flag nibble (bits 52..55) */
#define FLG_G 0x8
#define FLG_D 0x4

/* IDT gate types */
#define GATE_INT32 0x8E     /* P=1, DPL0, 32-bit interrupt gate */
#define GATE_TRAP32 0x8F    /* P=1, DPL0, 32-bit trap gate */
#define GATE_TASK 0x85      /* P=1, DPL0, task gate */

struct __attribute__((packed)) dtr {
    uint16_t limit;
    uint32_t base;
};

struct tss32 {
    uint16_t link, r0;
    uint32_t esp0;
    uint16_t ss0, r1;
    uint32_t esp1;
    uint16_t ss1, r2;
    uint32_t esp2;
    uint16_t ss2, r3;
    uint32_t cr3, eip, eflags, eax, ecx, edx, ebx, esp, ebp, esi, edi;
    uint16_t es, r4, cs, r5, ss, r6, ds, r7, fs, r8, gs, r9, ldt, r10;
    uint16_t trap, iomap_base;
};

extern uint64_t gdt[GDT_ENTRIES];
extern uint64_t idt[256];
extern const uint32_t isr_table[256]; /* addresses of the per-vector stubs */

uint64_t make_desc(uint32_t base, uint32_t limit, uint8_t access, uint8_t flags);
void gdt_set(int index, uint32_t base, uint32_t limit, uint8_t access, uint8_t flags);
void gdt_set_raw(int index, uint64_t desc);
void gdt_set_callgate(int index, uint16_t sel, uint32_t offset, int dpl, int params);
void gdt_load(void);           /* lgdt + reload CS/DS/ES/FS/GS/SS */
void idt_set_gate(int vec, uint32_t offset, uint16_t sel, uint8_t type_attr);
void idt_set_raw(int vec, uint64_t gate);
void idt_load(void);
void tss_install(struct tss32 *t, uint32_t limit, uint32_t esp0); /* GDT entry + ltr */

/* ---- exception frame and bookkeeping (common/desc.c, common/isr.S) ------- */
struct regs {
    uint32_t gs, fs, es, ds;       /* pushed by the stub; mask with 0xFFFF */
    uint32_t edi, esi, ebp, esp_k, ebx, edx, ecx, eax; /* pusha */
    uint32_t vector, error;        /* error = 0 for vectors without one */
    uint32_t eip, cs, eflags;      /* pushed by the CPU */
    uint32_t esp, ss;              /* only on a privilege change */
    uint32_t v86_es, v86_ds, v86_fs, v86_gs; /* only when leaving v86 mode */
};

struct exc_record {
    uint32_t vector, error, eip, cs, eflags, cr2;
    uint32_t frame;  /* address of the struct regs on the handler stack */
    uint32_t count;  /* total exceptions/interrupts seen */
};

extern volatile struct exc_record exc;
/* Set before an instruction that is expected to raise an exception: the
 * handler records the exception and resumes at this EIP (in the same code
 * segment, clearing EFLAGS.TF).  0 = no exception expected. */
extern volatile uint32_t exc_resume;
/* Set by the FAULT_ASM macro: the address of the instruction under test. */
extern volatile uint32_t fault_site;

typedef void (*exc_handler_t)(struct regs *r);
extern exc_handler_t exc_handlers[256]; /* optional per-vector C handler */

/* FAULT_ASM(insn): inline-asm text that arms exc_resume to the label after
 * `insn` and stores the address of `insn` in fault_site.  Use inside an
 * extended asm statement (registers are written %%eax). */
#define FAULT_ASM(insn)                                                     \
    "movl $8889f, exc_resume\n\t"                                           \
    "movl $8889f, fault_next\n\t"                                           \
    "movl $8888f, fault_site\n\t"                                           \
    "8888:\n\t" insn "\n\t"                                                 \
    "8889:\n\t"

/* Set by FAULT_ASM: the address just after `insn` (the EIP a trap saves). */
extern volatile uint32_t fault_next;

/* Checks that exactly one exception `vec` happened since `count_before`;
 * err < 0 means "do not check the error code"; eip_kind selects what the saved
 * EIP must be: EIP_FAULT = fault_site, EIP_TRAP = the address after, EIP_ANY. */
enum { EIP_ANY, EIP_FAULT, EIP_TRAP };
void expect_exc(uint32_t count_before, int vec, int err, int eip_kind, int code,
                const char *name);

/* ---- console, checks and exit (common/console.c) ------------------------- */
void putc(char c);
void puts(const char *s);
void put_hex(uint32_t v, int digits);
void put_dec(int32_t v);
void put_udec(uint32_t v);
void printf(const char *fmt, ...);
NORETURN void exit(uint32_t status);
/* called by exit() when running at CPL > 0 (e.g. a system call to ring 0) */
extern void (*exit_hook)(uint32_t status);
/* prints "  ok   name" or "  FAIL name" and exits with `code` on failure */
void check(int cond, int code, const char *name);
void check_eq(uint32_t got, uint32_t want, int code, const char *name);
NORETURN void fail(int code, const char *name);
void skip(const char *name, const char *why);

/* ---- multiboot (common/entry.S, common/lib.c) ---------------------------- */
#define MULTIBOOT_BOOT_MAGIC 0x2BADB002
struct multiboot_info {
    uint32_t flags, mem_lower, mem_upper, boot_device, cmdline;
    uint32_t mods_count, mods_addr;
    uint32_t syms[4];
    uint32_t mmap_length, mmap_addr;
};
extern uint32_t mb_magic;       /* EAX at entry */
extern uint32_t mb_info_addr;   /* EBX at entry */
extern uint32_t boot_bss_dirty; /* non-zero dwords found in .bss at entry */
extern char boot_stack_top[];
const char *cmdline(void);      /* "" if none */
int cmdline_has(const char *word); /* whitespace-separated word present */
/* True when the run is under QEMU (cmdline word "qemu"): used only to skip
 * checks of behaviour QEMU's TCG does not emulate. */
int on_qemu(void);

/* ---- libc bits (common/lib.c) -------------------------------------------- */
void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
void *memmove(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strncmp(const char *a, const char *b, size_t n);

/* ---- paging helper (common/lib.c) ---------------------------------------- */
#define PTE_P 0x001
#define PTE_W 0x002
#define PTE_U 0x004
#define PTE_PWT 0x008
#define PTE_PCD 0x010
#define PTE_A 0x020
#define PTE_D 0x040
#define PTE_PS 0x080
#define PTE_G 0x100
/* fill `pd` with 4 MiB identity pages covering [0, mib) with flags */
void pd_identity_4m(uint32_t *pd, uint32_t mib, uint32_t flags);
void paging_enable(uint32_t *pd); /* CR4.PSE=1, CR3=pd, CR0.PG=1 */
void paging_disable(void);

/* ---- CPU access ---------------------------------------------------------- */
static inline void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" ::"a"(v), "Nd"(port)); }
static inline void outw(uint16_t port, uint16_t v) { __asm__ volatile("outw %0, %1" ::"a"(v), "Nd"(port)); }
static inline void outl(uint16_t port, uint32_t v) { __asm__ volatile("outl %0, %1" ::"a"(v), "Nd"(port)); }
static inline uint8_t inb(uint16_t port) { uint8_t v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }

#define DEF_CR(n)                                                             \
    static inline uint32_t read_cr##n(void) { uint32_t v; __asm__ volatile("mov %%cr" #n ", %0" : "=r"(v)); return v; } \
    static inline void write_cr##n(uint32_t v) { __asm__ volatile("mov %0, %%cr" #n ::"r"(v) : "memory"); }
DEF_CR(0)
DEF_CR(2)
DEF_CR(3)
DEF_CR(4)
#undef DEF_CR

#define CR0_PE (1u << 0)
#define CR0_MP (1u << 1)
#define CR0_EM (1u << 2)
#define CR0_TS (1u << 3)
#define CR0_ET (1u << 4)
#define CR0_NE (1u << 5)
#define CR0_WP (1u << 16)
#define CR0_AM (1u << 18)
#define CR0_PG (1u << 31)
#define CR4_PSE (1u << 4)
#define CR4_PGE (1u << 7)

#define EFL_CF 0x0001
#define EFL_PF 0x0004
#define EFL_ZF 0x0040
#define EFL_SF 0x0080
#define EFL_TF 0x0100
#define EFL_IF 0x0200
#define EFL_DF 0x0400
#define EFL_OF 0x0800
#define EFL_IOPL(n) ((uint32_t)(n) << 12)
#define EFL_IOPL_MASK 0x3000
#define EFL_NT 0x4000
#define EFL_RF 0x10000
#define EFL_VM 0x20000
#define EFL_AC 0x40000

static inline uint32_t read_eflags(void) { uint32_t v; __asm__ volatile("pushfl; popl %0" : "=r"(v)); return v; }
static inline void write_eflags(uint32_t v) { __asm__ volatile("pushl %0; popfl" ::"r"(v) : "memory", "cc"); }
static inline uint16_t read_cs(void) { uint16_t v; __asm__ volatile("mov %%cs, %0" : "=r"(v)); return v; }
static inline uint16_t read_ss(void) { uint16_t v; __asm__ volatile("mov %%ss, %0" : "=r"(v)); return v; }
static inline uint32_t read_esp(void) { uint32_t v; __asm__ volatile("mov %%esp, %0" : "=r"(v)); return v; }
static inline void invlpg(uint32_t addr) { __asm__ volatile("invlpg (%0)" ::"r"(addr) : "memory"); }
static inline void mem_barrier(void) { __asm__ volatile("" ::: "memory"); }

#endif
