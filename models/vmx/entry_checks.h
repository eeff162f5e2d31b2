/* VM-entry checks (SDM Vol. 3C, chapter "VM Entries"): the catalogue in
 * entry_checks.def, evaluated over a VMCS for a CPU model.
 *
 * vmx_entry_check() gives what VMLAUNCH/VMRESUME report: the first failing
 * check in architectural order and its outcome (VMfailValid 7 or 8, or a
 * VM-entry failure with exit reason 33/34 and its qualification).
 * vmx_entry_check_all() lists every failing check (for explain-vmcs). */
#ifndef HVSIM_MODELS_VMX_ENTRY_CHECKS_H
#define HVSIM_MODELS_VMX_ENTRY_CHECKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "models/vmx/caps.h"
#include "models/vmx/vmcs.h"

enum vmx_check_id {
  VMX_ENTRY_OK = 0,  /* no check failed */
#define VMX_CHECK(id, outcome, qual, section, text) VMX_ENTRY_##id,
#include "models/vmx/entry_checks.def"
#undef VMX_CHECK
  VMX_CHECK_END
};
#define VMX_CHECK_FIRST (VMX_ENTRY_OK + 1)

enum vmx_check_outcome {
  VMX_OUTCOME_CTLS,   /* VMfailValid(7) */
  VMX_OUTCOME_HOST,   /* VMfailValid(8) */
  VMX_OUTCOME_GUEST,  /* entry failure, exit reason 33 */
  VMX_OUTCOME_MSR,    /* entry failure, exit reason 34 */
};

struct vmx_check_info {
  const char *name;      /* "CTLS_PIN_RESERVED" (the ID without VMX_ENTRY_) */
  enum vmx_check_outcome outcome;
  unsigned qual;         /* exit qualification of GUEST failures */
  const char *section;   /* SDM section title (chapter "VM Entries") */
  const char *predicate; /* what must hold */
};
/* Indexed by enum vmx_check_id; [VMX_ENTRY_OK] is a placeholder. */
extern const struct vmx_check_info vmx_checks[VMX_CHECK_END];
/* The check called `name` (with or without the VMX_ENTRY_ prefix), or
 * VMX_ENTRY_OK. */
enum vmx_check_id vmx_check_by_name(const char *name);

/* What the machine tells the checks beyond the VMCS. */
struct vmx_entry_env {
  const struct vmx_caps *caps;
  bool host_ia32e;       /* IA32_EFER.LMA at the time of VM entry */
  /* Physical-memory read for the checks that look at memory (TPR
   * threshold vs VTPR, VMCS link pointer target, PDPTEs without EPT, the
   * VM-entry MSR-load list). NULL: those checks are not evaluated and are
   * reported as skipped. Returns false if the range is not readable. */
  bool (*read_phys)(void *ctx, uint64_t pa, void *buf, size_t len);
  /* Would WRMSR(index, value) at CPL 0 succeed? NULL: assume yes. */
  bool (*wrmsr_ok)(void *ctx, uint32_t index, uint64_t value);
  void *ctx;
};

#define VMX_CHECK_MSG_MAX 240

struct vmx_check_failure {
  enum vmx_check_id id;
  uint64_t qual;                   /* exit qualification (GUEST/MSR outcomes) */
  char msg[VMX_CHECK_MSG_MAX];     /* names the field(s) and offending values */
};

/* Every failing check, in catalogue (architectural) order, each once. */
struct vmx_entry_report {
  unsigned count;
  struct vmx_check_failure fail[VMX_CHECK_END];
  unsigned skipped_count;          /* checks not evaluated: no memory reader */
  enum vmx_check_id skipped[VMX_CHECK_END];
};

/* The architectural result of a VM entry's checks. */
struct vmx_entry_result {
  enum vmx_check_id id;            /* VMX_ENTRY_OK if every check passed */
  unsigned vm_instruction_error;   /* 7 or 8 for CTLS/HOST failures, else 0 */
  uint32_t exit_reason;            /* 33 or 34 with bit 31 set, else 0 */
  uint64_t exit_qual;
  char msg[VMX_CHECK_MSG_MAX];
};

void vmx_entry_check_all(const struct vmcs *v, const struct vmx_entry_env *env,
                         struct vmx_entry_report *report);
/* Returns true when the VM entry passes every check. */
bool vmx_entry_check(const struct vmcs *v, const struct vmx_entry_env *env,
                     struct vmx_entry_result *result);

/* vmx_entry_check, skipping each group of checks that passed at the last
 * such call and none of whose input fields changed since (v->memo): the
 * same result, as a group is a function of the fields it reads and the
 * CPU model, unless it reads memory or asks whether a WRMSR would succeed
 * (such a group always runs). */
bool vmx_entry_check_memo(struct vmcs *v, const struct vmx_entry_env *env, struct vmx_entry_result *result);

#endif
