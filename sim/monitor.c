/* MONITOR and MWAIT: the address-range monitor (sim/sysinsn.h, "the
 * address-range monitor"). */
#include "sim/sysinsn.h"

#include <unicorn/unicorn.h>

#include "sim/exceptions.h"
#include "sim/machine.h"

bool sysinsn_monitor_armed(const struct machine *m) { return m->monitor.armed; }

void sysinsn_monitor_disarm(struct machine *m)
{
  if (!m->monitor.armed) return;
  m->monitor.armed = false;
  uc_hook_del(m->uc, (uc_hook)m->monitor.hook);
  /* Unicorn drops a deleted hook when uc_emu_start returns, and until then
   * every store still takes its slow path: a loop turn ends that at once. */
  machine_request_loop_turn(m);
  trace_event(&m->trace, m->insns, "monitor", "disarmed");
}

/* [mem hook] A store at physical `addr`: the hook's range begins before
 * the line (a store may start below it), so the overlap is checked here. */
static void monitor_store(uc_engine *uc, uc_mem_type type, uint64_t addr, int size, int64_t value, void *user)
{
  (void)uc; (void)type; (void)value;
  struct machine *m = user;
  if (!m->monitor.armed || addr + (uint64_t)size <= m->monitor.line || addr >= m->monitor.line + m->monitor.size) return;
  trace_event(&m->trace, m->insns, "monitor", "store to 0x%llx", (unsigned long long)addr);
  sysinsn_monitor_disarm(m);
}

/* Widest store Unicorn reports as one access (SSE): the hook starts this
 * far below the line. */
#define MONITOR_HOOK_SLACK 15u

static void monitor_arm(struct machine *m, uint64_t pa)
{
  const struct cpuid_entry *leaf5 = cpu_model_cpuid(m->opt.cpu, 5, 0);
  uint32_t size = leaf5 && (leaf5->ebx & 0xffff) ? leaf5->ebx & 0xffff : MONITOR_LINE_DEFAULT;
  uint64_t line = pa & ~(uint64_t)(size - 1);
  if (m->monitor.armed && m->monitor.line == line) return;
  sysinsn_monitor_disarm(m);
  uc_hook h;
  uint64_t begin = line >= MONITOR_HOOK_SLACK ? line - MONITOR_HOOK_SLACK : 0;
  if (uc_hook_add(m->uc, &h, UC_HOOK_MEM_WRITE, (void *)monitor_store, m, begin, line + size - 1) != UC_ERR_OK) {
    machine_stop(m, STOP_INTERNAL, 125, "MONITOR: Unicorn refused the store hook on 0x%llx", (unsigned long long)line);
    return;
  }
  m->monitor = (struct addr_monitor){.armed = true, .line = line, .size = size, .hook = (size_t)h};
  trace_event(&m->trace, m->insns, "monitor", "armed line=0x%llx size=%u", (unsigned long long)line, size);
}

/* #UD without CPUID.01H:ECX.MONITOR and at CPL > 0 (the models have no
 * AMD MonMwaitUserEn, HWCR bit 10, that would allow CPL > 0). */
static bool monitor_ud(const struct insn *in)
{
  return in->mode.cpl || !cpu_model_has(in->m->opt.cpu, 1, CPUID_ECX, CPUID1_ECX_MONITOR);
}

/* ECX (RCX in 64-bit mode): MONITOR has no extensions, so any bit is
 * #GP(0); MWAIT's bit 0 (interrupts as break events) only when CPUID.05H
 * enumerates extensions (ECX[0]) and that one (ECX[1]). */
static uint64_t extensions(const struct insn *in)
{
  uint64_t rcx = uc_bridge_gpr(in->m->bridge, GPR_RCX);
  return in->mode.cs64 ? rcx : rcx & 0xffffffffull;
}

static ZydisRegister monitor_segment(const struct insn *in)
{
  uint64_t a = in->zi.attributes;
  if (a & ZYDIS_ATTRIB_HAS_SEGMENT_ES) return ZYDIS_REGISTER_ES;
  if (a & ZYDIS_ATTRIB_HAS_SEGMENT_CS) return ZYDIS_REGISTER_CS;
  if (a & ZYDIS_ATTRIB_HAS_SEGMENT_SS) return ZYDIS_REGISTER_SS;
  if (a & ZYDIS_ATTRIB_HAS_SEGMENT_FS) return ZYDIS_REGISTER_FS;
  if (a & ZYDIS_ATTRIB_HAS_SEGMENT_GS) return ZYDIS_REGISTER_GS;
  return ZYDIS_REGISTER_DS;
}

/* The linear address of DS:rAX with the checks of a byte load ("MONITOR":
 * "subject to the permission checking and faults associated with a byte
 * load"): outside 64-bit mode a null selector in DS/ES/FS/GS, an
 * execute-only code segment or an offset beyond the limit (expand-down
 * segments: at or below it) is #GP(0), #SS(0) for SS; in 64-bit mode a
 * non-canonical address is #GP(0). Returns the vector, or 0. */
static uint8_t monitor_linear(struct insn *in, uint64_t *la)
{
  struct machine *m = in->m;
  uint64_t ea = uc_bridge_gpr(m->bridge, GPR_RAX);
  if (in->zi.address_width < 64) ea &= (1ull << in->zi.address_width) - 1;
  ZydisRegister seg = monitor_segment(in);
  if (in->mode.cs64) {
    *la = ea + insn_segment_base(in, seg);
    unsigned bits = (m->cpu.cr4 & CR4_LA57) ? 57 : 48;
    int64_t sx = (int64_t)(*la << (64 - bits)) >> (64 - bits);
    return (uint64_t)sx == *la ? 0 : VEC_GP;
  }
  struct cpu_state s = m->cpu;
  uc_bridge_fetch(m->bridge, &s);   /* the live segments: a hook runs between returns */
  static const ZydisRegister order[] = {ZYDIS_REGISTER_ES, ZYDIS_REGISTER_CS, ZYDIS_REGISTER_SS, ZYDIS_REGISTER_DS,
                                        ZYDIS_REGISTER_FS, ZYDIS_REGISTER_GS};
  enum seg_reg idx = SEG_DS;
  for (unsigned i = 0; i < sizeof order / sizeof order[0]; i++)
    if (order[i] == seg) idx = (enum seg_reg)i;
  const struct segment *sg = &s.seg[idx];
  uint8_t fault = idx == SEG_SS ? VEC_SS : VEC_GP;
  bool protected_mode = (s.cr0 & CR0_PE) && !(s.rflags & RFLAGS_VM);
  if (protected_mode) {
    if ((sg->ar & SEG_AR_UNUSABLE) || (idx != SEG_CS && idx != SEG_SS && !(sg->selector & ~3u))) return VEC_GP;
    bool code = (sg->ar & SEG_AR_S) && (SEG_AR_TYPE(sg->ar) & 8);
    if (code && !(SEG_AR_TYPE(sg->ar) & 2)) return VEC_GP;   /* execute-only */
    bool expand_down = (sg->ar & SEG_AR_S) && !code && (SEG_AR_TYPE(sg->ar) & 4);
    uint64_t upper = (sg->ar & SEG_AR_DB) ? 0xffffffffull : 0xffffull;
    if (expand_down ? (ea <= sg->limit || ea > upper) : ea > sg->limit) return fault;
  } else if (ea > sg->limit) {
    return fault;
  }
  *la = (sg->base + ea) & 0xffffffffull;
  return 0;
}

/* MONITOR (SDM Vol. 2B, "MONITOR—Set Up Monitor Address"; AMD APM Vol. 3,
 * "MONITOR"): #UD first, then #GP(0) for ECX != 0, the segment checks,
 * then the page walk as a read (#PF, or the SLAT's fault in a guest). The
 * hypervisor's MONITOR intercept or exit was asked before this handler:
 * the #UD comes before it, the rest after it ("Instruction Intercepts",
 * "Relative Priority of Faults and VM Exits"). */
enum insn_result insn_monitor(struct insn *in)
{
  struct machine *m = in->m;
  if (monitor_ud(in)) return insn_ud(in);
  if (extensions(in)) return insn_gp0(in);
  uint64_t la = 0;
  uint8_t vec = monitor_linear(in, &la);
  if (vec) {
    raise_exception(m, vec, true, 0);
    return INSN_FAULTED;
  }
  uint64_t pa;
  if (!machine_translate_linear(m, la, MMU_READ, false, &pa)) {
    /* The run loop delivers it as it does Unicorn's own faults (CR2, or
     * the SLAT's exit in a guest). */
    uc_emu_stop(m->uc);
    return INSN_FAULTED;
  }
  monitor_arm(m, pa);
  return INSN_NEXT;
}

/* MWAIT (SDM Vol. 2B, "MWAIT—Monitor Wait"; AMD APM Vol. 3, "MWAIT"): #UD
 * as MONITOR, #GP(0) for unsupported extensions in ECX. It never waits
 * here (sysinsn.h): it completes, which disarms the monitor ("execution
 * of MWAIT does not re-arm the monitor hardware", SDM Vol. 3A). */
enum insn_result insn_mwait(struct insn *in)
{
  if (monitor_ud(in)) return insn_ud(in);
  const struct cpuid_entry *leaf5 = cpu_model_cpuid(in->m->opt.cpu, 5, 0);
  uint64_t allowed = leaf5 && (leaf5->ecx & 1) && (leaf5->ecx & 2) ? 1 : 0;
  if (extensions(in) & ~allowed) return insn_gp0(in);
  sysinsn_monitor_disarm(in->m);
  return INSN_NEXT;
}
