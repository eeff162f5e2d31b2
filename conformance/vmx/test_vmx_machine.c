/* Guest-level VMX images run on hvsim's machine with VMX capabilities no
 * machine CPU model offers yet, for the features Bochs's corei7_skylake_x
 * lacks too (so the oracle comparison only sees them refused): the monitor
 * trap flag. The machine is skylake-x's CPUID with the Nehalem VMX model
 * (which offers "monitor trap flag"); the image must reach PASS having
 * taken its supported branch. The same image on skylake-x takes the
 * unsupported branch, so the branch is decided by the capability, not by
 * the image. SDM Vol. 3C, "Monitor Trap Flag".
 *
 * Also the INIT and SMI signals the local APIC's ICR sends, which only the
 * whole machine produces: vmx_init (INIT exits, reason 3, in non-root
 * operation; an INIT in root operation held until the next VM entry) must
 * pass on skylake-x, and this is the scenario that proves exit reason 3
 * for vmx-coverage (`--covers`); vmx_init_smi (an SMI in non-root
 * operation, default treatment: SMM is not modelled) must stop the run
 * with a message saying so. SDM Vol. 3C, "INIT Signals", "VMX Root
 * Operation", "Default Treatment of SMI Delivery". */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "conformance/covers.h"
#include "sim/machine.h"

#define RAM (64u << 20)
#define MAX_INSNS 200000000ull

struct run { enum stop_reason stop; int status; char *serial; char detail[256]; };

/* Runs IMAGE on `cpu` and returns its serial output. */
static struct run run_image(const char *image, const struct cpu_model *cpu)
{
  char path[512];
  snprintf(path, sizeof path, "%s/%s.elf", HVSIM_VMX_IMAGE_DIR, image);
  FILE *f = fopen(path, "rb");
  if (!f) fail_msg("cannot open %s", path);
  static uint8_t elf[8u << 20];
  size_t n = fread(elf, 1, sizeof elf, f);
  fclose(f);
  char *serial = NULL;
  size_t serial_size = 0;
  FILE *out = open_memstream(&serial, &serial_size);
  assert_non_null(out);
  /* HVSIM_VMX_MACHINE_TRACE=FILE appends the runs' traces (for debugging). */
  const char *trace = getenv("HVSIM_VMX_MACHINE_TRACE");
  FILE *tr = trace ? fopen(trace, "a") : NULL;
  struct machine_options opt = {.cpu = cpu, .ram_size = RAM, .max_insns = MAX_INSNS, .serial_out = out, .trace_out = tr,
                                .image_name = image};
  char err[256] = "";
  struct machine *m = machine_create(&opt, elf, n, err, sizeof err);
  if (!m) fail_msg("machine_create: %s", err);
  machine_run(m);
  struct run r = {m->stop, m->exit_status, NULL, ""};
  snprintf(r.detail, sizeof r.detail, "%s", m->stop_detail);
  machine_destroy(m);
  fclose(out);
  if (tr) fclose(tr);
  r.serial = serial;
  return r;
}

/* The whole output on stderr (cmocka cuts long messages); "" for fail_msg. */
static const char *dump(const struct run *r)
{
  fprintf(stderr, "%s(stop %d, status %d: %s)\n", r->serial, r->stop, r->status, r->detail);
  return "";
}

static void vmx_machine_mtf_image_passes_where_offered(void **state)
{
  (void)state;
  struct cpu_model with_mtf = *cpu_model_find("skylake-x");
  with_mtf.name = "skylake-x-with-nehalem-vmx";
  with_mtf.virt_model = "nehalem";
  struct run r = run_image("vmx_mtf", &with_mtf);
  if (!strstr(r.serial, "# the monitor trap flag is supported\n") || strstr(r.serial, "not ok") ||
      !strstr(r.serial, "\nPASS\n"))
    fail_msg("vmx_mtf with the monitor trap flag did not pass:%s", dump(&r));
  assert_int_equal(r.stop, STOP_DEBUG_EXIT);
  assert_int_equal(r.status, 1);
  free(r.serial);
}

/* vmx_mtf_dbg's supported branch: "MTF VM exits take priority over
 * debug-trap exceptions" (the single step saved pending as BS, DR6
 * untouched), and the pending #DB a VM entry delivers is followed by the
 * MTF exit at its handler. SDM Vol. 3C, "Monitor Trap Flag". */
static void vmx_machine_mtf_dbg_image_passes_where_offered(void **state)
{
  (void)state;
  struct cpu_model with_mtf = *cpu_model_find("skylake-x");
  with_mtf.name = "skylake-x-with-nehalem-vmx";
  with_mtf.virt_model = "nehalem";
  struct run r = run_image("vmx_mtf_dbg", &with_mtf);
  if (!strstr(r.serial, "# the monitor trap flag is supported\n") || strstr(r.serial, "not ok") ||
      !strstr(r.serial, "MTF and single step: the MTF exit comes first") || !strstr(r.serial, "\nPASS\n"))
    fail_msg("vmx_mtf_dbg with the monitor trap flag did not pass:%s", dump(&r));
  assert_int_equal(r.stop, STOP_DEBUG_EXIT);
  assert_int_equal(r.status, 1);
  free(r.serial);
}

/* vmx_dbgbp's supported branch: the MTF exit after a store that hits a
 * data breakpoint takes priority over its trap, saved pending as B0 and
 * "enabled breakpoint". SDM Vol. 3C, "Monitor Trap Flag", "Saving
 * Non-Register State". */
static void vmx_machine_dbgbp_mtf_image_passes_where_offered(void **state)
{
  (void)state;
  struct cpu_model with_mtf = *cpu_model_find("skylake-x");
  with_mtf.name = "skylake-x-with-nehalem-vmx";
  with_mtf.virt_model = "nehalem";
  struct run r = run_image("vmx_dbgbp", &with_mtf);
  if (!strstr(r.serial, "# the monitor trap flag is supported\n") || strstr(r.serial, "not ok") ||
      !strstr(r.serial, "MTF and data breakpoint: the MTF exit comes first") || !strstr(r.serial, "\nPASS\n"))
    fail_msg("vmx_dbgbp with the monitor trap flag did not pass:%s", dump(&r));
  assert_int_equal(r.stop, STOP_DEBUG_EXIT);
  assert_int_equal(r.status, 1);
  free(r.serial);
}

static void vmx_machine_mtf_image_refused_on_skylake_x(void **state)
{
  (void)state;
  struct run r = run_image("vmx_mtf", cpu_model_find("skylake-x"));
  if (!strstr(r.serial, "# the monitor trap flag is not supported\n") || !strstr(r.serial, "\nPASS\n"))
    fail_msg("vmx_mtf on skylake-x did not pass:%s", dump(&r));
  free(r.serial);
}

/* vmx_init on skylake-x passes with both INIT exits taken as the SDM says
 * (no "not ok", not even a declared departure). */
static bool init_image_passes(struct run *r)
{
  *r = run_image("vmx_init", cpu_model_find("skylake-x"));
  return !strstr(r->serial, "not ok") && strstr(r->serial, " - the INIT exits: reason 3 = 0x3\n") &&
         strstr(r->serial, " - the pending INIT exits right after VM entry: reason 3 = 0x3\n") &&
         strstr(r->serial, "\nPASS\n") && r->stop == STOP_DEBUG_EXIT && r->status == 1;
}

static void vmx_machine_init_exits_in_non_root_and_waits_in_root(void **state)
{
  (void)state;
  struct run r;
  if (!init_image_passes(&r)) fail_msg("vmx_init did not pass:%s", dump(&r));
  free(r.serial);
}

static void vmx_machine_smi_in_non_root_stops_the_run(void **state)
{
  (void)state;
  struct run r = run_image("vmx_init_smi", cpu_model_find("skylake-x"));
  if (r.stop != STOP_INTERNAL || !strstr(r.detail, "SMI") ||
      !strstr(r.detail, "in VMX non-root operation, default treatment of SMIs") ||
      !strstr(r.detail, "system-management mode (SMM) is not modelled") || strstr(r.serial, "the guest's SMI stopped"))
    fail_msg("vmx_init_smi did not stop at the SMI:%s", dump(&r));
  free(r.serial);
}

/* A #DB whose own stack frame hits a data breakpoint on an IST stack
 * recurs forever (the processor's own accesses match data breakpoints:
 * SDM Vol. 3A, "Data Memory and I/O Breakpoint Exception Conditions"):
 * the machine stops the run saying so instead of hanging (sim/debug_bp.c). */
static void vmx_machine_db_frame_recursion_stops(void **state)
{
  (void)state;
  struct run r = run_image("vmx_dbgbp_recursion", cpu_model_find("skylake-x"));
  if (r.stop != STOP_INTERNAL || !strstr(r.detail, "endless #DB recursion") ||
      !strstr(r.serial, "ICEBP with a write breakpoint") || strstr(r.serial, "the #DB recursion ended"))
    fail_msg("vmx_dbgbp_recursion did not stop at the #DB recursion:%s", dump(&r));
  free(r.serial);
}

/* --covers: exit reason 3 is proved by the passing vmx_init run. */
static void covered_exits(void)
{
  struct run r;
  if (init_image_passes(&r)) printf("exit 3\n");
  free(r.serial);
}

int main(int argc, char **argv)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(vmx_machine_mtf_image_passes_where_offered),
    cmocka_unit_test(vmx_machine_db_frame_recursion_stops),
    cmocka_unit_test(vmx_machine_mtf_image_refused_on_skylake_x),
    cmocka_unit_test(vmx_machine_mtf_dbg_image_passes_where_offered),
    cmocka_unit_test(vmx_machine_init_exits_in_non_root_and_waits_in_root),
    cmocka_unit_test(vmx_machine_smi_in_non_root_stops_the_run),
    cmocka_unit_test(vmx_machine_dbgbp_mtf_image_passes_where_offered),
  };
  return cov_main(argc, argv, "vmx_machine", tests, sizeof tests / sizeof tests[0], covered_exits);
}
