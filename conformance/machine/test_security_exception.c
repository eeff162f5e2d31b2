/* The security exception (#SX, vector 30) through the whole machine on an
 * AMD model: an INIT redirected by VM_CR.R_INIT (AMD APM Vol. 2, "VM_CR
 * MSR" and "Security Exception (#SX)") delivers #SX with error code 1,
 * and #SX is a contributory exception for the double-fault rules (APM
 * Vol. 2, "Double-Fault Exception (#DF)": a contributory exception during
 * the delivery of a contributory one is #DF). The INIT is sent to the
 * processor itself through the local APIC's ICR. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "conformance/machine/guest32.h"

#define HANDLER_DF (HANDLER + 0x40)
#define HANDLER_SX (HANDLER + 0x80)
#define APIC_ICR_LO 0xFEE00300u
#define MSR_VM_CR 0xC0010114u
#define VM_CR_R_INIT (1u << 1)

/* An interrupt gate for `vector` to `handler` in the guest's IDT. */
static void gate(struct guest *g, unsigned vector, uint32_t handler)
{
  const uint8_t d[8] = {(uint8_t)handler, (uint8_t)(handler >> 8), 0x08, 0, 0, 0x8e, (uint8_t)(handler >> 16),
                        (uint8_t)(handler >> 24)};
  memcpy(g->seg + (IDT - BASE) + 8 * vector, d, sizeof d);
}

/* A handler that exits with status (value << 1) | 1, value being `vector`
 * or, with `error`, the error code it finds on the stack. */
static void handler(struct guest *g, uint32_t at, uint8_t vector, bool error)
{
  uint32_t keep = g->at;
  g->at = at;
  if (error) EMIT(g, 0x58);               /* pop eax (the error code) */
  else EMIT(g, 0xb0, vector);             /* mov al, vector */
  EMIT(g, 0xe6, 0xf4, 0xeb, 0xfe);        /* out 0xf4, al; jmp $ */
  g->at = keep;
}

/* The guest: IDT vectors 0-`last` (GP's and DF's gates to their own
 * handlers), VM_CR.R_INIT set, then an INIT to itself; the run's status
 * names the handler that ran. */
static int run(unsigned last, bool sx_gate)
{
  struct guest g;
  guest_start(&g, (uint8_t)last);         /* gate `last` to HANDLER, IDT limit 8 * last + 7 */
  handler(&g, HANDLER, (uint8_t)last, false);
  gate(&g, VEC_DF, HANDLER_DF);
  handler(&g, HANDLER_DF, VEC_DF, false);
  gate(&g, VEC_GP, HANDLER);
  handler(&g, HANDLER, VEC_GP, false);
  if (sx_gate) {
    gate(&g, VEC_SX, HANDLER_SX);
    handler(&g, HANDLER_SX, VEC_SX, true);
  }
  EMIT(&g, 0xb9, U32(MSR_VM_CR), 0xb8, U32(VM_CR_R_INIT), 0x31, 0xd2, 0x0f, 0x30);   /* wrmsr VM_CR */
  EMIT(&g, 0xc7, 0x05, U32(APIC_ICR_LO), U32(0x4500));                                 /* ICR: INIT, assert */
  EMIT(&g, 0xeb, 0xfe);                                                                 /* jmp $ */
  struct machine_options opt = {.cpu = cpu_model_find("zen"), .ram_size = 4u << 20, .max_insns = 100000,
                                .image_name = "security_exception"};
  assert_non_null(opt.cpu);
  char err[256] = "";
  struct machine *m = machine_create(&opt, g.file, sizeof g.file, err, sizeof err);
  if (!m) fail_msg("machine_create: %s", err);
  machine_run(m);
  return debug_exit_status(m);
}

/* The redirected INIT is #SX with error code 1 through its IDT gate. */
static void sx_redirected_init_pushes_error_code_1(void **state)
{
  (void)state;
  assert_int_equal(run(VEC_SX, true), (1 << 1) | 1);
}

/* #SX's gate lies beyond the IDT limit (vectors 0-13): its delivery
 * raises #GP (a contributory exception), which with #SX contributory is
 * a double fault; were #SX benign, the #GP would reach its own handler. */
static void sx_then_gp_during_delivery_double_faults(void **state)
{
  (void)state;
  assert_int_equal(run(VEC_GP, false), (VEC_DF << 1) | 1);
}

/* The error-code rule the machine applies to an exception raised during
 * another's delivery ("Error Code"): #SX pushes one, like #GP. */
static void sx_has_error_code(void **state)
{
  (void)state;
  assert_true(exception_has_error_code(VEC_SX));
  assert_true(exception_has_error_code(VEC_GP));
  assert_false(exception_has_error_code(VEC_UD));
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(sx_redirected_init_pushes_error_code_1),
    cmocka_unit_test(sx_then_gp_during_delivery_double_faults),
    cmocka_unit_test(sx_has_error_code),
  };
  return cmocka_run_group_tests_name("machine_security_exception", tests, NULL, NULL);
}
