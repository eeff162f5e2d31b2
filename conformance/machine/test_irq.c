/* External interrupts through the whole machine (sim/irq.c with Unicorn):
 * tiny 32-bit guests written byte by byte run until they leave through
 * isa-debug-exit or stop, and the stop says what happened. HLT with IF=1
 * wakes on IRQ0 with the saved EIP after HLT; the instruction after STI
 * runs before a pending interrupt; HLT with nothing to wake it stops with a
 * report (IF=0, no timer, IRQ0 masked). SDM Vol. 3A, "Interrupt and
 * Exception Handling" ("Masking Maskable Hardware Interrupts"); SDM Vol. 2,
 * "HLT". */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "conformance/machine/guest32.h"

#define VEC_TIMER 0x20

static void out(struct guest *g, uint8_t port, uint8_t v) { EMIT(g, 0xb0, v, 0xe6, port); }   /* mov al, v; out port, al */

/* PICs remapped to 0x20/0x28 with master mask `imr`; PIT counter 0 in
 * mode 2 with a period of 0x1000 clocks. */
static void guest_timer(struct guest *g, uint8_t imr)
{
  out(g, 0x20, 0x11); out(g, 0x21, 0x20); out(g, 0x21, 0x04); out(g, 0x21, 0x01); out(g, 0x21, imr);
  out(g, 0xa0, 0x11); out(g, 0xa1, 0x28); out(g, 0xa1, 0x02); out(g, 0xa1, 0x01); out(g, 0xa1, 0xff);
  out(g, 0x43, 0x34); out(g, 0x40, 0x00); out(g, 0x40, 0x10);
}

static struct machine *run(struct guest *g) { return run_guest(g, "irq-test", 50000000); }

static void irq_hlt_wakes_with_eip_after_hlt(void **state)
{
  struct guest g;
  guest_start(&g, VEC_TIMER);
  guest_timer(&g, 0xfe);
  EMIT(&g, 0xfb, 0xf4);                     /* sti; hlt */
  uint32_t after_hlt = g.at;
  EMIT(&g, 0xeb, 0xfe);                     /* jmp $ */
  g.at = HANDLER;                           /* al = (saved EIP != after_hlt); exit with al */
  EMIT(&g, 0x58, 0x2d, U32(after_hlt));     /* pop eax; sub eax, after_hlt */
  EMIT(&g, 0x0f, 0x95, 0xc0, 0xe6, 0xf4);   /* setnz al; out 0xf4, al */
  EMIT(&g, 0xeb, 0xfe);
  assert_int_equal(debug_exit_status(run(&g)), 1);      /* (0 << 1) | 1: EIP after HLT */
}

static void irq_hlt_with_irq0_masked_stops(void **state)
{
  struct guest g;
  guest_start(&g, VEC_TIMER);
  guest_timer(&g, 0xff);
  EMIT(&g, 0xfb, 0xf4, 0xeb, 0xfe);         /* sti; hlt; jmp $ */
  struct machine *m = run(&g);
  assert_int_equal(m->stop, STOP_HALTED);
  assert_non_null(strstr(m->stop_detail, "IRQ0 masked"));
  machine_destroy(m);
}

static void irq_hlt_without_timer_stops(void **state)
{
  struct guest g;
  guest_start(&g, VEC_TIMER);
  EMIT(&g, 0xfb, 0xf4, 0xeb, 0xfe);         /* sti; hlt; jmp $ */
  struct machine *m = run(&g);
  assert_int_equal(m->stop, STOP_HALTED);
  assert_non_null(strstr(m->stop_detail, "no timer armed"));
  machine_destroy(m);
}

static void irq_hlt_with_if_clear_stops(void **state)
{
  struct guest g;
  guest_start(&g, VEC_TIMER);
  guest_timer(&g, 0xfe);
  EMIT(&g, 0xfa, 0xf4, 0xeb, 0xfe);         /* cli; hlt; jmp $ */
  struct machine *m = run(&g);
  assert_int_equal(m->stop, STOP_HALTED);
  assert_non_null(strstr(m->stop_detail, "interrupts disabled"));
  machine_destroy(m);
}

/* IRQ0 pending (polled in IRR with IF=0), then `sti; inc ebx; inc ebx`:
 * the handler exits with EBX, which must be 1. */
static void irq_sti_shadow_runs_next_instruction_first(void **state)
{
  struct guest g;
  guest_start(&g, VEC_TIMER);
  guest_timer(&g, 0xfe);
  out(&g, 0x20, 0x0a);                      /* OCW3: read IRR */
  uint32_t poll = g.at;
  EMIT(&g, 0xe4, 0x20, 0xa8, 0x01);         /* in al, 0x20; test al, 1 */
  EMIT(&g, 0x74, (uint8_t)(poll - (g.at + 2)));   /* jz poll */
  EMIT(&g, 0x31, 0xdb, 0xfb, 0x43, 0x43);   /* xor ebx, ebx; sti; inc ebx; inc ebx */
  EMIT(&g, 0xeb, 0xfe);                     /* jmp $ */
  g.at = HANDLER;
  EMIT(&g, 0x88, 0xd8, 0xe6, 0xf4, 0xeb, 0xfe);   /* mov al, bl; out 0xf4, al; jmp $ */
  assert_int_equal(debug_exit_status(run(&g)), (1 << 1) | 1);
}

/* Without STI's shadow at stake (IF already 1 for many instructions), the
 * pending request is taken before the increments: EBX is 0. */
static void irq_pending_with_if_set_is_taken_before_later_code(void **state)
{
  struct guest g;
  guest_start(&g, VEC_TIMER);
  EMIT(&g, 0x31, 0xdb, 0xfb, 0x90, 0x90, 0x90);   /* xor ebx, ebx; sti; nop x3 */
  guest_timer(&g, 0xfe);
  out(&g, 0x20, 0x0a);
  uint32_t poll = g.at;
  EMIT(&g, 0xe4, 0x20, 0xa8, 0x01, 0x74, 0x00);   /* in al, 0x20; test al, 1; jz poll */
  g.seg[g.at - 1 - BASE] = (uint8_t)(poll - g.at);
  EMIT(&g, 0x43, 0x43, 0xeb, 0xfe);         /* inc ebx; inc ebx; jmp $ */
  g.at = HANDLER;
  EMIT(&g, 0x88, 0xd8, 0xe6, 0xf4, 0xeb, 0xfe);
  assert_int_equal(debug_exit_status(run(&g)), 1);      /* taken before the increments */
}

/* Not an interrupt rule but the same harness: Unicorn finishes the block
 * after isa-debug-exit, and a later access outside RAM in that block must
 * not replace the guest's exit status. */
static void machine_debug_exit_status_survives_the_block_tail(void **state)
{
  struct guest g;
  guest_start(&g, VEC_TIMER);
  EMIT(&g, 0xb0, 0x00, 0xe6, 0xf4);         /* mov al, 0; out 0xf4, al */
  EMIT(&g, 0xa1, U32(0x10000000u));         /* mov eax, [256 MiB]: outside RAM */
  EMIT(&g, 0xeb, 0xfe);
  assert_int_equal(debug_exit_status(run(&g)), 1);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(irq_hlt_wakes_with_eip_after_hlt),
    cmocka_unit_test(irq_hlt_with_irq0_masked_stops),
    cmocka_unit_test(irq_hlt_without_timer_stops),
    cmocka_unit_test(irq_hlt_with_if_clear_stops),
    cmocka_unit_test(irq_sti_shadow_runs_next_instruction_first),
    cmocka_unit_test(irq_pending_with_if_set_is_taken_before_later_code),
    cmocka_unit_test(machine_debug_exit_status_survives_the_block_tail),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
