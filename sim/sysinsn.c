/* Semantics of the intercepted system instructions, each with the checks of
 * its page in SDM Vol. 2 ("Instruction Set Reference") and the control
 * register rules of SDM Vol. 3A ("Control Registers"). Handlers run inside
 * a Unicorn code hook, before the instruction executes. */
#include "sim/sysinsn.h"

#include <unicorn/unicorn.h>

#include "sim/machine.h"
#include "sim/msr.h"
#include "sim/debug_bp.h"
#include "sim/irq.h"
#include "sim/task_switch.h"

enum insn_result insn_gp0(struct insn *in) { raise_exception(in->m, VEC_GP, true, 0); return INSN_FAULTED; }
enum insn_result insn_ud(struct insn *in) { raise_exception(in->m, VEC_UD, false, 0); return INSN_FAULTED; }

/* ---- operands ---------------------------------------------------------- */

void insn_decoder_init(ZydisDecoder *dec, const struct cpu_mode *mode)
{
  ZydisDecoderInit(dec, mode->cs64 ? ZYDIS_MACHINE_MODE_LONG_64 : mode->cs32 ? ZYDIS_MACHINE_MODE_LEGACY_32 : ZYDIS_MACHINE_MODE_LEGACY_16,
                   mode->cs64 ? ZYDIS_STACK_WIDTH_64 : mode->cs32 ? ZYDIS_STACK_WIDTH_32 : ZYDIS_STACK_WIDTH_16);
}

static ZydisMachineMode zmode(const struct insn *in)
{
  return in->mode.cs64 ? ZYDIS_MACHINE_MODE_LONG_64 : in->mode.cs32 ? ZYDIS_MACHINE_MODE_LEGACY_32
                                                                    : ZYDIS_MACHINE_MODE_LEGACY_16;
}

static enum gpr gpr_of(const struct insn *in, ZydisRegister r)
{
  ZydisRegister big = ZydisRegisterGetLargestEnclosing(ZYDIS_MACHINE_MODE_LONG_64, r);
  return (enum gpr)(big - ZYDIS_REGISTER_RAX);
}

static uint64_t read_reg(struct insn *in, ZydisRegister r)
{
  uint64_t v = uc_bridge_gpr(in->m->bridge, gpr_of(in, r));
  unsigned w = ZydisRegisterGetWidth(zmode(in), r);
  return w >= 64 ? v : v & ((1ull << w) - 1);
}

/* Writes as the architecture does: a 32-bit destination zero-extends into
 * the 64-bit register, narrower ones merge. */
static void write_reg(struct insn *in, ZydisRegister r, uint64_t v)
{
  enum gpr g = gpr_of(in, r);
  unsigned w = ZydisRegisterGetWidth(ZYDIS_MACHINE_MODE_LONG_64, r);
  if (w == 16) v = (uc_bridge_gpr(in->m->bridge, g) & ~0xffffull) | (v & 0xffff);
  else if (w == 32) v &= 0xffffffffull;
  uc_bridge_set_gpr(in->m->bridge, g, v);
}

uint64_t insn_segment_base(struct insn *in, ZydisRegister seg)
{
  uint64_t base = 0;
  if (seg == ZYDIS_REGISTER_FS) uc_reg_read(in->m->uc, UC_X86_REG_FS_BASE, &base);
  else if (seg == ZYDIS_REGISTER_GS) uc_reg_read(in->m->uc, UC_X86_REG_GS_BASE, &base);
  else if (!in->mode.cs64) {
    /* Outside 64-bit mode every segment may have a base; the model's copy
     * is the one synchronised at the last return from Unicorn. */
    switch (seg) {
    case ZYDIS_REGISTER_ES: base = in->m->cpu.seg[SEG_ES].base; break;
    case ZYDIS_REGISTER_CS: base = in->m->cpu.seg[SEG_CS].base; break;
    case ZYDIS_REGISTER_SS: base = in->m->cpu.seg[SEG_SS].base; break;
    default: base = in->m->cpu.seg[SEG_DS].base; break;
    }
  }
  return base;
}

/* The linear address of a memory operand. */
uint64_t insn_operand_linear(struct insn *in, const ZydisDecodedOperand *op)
{
  uint64_t ea = (uint64_t)op->mem.disp.value;
  if (op->mem.base == ZYDIS_REGISTER_RIP || op->mem.base == ZYDIS_REGISTER_EIP) ea += in->next_rip;
  else if (op->mem.base != ZYDIS_REGISTER_NONE) ea += read_reg(in, op->mem.base);
  if (op->mem.index != ZYDIS_REGISTER_NONE) ea += read_reg(in, op->mem.index) * op->mem.scale;
  unsigned asz = in->zi.address_width;
  if (asz < 64) ea &= (1ull << asz) - 1;
  ea += insn_segment_base(in, op->mem.segment);
  return in->mode.cs64 ? ea : (ea & 0xffffffffull);
}

/* ---- control registers (SDM Vol. 3A, "Control Registers") ------------- */

static uint64_t cr4_reserved(const struct machine *m)
{
  const struct cpu_model *c = m->opt.cpu;
  uint64_t ok = CR4_VME | CR4_PVI | CR4_TSD | CR4_DE | CR4_PSE | CR4_PAE | CR4_MCE | CR4_PGE |
                CR4_PCE | CR4_OSFXSR | CR4_OSXMMEXCPT;
  if (cpu_model_has(c, 1, CPUID_ECX, CPUID1_ECX_VMX)) ok |= CR4_VMXE;
  if (cpu_model_has(c, 1, CPUID_ECX, CPUID1_ECX_PCID)) ok |= CR4_PCIDE;
  if (cpu_model_has(c, 1, CPUID_ECX, CPUID1_ECX_XSAVE)) ok |= CR4_OSXSAVE;
  if (cpu_model_has(c, 7, CPUID_EBX, CPUID7_EBX_FSGSBASE)) ok |= CR4_FSGSBASE;
  if (cpu_model_has(c, 7, CPUID_EBX, CPUID7_EBX_SMEP)) ok |= CR4_SMEP;
  if (cpu_model_has(c, 7, CPUID_EBX, CPUID7_EBX_SMAP)) ok |= CR4_SMAP;
  if (cpu_model_has(c, 7, CPUID_ECX, CPUID7_ECX_UMIP)) ok |= CR4_UMIP;
  if (cpu_model_has(c, 7, CPUID_ECX, CPUID7_ECX_PKU)) ok |= CR4_PKE;
  if (cpu_model_has(c, 7, CPUID_ECX, CPUID7_ECX_LA57)) ok |= CR4_LA57;
  return ~ok;
}

static bool pae_paging_outside_long_mode(uint64_t cr0, uint64_t cr4, uint64_t efer)
{
  return (cr0 & CR0_PG) && (cr4 & CR4_PAE) && !(efer & EFER_LMA);
}

/* "PDPTE Registers": loaded from CR3 when PAE paging is (re)entered or CR3
 * is written under PAE paging; a reserved bit in a present PDPTE is #GP(0). */
static bool load_pdptes(struct machine *m, uint64_t cr3)
{
  uint64_t pdpte[4];
  if (!mmu_load_pdptes(&m->mmu.phys, cr3, pdpte)) return false;
  for (int i = 0; i < 4; i++) m->cpu.pdpte[i] = pdpte[i];
  return true;
}

static void paging_changed(struct machine *m)
{
  m->tlb_flush = true;
  machine_flush_unicorn_tlb(m);
}

static enum insn_result write_cr0(struct insn *in, uint64_t v)
{
  struct machine *m = in->m;
  struct cpu_state *s = &m->cpu;
  v |= CR0_ET;   /* ET is hardwired to 1 on processors after the Intel486 */
  if (m->virt && m->virt->cr_write && !m->virt->cr_write(m, 0, &v)) return insn_gp0(in);
  if (v >> 32) return insn_gp0(in);
  if ((v & CR0_PG) && !(v & CR0_PE)) return insn_gp0(in);
  if ((v & CR0_NW) && !(v & CR0_CD)) return insn_gp0(in);
  uint64_t efer = s->efer;
  if ((v & CR0_PG) && !(s->cr0 & CR0_PG) && (efer & EFER_LME)) {
    /* Activating IA-32e mode requires CR4.PAE ("Initializing IA-32e Mode"). */
    if (!(s->cr4 & CR4_PAE)) return insn_gp0(in);
    efer |= EFER_LMA;
  }
  if (!(v & CR0_PG) && (s->cr0 & CR0_PG) && (efer & EFER_LMA)) {
    if (in->mode.cs64) return insn_gp0(in);   /* paging cannot be disabled in 64-bit mode */
    efer &= ~EFER_LMA;
  }
  /* "PDPTE Registers": a MOV to CR0 that changes PG, CD or NW and results
   * in PAE paging loads them. */
  if (pae_paging_outside_long_mode(v, s->cr4, efer) && ((v ^ s->cr0) & (CR0_PG | CR0_CD | CR0_NW)) &&
      !load_pdptes(m, s->cr3))
    return insn_gp0(in);
  struct mmu_context ctx;
  machine_paging_context(m, &ctx);
  mmu_mov_cr0(&m->mmu, &ctx, s->cr0, v);
  trace_event(&m->trace, m->insns, "cr0", "0x%llx -> 0x%llx", (unsigned long long)s->cr0, (unsigned long long)v);
  if ((efer ^ s->efer) & EFER_LMA)
    trace_event(&m->trace, m->insns, "mode", "%s", (efer & EFER_LMA) ? "ia32e" : "protected");
  s->cr0 = v;
  s->efer = efer;
  uc_bridge_set_efer(m->bridge, efer & ~EFER_LMA);
  uc_bridge_set_cr(m->bridge, 0, v);
  paging_changed(m);
  sysinsn_monitor_disarm(m);   /* a write of CR0 ends the monitor (sysinsn.h) */
  return INSN_NEXT;
}

static enum insn_result write_cr3(struct insn *in, uint64_t v)
{
  struct machine *m = in->m;
  struct cpu_state *s = &m->cpu;
  bool pcide = s->cr4 & CR4_PCIDE;
  uint64_t value = pcide ? v & ~(1ull << 63) : v;
  if (cpu_long_mode_active(s) && (value >> m->opt.cpu->maxphyaddr)) return insn_gp0(in);
  if (pae_paging_outside_long_mode(s->cr0, s->cr4, s->efer) && !load_pdptes(m, value)) return insn_gp0(in);
  if (!cpu_long_mode_active(s)) value &= 0xffffffffull;
  struct mmu_context ctx;
  machine_paging_context(m, &ctx);
  mmu_mov_cr3(&m->mmu, &ctx, pcide ? v : value);
  trace_event(&m->trace, m->insns, "cr3", "0x%llx", (unsigned long long)value);
  s->cr3 = value;
  uc_bridge_set_cr(m->bridge, 3, value);
  paging_changed(m);
  sysinsn_monitor_disarm(m);
  return INSN_NEXT;
}

static enum insn_result write_cr4(struct insn *in, uint64_t v)
{
  struct machine *m = in->m;
  struct cpu_state *s = &m->cpu;
  if (m->virt && m->virt->cr_write && !m->virt->cr_write(m, 4, &v)) return insn_gp0(in);
  if (v & cr4_reserved(m)) return insn_gp0(in);
  if (cpu_long_mode_active(s) && !(v & CR4_PAE)) return insn_gp0(in);
  if (cpu_long_mode_active(s) && ((v ^ s->cr4) & CR4_LA57)) return insn_gp0(in);
  if ((v & CR4_PCIDE) && !(s->cr4 & CR4_PCIDE) && (!cpu_long_mode_active(s) || (s->cr3 & 0xfff))) return insn_gp0(in);
  if (pae_paging_outside_long_mode(s->cr0, v, s->efer) &&
      ((v ^ s->cr4) & (CR4_PAE | CR4_PGE | CR4_PSE | CR4_SMEP | CR4_SMAP)) && !load_pdptes(m, s->cr3))
    return insn_gp0(in);
  struct mmu_context ctx;
  machine_paging_context(m, &ctx);
  mmu_mov_cr4(&m->mmu, &ctx, s->cr4, v);
  trace_event(&m->trace, m->insns, "cr4", "0x%llx -> 0x%llx", (unsigned long long)s->cr4, (unsigned long long)v);
  s->cr4 = v;
  uc_bridge_set_cr(m->bridge, 4, v);
  paging_changed(m);
  sysinsn_monitor_disarm(m);
  debug_bp_regs_written(m);   /* CR4.DE makes R/Wn = 10 an I/O breakpoint */
  return INSN_NEXT;
}

/* What MOV from CR (and SMSW) reads: in VMX non-root operation the bits
 * CR0's and CR4's guest/host masks own come from the read shadows. */
static uint64_t read_cr(struct machine *m, int n)
{
  uint64_t v;
  switch (n) {
  case 0: v = m->cpu.cr0; break;
  case 2: return m->cpu.cr2;
  case 3: return m->cpu.cr3;
  case 4: v = m->cpu.cr4; break;
  default: return m->cpu.cr8;
  }
  return m->virt && m->virt->cr_read ? m->virt->cr_read(m, n, v) : v;
}

static enum insn_result mov_cr(struct insn *in, const ZydisDecodedOperand *dst, const ZydisDecodedOperand *src)
{
  bool to_cr = ZydisRegisterGetClass(dst->reg.value) == ZYDIS_REGCLASS_CONTROL;
  ZydisRegister crreg = to_cr ? dst->reg.value : src->reg.value;
  int n = crreg - ZYDIS_REGISTER_CR0;
  if (n == 1 || (n > 4 && n != 8)) return insn_ud(in);
  if (in->mode.cpl) return insn_gp0(in);
  struct machine *m = in->m;
  if (!to_cr) {
    uint64_t v = read_cr(m, n);
    write_reg(in, dst->reg.value, in->mode.cs64 ? v : (v & 0xffffffffull));
    return INSN_NEXT;
  }
  uint64_t v = read_reg(in, src->reg.value);
  switch (n) {
  case 0: return write_cr0(in, v);
  case 2: m->cpu.cr2 = v; uc_bridge_set_cr(m->bridge, 2, v); return INSN_NEXT;
  case 3: return write_cr3(in, v);
  case 4: return write_cr4(in, v);
  case 8:
    if (v >> 4) return insn_gp0(in);   /* CR8 bits 63:4 are reserved */
    m->cpu.cr8 = v;
    return INSN_NEXT;
  }
  return insn_ud(in);
}

/* MOV DR (SDM Vol. 2B, "MOV—Move to/from Debug Registers"). */
static enum insn_result mov_dr(struct insn *in, const ZydisDecodedOperand *dst, const ZydisDecodedOperand *src)
{
  bool to_dr = ZydisRegisterGetClass(dst->reg.value) == ZYDIS_REGCLASS_DEBUG;
  int n = (to_dr ? dst->reg.value : src->reg.value) - ZYDIS_REGISTER_DR0;
  struct machine *m = in->m;
  if ((n == 4 || n == 5) && (m->cpu.cr4 & CR4_DE)) return insn_ud(in);
  if (in->mode.cpl) return insn_gp0(in);
  /* "Debug Control Register (DR7)", GD: any MOV DR while it is set is a
   * #DB fault with DR6.BD (sim/debug_bp.c). */
  if (m->cpu.dr[7] & DR7_GD) {
    debug_bp_general_detect(m);
    return INSN_FAULTED;
  }
  if (n == 4) n = 6;
  if (n == 5) n = 7;
  static const int ids[8] = {UC_X86_REG_DR0, UC_X86_REG_DR1, UC_X86_REG_DR2, UC_X86_REG_DR3,
                             UC_X86_REG_DR4, UC_X86_REG_DR5, UC_X86_REG_DR6, UC_X86_REG_DR7};
  if (!to_dr) {
    write_reg(in, dst->reg.value, m->cpu.dr[n]);
    return INSN_NEXT;
  }
  uint64_t v = read_reg(in, src->reg.value);
  if ((n == 6 || n == 7) && in->mode.cs64 && (v >> 32)) return insn_gp0(in);
  if (n == 6) v = (v & 0x0000e00full) | 0xffff0ff0ull;
  if (n == 7) v = (v & 0xffff2bffull) | 0x400;
  m->cpu.dr[n] = v;
  uc_reg_write(m->uc, ids[n], &v);
  debug_bp_regs_written(m);
  return INSN_NEXT;
}

enum insn_result insn_mov_cr_dr(struct insn *in)
{
  const ZydisDecodedOperand *dst = &in->op[0], *src = &in->op[1];
  if (dst->type != ZYDIS_OPERAND_TYPE_REGISTER || src->type != ZYDIS_OPERAND_TYPE_REGISTER) return INSN_NEXT;
  ZydisRegisterClass dc = ZydisRegisterGetClass(dst->reg.value), sc = ZydisRegisterGetClass(src->reg.value);
  if (dc == ZYDIS_REGCLASS_CONTROL || sc == ZYDIS_REGCLASS_CONTROL) return mov_cr(in, dst, src);
  return mov_dr(in, dst, src);
}

/* ---- MSRs ------------------------------------------------------------- */

enum insn_result insn_rdmsr(struct insn *in)
{
  if (in->mode.cpl) return insn_gp0(in);
  struct machine *m = in->m;
  uint32_t index = (uint32_t)uc_bridge_gpr(m->bridge, GPR_RCX);
  uint64_t v;
  if (!msr_read(m, index, &v)) {
    trace_event(&m->trace, m->insns, "rdmsr", "0x%x #GP", index);
    return insn_gp0(in);
  }
  uc_bridge_set_gpr(m->bridge, GPR_RAX, v & 0xffffffffull);
  uc_bridge_set_gpr(m->bridge, GPR_RDX, v >> 32);
  return INSN_NEXT;
}

enum insn_result insn_wrmsr(struct insn *in)
{
  if (in->mode.cpl) return insn_gp0(in);
  struct machine *m = in->m;
  uint32_t index = (uint32_t)uc_bridge_gpr(m->bridge, GPR_RCX);
  uint64_t v = (uc_bridge_gpr(m->bridge, GPR_RAX) & 0xffffffffull) | (uc_bridge_gpr(m->bridge, GPR_RDX) << 32);
  bool ok = msr_write(m, index, v);
  trace_event(&m->trace, m->insns, "wrmsr", "0x%x=0x%llx%s", index, (unsigned long long)v, ok ? "" : " #GP");
  if (!ok) return insn_gp0(in);
  if (m->tlb_flush) machine_flush_unicorn_tlb(m);
  return INSN_NEXT;
}

/* ---- others ----------------------------------------------------------- */

enum insn_result insn_hlt(struct insn *in)
{
  if (in->mode.cpl) return insn_gp0(in);
  struct machine *m = in->m;
  uint64_t rflags = uc_bridge_rflags(m->bridge);
  trace_event(&m->trace, m->insns, "hlt", "if=%d", (rflags & RFLAGS_IF) ? 1 : 0);
  uc_bridge_set_rip(m->bridge, in->next_rip);
  if (irq_halt_can_end(m, rflags)) {
    /* The vCPU sleeps until an interrupt (or, with IF=0, the exit the
     * extension turns it into, or the extension's deadline): the run loop
     * waits for it in virtual time (sim/irq.c), and the interrupt's saved
     * RIP is the instruction after HLT. */
    m->halted = true;
    uc_emu_stop(m->uc);
    return INSN_STOPPED;
  }
  /* With IF=0 (and no exit for interrupts) only an NMI, SMI or INIT
   * could wake it. The local APIC's SMI and INIT are taken at once unless
   * held (SVM's GIF = 0), which a halted processor cannot release, and no
   * NMI is ready (none pending, or one held by blocking by NMI or GIF = 0):
   * the run ends here. */
  machine_stop(m, STOP_HALTED, 0, "guest executed HLT at rip 0x%llx with interrupts disabled (IF = 0) and no NMI or deadline to wake it",
               (unsigned long long)in->rip);
  return INSN_STOPPED;
}

enum insn_result insn_invlpg(struct insn *in)
{
  if (in->mode.cpl) return insn_gp0(in);
  struct machine *m = in->m;
  uint64_t la = insn_operand_linear(in, &in->op[0]);
  struct mmu_context ctx;
  machine_paging_context(m, &ctx);
  mmu_invlpg(&m->mmu, &ctx, la);
  trace_event(&m->trace, m->insns, "invlpg", "0x%llx", (unsigned long long)la);
  paging_changed(m);
  return INSN_NEXT;
}

enum insn_result insn_invpcid(struct insn *in)
{
  /* SDM Vol. 2 / APM Vol. 3, INVPCID: #UD when CPUID.(EAX=07H):EBX.INVPCID
   * is 0, before the #GP at CPL > 0. */
  if (!cpu_model_has(in->m->opt.cpu, 7, CPUID_EBX, CPUID7_EBX_INVPCID)) return insn_ud(in);
  if (in->mode.cpl) return insn_gp0(in);
  struct machine *m = in->m;
  uint64_t type = read_reg(in, in->op[0].reg.value);
  uint8_t desc[16];
  uint64_t desc_la = insn_operand_linear(in, &in->op[1]);
  if (!machine_read_linear(m, desc_la, desc, 16, false)) {
    raise_exception(m, VEC_PF, true, m->fault.error_code);
    return INSN_FAULTED;
  }
  uint64_t pcid, la;
  __builtin_memcpy(&pcid, desc, 8);
  __builtin_memcpy(&la, desc + 8, 8);
  /* INVPCID: #GP(0) for a type above 3, reserved descriptor bits, or a
   * non-zero PCID while CR4.PCIDE=0 for types 0 and 1. */
  if (type > 3 || (pcid >> 12)) return insn_gp0(in);
  if (type <= 1 && pcid && !(m->cpu.cr4 & CR4_PCIDE)) return insn_gp0(in);
  struct mmu_context ctx;
  machine_paging_context(m, &ctx);
  if (!mmu_invpcid(&m->mmu, &ctx, (unsigned)type, (uint16_t)pcid, la)) return insn_gp0(in);
  paging_changed(m);
  /* The descriptor is an explicit operand: it meets data breakpoints
   * (a trap, so only once the instruction completes). */
  debug_bp_model_access(m, desc_la, 16, false);
  return INSN_NEXT;
}

static enum insn_result rdtsc_common(struct insn *in, bool aux)
{
  struct machine *m = in->m;
  if ((m->cpu.cr4 & CR4_TSD) && in->mode.cpl) return insn_gp0(in);
  uint64_t tsc = machine_tsc(m);
  uc_bridge_set_gpr(m->bridge, GPR_RAX, tsc & 0xffffffffull);
  uc_bridge_set_gpr(m->bridge, GPR_RDX, tsc >> 32);
  if (aux) uc_bridge_set_gpr(m->bridge, GPR_RCX, m->cpu.tsc_aux);
  return INSN_NEXT;
}

enum insn_result insn_rdtsc(struct insn *in) { return rdtsc_common(in, false); }

enum insn_result insn_rdtscp(struct insn *in)
{
  if (!cpu_model_has(in->m->opt.cpu, 0x80000001, CPUID_EDX, CPUIDX1_EDX_RDTSCP)) return insn_ud(in);
  return rdtsc_common(in, true);
}

/* RDPRU (AMD APM Vol. 3, "RDPRU"): #UD without the CPUID feature, and at
 * CPL > 0 while CR4.TSD is set; ECX selects the register (0 MPERF, 1
 * APERF) read into EDX:EAX with CF = 1; an unsupported ID reads 0 with
 * CF = 0. The machine has no frequency scaling, so MPERF and APERF both
 * count virtual time (retired instructions), without the TSC offset. */
enum insn_result insn_rdpru(struct insn *in)
{
  struct machine *m = in->m;
  if (!cpu_model_has(m->opt.cpu, 0x80000008, CPUID_EBX, CPUIDX8_EBX_RDPRU)) return insn_ud(in);
  if (in->mode.cpl && (m->cpu.cr4 & CR4_TSD)) return insn_ud(in);
  uint32_t id = (uint32_t)uc_bridge_gpr(m->bridge, GPR_RCX);
  bool known = id == RDPRU_ID_MPERF || id == RDPRU_ID_APERF;
  uint64_t v = known ? m->insns : 0;
  uc_bridge_set_gpr(m->bridge, GPR_RAX, v & 0xffffffffull);
  uc_bridge_set_gpr(m->bridge, GPR_RDX, v >> 32);
  uint64_t fl = uc_bridge_rflags(m->bridge) & ~(uint64_t)RFLAGS_CF;
  uc_bridge_set_rflags(m->bridge, known ? fl | RFLAGS_CF : fl);
  return INSN_NEXT;
}

/* The models have no performance-monitoring counters (CPUID leaf 0AH is
 * absent), so every counter index is invalid: #GP(0). */
enum insn_result insn_rdpmc(struct insn *in) { return insn_gp0(in); }

enum insn_result insn_cache_flush(struct insn *in)
{
  /* Caches are not modelled: WBINVD/INVD only have their privilege check. */
  return in->mode.cpl ? insn_gp0(in) : INSN_NEXT;
}

/* CLTS is a write of CR0 without TS: in VMX non-root operation a TS the
 * guest/host mask owns keeps its value. */
enum insn_result insn_clts(struct insn *in)
{
  if (in->mode.cpl) return insn_gp0(in);
  struct machine *m = in->m;
  uint64_t v = m->cpu.cr0 & ~CR0_TS;
  if (m->virt && m->virt->cr_write && !m->virt->cr_write(m, 0, &v)) return insn_gp0(in);
  m->cpu.cr0 = v;
  uc_bridge_set_cr(m->bridge, 0, v);
  sysinsn_monitor_disarm(m);
  return INSN_NEXT;
}

/* SMSW (SDM Vol. 2B, "SMSW—Store Machine Status Word"): #GP(0) at CPL > 0
 * under CR4.UMIP; a register destination receives CR0 (16-bit: its low
 * word), memory the low word. */
enum insn_result insn_smsw(struct insn *in)
{
  struct machine *m = in->m;
  if (in->mode.cpl && (m->cpu.cr4 & CR4_UMIP)) return insn_gp0(in);
  uint64_t cr0 = read_cr(m, 0);
  if (in->op[0].type == ZYDIS_OPERAND_TYPE_REGISTER) {
    write_reg(in, in->op[0].reg.value, in->op[0].size == 16 ? cr0 & 0xffff : cr0);
    return INSN_NEXT;
  }
  uint16_t w = (uint16_t)cr0;
  uint64_t la = insn_operand_linear(in, &in->op[0]);
  if (!machine_write_linear(m, la, &w, 2, false)) {
    raise_exception(m, VEC_PF, true, m->fault.error_code);
    return INSN_FAULTED;
  }
  debug_bp_model_access(m, la, 2, true);
  return INSN_NEXT;
}

/* LMSW loads CR0[3:0]; it can set PE but never clear it. */
enum insn_result insn_lmsw(struct insn *in)
{
  if (in->mode.cpl) return insn_gp0(in);
  uint64_t src, la = 0;
  bool memory = in->op[0].type != ZYDIS_OPERAND_TYPE_REGISTER;
  if (!memory) src = read_reg(in, in->op[0].reg.value);
  else {
    uint16_t w;
    la = insn_operand_linear(in, &in->op[0]);
    if (!machine_read_linear(in->m, la, &w, 2, false)) {
      raise_exception(in->m, VEC_PF, true, in->m->fault.error_code);
      return INSN_FAULTED;
    }
    src = w;
  }
  uint64_t cr0 = in->m->cpu.cr0;
  uint64_t v = (cr0 & ~0xeull) | (src & 0xe) | ((cr0 | src) & CR0_PE);
  enum insn_result r = write_cr0(in, v);
  /* A memory source meets data breakpoints once LMSW completes (a trap). */
  if (memory && r == INSN_NEXT) debug_bp_model_access(in->m, la, 2, false);
  return r;
}

/* XSETBV: #UD without CR4.OSXSAVE; #GP(0) at CPL>0, for ECX!=0, for a
 * clear x87 bit, AVX without SSE, or bits the model does not support. */
enum insn_result insn_xsetbv(struct insn *in)
{
  struct machine *m = in->m;
  if (!(m->cpu.cr4 & CR4_OSXSAVE)) return insn_ud(in);
  if (in->mode.cpl) return insn_gp0(in);
  if ((uint32_t)uc_bridge_gpr(m->bridge, GPR_RCX) != 0) return insn_gp0(in);
  uint64_t v = (uc_bridge_gpr(m->bridge, GPR_RAX) & 0xffffffffull) | (uc_bridge_gpr(m->bridge, GPR_RDX) << 32);
  const struct cpuid_entry *d = cpu_model_cpuid(m->opt.cpu, 0xd, 0);
  uint64_t supported = d ? d->eax : 0x3;
  if (!(v & 1) || (v & ~supported) || ((v & 4) && !(v & 2))) return insn_gp0(in);
  m->cpu.xcr0 = v;
  return INSN_NEXT;
}

/* RDRAND/RDSEED from a fixed-seed generator: deterministic runs. */
enum insn_result insn_rdrand(struct insn *in)
{
  struct machine *m = in->m;
  static const uint64_t mul = 0x2545f4914f6cdd1dull;
  uint64_t x = m->rng_state;
  x ^= x >> 12; x ^= x << 25; x ^= x >> 27;
  m->rng_state = x;
  write_reg(in, in->op[0].reg.value, x * mul);
  uint64_t f = uc_bridge_rflags(m->bridge);
  f = (f & ~(RFLAGS_CF | 0x8d4ull)) | RFLAGS_CF;   /* CF=1; OF SF ZF AF PF = 0 */
  uc_bridge_set_rflags(m->bridge, f);
  return INSN_NEXT;
}

/* PAUSE (SDM Vol. 2B, "PAUSE—Spin Loop Hint") is a hint: outside the
 * hypervisor's PAUSE controls it does nothing a program can observe. */
enum insn_result insn_pause(struct insn *in) { (void)in; return INSN_NEXT; }

/* LGDT, LIDT, SGDT, SIDT, LLDT, LTR, SLDT, STR are owned only so that a
 * hypervisor can intercept them; Unicorn carries them out (their operand
 * reads and writes, descriptor checks, #GP at CPL > 0 for the loads, #UD
 * for LLDT/LTR/SLDT/STR outside protected mode). UMIP is the model's:
 * SDM Vol. 3A, "User-Mode Instruction Prevention" — with CR4.UMIP, SGDT,
 * SIDT, SLDT, SMSW and STR raise #GP(0) at CPL > 0 (SMSW: insn_smsw). */
enum insn_result insn_desc_table(struct insn *in)
{
  switch (in->zi.mnemonic) {
  case ZYDIS_MNEMONIC_SGDT: case ZYDIS_MNEMONIC_SIDT: case ZYDIS_MNEMONIC_SLDT: case ZYDIS_MNEMONIC_STR:
    if (in->mode.cpl && (in->m->cpu.cr4 & CR4_UMIP)) return insn_gp0(in);
    return INSN_NATIVE;
  case ZYDIS_MNEMONIC_LGDT: case ZYDIS_MNEMONIC_LIDT: case ZYDIS_MNEMONIC_LLDT: case ZYDIS_MNEMONIC_LTR:
    return INSN_NATIVE;
  default:
    machine_stop(in->m, STOP_INTERNAL, 125, "insn_desc_table called for %s at 0x%llx",
                 ZydisMnemonicGetString(in->zi.mnemonic), (unsigned long long)in->rip);
    return INSN_STOPPED;
  }
}

/* Owned only so that a hypervisor can intercept it (RSM); otherwise
 * Unicorn raises its #UD as the processor does outside SMM. */
enum insn_result insn_native(struct insn *in) { (void)in; return INSN_NATIVE; }

/* INT1 (ICEBP, F1; SDM Vol. 2, "INT n/INTO/INT3/INT1—Call to Interrupt
 * Procedure"; AMD APM Vol. 3, "INT1"): a #DB trap, which Unicorn (like
 * QEMU 7.2 built without WANT_ICEBP) would decode as an invalid opcode.
 * It is a "privileged software exception": delivered with the saved RIP
 * after the instruction, but without the gate-DPL check of INT n, INT3 and
 * INTO (the Operation section's DPL check "does not apply to INT1"), with
 * EXT = 1 in the error code of a fault during its delivery (SDM Vol. 3A,
 * "Error Code": EXT is clear only for INT n, INT3 and INTO), and not
 * IOPL-sensitive in virtual-8086 mode. It leaves DR6 as it is (SDM Vol.
 * 3A, "Debug Exceptions": DR6 reports the conditions the debug registers
 * and RFLAGS.TF detect; INT1 is none of them). A hypervisor sees it as an
 * interruption of type 5 with the instruction length (SDM Vol. 3C,
 * "Exceptions" in "VMX Non-Root Operation") or through SVM's ICEBP
 * intercept, which sim/intercept.c consulted before this handler. The
 * run loop delivers the event from the next instruction (at_rip carries
 * that RIP); a fault during the delivery moves it back to the INT1. */
enum insn_result insn_icebp(struct insn *in)
{
  struct machine *m = in->m;
  m->event = (struct pending_event){.valid = true, .vector = VEC_DB, .software = true, .privileged = true,
                                    .insn_len = (uint8_t)in->zi.length, .at_rip = true, .rip = in->next_rip,
                                    .rax = uc_bridge_gpr(m->bridge, GPR_RAX)};
  uc_emu_stop(m->uc);
  return INSN_FAULTED;
}

enum insn_result insn_iret(struct insn *in)
{
  struct machine *m = in->m;
  if (m->virt && m->virt->iret) m->virt->iret(m, in);
  return INSN_NATIVE;
}

/* ---- far JMP and CALL to another task -------------------------------------- */

/* The descriptor `sel` names in the GDT or the LDT of `s`; false when it
 * lies beyond the table's limit or cannot be read. */
static bool read_descriptor(struct machine *m, const struct cpu_state *s, uint16_t sel, uint32_t d[2])
{
  uint64_t base = s->gdtr.base, limit = s->gdtr.limit;
  if (sel & 4) {
    if (s->seg[SEG_LDTR].ar & SEG_AR_UNUSABLE) return false;
    base = s->seg[SEG_LDTR].base;
    limit = s->seg[SEG_LDTR].limit;
  }
  if ((uint64_t)(sel & ~7u) + 7 > limit) return false;
  return machine_peek_linear(m, base + (sel & ~7u), d, 8, true);
}

/* A system descriptor's type (bits 11:8 of its high word), or 0 for a
 * code or data segment (S = 1), whose types the checks below never want. */
static unsigned system_type(const uint32_t d[2]) { return (d[1] & (1u << 12)) ? 0 : (d[1] >> 8) & 0xF; }
static unsigned desc_dpl(const uint32_t d[2]) { return (d[1] >> 13) & 3; }
static bool desc_present(const uint32_t d[2]) { return (d[1] & (1u << 15)) != 0; }

static bool peek_read(void *ctx, uint64_t la, void *buf, unsigned len)
{
  return machine_peek_linear(ctx, la, buf, len, true);
}

/* The new TSS's selector and descriptor pass the checks before a task
 * switch (SDM Vol. 3C, "Task Switches", steps 2 to 4): the machine's own
 * (task_switch_check_target: in the GDT within its limit, busy for IRET's
 * return and available otherwise, present, limit 67H or 2BH), asked
 * without leaving a fault. */
static bool new_tss_ok(struct machine *m, const struct cpu_state *s, uint16_t sel, bool iret)
{
  struct ts_mem peek = {.read = peek_read, .ctx = m};
  struct ts_target t;
  struct ts_fault f;
  return task_switch_check_target(s, &peek, sel, iret ? TS_FROM_IRET : TS_FROM_JMP, false, &t, &f) == TS_DONE;
}

/* The live state (asked inside hooks too: the descriptor tables and the
 * mode may have changed since Unicorn last returned); false outside
 * protected mode outside IA-32e mode, which alone has task switches (in
 * IA-32e mode a TSS or task gate target, or IRET with NT, is #GP; real and
 * virtual-8086 mode far transfers load selectors as values). */
static bool legacy_protected_state(struct machine *m, struct cpu_state *s)
{
  *s = m->cpu;
  uc_bridge_fetch(m->bridge, s);
  return (s->cr0 & CR0_PE) && !(s->rflags & RFLAGS_VM) && !(s->efer & EFER_LMA);
}

bool insn_iret_task_switch(struct insn *in, uint16_t *tss_selector)
{
  struct machine *m = in->m;
  if (in->zi.mnemonic != ZYDIS_MNEMONIC_IRET && in->zi.mnemonic != ZYDIS_MNEMONIC_IRETD) return false;
  struct cpu_state s;
  if (!legacy_protected_state(m, &s) || !(s.rflags & RFLAGS_NT)) return false;
  /* "If IRET is executed with RFLAGS.NT = 1 outside IA-32e mode, a TSS
   * descriptor is accessed directly and no privilege checks are made":
   * the back link, the first word of the current TSS, names a busy TSS. */
  uint16_t sel;
  if (!machine_peek_linear(m, s.seg[SEG_TR].base, &sel, sizeof sel, true)) return false;
  if (!new_tss_ok(m, &s, sel, true)) return false;
  *tss_selector = sel;
  return true;
}

bool insn_far_task_switch(struct insn *in, uint16_t *tss_selector)
{
  struct machine *m = in->m;
  if (in->zi.mnemonic != ZYDIS_MNEMONIC_JMP && in->zi.mnemonic != ZYDIS_MNEMONIC_CALL) return false;
  if (in->zi.meta.branch_type != ZYDIS_BRANCH_TYPE_FAR) return false;
  struct cpu_state s;
  if (!legacy_protected_state(m, &s)) return false;
  const ZydisDecodedOperand *op = &in->op[0];
  uint16_t sel;
  if (op->type == ZYDIS_OPERAND_TYPE_POINTER) {
    sel = op->ptr.segment;                      /* EA / 9A: ptr16:16 or ptr16:32 */
  } else if (op->type == ZYDIS_OPERAND_TYPE_MEMORY) {
    /* FF /3, FF /5: m16:16 or m16:32, the selector after the offset. */
    uint64_t la = insn_operand_linear(in, op) + in->zi.operand_width / 8;
    if (!machine_peek_linear(m, la & 0xffffffffull, &sel, sizeof sel, false)) return false;
  } else {
    return false;
  }
  /* SDM Vol. 3C, "Task Switches" (chapter "VMX Non-Root Operation"): the
   * checks that fault before a task switch can become a VM exit — a task
   * gate's P bit and privilege (DPL >= CPL and RPL), a TSS descriptor's
   * privilege when reached directly, the new TSS selector within the GDT,
   * the TSS descriptor's type (available: a JMP or CALL to a busy TSS is
   * #GP), P bit, S bit and limit (SDM Vol. 3A, "Task Switching": 67H for
   * a 32-bit TSS, 2BH for a 16-bit one). The AMD APM gives no order;
   * the same checks are taken. Any failure leaves the instruction to
   * Unicorn, which raises the fault (or makes an ordinary far transfer). */
  unsigned cpl = cpu_cpl(&s), rpl = sel & 3, need = cpl > rpl ? cpl : rpl;
  uint32_t d[2];
  if ((sel & ~3u) == 0 || !read_descriptor(m, &s, sel, d)) return false;
  unsigned type = system_type(d);
  if (type != TS_TYPE_TASK_GATE && type != TS_TYPE_TSS16_AVAILABLE && type != TS_TYPE_TSS32_AVAILABLE) return false;
  if (desc_dpl(d) < need || !desc_present(d)) return false;
  if (type == TS_TYPE_TASK_GATE) sel = (uint16_t)(d[0] >> 16);
  if (!new_tss_ok(m, &s, sel, false)) return false;
  *tss_selector = sel;
  return true;
}

uint8_t sysinsn_skinit_fault(struct machine *m, const struct insn *in)
{
  bool protected_mode = (m->cpu.cr0 & CR0_PE) && !(uc_bridge_rflags(m->bridge) & RFLAGS_VM);
  bool recognised = (m->cpu.efer & EFER_SVME) || cpu_model_has(m->opt.cpu, 0x8000000a, CPUID_EDX, CPUIDXA_EDX_SVML) ||
                    cpu_model_has(m->opt.cpu, 0x80000001, CPUID_ECX, CPUIDX1_ECX_SKINIT);
  if (!protected_mode || !recognised) return VEC_UD;
  return in->mode.cpl ? VEC_GP : 0;
}

/* SKINIT: its simple exceptions here, inside the hook, after the SKINIT
 * intercept was asked (sim/svm_intercepts.c declines it while one of them
 * applies); past them the extension carries it out with the whole state
 * in hand (virt_ops.execute: models/svm's SKINIT). */
enum insn_result insn_skinit(struct insn *in)
{
  switch (sysinsn_skinit_fault(in->m, in)) {
  case VEC_UD: return insn_ud(in);
  case VEC_GP: return insn_gp0(in);
  case 0: return INSN_DEFERRED;
  }
  machine_stop(in->m, STOP_INTERNAL, 125, "SKINIT at 0x%llx: unexpected fault class", (unsigned long long)in->rip);
  return INSN_STOPPED;
}

/* Instructions carried out in the run loop on the whole state: the fast
 * system calls load CS and SS and change the CPL (sim/fastsys.c), and
 * Unicorn runs STGI as a no-op where only the SVM model can decide. */
enum insn_result insn_defer(struct insn *in) { (void)in; return INSN_DEFERRED; }

bool insn_decode(struct machine *m, uint64_t rip, struct insn *in)
{
  *in = (struct insn){.m = m, .rip = rip};
  uc_bridge_mode(m->bridge, &in->mode);
  /* Up to 15 bytes, as many as can be fetched: the rest of RIP's page,
   * then the next page if it translates. Failing to read them is not this
   * instruction's outcome. */
  uint8_t bytes[15];
  unsigned in_page = 4096 - (unsigned)(rip & 0xfff), n = 0;
  if (in_page > sizeof bytes) in_page = sizeof bytes;
  if (machine_peek_linear(m, rip, bytes, in_page, false)) {
    n = in_page;
    if (n < sizeof bytes && machine_peek_linear(m, rip + n, bytes + n, sizeof bytes - n, false)) n = sizeof bytes;
  }
  if (n == 0) return false;
  ZydisDecoder dec;
  insn_decoder_init(&dec, &in->mode);
  if (!ZYAN_SUCCESS(ZydisDecoderDecodeFull(&dec, bytes, n, &in->zi, in->op))) return false;
  in->next_rip = rip + in->zi.length;
  return true;
}

bool insn_fault_address(struct machine *m, uint64_t rip, uint64_t page, uint64_t *la, bool *stack)
{
  struct insn in;
  if (!insn_decode(m, rip, &in)) return false;
  for (unsigned i = 0; i < in.zi.operand_count; i++) {
    const ZydisDecodedOperand *op = &in.op[i];
    if (op->type != ZYDIS_OPERAND_TYPE_MEMORY || op->mem.type == ZYDIS_MEMOP_TYPE_AGEN) continue;
    uint64_t ea = insn_operand_linear(&in, op);
    uint64_t last = ea + (op->size ? op->size / 8 - 1 : 0);
    bool hit = (ea & ~0xfffull) == page || (last & ~0xfffull) == page;
    if (!hit && page != UINT64_MAX) continue;
    *la = (ea & ~0xfffull) == page || page == UINT64_MAX ? ea : page;
    *stack = op->mem.segment == ZYDIS_REGISTER_SS;
    return true;
  }
  return false;
}

insn_handler sysinsn_handler(const struct insn *in)
{
  switch (in->zi.mnemonic) {
#define X(mn, fn) case ZYDIS_MNEMONIC_##mn: return fn;
    SYSINSN_TABLE(X)
#undef X
#define X(mn, fn, cls) case ZYDIS_MNEMONIC_##mn: return fn;
    CONDITIONAL_SYSINSN_TABLE(X)
#undef X
  default: return NULL;
  }
}

bool sysinsn_hooked(const ZydisDecodedInstruction *zi, unsigned classes)
{
  /* Of the MOVs, only those to and from control and debug registers
   * (0F 20-23). */
  if (zi->mnemonic == ZYDIS_MNEMONIC_MOV)
    return zi->opcode_map == ZYDIS_OPCODE_MAP_0F && zi->opcode >= 0x20 && zi->opcode <= 0x23;
  /* Of the JMPs and CALLs, only the far ones (EA, 9A, FF /3, FF /5). */
  if ((zi->mnemonic == ZYDIS_MNEMONIC_JMP || zi->mnemonic == ZYDIS_MNEMONIC_CALL) &&
      zi->meta.branch_type != ZYDIS_BRANCH_TYPE_FAR)
    return false;
  switch (zi->mnemonic) {
#define X(mn, fn) case ZYDIS_MNEMONIC_##mn:
    SYSINSN_TABLE(X)
#undef X
    return true;
#define X(mn, fn, cls) case ZYDIS_MNEMONIC_##mn: return (classes & (cls)) != 0;
    CONDITIONAL_SYSINSN_TABLE(X)
#undef X
  default: return false;
  }
}

/* ---- CPUID ------------------------------------------------------------ */

void sysinsn_cpuid(struct machine *m, uint32_t leaf, uint32_t subleaf, uint32_t out[4])
{
  const struct cpu_model *c = m->opt.cpu;
  const struct cpuid_entry *max_basic = cpu_model_cpuid(c, 0, 0);
  const struct cpuid_entry *max_ext = cpu_model_cpuid(c, 0x80000000, 0);
  uint32_t lim = leaf >= 0x80000000 ? (max_ext ? max_ext->eax : 0x80000000) : (max_basic ? max_basic->eax : 0);
  const struct cpuid_entry *e = NULL;
  if (leaf <= lim) e = cpu_model_cpuid(c, leaf, subleaf);
  else if (c->vendor == VENDOR_INTEL && max_basic)
    /* Intel answers an out-of-range leaf with the highest basic leaf. */
    e = cpu_model_cpuid(c, max_basic->eax, subleaf);
  out[0] = e ? e->eax : 0; out[1] = e ? e->ebx : 0; out[2] = e ? e->ecx : 0; out[3] = e ? e->edx : 0;
  if (leaf == 1 && e) {
    if (m->cpu.cr4 & CR4_OSXSAVE) out[2] |= CPUID1_ECX_OSXSAVE;
    if (!(m->apic_base & (1u << 11))) out[3] &= ~CPUID1_EDX_APIC;
  }
  if (leaf == 7 && subleaf == 0 && e && (m->cpu.cr4 & CR4_PKE)) out[2] |= CPUID7_ECX_OSPKE;
  if (m->virt && m->virt->cpuid) m->virt->cpuid(m, leaf, subleaf, out);
}

enum insn_result insn_cpuid(struct insn *in)
{
  struct machine *m = in->m;
  uint32_t out[4];
  sysinsn_cpuid(m, (uint32_t)uc_bridge_gpr(m->bridge, GPR_RAX), (uint32_t)uc_bridge_gpr(m->bridge, GPR_RCX), out);
  /* CPUID writes all four registers, zero-extending into 64-bit ones. */
  uc_bridge_set_gpr(m->bridge, GPR_RAX, out[0]);
  uc_bridge_set_gpr(m->bridge, GPR_RBX, out[1]);
  uc_bridge_set_gpr(m->bridge, GPR_RCX, out[2]);
  uc_bridge_set_gpr(m->bridge, GPR_RDX, out[3]);
  return INSN_NEXT;
}
