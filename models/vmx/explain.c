/* explain-vmcs (see explain.h): parse, check, report. Memory-reading
 * checks cannot run on a dump (there is no guest memory); they are listed
 * as not evaluated rather than passed. */
#include "models/vmx/explain.h"

#include <stdlib.h>

#include "models/vmx/entry_checks.h"
#include "models/vmx/vmcs_dump.h"

static const char *outcome_text(const struct vmx_check_info *ci, char *buf, size_t len)
{
  switch (ci->outcome) {
  case VMX_OUTCOME_CTLS: return "VMfailValid(7): VM entry with invalid control field(s)";
  case VMX_OUTCOME_HOST: return "VMfailValid(8): VM entry with invalid host-state field(s)";
  case VMX_OUTCOME_GUEST:
    snprintf(buf, len, "VM-entry failure: exit reason 33 (invalid guest state), qualification %u", ci->qual);
    return buf;
  case VMX_OUTCOME_MSR: return "VM-entry failure: exit reason 34 (MSR loading), qualification = entry number";
  }
  return "unknown outcome"; /* unreachable: every outcome is listed */
}

int vmx_explain_vmcs(FILE *in, const char *input_name, const struct vmx_caps *caps,
                     FILE *out, FILE *err)
{
  struct vmcs_dump *d = malloc(sizeof *d);
  struct vmx_entry_report *r = malloc(sizeof *r);
  if (!d || !r) {
    fprintf(err, "%s: error: out of memory\n", input_name);
    free(d);
    free(r);
    return VMX_EXPLAIN_BAD_INPUT;
  }
  int errors = vmcs_dump_parse(in, input_name, caps, d, err);
  if (errors) {
    fprintf(err, "%s: %d error%s; no checks run\n", input_name, errors, errors == 1 ? "" : "s");
    free(d);
    free(r);
    return VMX_EXPLAIN_BAD_INPUT;
  }

  struct vmx_entry_env env = { .caps = caps, .host_ia32e = d->host_ia32e };
  vmx_entry_check_all(&d->v, &env, r);
  unsigned total = VMX_CHECK_END - VMX_CHECK_FIRST, given = 0;
  for (int f = 0; f < VMCS_FIELD_COUNT; f++) given += d->present[f];

  fprintf(out, "%s: CPU model %s, %u fields given (others are 0), processor %s IA-32e mode\n", input_name,
          caps->name, given, d->host_ia32e ? "in" : "outside");
  if (r->count == 0) {
    fprintf(out, "all %u evaluated VM-entry checks pass\n", total - r->skipped_count);
  } else {
    char buf[160];
    fprintf(out, "%u VM-entry check%s; VMLAUNCH/VMRESUME would report the first:\n  %s\n", r->count,
            r->count == 1 ? " fails" : "s fail", outcome_text(&vmx_checks[r->fail[0].id], buf, sizeof buf));
    for (unsigned i = 0; i < r->count; i++) {
      const struct vmx_check_info *ci = &vmx_checks[r->fail[i].id];
      fprintf(out, "\nFAIL VMX_ENTRY_%s\n", ci->name);
      fprintf(out, "  outcome:   %s\n", outcome_text(ci, buf, sizeof buf));
      fprintf(out, "  citation:  Intel SDM Vol. 3C, chapter \"VM Entries\", \"%s\"\n", ci->section);
      fprintf(out, "  must hold: %s\n", ci->predicate);
      fprintf(out, "  found:     %s\n", r->fail[i].msg);
    }
  }
  for (unsigned i = 0; i < r->skipped_count; i++)
    fprintf(out, "%sNOT EVALUATED VMX_ENTRY_%s: needs guest memory, which a dump does not contain\n",
            i == 0 ? "\n" : "", vmx_checks[r->skipped[i]].name);
  int rc = r->count ? VMX_EXPLAIN_FAIL : VMX_EXPLAIN_PASS;
  free(d);
  free(r);
  return rc;
}
