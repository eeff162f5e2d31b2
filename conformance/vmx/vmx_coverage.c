/* vmx-coverage: lists VMX catalogue entries (VMCS fields, VM-entry checks)
 * and modelled VM-instruction errors and VM-exit reasons that no conformance
 * test proves, and
 * fails while that list is not empty.
 *
 * Usage: vmx-coverage TEST_BINARY...
 * Each binary is run with `--covers` and prints "field NAME", "check NAME",
 * "error N" or "exit N" for the entries its passing conformance cases prove (conformance/covers.h). */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conformance/covers.h"
#include "models/vmx/entry_checks.h"
#include "models/vmx/vmcs.h"
#include "models/vmx/vmx_bits.h"
#include "models/vmx/vmx_exit.h"

static bool field_seen[VMCS_FIELD_COUNT];
static bool check_seen[VMX_CHECK_END];
static bool error_seen[256];
static bool exit_seen[256];

/* One line of a binary's `--covers` output (conformance/covers.h). */
static bool line(const char *kind, const char *name, const char *binary, void *ctx)
{
  (void)ctx;
  if (strcmp(kind, "field") == 0) {
    bool high;
    int f = vmcs_field_by_name(name, &high);
    if (f >= 0) field_seen[f] = true;
    else fprintf(stderr, "vmx-coverage: %s claims unknown field %s\n", binary, name);
  } else if (strcmp(kind, "error") == 0) {
    unsigned n = (unsigned)strtoul(name, NULL, 10);
    if (n < 256) error_seen[n] = true;
  } else if (strcmp(kind, "exit") == 0) {
    unsigned n = (unsigned)strtoul(name, NULL, 10);
    if (n < 256 && vmx_exit_reason_find(n)) exit_seen[n] = true;
    else fprintf(stderr, "vmx-coverage: %s claims unknown exit reason %s\n", binary, name);
  } else if (strcmp(kind, "check") == 0) {
    enum vmx_check_id id = vmx_check_by_name(name);
    if (id != VMX_ENTRY_OK) check_seen[id] = true;
    else fprintf(stderr, "vmx-coverage: %s claims unknown check %s\n", binary, name);
  }
  return true;
}

int main(int argc, char **argv)
{
  if (argc < 2) {
    fprintf(stderr, "usage: vmx-coverage TEST_BINARY...\n");
    return 2;
  }
  for (int i = 1; i < argc; i++)
    if (!cov_collect("vmx-coverage", argv[i], line, NULL)) return 2;

  unsigned missing = 0;
  for (int f = 0; f < VMCS_FIELD_COUNT; f++)
    if (!field_seen[f]) printf("untested field %s (%#06x)\n", vmcs_fields[f].name, vmcs_fields[f].encoding), missing++;
  for (int c = VMX_CHECK_FIRST; c < VMX_CHECK_END; c++)
    if (!check_seen[c]) printf("untested check VMX_ENTRY_%s (%s)\n", vmx_checks[c].name, vmx_checks[c].section), missing++;
  unsigned modelled = 0;
  for (unsigned i = 0; i < vmx_error_count; i++) {
    if (!vmx_errors[i].modelled) continue;
    modelled++;
    if (!error_seen[vmx_errors[i].number])
      printf("untested VM-instruction error %u (%s)\n", vmx_errors[i].number, vmx_errors[i].text), missing++;
  }
  unsigned exits = 0;
  for (unsigned i = 0; i < vmx_exit_reason_count; i++) {
    if (!vmx_exit_reasons[i].modelled) continue;
    exits++;
    if (!exit_seen[vmx_exit_reasons[i].number])
      printf("untested exit reason %u %s (%s)\n", vmx_exit_reasons[i].number, vmx_exit_reasons[i].name,
             vmx_exit_reasons[i].section), missing++;
  }
  printf("vmx-coverage: %s: %u of %d fields, %d checks, %u VM-instruction errors and %u exit reasons untested\n",
         missing ? "FAIL" : "OK", missing, VMCS_FIELD_COUNT, VMX_CHECK_END - VMX_CHECK_FIRST, modelled, exits);
  return missing ? 1 : 0;
}
