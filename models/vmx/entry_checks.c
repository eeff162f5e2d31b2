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
  if (ec_failed(c, id)) return;
  c->failed[id / 64] |= 1ull << (id % 64);
  c->failures++;
  struct vmx_check_failure *f = c->slot ? &c->slot[id] : c->first;
  if (!c->slot && f->id != VMX_ENTRY_OK && f->id < id) return;
  f->id = id;
  f->qual = qual;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(f->msg, sizeof f->msg, fmt, ap);
  va_end(ap);
}

void ec_skip(struct ec *c, enum vmx_check_id id)
{
  c->skipped[id / 64] |= 1ull << (id % 64);
  c->read_outside = true;
}

bool ec_read(struct ec *c, uint64_t pa, void *buf, size_t len)
{
  c->read_outside = true;
  return c->env->read_phys && c->env->read_phys(c->env->ctx, pa, buf, len);
}

bool ec_wrmsr_ok(struct ec *c, uint32_t index, uint64_t value)
{
  c->read_outside = true;
  return !c->env->wrmsr_ok || c->env->wrmsr_ok(c->env->ctx, index, value);
}

/* The groups in the order VM entry checks them. */
static void (*const groups[VMCS_CHECK_GROUPS])(struct ec *) = {
  ec_check_controls, ec_check_host, ec_check_guest_regs, ec_check_guest_segments, ec_check_guest_nonreg,
  ec_check_msr_load,
};

/* Every group, or with a memo those whose inputs changed or that did not
 * pass last time; the memo's change set says what changed since then. */
static void evaluate(struct ec *c, struct vmcs_check_memo *memo)
{
  /* What every group interprets its fields by: their inputs too. */
  c->pin = (uint32_t)F(PIN_BASED_VM_EXEC_CONTROL);
  c->proc = (uint32_t)F(CPU_BASED_VM_EXEC_CONTROL);
  c->proc2 = (c->proc & PROC_SECONDARY_CTLS) ? (uint32_t)F(SECONDARY_VM_EXEC_CONTROL) : 0;
  c->exit = (uint32_t)F(VM_EXIT_CONTROLS);
  c->entry = (uint32_t)F(VM_ENTRY_CONTROLS);
  c->ug = (c->proc2 & PROC2_UNRESTRICTED_GUEST) != 0;
  c->ia32e_guest = (c->entry & ENTRY_IA32E_MODE_GUEST) != 0;
  c->v86 = (F(GUEST_RFLAGS) & (1ull << 17)) != 0;
  uint64_t common[VMCS_FIELD_WORDS];
  memcpy(common, c->reads, sizeof common);

  for (unsigned g = 0; g < VMCS_CHECK_GROUPS; g++) {
    if (memo && (memo->passed >> g & 1)) {
      uint64_t hit = 0;
      for (unsigned w = 0; w < VMCS_FIELD_WORDS; w++) hit |= memo->inputs[g][w] & memo->changed[w];
      if (!hit) continue;
    }
    memcpy(c->reads, common, sizeof common);
    c->read_outside = false;
    unsigned failures = c->failures;
    groups[g](c);
    if (!memo) continue;
    memcpy(memo->inputs[g], c->reads, sizeof c->reads);
    bool passed = c->failures == failures && !c->read_outside;
    memo->passed = (uint8_t)((memo->passed & ~(1u << g)) | (unsigned)passed << g);
  }
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
  evaluate(&c, NULL);
  for (int i = VMX_CHECK_FIRST; i < VMX_CHECK_END; i++) {
    if (ec_bit(c.failed, i)) report->fail[report->count++] = report->fail[i];
    else if (ec_bit(c.skipped, i)) report->skipped[report->skipped_count++] = i;
  }
}

/* The first failure's architectural outcome (the message only then: a
 * VM entry that passes formats none). */
static bool outcome(const struct vmx_check_failure *first, struct vmx_entry_result *result)
{
  result->id = first->id;
  result->vm_instruction_error = 0;
  result->exit_reason = 0;
  result->exit_qual = 0;
  result->msg[0] = '\0';
  if (first->id == VMX_ENTRY_OK) return true;
  memcpy(result->msg, first->msg, strlen(first->msg) + 1);
  switch (vmx_checks[first->id].outcome) {
  case VMX_OUTCOME_CTLS: result->vm_instruction_error = VMXERR_ENTRY_INVALID_CTLS; break;
  case VMX_OUTCOME_HOST: result->vm_instruction_error = VMXERR_ENTRY_INVALID_HOST; break;
  case VMX_OUTCOME_GUEST:
    result->exit_reason = EXIT_REASON_ENTRY_FAILURE_BIT | EXIT_REASON_INVALID_GUEST_STATE;
    result->exit_qual = first->qual;
    break;
  case VMX_OUTCOME_MSR:
    result->exit_reason = EXIT_REASON_ENTRY_FAILURE_BIT | EXIT_REASON_MSR_LOADING;
    result->exit_qual = first->qual;
    break;
  }
  return false;
}

bool vmx_entry_check(const struct vmcs *v, const struct vmx_entry_env *env,
                     struct vmx_entry_result *result)
{
  struct ec c = { 0 };
  struct vmx_check_failure first;   /* its message is written when it fails */
  first.id = VMX_ENTRY_OK;
  c.v = v;
  c.env = env;
  c.caps = env->caps;
  c.first = &first;
  evaluate(&c, NULL);
  return outcome(&first, result);
}

bool vmx_entry_check_memo(struct vmcs *v, const struct vmx_entry_env *env, struct vmx_entry_result *result)
{
  struct ec c = { 0 };
  struct vmx_check_failure first;
  first.id = VMX_ENTRY_OK;
  struct vmcs_check_memo *memo = &v->memo;
  c.v = v;
  c.env = env;
  c.caps = env->caps;
  c.first = &first;
  if (memo->caps != env->caps || memo->host_ia32e != env->host_ia32e) {
    memo->passed = 0;
    memo->caps = env->caps;
    memo->host_ia32e = env->host_ia32e;
  }
  evaluate(&c, memo);
  memset(memo->changed, 0, sizeof memo->changed);
  return outcome(&first, result);
}
