/* The VM-entry check catalogue as a table, and the driver that evaluates
 * every group and reports the failures in architectural order. */
#include "models/vmx/entry_checks_impl.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct vmx_check_info vmx_checks[VMX_CHECK_END] = {
  [VMX_ENTRY_OK] = { "OK", VMX_OUTCOME_CTLS, 0, "", "" },
#define VMX_CHECK(id, outcome, qual, section, text) \
  [VMX_ENTRY_##id] = { #id, VMX_OUTCOME_##outcome, qual, section, text },
#include "models/vmx/entry_checks.def"
#undef VMX_CHECK
};

/* Qualifications only on guest-state failures; catalogue sanity. */
#define VMX_CHECK(id, outcome, qual, section, text) \
  _Static_assert((qual) == 0 || VMX_OUTCOME_##outcome == VMX_OUTCOME_GUEST, #id ": qualification");
#include "models/vmx/entry_checks.def"
#undef VMX_CHECK

enum vmx_check_id vmx_check_by_name(const char *name)
{
  if (strncmp(name, "VMX_ENTRY_", 10) == 0) name += 10;
  for (int i = VMX_CHECK_FIRST; i < VMX_CHECK_END; i++)
    if (strcmp(vmx_checks[i].name, name) == 0) return i;
  return VMX_ENTRY_OK;
}

void ec_fail(struct ec *c, enum vmx_check_id id, uint64_t qual, const char *fmt, ...)
{
  struct vmx_check_failure *f = &c->slot[id];
  if (f->id != VMX_ENTRY_OK) return;
  f->id = id;
  f->qual = qual;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(f->msg, sizeof f->msg, fmt, ap);
  va_end(ap);
}

void ec_skip(struct ec *c, enum vmx_check_id id) { c->skipped[id] = true; }

bool ec_read(struct ec *c, uint64_t pa, void *buf, size_t len)
{
  return c->env->read_phys && c->env->read_phys(c->env->ctx, pa, buf, len);
}

void vmx_entry_check_all(const struct vmcs *v, const struct vmx_entry_env *env,
                         struct vmx_entry_report *report)
{
  struct vmx_check_failure *slot = calloc(VMX_CHECK_END, sizeof *slot);
  bool skipped[VMX_CHECK_END] = { false };
  struct ec c = { .v = v, .env = env, .caps = env->caps, .slot = slot, .skipped = skipped };
  memset(report, 0, sizeof *report);
  if (!slot) {
    /* Out of memory: report it rather than claim the VMCS is valid. */
    report->count = 1;
    report->fail[0].id = VMX_CHECK_FIRST;
    snprintf(report->fail[0].msg, sizeof report->fail[0].msg, "out of memory while checking");
    return;
  }

  c.pin = (uint32_t)vmcs_get(v, VMCSI_PIN_BASED_VM_EXEC_CONTROL);
  c.proc = (uint32_t)vmcs_get(v, VMCSI_CPU_BASED_VM_EXEC_CONTROL);
  c.proc2 = (c.proc & PROC_SECONDARY_CTLS) ? (uint32_t)vmcs_get(v, VMCSI_SECONDARY_VM_EXEC_CONTROL) : 0;
  c.exit = (uint32_t)vmcs_get(v, VMCSI_VM_EXIT_CONTROLS);
  c.entry = (uint32_t)vmcs_get(v, VMCSI_VM_ENTRY_CONTROLS);
  c.ug = (c.proc2 & PROC2_UNRESTRICTED_GUEST) != 0;
  c.ia32e_guest = (c.entry & ENTRY_IA32E_MODE_GUEST) != 0;
  c.v86 = (vmcs_get(v, VMCSI_GUEST_RFLAGS) & (1ull << 17)) != 0;

  ec_check_controls(&c);
  ec_check_host(&c);
  ec_check_guest_regs(&c);
  ec_check_guest_segments(&c);
  ec_check_guest_nonreg(&c);
  ec_check_msr_load(&c);

  for (int i = VMX_CHECK_FIRST; i < VMX_CHECK_END; i++) {
    if (slot[i].id != VMX_ENTRY_OK) report->fail[report->count++] = slot[i];
    else if (skipped[i]) report->skipped[report->skipped_count++] = i;
  }
  free(slot);
}

bool vmx_entry_check(const struct vmcs *v, const struct vmx_entry_env *env,
                     struct vmx_entry_result *result)
{
  struct vmx_entry_report *r = malloc(sizeof *r);
  memset(result, 0, sizeof *result);
  if (!r) {
    result->id = VMX_CHECK_FIRST;
    result->vm_instruction_error = VMXERR_ENTRY_INVALID_CTLS;
    snprintf(result->msg, sizeof result->msg, "out of memory while checking");
    return false;
  }
  vmx_entry_check_all(v, env, r);
  if (r->count == 0) {
    free(r);
    return true;
  }
  const struct vmx_check_failure *f = &r->fail[0];
  result->id = f->id;
  memcpy(result->msg, f->msg, sizeof result->msg);
  switch (vmx_checks[f->id].outcome) {
  case VMX_OUTCOME_CTLS: result->vm_instruction_error = VMXERR_ENTRY_INVALID_CTLS; break;
  case VMX_OUTCOME_HOST: result->vm_instruction_error = VMXERR_ENTRY_INVALID_HOST; break;
  case VMX_OUTCOME_GUEST:
    result->exit_reason = EXIT_REASON_ENTRY_FAILURE_BIT | EXIT_REASON_INVALID_GUEST_STATE;
    result->exit_qual = f->qual;
    break;
  case VMX_OUTCOME_MSR:
    result->exit_reason = EXIT_REASON_ENTRY_FAILURE_BIT | EXIT_REASON_MSR_LOADING;
    result->exit_qual = f->qual;
    break;
  }
  free(r);
  return false;
}
