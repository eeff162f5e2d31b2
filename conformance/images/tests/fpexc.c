/* fpexc: floating-point errors as the manuals report them.
 * - x87: a pending unmasked exception (FSW.ES) is reported with #MF at
 *   the next waiting x87 instruction or MMX instruction, not at a
 *   non-waiting one such as FNSTSW (SDM Vol. 1, "x87 FPU Exception
 *   Synchronization"; Vol. 3A, "Interrupt 16—x87 FPU Floating-Point Error
 *   (#MF)"). QEMU 7.2 TCG reports it at FWAIT only (declared:
 *   qemu-tcg-x87-error-only-at-fwait).
 * - SSE: an unmasked SIMD floating-point exception is #XF, a fault that
 *   writes no destination and sets its flags in MXCSR, the pre-computation
 *   ones alone when one of them is unmasked; with CR4.OSXMMEXCPT = 0 it is
 *   #UD. A masked exception sets its flag and the result is written (SDM
 *   Vol. 1, "SIMD Floating-Point Exceptions"; Vol. 3A, "Interrupt 19—SIMD
 *   Floating-Point Exception (#XF)"; AMD APM Vol. 2, "#XF—SIMD
 *   Floating-Point Exception"). */
#include "rt/rt.h"

#define CR0_NE (1ul << 5)
#define CR0_EM (1ul << 2)
#define CR0_TS (1ul << 3)
#define CR4_OSFXSR (1ul << 9)
#define CR4_OSXMMEXCPT (1ul << 10)
#define VEC_MF 16
#define VEC_UD 6
#define VEC_XM 19
#define MXCSR_DEFAULT 0x1f80u

/* Vector, and whether the saved RIP is the instruction's, packed; 0 when
 * nothing was raised. */
static uint64_t caught(void)
{
    int v = rt_fault_vector();
    if (v < 0) return 0;
    return (uint64_t)v | (uint64_t)(rt_fault.rip == rt_fault.site) << 8;
}
#define FAULT_AT_INSN(v) ((uint64_t)(v) | 1u << 8)

/* ---- x87 ---------------------------------------------------------------- */

/* 1/0 with the zero-divide exception unmasked, then FNSTSW (non-waiting),
 * then `waiting` (probed). */
#define X87_ERROR_THEN(waiting)                                                               \
    do {                                                                                      \
        uint16_t cw = 0x37b, sw = 0;                                                          \
        rt_fault_clear();                                                                     \
        __asm__ volatile("fninit\n fldcw %1\n fldz\n fld1\n fdiv %%st(1), %%st\n fnstsw %0\n" \
                         RT_PROBE(waiting) "\n fninit"                                        \
                         : "=m"(sw) : "m"(cw) : "memory");                                    \
        fsw = sw;                                                                             \
    } while (0)

static void x87_checks(void)
{
    uint16_t fsw = 0;
    write_cr0((read_cr0() | CR0_NE) & ~(CR0_EM | CR0_TS));
    X87_ERROR_THEN("fld1");
    tap_eq(0x84, fsw & 0x84, "x87 1/0 unmasked: FSW.ZE and FSW.ES set, and FNSTSW raised nothing");
    tap_eq_or_departure(FAULT_AT_INSN(VEC_MF), caught(), 0, "qemu-tcg-x87-error-only-at-fwait",
                        "pending x87 error: #MF at the next waiting x87 instruction (FLD1), a fault");
    X87_ERROR_THEN("movq %%mm1, %%mm0");
    tap_eq_or_departure(FAULT_AT_INSN(VEC_MF), caught(), 0, "qemu-tcg-x87-error-only-at-fwait",
                        "pending x87 error: #MF at an MMX instruction (MOVQ mm0, mm1), a fault");
    X87_ERROR_THEN("fwait");
    tap_eq(FAULT_AT_INSN(VEC_MF), caught(), "pending x87 error: #MF at FWAIT, a fault");
    __asm__ volatile("emms");
}

/* ---- SSE ---------------------------------------------------------------- */

struct simd_result { uint64_t fault; uint32_t low; uint32_t flags; };

static const float one_by_zero[8] __attribute__((aligned(16))) = {1.0f, 1.0f, 1.0f, 1.0f, 0.0f, 3.0f, 1.0f, 1.0f};
static const float huge[8] __attribute__((aligned(16))) = {3e38f, 1.0f, 1.0f, 1.0f, 3e38f, 1.0f, 1.0f, 1.0f};

/* MXCSR = `mxcsr`, xmm0 and xmm1 from `in`, then the probed `insn`; the
 * fault, xmm0's low lane and MXCSR's flags after. */
#define SIMD_RUN(r, mxcsr, in, insn)                                                          \
    do {                                                                                      \
        uint32_t mx = (mxcsr), after = 0, low = 0;                                            \
        rt_fault_clear();                                                                     \
        __asm__ volatile("ldmxcsr %3\n movaps %2, %%xmm0\n movaps 16+%2, %%xmm1\n"            \
                         RT_PROBE(insn) "\n movd %%xmm0, %0\n stmxcsr %1\n"                   \
                         : "=r"(low), "=m"(after) : "m"(*(const float(*)[8])(in)), "m"(mx)    \
                         : "memory"); /* xmm0, xmm1: the images use no SSE */                 \
        mx = MXCSR_DEFAULT;                                                                   \
        __asm__ volatile("ldmxcsr %0" : : "m"(mx));                                           \
        (r) = (struct simd_result){caught(), low, after & 0x3d};                              \
    } while (0)

#define ONE_BITS 0x3f800000u
#define INF_BITS 0x7f800000u
enum { F_IE = 1, F_ZE = 4, F_OE = 8, F_PE = 32 };

static void simd_checks(void)
{
    struct simd_result r;
    write_cr4(read_cr4() | CR4_OSFXSR | CR4_OSXMMEXCPT);

    SIMD_RUN(r, 0x1d80, one_by_zero, "divss %%xmm1, %%xmm0");
    tap_eq_or_departure(FAULT_AT_INSN(VEC_XM), r.fault, 0, "qemu-tcg-no-simd-exception",
                        "DIVSS 1/0 with ZM clear: #XF, a fault");
    tap_eq_or_departure(ONE_BITS, r.low, INF_BITS, "qemu-tcg-no-simd-exception", "#XF: the destination is not written");
    tap_eq(F_ZE, r.flags, "#XF: MXCSR.ZE set");

    SIMD_RUN(r, 0x0f80, one_by_zero, "divss %%xmm1, %%xmm0");
    tap_eq(0, r.fault, "DIVSS 1/0 with ZM set: no exception");
    tap_eq(INF_BITS, r.low, "masked zero-divide: the result (infinity) is written");
    tap_eq(F_ZE, r.flags, "masked zero-divide: MXCSR.ZE set");

    SIMD_RUN(r, 0x1d80, one_by_zero, "divps %%xmm1, %%xmm0");
    tap_eq_or_departure(FAULT_AT_INSN(VEC_XM), r.fault, 0, "qemu-tcg-no-simd-exception",
                        "DIVPS 1/0 and 1/3 with ZM clear: #XF");
    tap_eq_or_departure(F_ZE, r.flags, F_ZE | F_PE, "qemu-tcg-no-simd-exception",
                        "unmasked pre-computation exception: ZE reported without the lane's PE");

    SIMD_RUN(r, 0x1b80, huge, "mulss %%xmm1, %%xmm0");
    tap_eq_or_departure(FAULT_AT_INSN(VEC_XM), r.fault, 0, "qemu-tcg-no-simd-exception",
                        "MULSS overflow with OM clear: #XF");
    tap_eq(F_OE | F_PE, r.flags, "overflow: MXCSR.OE and MXCSR.PE set");

    write_cr4(read_cr4() & ~CR4_OSXMMEXCPT);
    SIMD_RUN(r, 0x1d80, one_by_zero, "divss %%xmm1, %%xmm0");
    tap_eq_or_departure(FAULT_AT_INSN(VEC_UD), r.fault, 0, "qemu-tcg-no-simd-exception",
                        "CR4.OSXMMEXCPT = 0: the unmasked exception is #UD");
    write_cr4(read_cr4() | CR4_OSXMMEXCPT);
}

void test_main(void)
{
    x87_checks();
    simd_checks();
}
