/* Floating-point errors Unicorn does not report, through the whole machine
 * (sim/fpu_except.h):
 * - a pending x87 error is reported at the next waiting x87 or MMX
 *   instruction, not only at FWAIT, and not at a non-waiting one (SDM Vol.
 *   1, "x87 FPU Exception Synchronization", "Waiting vs. Non-waiting
 *   Instructions"; Vol. 3A, "Interrupt 16—x87 FPU Floating-Point Error
 *   (#MF)");
 * - with CR0.NE = 0 it asserts FERR# (IRQ13 on the PC) and freezes the
 *   processor before that instruction until an interrupt; a write to port
 *   F0h asserts IGNNE#, under which the error is ignored; clearing FSW.ES
 *   deasserts both (SDM Vol. 1, "MS-DOS Compatibility Sub-mode in the P6
 *   Family and Pentium 4 Processors");
 * - an unmasked SIMD floating-point exception is a fault that leaves the
 *   destination as it was and sets its flags in MXCSR, pre-computation
 *   exceptions alone when one of them is unmasked (SDM Vol. 1, "SIMD
 *   Floating-Point Exceptions"; Vol. 3A, "Interrupt 19—SIMD Floating-Point
 *   Exception (#XF)").
 * Each guest exits through isa-debug-exit with a value its handlers and
 * checks build. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "conformance/machine/guest32.h"

#define DATA        0x100f00u   /* [DATA]: the value the guest exits with; DATA + 8: operands */
#define OPERAND     (DATA + 8)
#define IRQ13_VEC   0x2d        /* the slave PIC at 28h: IRQ13 is its line 5 */
#define HANDLER_MF  (HANDLER + 0x80)
#define HANDLER_XF  (HANDLER + 0xc0)
#define HANDLER_NM  (HANDLER + 0x40)

static void gate(struct guest *g, unsigned vector, uint32_t handler)
{
  const uint8_t d[8] = {(uint8_t)handler, (uint8_t)(handler >> 8), 0x08, 0, 0, 0x8e, (uint8_t)(handler >> 16),
                        (uint8_t)(handler >> 24)};
  memcpy(g->seg + (IDT - BASE) + 8 * vector, d, sizeof d);
}

static void out8(struct guest *g, uint8_t port, uint8_t v) { EMIT(g, 0xb0, v, 0xe6, port); }

/* Ends the run (isa-debug-exit); the test reads DATA. */
static void exit_with_data(struct guest *g) { EMIT(g, 0xe6, 0xf4, 0xeb, 0xfe); }

/* A fault handler that sets bit 7 of [DATA], and bit 0 when the saved EIP
 * is `at` (the fault left RIP at the instruction), and ends the run. */
static void fault_handler(struct guest *g, uint32_t handler_at, uint32_t at)
{
  uint32_t keep = g->at;
  g->at = handler_at;
  EMIT(g, 0x80, 0x0d, U32(DATA), 0x80);                  /* or byte [DATA], 80h */
  EMIT(g, 0x81, 0x3c, 0x24, U32(at), 0x75, 0x07);        /* cmp dword [esp], at; jne +7 */
  EMIT(g, 0x80, 0x0d, U32(DATA), 0x01);                  /* or byte [DATA], 1 */
  exit_with_data(g);
  g->at = keep;
}

/* x87: FCW 37Bh (zero-divide unmasked); fninit; fldcw; fldz; fld1;
 * fdiv st0, st1: 1/0 leaves FSW.ES set. */
static void x87_zero_divide(struct guest *g)
{
  EMIT(g, 0x66, 0xc7, 0x05, U32(OPERAND), 0x7b, 0x03, 0xdb, 0xe3, 0xd9, 0x2d, U32(OPERAND));
  EMIT(g, 0xd9, 0xee, 0xd9, 0xe8, 0xd8, 0xf1);
}

static void set_cr0(struct guest *g, uint32_t or_bits, uint32_t and_bits)
{
  EMIT(g, 0x0f, 0x20, 0xc0, 0x0d, U32(or_bits), 0x25, U32(and_bits), 0x0f, 0x22, 0xc0);   /* eax = cr0 | or & and */
}

static struct machine *start(struct guest *g)
{
  return run_guest_with(g, (struct machine_options){.cpu = cpu_model_find("skylake-x"), .max_insns = 200000,
                                                    .image_name = "fpu_except"});
}

/* Runs the guest to its isa-debug-exit and returns the two bytes at DATA
 * (the exit status has room for seven bits only). */
static unsigned run_on(struct guest *g)
{
  struct machine *m = start(g);
  if (m->stop != STOP_DEBUG_EXIT) fail_msg("the run did not end at isa-debug-exit: %s", m->stop_detail);
  unsigned data = m->ram[DATA] | (unsigned)m->ram[DATA + 1] << 8;
  machine_destroy(m);
  return data;
}

/* ---- x87, CR0.NE = 1: #MF ------------------------------------------------ */

/* After the error: fnstsw ax (non-waiting: no #MF), then `waiting` (a
 * waiting instruction: #MF with the saved EIP at it). */
static unsigned mf_at(const uint8_t *waiting, size_t n)
{
  struct guest g;
  guest_start(&g, IRQ13_VEC);
  gate(&g, VEC_MF, HANDLER_MF);
  set_cr0(&g, 0x20, ~0x0cu);                             /* NE; EM, TS clear */
  x87_zero_divide(&g);
  EMIT(&g, 0xdf, 0xe0);                                  /* fnstsw ax */
  uint32_t at = g.at;
  fault_handler(&g, HANDLER_MF, at);
  put(&g, waiting, n);
  exit_with_data(&g);                                    /* no #MF: value 0 */
  return run_on(&g);
}

static void mf_raised_at_waiting_x87_instruction_not_only_fwait(void **state)
{
  (void)state;
  static const uint8_t fld1[] = {0xd9, 0xe8};
  assert_int_equal(mf_at(fld1, sizeof fld1), 0x81);
}

static void mf_raised_at_mmx_instruction(void **state)
{
  (void)state;
  static const uint8_t movq_mm0_mm1[] = {0x0f, 0x6f, 0xc1};
  assert_int_equal(mf_at(movq_mm0_mm1, sizeof movq_mm0_mm1), 0x81);
}

/* CR0.TS set after the error: the FLD1 faults with #NM, which comes
 * before #MF ("Priority Among Concurrent Exceptions and Interrupts":
 * faults from decoding the next instruction first). */
static void nm_before_pending_mf(void **state)
{
  (void)state;
  struct guest g;
  guest_start(&g, IRQ13_VEC);
  gate(&g, VEC_MF, HANDLER_MF);
  gate(&g, VEC_NM, HANDLER_NM);
  set_cr0(&g, 0x20, ~0x0cu);
  x87_zero_divide(&g);
  set_cr0(&g, 0x08, ~0u);                                /* TS */
  uint32_t at = g.at;
  fault_handler(&g, HANDLER_MF, at);
  uint32_t keep = g.at;
  g.at = HANDLER_NM;
  EMIT(&g, 0x80, 0x0d, U32(DATA), 0x40);                 /* or byte [DATA], 40h */
  exit_with_data(&g);
  g.at = keep;
  EMIT(&g, 0xd9, 0xe8);                                  /* fld1 */
  exit_with_data(&g);
  assert_int_equal(run_on(&g), 0x40);
}

static void mf_not_raised_at_non_waiting_fnclex(void **state)
{
  (void)state;
  static const uint8_t fnclex_fld1[] = {0xdb, 0xe2, 0xd9, 0xe8};   /* fnclex clears ES: fld1 runs */
  assert_int_equal(mf_at(fnclex_fld1, sizeof fnclex_fld1), 0);
}

/* ---- x87, CR0.NE = 0: FERR#, IRQ13, the freeze, IGNNE# -------------------- */

enum irq13_handler { ASSERT_IGNNE, CLEAR_ES };

/* IRQ13's handler adds 10h to [DATA] and sets bit 0 or 1 when the saved
 * EIP is the first or the second frozen fld1, then writes port F0h or
 * clears FSW.ES (FNCLEX), sends EOIs and returns. The main code makes the
 * error, runs fld1, makes it again without FNINIT (FDIV by zero once
 * more) and runs fld1 again. */
static unsigned ferr_run(enum irq13_handler how)
{
  struct guest g;
  guest_start(&g, IRQ13_VEC);
  /* PICs: master at 20h with IRQ2 unmasked, slave at 28h with IRQ13. */
  out8(&g, 0x20, 0x11); out8(&g, 0x21, 0x20); out8(&g, 0x21, 0x04); out8(&g, 0x21, 0x01); out8(&g, 0x21, 0xfb);
  out8(&g, 0xa0, 0x11); out8(&g, 0xa1, 0x28); out8(&g, 0xa1, 0x02); out8(&g, 0xa1, 0x01); out8(&g, 0xa1, 0xdf);
  set_cr0(&g, 0, ~0x2cu);                                /* NE, EM, TS clear */
  EMIT(&g, 0xfb);                                        /* sti */
  x87_zero_divide(&g);
  uint32_t first = g.at;
  EMIT(&g, 0xd9, 0xe8);                                  /* fld1: frozen before it */
  EMIT(&g, 0xd9, 0xee, 0xd9, 0xe8, 0xd8, 0xf1);          /* fldz; fld1; fdiv st0, st1: 1/0 again */
  uint32_t second = g.at;
  EMIT(&g, 0xd9, 0xe8);
  exit_with_data(&g);

  g.at = HANDLER;
  EMIT(&g, 0x80, 0x05, U32(DATA), 0x10);                 /* add byte [DATA], 10h */
  EMIT(&g, 0x8b, 0x04, 0x24);                            /* mov eax, [esp] */
  EMIT(&g, 0x3d, U32(first), 0x75, 0x07);                /* cmp eax, first; jne +7 */
  EMIT(&g, 0x80, 0x0d, U32(DATA), 0x01);                 /* or byte [DATA], 1 */
  EMIT(&g, 0x3d, U32(second), 0x75, 0x07);               /* cmp eax, second; jne +7 */
  EMIT(&g, 0x80, 0x0d, U32(DATA), 0x02);                 /* or byte [DATA], 2 */
  if (how == ASSERT_IGNNE) out8(&g, 0xf0, 0);
  else EMIT(&g, 0xdb, 0xe2);                             /* fnclex */
  out8(&g, 0xa0, 0x20); out8(&g, 0x20, 0x20);
  EMIT(&g, 0xcf);                                        /* iret */
  return run_on(&g);
}

/* Handled by FNCLEX: FERR# goes away with FSW.ES, so the second error
 * freezes and interrupts again: two interrupts, each at its fld1. */
static void ferr_freezes_until_irq13_and_again_after_es_cleared(void **state)
{
  (void)state;
  assert_int_equal(ferr_run(CLEAR_ES), 0x23);
}

/* Handled by port F0h: IGNNE# holds while FSW.ES stays set, so the second
 * error is ignored: one interrupt. */
static void ferr_ignored_while_ignne_asserted(void **state)
{
  (void)state;
  assert_int_equal(ferr_run(ASSERT_IGNNE), 0x11);
}

/* With IF = 0 nothing can end the freeze: the run stops and says so.
 * FWAIT freezes like any waiting instruction (Unicorn runs on). */
static void ferr_freeze(const uint8_t *waiting, size_t n)
{
  struct guest g;
  guest_start(&g, IRQ13_VEC);
  set_cr0(&g, 0, ~0x2cu);
  x87_zero_divide(&g);
  put(&g, waiting, n);
  exit_with_data(&g);
  struct machine *m = start(&g);
  assert_int_equal(m->stop, STOP_HALTED);
  assert_non_null(strstr(m->stop_detail, "frozen by FERR#"));
  machine_destroy(m);
}

static void ferr_freeze_with_interrupts_disabled_stops_the_run(void **state)
{
  (void)state;
  static const uint8_t fld1[] = {0xd9, 0xe8};
  ferr_freeze(fld1, sizeof fld1);
}

static void ferr_freeze_at_fwait(void **state)
{
  (void)state;
  static const uint8_t fwait[] = {0x9b};
  ferr_freeze(fwait, sizeof fwait);
}

/* ---- SIMD floating-point exceptions ---------------------------------------- */

/* CR4.OSFXSR | OSXMMEXCPT, MXCSR = `mxcsr`, xmm0 = {x0, x1, 1, 1}, xmm1 =
 * {y0, y1, 1, 1}, then `op` (on xmm0, xmm1). #XF's handler sets bit 7 of
 * [DATA] and bit 0 when the saved EIP is the instruction's; both paths
 * then set bit 1 when xmm0's low lane is still x0, and store MXCSR's IE,
 * ZE, OE, UE and PE in [DATA + 1]. */
#define FXAREA 0x100c00u   /* 512 bytes, 16-aligned, below DATA */

static unsigned simd_run_loaded(uint32_t mxcsr, bool by_fxrstor, const uint8_t *op, size_t n, const float x[2],
                                const float y[2])
{
  struct guest g;
  guest_start(&g, VEC_XM);
  gate(&g, VEC_XM, HANDLER_XF);
  set_cr0(&g, 0x02, ~0x0cu);                             /* MP; EM, TS clear */
  EMIT(&g, 0x0f, 0x20, 0xe0, 0x0d, U32(0x600), 0x0f, 0x22, 0xe0);   /* CR4 |= OSFXSR | OSXMMEXCPT */
  const float one = 1.0f, lanes[8] = {x[0], x[1], one, one, y[0], y[1], one, one};
  memcpy(g.seg + (OPERAND + 16 - BASE), lanes, sizeof lanes);
  const uint32_t mx_at = OPERAND + 48;
  memcpy(g.seg + (mx_at - BASE), &mxcsr, 4);
  if (by_fxrstor) {
    /* An FXSAVE image with FCW 37Fh and this MXCSR ("FXSAVE": FCW at 0,
     * MXCSR at 24): FXRSTOR loads it in the middle of the block. */
    const uint16_t fcw = 0x37f;
    memcpy(g.seg + (FXAREA - BASE), &fcw, 2);
    memcpy(g.seg + (FXAREA + 24 - BASE), &mxcsr, 4);
    EMIT(&g, 0x0f, 0xae, 0x0d, U32(FXAREA));             /* fxrstor [FXAREA] */
  } else {
    EMIT(&g, 0x0f, 0xae, 0x15, U32(mx_at));              /* ldmxcsr [mx_at] */
  }
  EMIT(&g, 0x0f, 0x10, 0x05, U32(OPERAND + 16));         /* movups xmm0, [..] */
  EMIT(&g, 0x0f, 0x10, 0x0d, U32(OPERAND + 32));         /* movups xmm1, [..] */
  uint32_t at = g.at;
  put(&g, op, n);
  uint32_t jmp_at = g.at;

  g.at = HANDLER_XF;
  EMIT(&g, 0x80, 0x0d, U32(DATA), 0x80);                 /* or byte [DATA], 80h */
  EMIT(&g, 0x81, 0x3c, 0x24, U32(at), 0x75, 0x07);       /* cmp dword [esp], at; jne +7 */
  EMIT(&g, 0x80, 0x0d, U32(DATA), 0x01);                 /* or byte [DATA], 1 */
  uint32_t report = g.at;
  uint32_t x0;
  memcpy(&x0, &x[0], 4);
  EMIT(&g, 0x66, 0x0f, 0x7e, 0xc0);                      /* movd eax, xmm0 */
  EMIT(&g, 0x3d, U32(x0), 0x75, 0x07);                   /* cmp eax, x0; jne +7 */
  EMIT(&g, 0x80, 0x0d, U32(DATA), 0x02);                 /* or byte [DATA], 2 */
  EMIT(&g, 0x0f, 0xae, 0x1d, U32(mx_at));                /* stmxcsr [mx_at] */
  EMIT(&g, 0xa0, U32(mx_at), 0x24, 0x3d);                /* mov al, [mx_at]; and al, 3dh (not DE) */
  EMIT(&g, 0xa2, U32(DATA + 1));                         /* mov [DATA + 1], al */
  exit_with_data(&g);

  g.at = jmp_at;
  EMIT(&g, 0xe9, U32(report - (jmp_at + 5)));            /* jmp report */
  return run_on(&g);
}

static unsigned simd_run(uint32_t mxcsr, const uint8_t *op, size_t n, const float x[2], const float y[2])
{
  return simd_run_loaded(mxcsr, false, op, n, x, y);
}

enum { XF = 0x80, AT_INSN = 1, UNCHANGED = 2 };
#define FLAGS(v) ((v) << 8)
enum { F_IE = 1, F_ZE = 4, F_OE = 8, F_PE = 32 };

static const uint8_t divss[] = {0xf3, 0x0f, 0x5e, 0xc1};
static const uint8_t divps[] = {0x0f, 0x5e, 0xc1};
static const uint8_t mulss[] = {0xf3, 0x0f, 0x59, 0xc1};

/* 1/0 with ZM clear: #XF at the DIVSS, xmm0 unchanged, ZE set. */
static void xf_zero_divide_faults_without_writing_destination(void **state)
{
  (void)state;
  const float x[2] = {1.0f, 1.0f}, y[2] = {0.0f, 1.0f};
  assert_int_equal(simd_run(0x1d80, divss, sizeof divss, x, y), XF | AT_INSN | UNCHANGED | FLAGS(F_ZE));
}

/* The unmasked MXCSR loaded by FXRSTOR in the middle of a block: the
 * checks start at the next instruction all the same. */
static void xf_after_fxrstor_unmasks(void **state)
{
  (void)state;
  const float x[2] = {1.0f, 1.0f}, y[2] = {0.0f, 1.0f};
  assert_int_equal(simd_run_loaded(0x1d80, true, divss, sizeof divss, x, y), XF | AT_INSN | UNCHANGED | FLAGS(F_ZE));
}

/* The same with ZM set but PM clear: no fault, the result written, ZE
 * recorded in MXCSR. */
static void masked_zero_divide_sets_flag_and_writes_result(void **state)
{
  (void)state;
  const float x[2] = {1.0f, 1.0f}, y[2] = {0.0f, 1.0f};
  assert_int_equal(simd_run(0x0f80, divss, sizeof divss, x, y), FLAGS(F_ZE));
}

/* DIVPS with lanes 1/0 (zero-divide) and 1/3 (inexact), ZM clear: the
 * pre-computation exception alone is reported, PE stays clear. */
static void xf_precomputation_reported_alone(void **state)
{
  (void)state;
  const float x[2] = {1.0f, 1.0f}, y[2] = {0.0f, 3.0f};
  assert_int_equal(simd_run(0x1d80, divps, sizeof divps, x, y), XF | AT_INSN | UNCHANGED | FLAGS(F_ZE));
}

/* 3e38 * 3e38 with OM clear: a post-computation #XF with OE and PE. */
static void xf_overflow_reports_overflow_and_precision(void **state)
{
  (void)state;
  const float x[2] = {3e38f, 1.0f}, y[2] = {3e38f, 1.0f};
  assert_int_equal(simd_run(0x1b80, mulss, sizeof mulss, x, y), XF | AT_INSN | UNCHANGED | FLAGS(F_OE | F_PE));
}

/* 0/0 with IM clear: invalid operation. */
static void xf_invalid_operation(void **state)
{
  (void)state;
  const float x[2] = {0.0f, 1.0f}, y[2] = {0.0f, 1.0f};
  assert_int_equal(simd_run(0x1f00, divss, sizeof divss, x, y), XF | AT_INSN | UNCHANGED | FLAGS(F_IE));
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(mf_raised_at_waiting_x87_instruction_not_only_fwait),
    cmocka_unit_test(mf_raised_at_mmx_instruction),
    cmocka_unit_test(nm_before_pending_mf),
    cmocka_unit_test(mf_not_raised_at_non_waiting_fnclex),
    cmocka_unit_test(ferr_freezes_until_irq13_and_again_after_es_cleared),
    cmocka_unit_test(ferr_ignored_while_ignne_asserted),
    cmocka_unit_test(ferr_freeze_with_interrupts_disabled_stops_the_run),
    cmocka_unit_test(ferr_freeze_at_fwait),
    cmocka_unit_test(xf_zero_divide_faults_without_writing_destination),
    cmocka_unit_test(xf_after_fxrstor_unmasks),
    cmocka_unit_test(masked_zero_divide_sets_flag_and_writes_result),
    cmocka_unit_test(xf_precomputation_reported_alone),
    cmocka_unit_test(xf_overflow_reports_overflow_and_precision),
    cmocka_unit_test(xf_invalid_operation),
  };
  return cmocka_run_group_tests_name("machine_fpu_except", tests, NULL, NULL);
}
