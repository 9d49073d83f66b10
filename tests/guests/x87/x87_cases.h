/*
 * x87_cases.h - the x87 test cases, shared by the x87 guest kernel and the
 * host program tools/x87_gen.c that recorded their results on real x86
 * hardware into x87_expected.h.
 *
 * Each case starts from FNINIT (round to nearest, 64-bit precision, all
 * exceptions masked), runs a few x87 instructions and stores results (80-bit
 * values with FSTPT, integers, BCD, status/control/tag words, EFLAGS) into
 * the output buffer; it returns the number of bytes written.  Cases with a
 * non-zero tolerance (transcendental instructions) store only 80-bit values,
 * which are compared with that many units in the last place of the 64-bit
 * significand; all other cases must match bit for bit.
 *
 * Included after <stdint>-like typedefs (uint8_t, uint16_t, uint32_t,
 * uint64_t).  Constants are global (not static) so inline asm can name them.
 */

#define X87_MAX_OUT 160

/* ---- constants (IEEE bit patterns, so no C floating point is involved) -- */
const uint64_t kd_1 = 0x3FF0000000000000ull, kd_m1 = 0xBFF0000000000000ull;
const uint64_t kd_1_5 = 0x3FF8000000000000ull, kd_2_25 = 0x4002000000000000ull;
const uint64_t kd_2 = 0x4000000000000000ull, kd_3 = 0x4008000000000000ull;
const uint64_t kd_4 = 0x4010000000000000ull, kd_8 = 0x4020000000000000ull;
const uint64_t kd_9 = 0x4022000000000000ull, kd_10 = 0x4024000000000000ull;
const uint64_t kd_11 = 0x4026000000000000ull, kd_12 = 0x4028000000000000ull;
const uint64_t kd_0_25 = 0x3FD0000000000000ull;
const uint64_t kd_0_5 = 0x3FE0000000000000ull, kd_m2 = 0xC000000000000000ull;
const uint64_t kd_2_5 = 0x4004000000000000ull, kd_m2_5 = 0xC004000000000000ull;
const uint64_t kd_1_7 = 0x3FFB333333333333ull, kd_m1_7 = 0xBFFB333333333333ull;
const uint64_t kd_pi = 0x400921FB54442D18ull, kd_0_1 = 0x3FB999999999999Aull;
const uint64_t kd_qnan = 0x7FF8000000000000ull, kd_inf = 0x7FF0000000000000ull;
const uint32_t kf_pi = 0x40490FDB, kf_1_25 = 0x3FA00000, kf_denorm = 0x00000001;
const uint32_t kf_snan = 0x7F800001, kf_m0 = 0x80000000;
const uint16_t kw_m12345 = 0xCFC7, kw_3 = 3, kw_7 = 7;
const uint32_t kl_max = 0x7FFFFFFF, kl_3 = 3, kl_m7 = 0xFFFFFFF9;
const uint64_t kq_minp1 = 0x8000000000000001ull, kq_big = 0x01B69B4BA630F34Eull;
const uint8_t kt_max[10] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE, 0x7F};
const uint8_t kt_minnorm[10] = {0, 0, 0, 0, 0, 0, 0, 0x80, 0x01, 0x00};
const uint8_t kt_pi[10] = {0x35, 0xC2, 0x68, 0x21, 0xA2, 0xDA, 0x0F, 0xC9, 0x00, 0x40};
const uint8_t kt_denorm[10] = {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x40, 0x00, 0x00};
const uint8_t kbcd_m987654321[10] = {0x21, 0x43, 0x65, 0x87, 0x09, 0, 0, 0, 0, 0x80};
const uint16_t cw_near = 0x037F, cw_down = 0x077F, cw_up = 0x0B7F, cw_chop = 0x0F7F;
const uint16_t cw_single = 0x007F, cw_double = 0x027F, cw_unmasked_pe = 0x035F;

/* Store the status word with only the bits defined after arithmetic:
 * exception flags, SF, ES, C1 and TOP (C0, C2, C3 are undefined there). */
#define SW_ARITH(off) "fnstsw %%ax\n\t andw $0x3AFF, %%ax\n\t movw %%ax, " #off "(%0)\n\t"

#define X87(text, ...) \
    __asm__ volatile("fninit\n\t" text ::"r"(o), ##__VA_ARGS__ : "memory", "eax", "cc")

/* ---- arithmetic ---------------------------------------------------------- */
static int c_add(uint8_t *o)
{
    X87("fldl kd_1_5\n\t faddl kd_2_25\n\t fstpt (%0)\n\t"          /* 3.75 */
        "fld1\n\t fldl kd_2\n\t fadd %%st(1), %%st\n\t fstpt 10(%0)\n\t"
        "fldl kd_2\n\t fadd %%st, %%st(1)\n\t fstpt 20(%0)\n\t fstpt 30(%0)\n\t"
        "fldl kd_10\n\t fadds kf_1_25\n\t fstpt 40(%0)\n\t"
        "fldl kd_10\n\t fiadds kw_3\n\t fstpt 50(%0)\n\t"
        "fldl kd_10\n\t fiaddl kl_m7\n\t fstpt 60(%0)\n\t"
        "fld1\n\t fldl kd_0_1\n\t faddp\n\t fstpt 70(%0)\n\t");
    return 80;
}

static int c_sub(uint8_t *o)
{
    X87("fldl kd_10\n\t fsubl kd_4\n\t fstpt (%0)\n\t"
        "fldl kd_10\n\t fsubrl kd_4\n\t fstpt 10(%0)\n\t"
        "fldl kd_4\n\t fldl kd_10\n\t fsub %%st(1), %%st\n\t fstpt 20(%0)\n\t fstpt 30(%0)\n\t"
        "fldl kd_4\n\t fldl kd_10\n\t fsubr %%st(1), %%st\n\t fstpt 40(%0)\n\t fstpt 50(%0)\n\t"
        "fldl kd_4\n\t fldl kd_10\n\t fsub %%st, %%st(1)\n\t fstpt 60(%0)\n\t fstpt 70(%0)\n\t"
        "fldl kd_4\n\t fldl kd_10\n\t fsubp\n\t fstpt 80(%0)\n\t"
        "fldl kd_4\n\t fldl kd_10\n\t fsubrp\n\t fstpt 90(%0)\n\t"
        "fldl kd_10\n\t fisubs kw_3\n\t fstpt 100(%0)\n\t"
        "fldl kd_10\n\t fisubrl kl_3\n\t fstpt 110(%0)\n\t"
        "fldl kd_0_1\n\t fsubs kf_1_25\n\t fstpt 120(%0)\n\t");
    return 130;
}

static int c_mul(uint8_t *o)
{
    X87("fldl kd_1_5\n\t fmull kd_2_25\n\t fstpt (%0)\n\t"
        "fldl kd_0_1\n\t fmuls kf_pi\n\t fstpt 10(%0)\n\t"
        "fldl kd_3\n\t fimuls kw_m12345\n\t fstpt 20(%0)\n\t"
        "fldl kd_0_1\n\t fimull kl_max\n\t fstpt 30(%0)\n\t"
        "fldl kd_3\n\t fldl kd_0_1\n\t fmul %%st(1), %%st\n\t fstpt 40(%0)\n\t"
        "fldl kd_0_1\n\t fmul %%st, %%st(1)\n\t fstp %%st(0)\n\t fstpt 50(%0)\n\t"
        "fldl kd_pi\n\t fldl kd_pi\n\t fmulp\n\t fstpt 60(%0)\n\t");
    return 70;
}

static int c_div(uint8_t *o)
{
    X87("fld1\n\t fdivl kd_3\n\t fstpt (%0)\n\t"                     /* 1/3 */
        "fld1\n\t fdivrl kd_3\n\t fstpt 10(%0)\n\t"                  /* 3 */
        "fldl kd_10\n\t fldl kd_4\n\t fdiv %%st(1), %%st\n\t fstpt 20(%0)\n\t fstpt 30(%0)\n\t"
        "fldl kd_10\n\t fldl kd_4\n\t fdivr %%st(1), %%st\n\t fstpt 40(%0)\n\t fstpt 50(%0)\n\t"
        "fldl kd_10\n\t fldl kd_4\n\t fdiv %%st, %%st(1)\n\t fstpt 60(%0)\n\t fstpt 70(%0)\n\t"
        "fldl kd_10\n\t fldl kd_3\n\t fdivp\n\t fstpt 80(%0)\n\t"
        "fldl kd_10\n\t fldl kd_3\n\t fdivrp\n\t fstpt 90(%0)\n\t"
        "fldl kd_10\n\t fidivs kw_7\n\t fstpt 100(%0)\n\t"
        "fldl kd_10\n\t fidivrl kl_3\n\t fstpt 110(%0)\n\t"
        "fldl kd_pi\n\t fdivs kf_pi\n\t fstpt 120(%0)\n\t");
    return 130;
}

/* 1/3 and 2/3 under the precision-control and rounding-control settings */
static int c_precision_rounding(uint8_t *o)
{
    X87("fldcw cw_single\n\t fld1\n\t fdivl kd_3\n\t fstpt (%0)\n\t"
        "fldcw cw_double\n\t fld1\n\t fdivl kd_3\n\t fstpt 10(%0)\n\t"
        "fldcw cw_down\n\t fld1\n\t fdivl kd_3\n\t fstpt 20(%0)\n\t"
        "fldcw cw_up\n\t fld1\n\t fdivl kd_3\n\t fstpt 30(%0)\n\t"
        "fldcw cw_chop\n\t fldl kd_m2\n\t fdivl kd_3\n\t fstpt 40(%0)\n\t"
        "fldcw cw_down\n\t fldl kd_m2\n\t fdivl kd_3\n\t fstpt 50(%0)\n\t"
        "fldcw cw_up\n\t fldl kd_m2\n\t fdivl kd_3\n\t fstpt 60(%0)\n\t"
        "fldcw cw_single\n\t fldl kd_0_1\n\t fmull kd_3\n\t fstpt 70(%0)\n\t"
        "fnstsw 80(%0)\n\t");
    return 82;
}

static int c_sqrt_misc(uint8_t *o)
{
    X87("fldl kd_2\n\t fsqrt\n\t fstpt (%0)\n\t"
        "fldl kd_9\n\t fsqrt\n\t fstpt 10(%0)\n\t"
        "fldl kd_m2_5\n\t fabs\n\t fstpt 20(%0)\n\t"
        "fldl kd_2_5\n\t fchs\n\t fstpt 30(%0)\n\t"
        "fldz\n\t fchs\n\t fstpt 40(%0)\n\t"
        "fldl kd_3\n\t fldl kd_1_5\n\t fscale\n\t fstpt 50(%0)\n\t fstp %%st(0)\n\t"  /* 1.5*2^3 */
        "fldl kd_m2\n\t fldl kd_12\n\t fscale\n\t fstpt 60(%0)\n\t fstp %%st(0)\n\t"  /* 12*2^-2 */
        "fldl kd_12\n\t fxtract\n\t fstpt 70(%0)\n\t fstpt 80(%0)\n\t"             /* 1.5, 3 */
        "fldl kd_0_1\n\t fxtract\n\t fstpt 90(%0)\n\t fstpt 100(%0)\n\t");
    return 110;
}

/* partial remainders: results and the quotient bits C0, C3, C1 (and C2=0) */
static int c_prem(uint8_t *o)
{
    X87("fldl kd_3\n\t fldl kd_10\n\t fprem\n\t fnstsw 10(%0)\n\t fstpt (%0)\n\t fstp %%st(0)\n\t"
        "fldl kd_3\n\t fldl kd_11\n\t fprem\n\t fnstsw 22(%0)\n\t fstpt 12(%0)\n\t fstp %%st(0)\n\t"
        "fldl kd_0_1\n\t fldl kd_pi\n\t fprem\n\t fnstsw 34(%0)\n\t fstpt 24(%0)\n\t fstp %%st(0)\n\t"
        "fldl kd_3\n\t fldl kd_9\n\t fprem\n\t fnstsw 46(%0)\n\t fstpt 36(%0)\n\t fstp %%st(0)\n\t"
        "fldl kd_3\n\t fldl kd_11\n\t fprem1\n\t fstpt 48(%0)\n\t fstp %%st(0)\n\t"
        "fldl kd_4\n\t fldl kd_m2_5\n\t fprem1\n\t fstpt 58(%0)\n\t fstp %%st(0)\n\t"
        "fldl kd_3\n\t fldl kd_10\n\t fprem1\n\t fstpt 68(%0)\n\t fstp %%st(0)\n\t");
    return 78;
}

/* the quotient bits FPREM1 leaves in C0 (Q2), C3 (Q1), C1 (Q0) */
static int c_prem1_bits(uint8_t *o)
{
    X87("fldl kd_3\n\t fldl kd_11\n\t fprem1\n\t fnstsw (%0)\n\t"     /* q = 4 */
        "fninit\n\t fldl kd_4\n\t fldl kd_m2_5\n\t fprem1\n\t fnstsw 2(%0)\n\t" /* q = -1 */
        "fninit\n\t fldl kd_3\n\t fldl kd_10\n\t fprem1\n\t fnstsw 4(%0)\n\t"  /* q = 3 */
        "fninit\n\t fldl kd_2\n\t fldl kd_11\n\t fprem1\n\t fnstsw 6(%0)\n\t");  /* q = 6 */
    return 8;
}

/* frndint of 2.5, -2.5, 1.7, -1.7 under the four rounding modes */
static int c_frndint(uint8_t *o)
{
#define RND4(cw, off)                                                                      \
    "fldcw " cw "\n\t"                                                                     \
    "fldl kd_2_5\n\t frndint\n\t fstpt " #off "(%0)\n\t"                                   \
    "fldl kd_m2_5\n\t frndint\n\t fstpt " #off "+10(%0)\n\t"                               \
    "fldl kd_1_7\n\t frndint\n\t fstpt " #off "+20(%0)\n\t"                                \
    "fldl kd_m1_7\n\t frndint\n\t fstpt " #off "+30(%0)\n\t"
    X87(RND4("cw_near", 0) RND4("cw_down", 40) RND4("cw_up", 80) RND4("cw_chop", 120));
    return 160;
}

/* fistp (m16/m32/m64) of 2.5, -2.5, 1.7, -1.7, 0.5 under the four rounding
 * modes, and fnstcw reading back each control word */
static int c_fistp_rounding(uint8_t *o)
{
#define FIST4(cw, off)                                                                     \
    "fldcw " cw "\n\t fnstcw " #off "(%0)\n\t"                                           \
    "fldl kd_2_5\n\t fistpl " #off "+2(%0)\n\t"                                          \
    "fldl kd_m2_5\n\t fistpl " #off "+6(%0)\n\t"                                         \
    "fldl kd_1_7\n\t fistps " #off "+10(%0)\n\t"                                         \
    "fldl kd_m1_7\n\t fistpq " #off "+12(%0)\n\t"                                        \
    "fldl kd_0_5\n\t fistpl " #off "+20(%0)\n\t"
    X87(FIST4("cw_near", 0) FIST4("cw_down", 24) FIST4("cw_up", 48) FIST4("cw_chop", 72));
    return 96;
}

/* ---- loads and stores of every format ---------------------------------- */
static int c_load_store_fp(uint8_t *o)
{
    X87("flds kf_pi\n\t fstpt (%0)\n\t"                    /* m32 -> ext, exact */
        "flds kf_pi\n\t fstps 10(%0)\n\t"                  /* and back */
        "fldl kd_pi\n\t fstpt 14(%0)\n\t"
        "fldl kd_pi\n\t fstpl 24(%0)\n\t"
        "fldl kd_pi\n\t fstps 32(%0)\n\t"                  /* rounds */
        "fldt kt_pi\n\t fstpt 36(%0)\n\t"
        "fldt kt_pi\n\t fstpl 46(%0)\n\t"                  /* rounds */
        "fldt kt_pi\n\t fsts 54(%0)\n\t fstl 58(%0)\n\t fstpt 66(%0)\n\t"
        "fldl kd_0_1\n\t fstps 76(%0)\n\t");
    return 80;
}

static int c_load_store_int(uint8_t *o)
{
    X87("filds kw_m12345\n\t fstpt (%0)\n\t"
        "fildl kl_max\n\t fstpt 10(%0)\n\t"
        "fildq kq_minp1\n\t fstpt 20(%0)\n\t"
        "filds kw_m12345\n\t fistps 30(%0)\n\t"
        "fildl kl_max\n\t fistpl 32(%0)\n\t"
        "fildq kq_minp1\n\t fistpq 36(%0)\n\t"
        "fildl kl_max\n\t fists 44(%0)\n\t fistl 46(%0)\n\t fstp %%st(0)\n\t" /* m16 overflow */
        "fldl kd_pi\n\t fistl 50(%0)\n\t fistpq 54(%0)\n\t"
        "fnstsw 62(%0)\n\t fnclex\n\t"
        "fldl kd_qnan\n\t fistpl 64(%0)\n\t"                /* integer indefinite */
        "fnstsw 68(%0)\n\t");
    return 70;
}

static int c_bcd(uint8_t *o)
{
    X87("fbld kbcd_m987654321\n\t fstpt (%0)\n\t"
        "fbld kbcd_m987654321\n\t fistpq 10(%0)\n\t"
        "fildq kq_big\n\t fbstp 18(%0)\n\t"
        "fldl kd_m2_5\n\t fbstp 28(%0)\n\t"                 /* rounds to -2 */
        "fldl kd_12\n\t fbstp 38(%0)\n\t"
        "fnstsw 48(%0)\n\t");
    return 50;
}

static int c_constants(uint8_t *o)
{
    X87("fld1\n\t fstpt (%0)\n\t fldl2t\n\t fstpt 10(%0)\n\t fldl2e\n\t fstpt 20(%0)\n\t"
        "fldpi\n\t fstpt 30(%0)\n\t fldlg2\n\t fstpt 40(%0)\n\t fldln2\n\t fstpt 50(%0)\n\t"
        "fldz\n\t fstpt 60(%0)\n\t"
        "fldcw cw_down\n\t fldpi\n\t fstpt 70(%0)\n\t fldl2e\n\t fstpt 80(%0)\n\t"
        "fldcw cw_up\n\t fldl2t\n\t fstpt 90(%0)\n\t fldln2\n\t fstpt 100(%0)\n\t");
    return 110;
}

/* ---- comparisons --------------------------------------------------------- */
static int c_fcom(uint8_t *o)
{
    X87("fldl kd_2\n\t fld1\n\t fcom %%st(1)\n\t fnstsw (%0)\n\t"       /* 1 < 2 */
        "fxch\n\t fcom %%st(1)\n\t fnstsw 2(%0)\n\t"                   /* 2 > 1 */
        "fcoml kd_2\n\t fnstsw 4(%0)\n\t"                              /* equal */
        "fcomps kf_1_25\n\t fnstsw 6(%0)\n\t"                          /* pops */
        "fldl kd_4\n\t fcompp\n\t fnstsw 8(%0)\n\t"                    /* pops twice */
        "fnclex\n\t fld1\n\t fcoml kd_qnan\n\t fnstsw 10(%0)\n\t"      /* unordered, IE */
        "fnclex\n\t fldl kd_inf\n\t fucom %%st(1)\n\t fnstsw 12(%0)\n\t"
        "fstp %%st(0)\n\t fstp %%st(0)\n\t"
        "fnclex\n\t fldl kd_qnan\n\t fld1\n\t fucom %%st(1)\n\t fnstsw 14(%0)\n\t" /* no IE */
        "fucomp\n\t fnstsw 16(%0)\n\t fldl kd_qnan\n\t fucompp\n\t fnstsw 18(%0)\n\t"
        "fnclex\n\t fldl kd_3\n\t ficoms kw_3\n\t fnstsw 20(%0)\n\t"
        "ficompl kl_m7\n\t fnstsw 22(%0)\n\t"
        "fldl kd_m2\n\t ftst\n\t fnstsw 24(%0)\n\t fstp %%st(0)\n\t"
        "fldz\n\t ftst\n\t fnstsw 26(%0)\n\t fstp %%st(0)\n\t"
        "fnstsw %%ax\n\t movw %%ax, 28(%0)\n\t");
    return 30;
}

static int c_fcomi(uint8_t *o)
{
#define FLAGS_TO(off) "pushfl\n\t popl %%eax\n\t andl $0x8D5, %%eax\n\t movw %%ax, " #off "(%0)\n\t"
    X87("fldl kd_2\n\t fld1\n\t fcomi %%st(1), %%st\n\t" FLAGS_TO(0)    /* 1 < 2: CF */
        "fxch\n\t fcomi %%st(1), %%st\n\t" FLAGS_TO(2)                   /* 2 > 1 */
        "fld %%st(0)\n\t fcomip %%st(1), %%st\n\t" FLAGS_TO(4)           /* equal: ZF */
        "fldl kd_qnan\n\t fucomi %%st(1), %%st\n\t" FLAGS_TO(6)          /* unordered */
        "fnstsw 8(%0)\n\t"
        "fucomip %%st(1), %%st\n\t" FLAGS_TO(10)
        "fnstsw 12(%0)\n\t fnclex\n\t"
        "fldl kd_qnan\n\t fcomi %%st(1), %%st\n\t fnstsw 14(%0)\n\t");   /* IE */
    return 16;
}

/* fcmovcc: each moves st(1) (=2.0) to st(0) (=1.0) or not; flags from cmp */
static int c_fcmov(uint8_t *o)
{
#define FCMOV(setflags, insn, off)                                                \
    "fldl kd_2\n\t fld1\n\t " setflags "\n\t " insn " %%st(1), %%st\n\t fstpt " #off "(%0)\n\t" \
    "fstp %%st(0)\n\t"
    X87(FCMOV("movl $1, %%eax\n\t cmpl $2, %%eax", "fcmovb", 0)     /* CF=1: move */
        FCMOV("movl $1, %%eax\n\t cmpl $2, %%eax", "fcmovnb", 10)   /* no move */
        FCMOV("movl $2, %%eax\n\t cmpl $2, %%eax", "fcmove", 20)    /* ZF=1: move */
        FCMOV("movl $2, %%eax\n\t cmpl $2, %%eax", "fcmovne", 30)
        FCMOV("movl $2, %%eax\n\t cmpl $2, %%eax", "fcmovbe", 40)   /* move */
        FCMOV("movl $3, %%eax\n\t cmpl $2, %%eax", "fcmovnbe", 50)  /* move */
        FCMOV("movl $3, %%eax\n\t cmpl $0, %%eax", "fcmovu", 60)    /* PF=1 (3 has 2 bits) */
        FCMOV("movl $3, %%eax\n\t cmpl $0, %%eax", "fcmovnu", 70));
    return 80;
}

/* ---- stack and state management ------------------------------------------ */
/* The 28-byte protected-mode environment holds CW, SW and TW in the low
 * words of its first three dwords; the upper words are reserved and the
 * instruction/operand pointers depend on addresses, so only the low words
 * are copied out (ENV_WORDS). */
#define ENV_WORDS(env, off)                                                        \
    "movw " env ", %%ax\n\t movw %%ax, " #off "(%0)\n\t"                          \
    "movw 4+" env ", %%ax\n\t movw %%ax, " #off "+2(%0)\n\t"                      \
    "movw 8+" env ", %%ax\n\t movw %%ax, " #off "+4(%0)\n\t"

uint8_t x87_env[28], x87_area[108];

static int c_stack(uint8_t *o)
{
    X87("fld1\n\t fldl kd_2\n\t fldl kd_3\n\t fxch %%st(2)\n\t"
        "fstpt (%0)\n\t fstpt 10(%0)\n\t fstpt 20(%0)\n\t"            /* 1, 2, 3 */
        "fld1\n\t fldl kd_2\n\t ffree %%st(1)\n\t fnstenv x87_env\n\t"  /* tag of st(1): empty */
        ENV_WORDS("x87_env", 30)
        "fninit\n\t fld1\n\t fincstp\n\t fnstsw 36(%0)\n\t fdecstp\n\t fnstsw 38(%0)\n\t"
        "fstpt 40(%0)\n\t"
        "fnstsw %%ax\n\t movw %%ax, 50(%0)\n\t");
    return 52;
}

/* stack overflow and underflow: IE|SF, C1 = 1 (overflow) / 0 (underflow),
 * the masked response stores the indefinite */
static int c_stack_fault(uint8_t *o)
{
    X87("fld1\n\t fld1\n\t fld1\n\t fld1\n\t fld1\n\t fld1\n\t fld1\n\t fld1\n\t"
        "fldl kd_2\n\t" SW_ARITH(0) "fstpt 2(%0)\n\t"
        "fninit\n\t fld1\n\t fadd %%st(3), %%st\n\t" SW_ARITH(12) "fstpt 14(%0)\n\t"
        "fninit\n\t fstl 24(%0)\n\t" SW_ARITH(32));
    return 34;
}

static int c_env(uint8_t *o)
{
    X87("fldcw cw_unmasked_pe\n\t"
        "fld1\n\t fldz\n\t fldl kd_inf\n\t"
        "fnstenv x87_env\n\t"
        ENV_WORDS("x87_env", 0)
        "fstp %%st(0)\n\t fstp %%st(0)\n\t fstp %%st(0)\n\t fldcw x87_env\n\t"
        "fnstcw 6(%0)\n\t"
        "fninit\n\t"
        "movw $0x0C7F, x87_env\n\t"      /* chop, 64-bit precision */
        "fldenv x87_env\n\t"
        "fnstcw 8(%0)\n\t fnstsw 10(%0)\n\t"
        "fstpt 12(%0)\n\t fstpt 22(%0)\n\t fstpt 32(%0)\n\t");
    return 42;
}

/* FNSTENV (and FNSAVE's environment part) masks all exceptions afterwards */
static int c_fnstenv_masks(uint8_t *o)
{
    X87("fldcw cw_unmasked_pe\n\t fnstenv x87_env\n\t fnstcw (%0)\n\t");
    return 2;
}

static int c_save(uint8_t *o)
{
    X87("fldcw cw_down\n\t"
        "fldl kd_pi\n\t fldl kd_m2_5\n\t fldt kt_max\n\t fld1\n\t fdivl kd_3\n\t"
        "fnsave x87_area\n\t"
        "fnstcw (%0)\n\t fnstsw 2(%0)\n\t"             /* FPU reinitialised */
        "fnstenv x87_env\n\t" ENV_WORDS("x87_env", 4)   /* TW all empty */
        "fninit\n\t fldz\n\t"
        "frstor x87_area\n\t"
        "fnstcw 10(%0)\n\t fnstsw 12(%0)\n\t"
        "fstpt 14(%0)\n\t fstpt 24(%0)\n\t fstpt 34(%0)\n\t fstpt 44(%0)\n\t"
        ENV_WORDS("x87_area", 54)
        "movl x87_area+28, %%eax\n\t movl %%eax, 60(%0)\n\t"   /* ST0 image */
        "movl x87_area+32, %%eax\n\t movl %%eax, 64(%0)\n\t"
        "movw x87_area+36, %%ax\n\t movw %%ax, 68(%0)\n\t");
    return 70;
}

/* ---- masked exceptions ---------------------------------------------------- */
static int c_masked(uint8_t *o)
{
    X87("fld1\n\t fldz\n\t fdivrp\n\t fstpt (%0)\n\t" SW_ARITH(10)                 /* +inf, ZE */
        "fninit\n\t fldl kd_m1\n\t fldz\n\t fdivrp\n\t fstpt 12(%0)\n\t" SW_ARITH(22) /* -inf */
        "fninit\n\t fldz\n\t fldz\n\t fdivrp\n\t fstpt 24(%0)\n\t" SW_ARITH(34)      /* 0/0 */
        "fninit\n\t fldl kd_m1\n\t fsqrt\n\t fstpt 36(%0)\n\t" SW_ARITH(46)         /* sqrt(-1) */
        "fninit\n\t fldt kt_max\n\t fmull kd_2\n\t fstpt 48(%0)\n\t" SW_ARITH(58)   /* overflow */
        "fninit\n\t fldl kd_inf\n\t fldl kd_inf\n\t fsubrp\n\t fstpt 60(%0)\n\t" SW_ARITH(70)
        "fninit\n\t fldl kd_inf\n\t fmull kd_2\n\t fstpt 72(%0)\n\t" SW_ARITH(82)   /* exact */
        "fninit\n\t fldl kd_qnan\n\t fmull kd_2\n\t fstpt 84(%0)\n\t" SW_ARITH(94)  /* QNaN in */
        "fninit\n\t fldt kt_minnorm\n\t fdivl kd_2\n\t fstpt 96(%0)\n\t"           /* exact tiny */
        "fninit\n\t fldt kt_minnorm\n\t fmull kd_0_1\n\t fstpt 106(%0)\n\t"        /* denormal */
        "fninit\n\t fld1\n\t fldz\n\t fmulp\n\t fstpt 116(%0)\n\t" SW_ARITH(126));
    return 128;
}

/* underflow/precision flags and the snan/denormal-operand behaviour */
static int c_flags_detail(uint8_t *o)
{
    X87("fldt kt_minnorm\n\t fmull kd_0_1\n\t" SW_ARITH(0)              /* UE|PE */
        "fninit\n\t fldt kt_minnorm\n\t fdivl kd_2\n\t" SW_ARITH(2)    /* exact: no UE */
        "fninit\n\t flds kf_snan\n\t fstpt 4(%0)\n\t" SW_ARITH(14)     /* IE, quieted */
        "fninit\n\t fldt kt_minnorm\n\t fstps 16(%0)\n\t" SW_ARITH(20)  /* UE|PE, 0 */
        "fninit\n\t fldl kd_0_1\n\t fstps 22(%0)\n\t" SW_ARITH(26));    /* PE, C1: rounded up */
    return 28;
}

/* the denormal-operand flag (DE) */
static int c_denormal_flag(uint8_t *o)
{
    X87("flds kf_denorm\n\t fstpt (%0)\n\t" SW_ARITH(10)
        "fninit\n\t fldt kt_denorm\n\t fmull kd_2\n\t fstpt 12(%0)\n\t" SW_ARITH(22));
    return 24;
}

/* ---- transcendental functions (compared with a tolerance) -------------- */
static int c_trig(uint8_t *o)
{
    X87("fldl kd_0_5\n\t fsin\n\t fstpt (%0)\n\t"
        "fldl kd_0_5\n\t fcos\n\t fstpt 10(%0)\n\t"
        "fldl kd_0_5\n\t fptan\n\t fstpt 20(%0)\n\t fstpt 30(%0)\n\t"   /* 1.0, tan */
        "fld1\n\t fld1\n\t fpatan\n\t fstpt 40(%0)\n\t"                  /* pi/4 */
        "fldl kd_m2\n\t fld1\n\t fpatan\n\t fstpt 50(%0)\n\t"            /* atan2(-2,1) */
        "fld1\n\t fsincos\n\t fstpt 60(%0)\n\t fstpt 70(%0)\n\t"        /* cos 1, sin 1 */
        "fldl kd_3\n\t fsin\n\t fstpt 80(%0)\n\t");
    return 90;
}

static int c_exp_log(uint8_t *o)
{
    X87("fldl kd_0_5\n\t f2xm1\n\t fstpt (%0)\n\t"                   /* sqrt2 - 1 */
        "fldl kd_m2_5\n\t fldl kd_0_5\n\t fchs\n\t f2xm1\n\t fstpt 10(%0)\n\t fstp %%st(0)\n\t"
        "fldl kd_3\n\t fldl kd_8\n\t fyl2x\n\t fstpt 20(%0)\n\t"        /* 3*log2(8) = 9 */
        "fld1\n\t fldl kd_10\n\t fyl2x\n\t fstpt 30(%0)\n\t"            /* log2(10) */
        "fld1\n\t fldl kd_0_25\n\t fyl2xp1\n\t fstpt 40(%0)\n\t"        /* log2(1.25) */
        "fldln2\n\t fldl kd_0_1\n\t fyl2xp1\n\t fstpt 50(%0)\n\t");    /* ln(1.1) */
    return 60;
}

struct x87_case {
    const char *name;
    int (*fn)(uint8_t *out);
    uint32_t tolerance; /* 0: exact; else ulps of the 64-bit significand */
    const char *qemu_gap; /* non-NULL: QEMU's TCG gets this wrong; skipped there */
};

static const struct x87_case x87_cases[] = {
    {"fadd/fiadd/faddp forms", c_add, 0, NULL},
    {"fsub/fsubr/fsubp/fsubrp/fisub forms", c_sub, 0, NULL},
    {"fmul/fimul/fmulp forms", c_mul, 0, NULL},
    {"fdiv/fdivr/fdivp/fdivrp/fidiv forms", c_div, 0, NULL},
    {"precision and rounding control on 1/3, -2/3", c_precision_rounding, 0, NULL},
    {"fsqrt, fabs, fchs, fscale, fxtract", c_sqrt_misc, 0, NULL},
    {"fprem (results, C0/C1/C3 quotient bits), fprem1 results", c_prem, 0, NULL},
    {"fprem1 quotient bits in C0/C3/C1", c_prem1_bits, 0, "QEMU computes wrong fprem1 quotient bits"},
    {"frndint under the four rounding modes", c_frndint, 0, NULL},
    {"fistp m16/m32/m64 under the four rounding modes, fnstcw", c_fistp_rounding, 0, NULL},
    {"m32fp/m64fp/m80fp loads and stores", c_load_store_fp, 0, NULL},
    {"m16int/m32int/m64int loads and stores", c_load_store_int, 0, NULL},
    {"fbld/fbstp (m80bcd)", c_bcd, 0, NULL},
    {"constants (fld1, fldl2t, fldl2e, fldpi, fldlg2, fldln2, fldz)", c_constants, 0, NULL},
    {"fcom, fcomp, fcompp, fucom, fucomp, fucompp, ficom, ftst status words", c_fcom, 0, NULL},
    {"fcomi/fcomip/fucomi/fucomip EFLAGS", c_fcomi, 0, NULL},
    {"fcmovcc", c_fcmov, 0, NULL},
    {"fxch, ffree, fincstp, fdecstp", c_stack, 0, NULL},
    {"x87 stack overflow and underflow", c_stack_fault, 0,
     "QEMU does not detect x87 stack faults"},
    {"fnstenv/fldenv", c_env, 0, NULL},
    {"fnstenv masks all exceptions", c_fnstenv_masks, 0, "QEMU leaves the mask bits unchanged"},
    {"fnsave/frstor", c_save, 0, NULL},
    {"masked exceptions: inf, NaN, indefinite, denormal results", c_masked, 0, NULL},
    {"UE/PE/IE flags, SNaN quieting, C1 after rounding up", c_flags_detail, 0,
     "QEMU does not set C1 when a result was rounded up"},
    {"denormal-operand flag (DE)", c_denormal_flag, 0, "QEMU does not set DE"},
    {"fsin, fcos, fptan, fpatan, fsincos", c_trig, 4096, NULL},
    {"f2xm1, fyl2x, fyl2xp1", c_exp_log, 4096, NULL},
};

#define X87_NCASES (sizeof(x87_cases) / sizeof(x87_cases[0]))
