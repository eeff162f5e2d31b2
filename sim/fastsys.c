/* SYSCALL, SYSRET, SYSENTER and SYSEXIT (SDM Vol. 2B instruction pages;
 * AMD APM Vol. 3, "SYSCALL", "SYSRET", "SYSENTER", "SYSEXIT"; APM Vol. 2,
 * "Fast System Call and Return"). Where the vendors differ the CPU model's
 * vendor decides: Intel allows SYSCALL/SYSRET only in 64-bit mode and
 * checks SYSRET's RCX for canonical form; AMD allows them in every
 * protected mode, leaves SS's hidden attributes alone on SYSRET, and makes
 * SYSENTER/SYSEXIT #UD in long mode. */
#include "sim/fastsys.h"

#include "sim/machine.h"
#include "sim/sysinsn.h"

/* Flat segments with the fixed attributes these instructions load. */
static struct segment flat_code(uint16_t sel, unsigned dpl, bool long_mode)
{
  uint32_t ar = 0xb | SEG_AR_S | (dpl << 5) | SEG_AR_P | SEG_AR_G | (long_mode ? SEG_AR_L : SEG_AR_DB);
  return (struct segment){sel, 0, 0xffffffffu, ar};
}

static struct segment flat_stack(uint16_t sel, unsigned dpl)
{
  return (struct segment){sel, 0, 0xffffffffu, 0x3 | SEG_AR_S | (dpl << 5) | SEG_AR_P | SEG_AR_DB | SEG_AR_G};
}

static bool canonical(const struct machine *m, uint64_t v)
{
  unsigned bits = m->opt.cpu->linear_bits;
  return (uint64_t)((int64_t)(v << (64 - bits)) >> (64 - bits)) == v;
}

static void fault(struct machine *m, uint8_t vector)
{
  struct pending_event ev = {.valid = true, .vector = vector, .has_error = vector == VEC_GP};
  deliver_event(m, &ev);
}

static bool intel(const struct machine *m) { return m->opt.cpu->vendor == VENDOR_INTEL; }

/* "SYSCALL—Fast System Call". */
static void syscall_insn(struct machine *m, struct insn *in)
{
  struct cpu_state *s = &m->cpu;
  bool in64 = cpu_in_64bit_mode(s);
  if (!(s->efer & EFER_SCE) || (intel(m) && !in64) || !(s->cr0 & CR0_PE)) { fault(m, VEC_UD); return; }
  uint16_t sel = (uint16_t)(s->star >> 32);
  if (cpu_long_mode_active(s)) {
    s->gpr[GPR_RCX] = in->next_rip;
    s->gpr[GPR_R11] = s->rflags & ~RFLAGS_RF;
    s->rip = in64 ? s->lstar : s->cstar;
    s->rflags = (s->rflags & ~s->sfmask & ~RFLAGS_RF) | RFLAGS_FIXED1;
    s->seg[SEG_CS] = flat_code(sel & 0xfffc, 0, true);
  } else {
    /* AMD legacy mode: EIP from STAR[31:0], VM, IF and RF cleared. */
    s->gpr[GPR_RCX] = (uint32_t)in->next_rip;
    s->rip = (uint32_t)s->star;
    s->rflags &= ~(RFLAGS_VM | RFLAGS_IF | RFLAGS_RF);
    s->seg[SEG_CS] = flat_code(sel & 0xfffc, 0, false);
  }
  s->seg[SEG_SS] = flat_stack((uint16_t)(sel + 8), 0);
}

/* "SYSRET—Return From Fast System Call". */
static void sysret_insn(struct machine *m, struct insn *in)
{
  struct cpu_state *s = &m->cpu;
  bool in64 = cpu_in_64bit_mode(s);
  if (!(s->efer & EFER_SCE) || (intel(m) && !in64)) { fault(m, VEC_UD); return; }
  if (!(s->cr0 & CR0_PE) || cpu_cpl(s) != 0) { fault(m, VEC_GP); return; }
  bool to64 = in->zi.operand_width == 64;
  if (to64 && intel(m) && !canonical(m, s->gpr[GPR_RCX])) { fault(m, VEC_GP); return; }
  uint16_t sel = (uint16_t)(s->star >> 48);
  if (cpu_long_mode_active(s)) {
    s->rflags = (s->gpr[GPR_R11] & 0x3c7fd7) | RFLAGS_FIXED1;
    s->rip = to64 ? s->gpr[GPR_RCX] : (uint32_t)s->gpr[GPR_RCX];
    s->seg[SEG_CS] = to64 ? flat_code((uint16_t)(sel + 16) | 3, 3, true) : flat_code(sel | 3, 3, false);
  } else {
    s->rflags |= RFLAGS_IF;
    s->rip = (uint32_t)s->gpr[GPR_RCX];
    s->seg[SEG_CS] = flat_code(sel | 3, 3, false);
  }
  uint16_t ss = (uint16_t)(sel + 8) | 3;
  if (intel(m)) s->seg[SEG_SS] = flat_stack(ss, 3);
  else s->seg[SEG_SS].selector = ss;   /* AMD: "SS.base, limit, attributes unchanged" */
}

/* "SYSENTER—Fast System Call". */
static void sysenter_insn(struct machine *m, struct insn *in)
{
  (void)in;
  struct cpu_state *s = &m->cpu;
  if (!intel(m) && cpu_long_mode_active(s)) { fault(m, VEC_UD); return; }
  if (!(s->cr0 & CR0_PE) || !(s->sysenter_cs & 0xfffc)) { fault(m, VEC_GP); return; }
  bool ia32e = cpu_long_mode_active(s);
  s->rflags &= ~(RFLAGS_VM | RFLAGS_IF | RFLAGS_RF);
  s->gpr[GPR_RSP] = ia32e ? s->sysenter_esp : (uint32_t)s->sysenter_esp;
  s->rip = ia32e ? s->sysenter_eip : (uint32_t)s->sysenter_eip;
  uint16_t cs = (uint16_t)s->sysenter_cs & 0xfffc;
  s->seg[SEG_CS] = flat_code(cs, 0, ia32e);
  s->seg[SEG_SS] = flat_stack((uint16_t)(cs + 8), 0);
}

/* "SYSEXIT—Fast Return from Fast System Call". */
static void sysexit_insn(struct machine *m, struct insn *in)
{
  struct cpu_state *s = &m->cpu;
  if (!intel(m) && cpu_long_mode_active(s)) { fault(m, VEC_UD); return; }
  if (!(s->cr0 & CR0_PE) || !(s->sysenter_cs & 0xfffc) || cpu_cpl(s) != 0) { fault(m, VEC_GP); return; }
  bool to64 = in->zi.operand_width == 64;
  if (to64 && (!canonical(m, s->gpr[GPR_RCX]) || !canonical(m, s->gpr[GPR_RDX]))) { fault(m, VEC_GP); return; }
  uint16_t base = (uint16_t)s->sysenter_cs;
  s->gpr[GPR_RSP] = to64 ? s->gpr[GPR_RCX] : (uint32_t)s->gpr[GPR_RCX];
  s->rip = to64 ? s->gpr[GPR_RDX] : (uint32_t)s->gpr[GPR_RDX];
  s->seg[SEG_CS] = flat_code((uint16_t)(base + (to64 ? 32 : 16)) | 3, 3, to64);
  s->seg[SEG_SS] = flat_stack((uint16_t)(base + (to64 ? 40 : 24)) | 3, 3);
}

bool fastsys_owns(const struct insn *in)
{
  switch (in->zi.mnemonic) {
  case ZYDIS_MNEMONIC_SYSCALL: case ZYDIS_MNEMONIC_SYSRET: case ZYDIS_MNEMONIC_SYSENTER: case ZYDIS_MNEMONIC_SYSEXIT:
    return true;
  default:
    return false;   /* every other instruction belongs elsewhere */
  }
}

void fastsys_execute(struct machine *m, struct insn *in)
{
  trace_event(&m->trace, m->insns, "fastsys", "%s rip=0x%llx", ZydisMnemonicGetString(in->zi.mnemonic),
              (unsigned long long)in->rip);
  switch (in->zi.mnemonic) {
  case ZYDIS_MNEMONIC_SYSCALL: syscall_insn(m, in); return;
  case ZYDIS_MNEMONIC_SYSRET: sysret_insn(m, in); return;
  case ZYDIS_MNEMONIC_SYSENTER: sysenter_insn(m, in); return;
  case ZYDIS_MNEMONIC_SYSEXIT: sysexit_insn(m, in); return;
  default:
    machine_stop(m, STOP_INTERNAL, 125, "fastsys_execute given %s", ZydisMnemonicGetString(in->zi.mnemonic));
    return;
  }
}
