/* Internal to the VM-entry checks: the evaluation context shared by the
 * files that implement the catalogue's groups (controls, host state, guest
 * registers, guest non-register state and MSR loading). */
#ifndef HVSIM_MODELS_VMX_ENTRY_CHECKS_IMPL_H
#define HVSIM_MODELS_VMX_ENTRY_CHECKS_IMPL_H

#include "models/vmx/entry_checks.h"
#include "models/vmx/vmx_bits.h"

struct ec {
  const struct vmcs *v;
  const struct vmx_entry_env *env;
  const struct vmx_caps *caps;
  /* Listing every failure: slot[id] receives each failing check. Finding
   * only the first (the VM-entry hot path): slot is NULL and `first` keeps
   * the lowest failing ID, so no message but one is ever formatted. */
  struct vmx_check_failure *slot;  /* [VMX_CHECK_END] or NULL */
  struct vmx_check_failure *first;
  /* Bit per check ID (bitsets: every VM entry starts from zero). */
  uint64_t failed[(VMX_CHECK_END + 63) / 64];
  uint64_t skipped[(VMX_CHECK_END + 63) / 64];
  /* Controls as VM entry interprets them: secondary controls count as 0
   * unless "activate secondary controls" is 1. */
  uint32_t pin, proc, proc2, exit, entry;
  /* The fields read and whether memory or WRMSR was consulted, since the
   * group being evaluated began (vmx_entry_check_memo). */
  uint64_t reads[VMCS_FIELD_WORDS];
  bool read_outside;
  unsigned failures;
  bool ug;          /* "unrestricted guest" in effect */
  bool ia32e_guest; /* "IA-32e mode guest" */
  bool v86;         /* guest RFLAGS.VM */
};

static inline bool ec_bit(const uint64_t *set, enum vmx_check_id id) { return set[id / 64] >> (id % 64) & 1; }
/* Has `id` failed so far? */
static inline bool ec_failed(const struct ec *c, enum vmx_check_id id) { return ec_bit(c->failed, id); }

/* Records that `id` failed (first message kept). */
void ec_fail(struct ec *c, enum vmx_check_id id, uint64_t qual, const char *fmt, ...)
  __attribute__((format(printf, 4, 5)));
/* Records that `id` could not be evaluated (no memory reader). */
void ec_skip(struct ec *c, enum vmx_check_id id);
/* Reads guest-physical memory through env->read_phys. */
bool ec_read(struct ec *c, uint64_t pa, void *buf, size_t len);
/* Would WRMSR(index, value) succeed (env->wrmsr_ok; none: yes)? */
bool ec_wrmsr_ok(struct ec *c, uint32_t index, uint64_t value);

/* A field as a check reads it: noted as an input of the group. */
static inline uint64_t ec_get(struct ec *c, enum vmcs_field f)
{
  c->reads[f / 64] |= 1ull << (f % 64);
  return vmcs_get(c->v, f);
}
#define F(name) ec_get(c, VMCSI_##name)
/* CHECK(ID, must_hold, message...): fail ID with its catalogue qualification. */
#define CHECK(id, ok, ...)                                                          \
  do {                                                                              \
    if (!(ok)) ec_fail(c, VMX_ENTRY_##id, vmx_checks[VMX_ENTRY_##id].qual, __VA_ARGS__); \
  } while (0)

static inline bool ec_canonical(const struct ec *c, uint64_t a)
{
  unsigned n = c->caps->linear_bits;
  int64_t s = (int64_t)(a << (64 - n)) >> (64 - n);
  return (uint64_t)s == a;
}
static inline bool ec_phys_ok(const struct ec *c, uint64_t a) { return (a >> c->caps->maxphyaddr) == 0; }
static inline bool ec_page_ok(const struct ec *c, uint64_t a) { return (a & 0xFFF) == 0 && ec_phys_ok(c, a); }
/* A PAT value whose eight entries are all valid memory types. */
static inline bool ec_pat_ok(uint64_t pat)
{
  for (int i = 0; i < 8; i++) {
    unsigned t = (pat >> (8 * i)) & 0xFF;
    if (t != 0 && t != 1 && t != 4 && t != 5 && t != 6 && t != 7) return false;
  }
  return true;
}
typedef unsigned long long ull;
#define CR0_BIT_PE BIT64(0)
#define CR0_BIT_PG BIT64(31)

void ec_check_controls(struct ec *c);
void ec_check_host(struct ec *c);
void ec_check_guest_regs(struct ec *c);
void ec_check_guest_segments(struct ec *c);
void ec_check_guest_nonreg(struct ec *c);
void ec_check_msr_load(struct ec *c);

#endif
