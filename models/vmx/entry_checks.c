/* The VM-entry check catalogue as a table, and the driver that evaluates
 * every group and reports the failures in architectural order. */
#include "models/vmx/entry_checks_impl.h"

#include <stdarg.h>
#include <stdio.h>
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
  if (c->failed[id]) return;
  c->failed[id] = true;
  struct vmx_check_failure *f = c->slot ? &c->slot[id] : c->first;
  if (!c->slot && f->id != VMX_ENTRY_OK && f->id < id) return;
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

static void evaluate(struct ec *c)
{
  const struct vmcs *v = c->v;
  c->pin = (uint32_t)vmcs_get(v, VMCSI_PIN_BASED_VM_EXEC_CONTROL);
  c->proc = (uint32_t)vmcs_get(v, VMCSI_CPU_BASED_VM_EXEC_CONTROL);
  c->proc2 = (c->proc & PROC_SECONDARY_CTLS) ? (uint32_t)vmcs_get(v, VMCSI_SECONDARY_VM_EXEC_CONTROL) : 0;
  c->exit = (uint32_t)vmcs_get(v, VMCSI_VM_EXIT_CONTROLS);
  c->entry = (uint32_t)vmcs_get(v, VMCSI_VM_ENTRY_CONTROLS);
  c->ug = (c->proc2 & PROC2_UNRESTRICTED_GUEST) != 0;
  c->ia32e_guest = (c->entry & ENTRY_IA32E_MODE_GUEST) != 0;
  c->v86 = (vmcs_get(v, VMCSI_GUEST_RFLAGS) & (1ull << 17)) != 0;

  ec_check_controls(c);
  ec_check_host(c);
  ec_check_guest_regs(c);
  ec_check_guest_segments(c);
  ec_check_guest_nonreg(c);
  ec_check_msr_load(c);
}

void vmx_entry_check_all(const struct vmcs *v, const struct vmx_entry_env *env,
                         struct vmx_entry_report *report)
{
  struct ec c = { 0 };
  memset(report, 0, sizeof *report);
  c.v = v;
  c.env = env;
  c.caps = env->caps;
  /* Failures land directly in the report's array, indexed by ID, and are
   * compacted into catalogue order afterwards. */
  c.slot = report->fail;
  evaluate(&c);
  for (int i = VMX_CHECK_FIRST; i < VMX_CHECK_END; i++) {
    if (c.failed[i]) report->fail[report->count++] = report->fail[i];
    else if (c.skipped[i]) report->skipped[report->skipped_count++] = i;
  }
}

bool vmx_entry_check(const struct vmcs *v, const struct vmx_entry_env *env,
                     struct vmx_entry_result *result)
{
  struct ec c = { 0 };
  struct vmx_check_failure first = { .id = VMX_ENTRY_OK };
  memset(result, 0, sizeof *result);
  c.v = v;
  c.env = env;
  c.caps = env->caps;
  c.first = &first;
  evaluate(&c);
  if (first.id == VMX_ENTRY_OK) return true;
  result->id = first.id;
  memcpy(result->msg, first.msg, sizeof result->msg);
  switch (vmx_checks[first.id].outcome) {
  case VMX_OUTCOME_CTLS: result->vm_instruction_error = VMXERR_ENTRY_INVALID_CTLS; break;
  case VMX_OUTCOME_HOST: result->vm_instruction_error = VMXERR_ENTRY_INVALID_HOST; break;
  case VMX_OUTCOME_GUEST:
    result->exit_reason = EXIT_REASON_ENTRY_FAILURE_BIT | EXIT_REASON_INVALID_GUEST_STATE;
    result->exit_qual = first.qual;
    break;
  case VMX_OUTCOME_MSR:
    result->exit_reason = EXIT_REASON_ENTRY_FAILURE_BIT | EXIT_REASON_MSR_LOADING;
    result->exit_qual = first.qual;
    break;
  }
  return false;
}
