/* Shared layout between v86.c and v86_code.S. */
#define V86_BASE 0x10000   /* v86 code copied here; CS = 0x1000 */
#define V86_SEG 0x1000
#define VRES_BASE 0x7000   /* result block of pass p at 0x7000 + p*0x80 */
#define VRES_SEG 0x0700    /* FS = 0x0700 + p*8 */
#define V86_STACK_SEG 0x3000
#define V86_STACK_TOP 0xFFF0

#define V_MAGIC 0x00    /* dword 0x56383621 written last */
#define V_SEG1 0x04     /* dword at 2000:0010 */
#define V_SEG2 0x08     /* dword at 1FFF:0020 */
#define V_VER 0x0C      /* word: AX returned by service 0x30 */
#define V_FL_CLI 0x0E   /* word: pushf after cli */
#define V_FL_STI 0x10   /* word: pushf after sti */
#define V_DE 0x12       /* word: 0xDE00 | number of divide errors seen */
#define V_MOVS_DI 0x14  /* word: DI after rep movsb */
#define V_SP 0x16       /* word: SP when calling service 0x31 */
#define V_DIV_AX 0x18   /* word: AX after a normal div */
