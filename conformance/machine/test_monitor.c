/* The address-range monitor of MONITOR and MWAIT, through the whole
 * machine (sim/sysinsn.c): what arms it, what disarms it, and MONITOR's
 * and MWAIT's faults. SDM Vol. 2B, "MONITOR—Set Up Monitor Address" and
 * "MWAIT—Monitor Wait"; SDM Vol. 3A, "Multiple-Processor Management"
 * (the MONITOR/MWAIT section: the events that end the monitor); AMD APM
 * Vol. 3, "MONITOR", "MWAIT". The monitor's state is read from the machine
 * after the run: the architecture shows it only through MWAIT, whose
 * hypervisor exits (SVM's MWAIT_COND intercept, VMX's qualification) are
 * tested in conformance/svm/test_svm_intercepts.c and the vmx_exits
 * image. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "conformance/machine/guest32.h"
#include "sim/sysinsn.h"

#define DATA 0x120040u           /* the monitored byte, on a 64-byte line */
#define SMALL_DS 0x18            /* GDT entry 3: data, base 0, limit FFFh */

/* Vector 13 (#GP) goes to HANDLER, which exits with status (13 << 1) | 1. */
static void start(struct guest *g)
{
  guest_start(g, VEC_GP);
  uint32_t at = g->at;
  g->at = HANDLER;
  EMIT(g, 0xb0, VEC_GP, 0xe6, 0xf4, 0xeb, 0xfe);   /* mov al, 13; out 0xf4, al; jmp $ */
  g->at = at;
}

/* mov eax, la; mov ecx, ext; xor edx, edx; monitor */
static void monitor(struct guest *g, uint32_t la, uint32_t ext)
{
  EMIT(g, 0xb8, U32(la), 0xb9, U32(ext), 0x31, 0xd2, 0x0f, 0x01, 0xc8);
}

static void finish(struct guest *g) { EMIT(g, 0xb0, 0x00, 0xe6, 0xf4, 0xeb, 0xfe); }   /* exit, status 1 */

#define GP_STATUS ((VEC_GP << 1) | 1)

/* Runs to the guest's exit and returns the machine (the caller destroys
 * it) after checking the status. */
static struct machine *run_to(struct guest *g, const char *name, int status)
{
  struct machine *m = run_guest(g, name, 100000);
  assert_int_equal(m->stop, STOP_DEBUG_EXIT);
  assert_int_equal(m->exit_status, status);
  return m;
}

static void monitor_arms_the_line_of_its_address(void **state)
{
  (void)state;
  struct guest g;
  start(&g);
  monitor(&g, DATA + 5, 0);
  finish(&g);
  struct machine *m = run_to(&g, "monitor_arms", 1);
  assert_true(m->monitor.armed);
  assert_int_equal(m->monitor.line, DATA);
  assert_int_equal(m->monitor.size, MONITOR_LINE_DEFAULT);
  machine_destroy(m);
}

/* A store into the line disarms it; one outside it (the next line, the
 * bytes just below) does not; a store that starts below the line and
 * reaches into it does. */
static void monitor_store_into_line_disarms(void **state)
{
  (void)state;
  static const struct {
    uint32_t at;
    bool stays;
  } stores[] = {{DATA + 8, false}, {DATA + 64, true}, {DATA - 4, true}, {DATA - 2, false}};
  for (size_t i = 0; i < sizeof stores / sizeof stores[0]; i++) {
    struct guest g;
    start(&g);
    monitor(&g, DATA, 0);
    EMIT(&g, 0xa3, U32(stores[i].at));   /* mov [at], eax */
    finish(&g);
    struct machine *m = run_to(&g, "monitor_store", 1);
    if (m->monitor.armed != stores[i].stays)
      fail_msg("a 4-byte store at 0x%x: monitor %s, expected %s", stores[i].at, m->monitor.armed ? "armed" : "disarmed",
               stores[i].stays ? "armed" : "disarmed");
    machine_destroy(m);
  }
}

/* "Execution of MWAIT does not re-arm the monitor hardware": once MWAIT
 * completes, the monitor is disarmed. */
static void mwait_completion_disarms(void **state)
{
  (void)state;
  struct guest g;
  start(&g);
  monitor(&g, DATA, 0);
  EMIT(&g, 0x31, 0xc0, 0x31, 0xc9, 0x0f, 0x01, 0xc9);   /* xor eax, eax; xor ecx, ecx; mwait */
  finish(&g);
  struct machine *m = run_to(&g, "mwait_disarms", 1);
  assert_false(m->monitor.armed);
  machine_destroy(m);
}

/* A write of CR3 (an architectural TLB invalidation) ends the monitor. */
static void mov_cr3_disarms(void **state)
{
  (void)state;
  struct guest g;
  start(&g);
  monitor(&g, DATA, 0);
  EMIT(&g, 0x0f, 0x20, 0xd8, 0x0f, 0x22, 0xd8);   /* mov eax, cr3; mov cr3, eax */
  finish(&g);
  struct machine *m = run_to(&g, "cr3_disarms", 1);
  assert_false(m->monitor.armed);
  machine_destroy(m);
}

/* MONITOR: "#GP(0) If ECX != 0" (no extensions are defined); nothing is
 * armed. */
static void monitor_ecx_nonzero_gp(void **state)
{
  (void)state;
  struct guest g;
  start(&g);
  monitor(&g, DATA, 1);
  finish(&g);
  struct machine *m = run_to(&g, "monitor_ecx", GP_STATUS);
  assert_false(m->monitor.armed);
  machine_destroy(m);
}

/* MONITOR's address is DS:EAX, checked as a byte load: beyond DS's limit
 * it is #GP(0); at the limit it arms. */
static void monitor_beyond_ds_limit_gp(void **state)
{
  (void)state;
  static const struct {
    uint32_t eax;
    int status;
  } cases[] = {{0x1000, GP_STATUS}, {0xfff, 1}};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    struct guest g;
    start(&g);
    const uint64_t small = 0x0040920000000fffull;   /* data, read/write, base 0, limit FFFh, byte granular */
    memcpy(g.seg + (GDT - BASE) + SMALL_DS, &small, sizeof small);
    g.seg[GDTR - BASE] = 31;                          /* GDTR limit covers entry 3 */
    EMIT(&g, 0x66, 0xb8, SMALL_DS, 0x00, 0x8e, 0xd8); /* mov ax, 18h; mov ds, ax */
    monitor(&g, cases[i].eax, 0);
    finish(&g);
    struct machine *m = run_to(&g, "monitor_ds_limit", cases[i].status);
    assert_int_equal(m->monitor.armed, cases[i].status == 1);
    machine_destroy(m);
  }
}

/* MWAIT: "#GP(0) If ECX[31:1] != 0. If ECX[0] = 1 and CPUID.05H:ECX[bit
 * 1] = 0" — the models have no leaf 05H, so any ECX bit faults. */
static void mwait_ecx_nonzero_gp(void **state)
{
  (void)state;
  static const struct {
    uint32_t ecx;
    int status;
  } cases[] = {{1, GP_STATUS}, {2, GP_STATUS}, {0, 1}};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    struct guest g;
    start(&g);
    EMIT(&g, 0x31, 0xc0, 0xb9, U32(cases[i].ecx), 0x0f, 0x01, 0xc9);   /* xor eax, eax; mov ecx, n; mwait */
    finish(&g);
    machine_destroy(run_to(&g, "mwait_ecx", cases[i].status));
  }
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(monitor_arms_the_line_of_its_address),
    cmocka_unit_test(monitor_store_into_line_disarms),
    cmocka_unit_test(mwait_completion_disarms),
    cmocka_unit_test(mov_cr3_disarms),
    cmocka_unit_test(monitor_ecx_nonzero_gp),
    cmocka_unit_test(monitor_beyond_ds_limit_gp),
    cmocka_unit_test(mwait_ecx_nonzero_gp),
  };
  return cmocka_run_group_tests_name("machine_monitor", tests, NULL, NULL);
}
