/* The machine-check architecture's registers and injected machine checks
 * (see mca.h). */
#include "sim/mca.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/machine.h"

/* ---- the registers ---------------------------------------------------------- */

struct mca_msr_info {
  const char *name;
  uint32_t index;
  bool per_bank;
  enum mca_write_rule rule;
  const char *section;
};

static const struct mca_msr_info mca_msrs[] = {
#define X(name, index, per_bank, rule, section) {#name, index, per_bank, rule, section},
  MCA_MSRS(X)
#undef X
};
#define MCA_MSR_COUNT (sizeof mca_msrs / sizeof mca_msrs[0])

_Static_assert(MSR_IA32_MC0_STATUS == MSR_IA32_MC0_CTL + 1 && MSR_IA32_MC0_ADDR == MSR_IA32_MC0_CTL + 2 &&
                   MSR_IA32_MC0_MISC == MSR_IA32_MC0_CTL + 3,
               "a bank's four registers are consecutive (Machine-Check MSRs)");
_Static_assert(MCA_MAX_BANKS <= 32, "the per-bank range stays below 480H (IA32_VMX_BASIC)");

/* The table row of `index` (bank 0's row for a per-bank register of any
 * bank up to MCA_MAX_BANKS), with the bank; NULL when not the MCA's. */
static const struct mca_msr_info *lookup(uint32_t index, unsigned *bank)
{
  *bank = 0;
  if (index >= MSR_IA32_MC0_CTL && index < MCA_BANK_MSR(MCA_MAX_BANKS, 0)) {
    *bank = (index - MSR_IA32_MC0_CTL) / 4;
    index = MSR_IA32_MC0_CTL + (index - MSR_IA32_MC0_CTL) % 4;
  }
  for (size_t i = 0; i < MCA_MSR_COUNT; i++)
    if (mca_msrs[i].index == index) return &mca_msrs[i];
  return NULL;
}

const char *mca_msr_name(uint32_t index, char *buf, size_t n)
{
  unsigned bank;
  const struct mca_msr_info *r = lookup(index, &bank);
  if (!r) return NULL;
  if (!r->per_bank) return r->name;
  /* "IA32_MC0_STATUS" with the bank's number in place of the 0. */
  snprintf(buf, n, "IA32_MC%u%s", bank, r->name + strlen("IA32_MC0"));
  return buf;
}

/* The register a per-bank row names, in bank `b`. */
static uint64_t *bank_reg(struct mca_bank *b, uint32_t bank0_index)
{
  switch (bank0_index) {
  case MSR_IA32_MC0_CTL: return &b->ctl;
  case MSR_IA32_MC0_STATUS: return &b->status;
  case MSR_IA32_MC0_ADDR: return &b->addr;
  case MSR_IA32_MC0_MISC: return &b->misc;
  }
  return NULL;
}

/* The global register a row names; NULL when the model lacks it. */
static uint64_t *global_reg(struct mca *a, uint32_t index)
{
  switch (index) {
  case MSR_IA32_MCG_STATUS: return &a->mcg_status;
  case MSR_IA32_MCG_CTL: return a->ctl_p ? &a->mcg_ctl : NULL;
  }
  return NULL;
}

static uint64_t mcg_cap(const struct mca *a) { return a->banks | (a->ctl_p ? MCG_CAP_CTL_P : 0); }

/* The register `index` names on this model, or NULL (#GP: a bank beyond
 * the count, MCG_CTL without MCG_CTL_P). MCG_CAP has no storage. */
static uint64_t *reg_of(struct mca *a, const struct mca_msr_info *r, unsigned bank)
{
  if (!r->per_bank) return global_reg(a, r->index);
  if (bank >= a->banks) return NULL;
  return bank_reg(&a->bank[bank], r->index);
}

enum mca_msr_result mca_rdmsr(struct machine *m, uint32_t index, uint64_t *value)
{
  unsigned bank;
  const struct mca_msr_info *r = lookup(index, &bank);
  if (!r) return MCA_MSR_NOT_MINE;
  if (r->index == MSR_IA32_MCG_CAP) {
    *value = mcg_cap(&m->mca);
    return MCA_MSR_OK;
  }
  uint64_t *reg = reg_of(&m->mca, r, bank);
  if (!reg) return MCA_MSR_GP;
  *value = *reg;
  return MCA_MSR_OK;
}

enum mca_msr_result mca_wrmsr(struct machine *m, uint32_t index, uint64_t value)
{
  unsigned bank;
  const struct mca_msr_info *r = lookup(index, &bank);
  if (!r) return MCA_MSR_NOT_MINE;
  uint64_t *reg = r->rule == MCA_WRITE_GP ? NULL : reg_of(&m->mca, r, bank);
  if (!reg) return MCA_MSR_GP;
  switch (r->rule) {
  case MCA_WRITE_GP: return MCA_MSR_GP;
  case MCA_WRITE_DEFINED: if (value & ~MCG_STATUS_DEFINED) return MCA_MSR_GP; break;
  case MCA_WRITE_ANY: break;
  case MCA_WRITE_ZERO: if (value) return MCA_MSR_GP; break;
  }
  *reg = value;
  return MCA_MSR_OK;
}

/* ---- the --mce option --------------------------------------------------------- */

/* An uncorrected error, enabled, processor context corrupt, MCA error
 * code 0001H ("Unclassified", SDM Vol. 3B, "Simple Error Codes"). */
#define MCA_DEFAULT_STATUS (MCI_STATUS_VAL | MCI_STATUS_UC | MCI_STATUS_EN | MCI_STATUS_PCC | 0x1)

static bool number(const char *s, size_t len, uint64_t *out)
{
  char buf[32];
  if (len == 0 || len >= sizeof buf || s[0] == '-') return false;
  memcpy(buf, s, len);
  buf[len] = 0;
  errno = 0;
  char *end;
  unsigned long long v = strtoull(buf, &end, 0);
  if (errno || *end) return false;
  *out = v;
  return true;
}

bool mca_parse_injection(const char *spec, struct mca_injection *out, char *err, size_t n)
{
  *out = (struct mca_injection){.status = MCA_DEFAULT_STATUS};
  bool have_at = false, have_addr = false, have_misc = false;
  for (const char *p = spec; *p;) {
    size_t len = strcspn(p, ",");
    const char *eq = memchr(p, '=', len);
    size_t key = eq ? (size_t)(eq - p) : len;
    const char *val = eq ? eq + 1 : NULL;
    size_t vlen = eq ? len - key - 1 : 0;
    uint64_t v = 0;
#define KEY(k) (key == strlen(k) && strncmp(p, k, key) == 0)
    if (KEY("ripv") && !eq) out->mcg_status |= MCG_STATUS_RIPV;
    else if (KEY("eipv") && !eq) out->mcg_status |= MCG_STATUS_EIPV;
    else if (KEY("vmentry") && !eq) out->vm_entry = true;
    else if (!eq) {
      snprintf(err, n, "unknown --mce item '%.*s' (at=, bank=, status=, addr=, misc=, ripv, eipv, vmentry)", (int)len, p);
      return false;
    } else if (!number(val, vlen, &v)) {
      snprintf(err, n, "bad number in --mce item '%.*s'", (int)len, p);
      return false;
    } else if (KEY("at")) out->at = v, have_at = true;
    else if (KEY("bank")) {
      if (v >= MCA_MAX_BANKS) {
        snprintf(err, n, "--mce bank=%llu: no CPU model has more than %u banks", (unsigned long long)v, MCA_MAX_BANKS);
        return false;
      }
      out->bank = (unsigned)v;
    } else if (KEY("status")) out->status = v;
    else if (KEY("addr")) out->addr = v, have_addr = true;
    else if (KEY("misc")) out->misc = v, have_misc = true;
    else {
      snprintf(err, n, "unknown --mce item '%.*s' (at=, bank=, status=, addr=, misc=, ripv, eipv, vmentry)", (int)len, p);
      return false;
    }
#undef KEY
    p += len;
    if (*p == ',') p++;
  }
  if (!have_at) {
    snprintf(err, n, "--mce needs at=N (the virtual time, in instructions, of the error)");
    return false;
  }
  /* "IA32_MCi_STATUS MSRS": VAL says the register holds an error; an
   * injection with VAL clear would log nothing. OVER is the processor's
   * (the overwrite rules set it). */
  if (!(out->status & MCI_STATUS_VAL)) {
    snprintf(err, n, "--mce status=0x%llx: VAL (bit 63) must be set", (unsigned long long)out->status);
    return false;
  }
  if (out->status & MCI_STATUS_OVER) {
    snprintf(err, n, "--mce status=0x%llx: OVER (bit 62) is set by the processor, not given", (unsigned long long)out->status);
    return false;
  }
  /* ADDRV and MISCV say whether MCi_ADDR and MCi_MISC hold information. */
  if (have_addr) out->status |= MCI_STATUS_ADDRV;
  if (have_misc) out->status |= MCI_STATUS_MISCV;
  return true;
}

/* ---- creation ------------------------------------------------------------------ */

bool mca_init(struct machine *m, const struct mca_injection *inj, unsigned count, char *err, size_t n)
{
  struct mca *a = &m->mca;
  const struct cpu_model *c = m->opt.cpu;
  *a = (struct mca){.banks = c->mca_banks, .ctl_p = c->mcg_ctl_p};
  if (a->banks > MCA_MAX_BANKS) {
    snprintf(err, n, "CPU model %s: %u machine-check banks, the machine has room for %u", c->name, a->banks,
             MCA_MAX_BANKS);
    return false;
  }
  if (count > MCA_MAX_INJECTIONS) {
    snprintf(err, n, "%u machine-check injections given, at most %u", count, MCA_MAX_INJECTIONS);
    return false;
  }
  for (unsigned i = 0; i < count; i++) {
    if (inj[i].bank >= a->banks) {
      snprintf(err, n, "--mce bank=%u: CPU model %s has %u machine-check banks", inj[i].bank, c->name, a->banks);
      return false;
    }
    if (inj[i].vm_entry && (!m->virt || strcmp(m->virt->name, "vmx") != 0)) {
      snprintf(err, n, "--mce vmentry: CPU model %s has no VMX (exit reason 41 is VMX's)", c->name);
      return false;
    }
    /* Insertion by time, stable: equal times keep the order given. */
    unsigned at = a->count++;
    while (at > 0 && a->inject[at - 1].at > inj[i].at) {
      a->inject[at] = a->inject[at - 1];
      at--;
    }
    a->inject[at] = inj[i];
  }
  return true;
}

/* ---- injection ------------------------------------------------------------------ */

uint64_t mca_next_at(const struct machine *m)
{
  const struct mca *a = &m->mca;
  for (unsigned i = 0; i < a->count; i++)
    if (!a->done[i] && !a->inject[i].vm_entry) return a->inject[i].at;
  return UINT64_MAX;
}

bool mca_due(const struct machine *m) { return m->mca.signal || mca_next_at(m) <= m->insns; }

/* Logs the error into its bank by the overwrite rules (SDM Vol. 3B,
 * "Overwrite Rules for Machine Check Errors"): an uncorrected error
 * replaces a corrected one; otherwise the error already there stays; and
 * OVER is set either way. MCi_ADDR and MCi_MISC go with the status kept. */
static void log_error(struct machine *m, const struct mca_injection *e)
{
  struct mca_bank *b = &m->mca.bank[e->bank];
  bool replace = !(b->status & MCI_STATUS_VAL) || ((e->status & MCI_STATUS_UC) && !(b->status & MCI_STATUS_UC));
  uint64_t over = (b->status & MCI_STATUS_VAL) ? MCI_STATUS_OVER : 0;
  trace_event(&m->trace, m->insns, "mce", "bank=%u status=0x%llx addr=0x%llx%s", e->bank,
              (unsigned long long)e->status, (unsigned long long)e->addr,
              !replace ? " (overflow: the logged error stays)" : over ? " (overflow: replaces the logged error)" : "");
  if (!replace) {
    b->status |= MCI_STATUS_OVER;
    return;
  }
  b->status = e->status | over;
  if (e->status & MCI_STATUS_ADDRV) b->addr = e->addr;
  if (e->status & MCI_STATUS_MISCV) b->misc = e->misc;
}

/* Is the logged error one that signals #MC? Uncorrected (UC) and enabled
 * (EN: "signaling of the machine check exception for this error was
 * enabled by an associated flag bit of IA32_MCi_CTL", "IA32_MCi_STATUS
 * MSRS"; the injection gives EN, the machine does not map error codes to
 * MCi_CTL bits); on a model with MCG_CTL, the bank's bit of MCG_CTL set
 * (AMD APM Vol. 2, "Machine-Check Global-Control Register (MCG_CTL)"). A
 * corrected error is only logged (no CMCI: the machine has no APIC LVT
 * for it). */
static bool signals(const struct mca *a, const struct mca_injection *e)
{
  if (!(e->status & MCI_STATUS_UC) || !(e->status & MCI_STATUS_EN)) return false;
  return !a->ctl_p || (a->mcg_ctl >> e->bank & 1);
}

/* The processor enters shutdown: a VM exit / #VMEXIT where the extension
 * takes it (VMX: triple fault, exit 2; SVM: the SHUTDOWN intercept). */
static void shut_down(struct machine *m, const char *why)
{
  trace_event(&m->trace, m->insns, "shutdown", "reason=machine-check %s", why);
  if (m->virt && m->virt->shutdown && m->virt->shutdown(m)) return;
  machine_stop(m, STOP_SHUTDOWN, 0, "machine check at rip 0x%llx with %s: the processor shut down",
               (unsigned long long)m->cpu.rip, why);
}

bool mca_take(struct machine *m, bool halted)
{
  struct mca *a = &m->mca;
  for (unsigned i = 0; i < a->count; i++) {
    const struct mca_injection *e = &a->inject[i];
    if (a->done[i] || e->vm_entry || e->at > m->insns) continue;
    a->done[i] = true;
    log_error(m, e);
    if (!signals(a, e) || a->signal) continue;
    a->signal = true;
    a->pending_mcg = e->mcg_status;
  }
  if (!a->signal) return false;
  a->signal = false;
  m->state_dirty = true;
  /* "IA32_MCG_STATUS MSR": "The occurrence of a second Machine-Check
   * Event while MCIP is set will cause the processor to enter a shutdown
   * state". */
  if (a->mcg_status & MCG_STATUS_MCIP) {
    shut_down(m, "MCG_STATUS.MCIP = 1 (a machine check in progress)");
    return true;
  }
  a->mcg_status = a->pending_mcg | MCG_STATUS_MCIP;
  /* "Interrupt 18—Machine-Check Exception (#MC)" and "Machine-Check
   * Initialization": with CR4.MCE = 0 the processor shuts down instead. */
  if (!(m->cpu.cr4 & CR4_MCE)) {
    shut_down(m, "CR4.MCE = 0");
    return true;
  }
  /* Abort class, no error code; the saved RIP is the instruction at the
   * boundary (after HLT for a halted vCPU); the exception bitmap or the
   * EXCP_MC intercept may take it as an exit (sim/virt.h event_exits). */
  trace_event(&m->trace, m->insns, "mce", "#MC rip=0x%llx mcg_status=0x%llx", (unsigned long long)m->cpu.rip,
              (unsigned long long)a->mcg_status);
  m->cpu.halted = halted;
  struct pending_event ev = {.valid = true, .vector = VEC_MC};
  deliver_event(m, &ev);
  m->cpu.halted = false;
  return true;
}

bool mca_vm_entry_check(struct machine *m)
{
  struct mca *a = &m->mca;
  for (unsigned i = 0; i < a->count; i++) {
    const struct mca_injection *e = &a->inject[i];
    if (a->done[i] || !e->vm_entry || e->at > m->insns) continue;
    a->done[i] = true;
    log_error(m, e);
    a->mcg_status = e->mcg_status | MCG_STATUS_MCIP;
    trace_event(&m->trace, m->insns, "mce", "during VM entry mcg_status=0x%llx", (unsigned long long)a->mcg_status);
    return true;
  }
  return false;
}
