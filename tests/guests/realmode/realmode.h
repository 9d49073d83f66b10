/* Shared layout between realmode.c and realmode_tramp.S. */
#define TRAMP_BASE 0x10000  /* trampoline copied here; real-mode CS = 0x1000 */
#define TRAMP_SEG 0x1000
#define RES_BASE 0x7000     /* result block; real mode reaches it as FS=0x0700 */
#define RES_SEG 0x0700
#define DATA_BASE 0x20000   /* test data; segment 0x2000 */
#define RM_STACK_SEG 0x3000
#define RM_STACK_TOP 0xFFF0

/* byte offsets inside the result block */
#define R_MAGIC 0x00      /* dword 0x524D4F4B ("RMOK") written last */
#define R_CR0 0x04        /* dword CR0 read in real mode */
#define R_SEG1 0x08       /* dword at 2000:0010 */
#define R_SEG2 0x0C       /* dword at 1FFF:0020 */
#define R_SEG3 0x10       /* dword at 2FFF:0000 */
#define R_SEG4 0x14       /* dword at 2000:[ESI=0x10] with an address-size prefix */
#define R_INT_AX 0x18     /* word: AX after int 0x30 */
#define R_INT_IP 0x1A     /* word: IP pushed by int 0x30 */
#define R_INT_CS 0x1C     /* word: CS pushed by int 0x30 */
#define R_INT_FL 0x1E     /* word: FLAGS pushed by int 0x30 */
#define R_INT_SP 0x20     /* word: SP inside the handler */
#define R_INT_HFL 0x22    /* word: FLAGS inside the handler */
#define R_INT_RET 0x24    /* word: offset of the instruction after int 0x30 */
#define R_DE_IP 0x26      /* word: IP pushed by the #DE (divide error) */
#define R_DE_SITE 0x28    /* word: offset of the faulting div */
#define R_DE_CNT 0x2A     /* word: number of #DE handler runs */
#define R_MOVSW_SI 0x2C   /* word: SI after backwards rep movsw */
#define R_MOVSW_DI 0x2E   /* word: DI after backwards rep movsw */
#define R_STOS_DI 0x30    /* word: DI after rep stosw */
#define R_STOS_CX 0x32    /* word: CX after rep stosw */
#define R_CMPS_CX 0x34    /* word: CX after repe cmpsb */
#define R_CMPS_SI 0x36    /* word: SI after repe cmpsb */
#define R_CMPS_FL 0x38    /* word: FLAGS after repe cmpsb */
#define R_SCAS_CX 0x3A    /* word: CX after repne scasb */
#define R_SCAS_DI 0x3C    /* word: DI after repne scasb */
#define R_LODS_AX 0x3E    /* word: AX from lodsw */
#define R_LODS_SI 0x40    /* word: SI after lodsw */
#define R_MUL_AX 0x42     /* word */
#define R_MUL_DX 0x44     /* word */
#define R_FAR_IP 0x46     /* word: IP pushed by a far call */
#define R_FAR_CS 0x48     /* word: CS pushed by a far call */
#define R_FAR_RET 0x4A    /* word: expected return offset */
#define R_PUSH_SP 0x4C    /* word: SP after pushing one word from RM_STACK_TOP */
#define R_SIZE 0x50
