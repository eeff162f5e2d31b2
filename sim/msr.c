/* RDMSR/WRMSR semantics of the machine's MSRs (SDM Vol. 4, "Model-Specific
 * Registers"; SDM Vol. 2B, "RDMSR" and "WRMSR"; AMD APM Vol. 2, "Extended
 * Feature Enable Register (EFER)"). Values with architectural effect live
 * in cpu_state and are pushed into Unicorn when written. */
#include "sim/msr.h"

#include <unicorn/unicorn.h>

#include "sim/machine.h"
#include "sim/mca.h"
#include "sim/uc_bridge.h"

const char *msr_name(uint32_t index)
{
  switch (index) {
#define X(name, idx) case idx: return #name;
    SIM_MSRS(X)
#undef X
  }
  static char bank_name[32];   /* per-bank MCA names: one at a time */
  const char *mca = mca_msr_name(index, bank_name, sizeof bank_name);
  return mca ? mca : "unknown";
}

static bool canonical(const struct machine *m, uint64_t v)
{
  unsigned bits = m->opt.cpu->linear_bits;
  int64_t sv = (int64_t)(v << (64 - bits)) >> (64 - bits);
  return (uint64_t)sv == v;
}

uint64_t msr_efer_writable(const struct machine *m)
{
  const struct cpu_model *c = m->opt.cpu;
  uint64_t w = EFER_SCE | EFER_LME;
  if (cpu_model_has(c, 0x80000001, CPUID_EDX, CPUIDX1_EDX_NX)) w |= EFER_NXE;
  if (c->vendor == VENDOR_AMD) {
    if (cpu_model_has(c, 0x80000001, CPUID_ECX, CPUIDX1_ECX_SVM)) w |= EFER_SVME;
    w |= EFER_FFXSR;
  }
  return w;
}

/* Reserved-bit rules for PAT: each entry must be a valid memory type
 * (0, 1, 4, 5, 6, 7) — SDM Vol. 3A, "IA32_PAT MSR". */
static bool pat_valid(uint64_t v)
{
  for (int i = 0; i < 8; i++) {
    unsigned t = (v >> (8 * i)) & 0xff;
    if (t == 2 || t == 3 || t > 7) return false;
  }
  return true;
}

/* The virtualization extension's MSRs first (capability MSRs, VM_CR, ...). */
static enum virt_msr_result virt_msr(struct machine *m, uint32_t index, uint64_t *v, bool write)
{
  if (!m->virt) return VIRT_MSR_NOT_MINE;
  if (write) return m->virt->wrmsr ? m->virt->wrmsr(m, index, *v) : VIRT_MSR_NOT_MINE;
  return m->virt->rdmsr ? m->virt->rdmsr(m, index, v) : VIRT_MSR_NOT_MINE;
}

bool msr_read(struct machine *m, uint32_t index, uint64_t *v)
{
  enum virt_msr_result r = virt_msr(m, index, v, false);
  if (r != VIRT_MSR_NOT_MINE) return r == VIRT_MSR_OK;
  enum mca_msr_result mr = mca_rdmsr(m, index, v);
  if (mr != MCA_MSR_NOT_MINE) return mr == MCA_MSR_OK;
  const struct cpu_state *s = &m->cpu;
  switch (index) {
  case MSR_IA32_TSC: *v = machine_tsc(m); return true;
  case MSR_IA32_PLATFORM_ID: *v = 0; return m->opt.cpu->vendor == VENDOR_INTEL;
  case MSR_IA32_APIC_BASE: *v = m->apic_base; return true;
  case MSR_IA32_FEATURE_CONTROL: *v = m->feature_control; return m->opt.cpu->vendor == VENDOR_INTEL;
  case MSR_IA32_BIOS_SIGN_ID: *v = 0; return true;
  case MSR_IA32_MTRRCAP: *v = 0; return true;   /* no variable or fixed ranges */
  case MSR_IA32_SYSENTER_CS: *v = s->sysenter_cs; return true;
  case MSR_IA32_SYSENTER_ESP: *v = s->sysenter_esp; return true;
  case MSR_IA32_SYSENTER_EIP: *v = s->sysenter_eip; return true;
  case MSR_IA32_MISC_ENABLE: *v = m->misc_enable; return m->opt.cpu->vendor == VENDOR_INTEL;
  case MSR_IA32_DEBUGCTL: *v = s->debugctl; return true;
  case MSR_IA32_PAT: *v = s->pat; return true;
  case MSR_IA32_MTRR_DEF_TYPE: *v = m->mtrr_def_type; return true;
  case MSR_IA32_EFER: *v = s->efer; return true;
  case MSR_IA32_STAR: *v = s->star; return true;
  case MSR_IA32_LSTAR: *v = s->lstar; return true;
  case MSR_IA32_CSTAR: *v = s->cstar; return true;
  case MSR_IA32_FMASK: *v = s->sfmask; return true;
  case MSR_IA32_FS_BASE: uc_reg_read(m->uc, UC_X86_REG_FS_BASE, v); return true;
  case MSR_IA32_GS_BASE: uc_reg_read(m->uc, UC_X86_REG_GS_BASE, v); return true;
  case MSR_IA32_KERNEL_GS_BASE: *v = s->kernel_gs_base; return true;
  case MSR_IA32_TSC_AUX: *v = s->tsc_aux; return true;
  }
  return false;
}

static bool write_efer(struct machine *m, uint64_t v)
{
  struct cpu_state *s = &m->cpu;
  /* LMA is read-only: writes keep the current value (SDM Vol. 3A,
   * "IA32_EFER"; APM Vol. 2, "Extended Feature Enable Register"). */
  uint64_t want = (v & ~EFER_LMA) | (s->efer & EFER_LMA);
  if (v & ~(msr_efer_writable(m) | EFER_LMA)) return false;
  /* Changing LME while paging is enabled raises #GP (APM Vol. 2, "Enabling
   * and Activating Long Mode"; SDM Vol. 3A, "Initializing IA-32e Mode"). */
  if ((s->cr0 & CR0_PG) && ((want ^ s->efer) & EFER_LME)) return false;
  s->efer = want;
  uc_bridge_set_efer(m->bridge, want);
  m->tlb_flush = true;
  return true;
}

bool msr_write(struct machine *m, uint32_t index, uint64_t v)
{
  enum virt_msr_result r = virt_msr(m, index, &v, true);
  if (r != VIRT_MSR_NOT_MINE) return r == VIRT_MSR_OK;
  enum mca_msr_result mr = mca_wrmsr(m, index, v);
  if (mr != MCA_MSR_NOT_MINE) return mr == MCA_MSR_OK;
  struct cpu_state *s = &m->cpu;
  switch (index) {
  case MSR_IA32_TSC: m->tsc_offset = v - m->insns; return true;
  case MSR_IA32_APIC_BASE:
    /* Bits 7:0 and 10 are reserved, and bits above MAXPHYADDR. */
    if (v & (0xffull | (1ull << 10) | ~((1ull << m->opt.cpu->maxphyaddr) - 1))) return false;
    m->apic_base = v;
    /* Unicorn's TLB sends the APIC page's accesses to the device
     * (sim/lapic.c): a moved or disabled page must not keep them. */
    m->tlb_flush = true;
    return true;
  case MSR_IA32_FEATURE_CONTROL:
    if (m->opt.cpu->vendor != VENDOR_INTEL) return false;
    if (m->feature_control & 1) return false;   /* locked until reset */
    m->feature_control = v;
    return true;
  case MSR_IA32_BIOS_SIGN_ID: return true;
  case MSR_IA32_SYSENTER_CS: s->sysenter_cs = v & 0xffff; break;
  case MSR_IA32_SYSENTER_ESP: if (!canonical(m, v)) return false; s->sysenter_esp = v; break;
  case MSR_IA32_SYSENTER_EIP: if (!canonical(m, v)) return false; s->sysenter_eip = v; break;
  case MSR_IA32_MISC_ENABLE: if (m->opt.cpu->vendor != VENDOR_INTEL) return false; m->misc_enable = v; return true;
  case MSR_IA32_DEBUGCTL: if (v & ~0x3ull) return false; s->debugctl = v; return true;
  case MSR_IA32_PAT: if (!pat_valid(v)) return false; s->pat = v; break;
  case MSR_IA32_MTRR_DEF_TYPE: if (v & ~0xcffull) return false; m->mtrr_def_type = v; return true;
  case MSR_IA32_EFER: return write_efer(m, v);
  case MSR_IA32_STAR: s->star = v; break;
  case MSR_IA32_LSTAR: if (!canonical(m, v)) return false; s->lstar = v; break;
  case MSR_IA32_CSTAR: if (!canonical(m, v)) return false; s->cstar = v; break;
  case MSR_IA32_FMASK: s->sfmask = v & 0xffffffffull; break;
  case MSR_IA32_FS_BASE: if (!canonical(m, v)) return false; uc_reg_write(m->uc, UC_X86_REG_FS_BASE, &v); return true;
  case MSR_IA32_GS_BASE: if (!canonical(m, v)) return false; uc_reg_write(m->uc, UC_X86_REG_GS_BASE, &v); return true;
  case MSR_IA32_KERNEL_GS_BASE: if (!canonical(m, v)) return false; s->kernel_gs_base = v; break;
  case MSR_IA32_TSC_AUX: if (v >> 32) return false; s->tsc_aux = v; return true;
  default: return false;
  }
  /* MSRs Unicorn also uses when executing SYSCALL/SYSENTER/SWAPGS. */
  uc_x86_msr msr = {index, v};
  uc_reg_write(m->uc, UC_X86_REG_MSR, &msr);
  return true;
}
