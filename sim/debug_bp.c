/* Hardware breakpoints in the machine: arming Unicorn's exits, alias
 * windows and hooks for what DR7 enables, and delivering the #DB (see
 * debug_bp.h for the scheme; the rules are in debug_bp_rules.c). */
#include "sim/debug_bp.h"

#include <stdlib.h>
#include <string.h>
#include <unicorn/unicorn.h>

#include "sim/exceptions.h"
#include "sim/machine.h"
#include "sim/sysinsn.h"
#include "sim/uc_bridge.h"

#define ALIAS_WINDOWS 4

struct debug_bp_private {
  struct machine *m;
  bool armed_valid;
  struct dbg_regs armed;          /* what the hooks and exits were built from */
  unsigned insn_mask;             /* enabled instruction breakpoints */
  bool windows_mapped;
  bool hooks_on;
  uc_hook mem_hook, code_hook;
  bool exits_on;
  uint64_t exits[5];
  unsigned nexits;
  bool lifted;                    /* this run steps over the breakpoint at lifted_rip */
  uint64_t lifted_rip;
  /* A data or I/O breakpoint met by the instruction at hit_rip. */
  unsigned hit;
  uint64_t hit_rip;
  uint64_t cur_rip;               /* the instruction running now (code hook) */
  /* A hit of MOV SS or POP SS, held for one more instruction; while the
   * event that instruction raised is delivered, in held_event (a VM exit
   * of that delivery takes them, debug_bp_take_held). */
  unsigned held, held_event;
  uint64_t dr6_before;            /* DR6 as the guest last had it */
  /* The #DB being delivered (debug_bp_delivering). */
  bool delivering, delivering_fault;
  uint64_t delivering_conditions;
  bool general_detect;            /* the pending #DB is MOV DR's general detect */
  /* A #DB whose delivery hit a data breakpoint: where it left RIP/RSP. */
  bool recur_valid;
  uint64_t recur_rip, recur_rsp;
};

static struct dbg_regs regs_of(const struct machine *m)
{
  struct dbg_regs r = {.dr7 = m->cpu.dr[7], .de = (m->cpu.cr4 & CR4_DE) != 0};
  memcpy(r.dr, m->cpu.dr, sizeof r.dr);
  return r;
}

static bool same_regs(const struct dbg_regs *a, const struct dbg_regs *b)
{
  return a->dr7 == b->dr7 && a->de == b->de && !memcmp(a->dr, b->dr, sizeof a->dr);
}

bool debug_bp_create(struct machine *m, char *err, unsigned long n)
{
  struct debug_bp_private *p = calloc(1, sizeof *p);
  if (!p) { snprintf(err, n, "out of memory"); return false; }
  if (m->ram_size > DEBUG_BP_ALIAS_STRIDE) {
    free(p);
    snprintf(err, n, "RAM of %llu bytes exceeds the data-breakpoint alias window (%llu bytes)",
             (unsigned long long)m->ram_size, (unsigned long long)DEBUG_BP_ALIAS_STRIDE);
    return false;
  }
  p->m = m;
  m->dbg = (struct debug_bp){.p = p};
  return true;
}

void debug_bp_destroy(struct machine *m)
{
  free(m->dbg.p);
  m->dbg.p = NULL;
}

/* ---- hooks --------------------------------------------------------------- */

/* Present only while data or I/O breakpoints are armed: the hook of the
 * instruction after one that hit stops Unicorn before it runs (Unicorn
 * looks for a stop right after an instruction's hooks). A stop asked for
 * inside the memory hook would not do: Unicorn leaves the translation
 * block right after the access, with the rest of the instruction undone
 * (measured: REP STOSB keeps RCX and RDI of the iteration whose store
 * ran). An intercepted instruction whose hook comes first is held by
 * intercept_hook (sim/intercept.c, trap_pending). */
static void hook_every_insn(uc_engine *uc, uint64_t address, uint32_t size, void *user)
{
  (void)size;
  struct debug_bp_private *p = user;
  if (p->m->dbg.trap_pending) {
    uc_emu_stop(uc);
    return;
  }
  p->cur_rip = address;
}

static void record_hit(struct debug_bp_private *p, unsigned matched, uint64_t rip)
{
  if (!p->hit) p->hit_rip = rip;
  p->hit |= matched;
  p->m->dbg.trap_pending = true;
}

/* An access through a watched linear page: its alias window gives the
 * page, its offset the byte. */
static void hook_watched_access(uc_engine *uc, uc_mem_type type, uint64_t addr, int size, int64_t value, void *user)
{
  (void)uc; (void)value;
  struct debug_bp_private *p = user;
  struct machine *m = p->m;
  uint64_t k = (addr - DEBUG_BP_ALIAS_BASE) / DEBUG_BP_ALIAS_STRIDE;
  if (k >= m->dbg.data_pages) return;
  uint64_t la = m->dbg.page[k] + (addr & 0xfff);
  enum dbg_access a = type == UC_MEM_WRITE ? DBG_ACCESS_WRITE : DBG_ACCESS_READ;
  unsigned matched = dbg_bp_match(&p->armed, a, la, (unsigned)size);
  if (!dbg_bp_triggers(p->armed.dr7, matched)) return;
  record_hit(p, matched, p->cur_rip);
}

/* A hit of the model's own access has no instruction of its own to look
 * at (not a MOV SS, not a REP iteration). */
#define NO_INSN UINT64_MAX

void debug_bp_model_access_slow(struct machine *m, uint64_t la, unsigned len, bool write)
{
  struct debug_bp_private *p = m->dbg.p;
  struct dbg_regs r = regs_of(m);
  unsigned matched = dbg_bp_match(&r, write ? DBG_ACCESS_WRITE : DBG_ACCESS_READ, la, len);
  if (!dbg_bp_triggers(r.dr7, matched)) return;
  trace_event(&m->trace, m->insns, "debug-bp-model-access", "la=0x%llx len=%u %s matched=0x%x",
              (unsigned long long)la, len, write ? "write" : "read", matched);
  record_hit(p, matched, NO_INSN);
}

void debug_bp_port_io(struct machine *m, uint16_t port, unsigned size, uint64_t rip)
{
  struct debug_bp_private *p = m->dbg.p;
  if (!p->hooks_on) return;
  unsigned matched = dbg_bp_match(&p->armed, DBG_ACCESS_IO, port, size);
  if (dbg_bp_triggers(p->armed.dr7, matched)) record_hit(p, matched, rip == DEBUG_BP_RUNNING_INSN ? p->cur_rip : rip);
}

/* ---- arming -------------------------------------------------------------- */

static void set_exits(struct debug_bp_private *p, uint64_t skip)
{
  uint64_t list[5];
  unsigned n = 0;
  for (unsigned i = 0; i < p->nexits; i++)
    if (i == 0 || p->exits[i] != skip) list[n++] = p->exits[i];
  uc_ctl_set_exits(p->m->uc, list, n);
}

/* Maps RAM again at each alias window (once). */
static bool map_windows(struct debug_bp_private *p)
{
  struct machine *m = p->m;
  if (p->windows_mapped) return true;
  for (unsigned k = 0; k < ALIAS_WINDOWS; k++) {
    uc_err e = uc_mem_map_ptr(m->uc, DEBUG_BP_ALIAS_BASE + k * DEBUG_BP_ALIAS_STRIDE, m->ram_size, UC_PROT_ALL, m->ram);
    if (e != UC_ERR_OK) {
      machine_stop(m, STOP_INTERNAL, 125, "Unicorn cannot map the data-breakpoint alias window: %s", uc_strerror(e));
      return false;
    }
  }
  p->windows_mapped = true;
  return true;
}

static void arm(struct debug_bp_private *p)
{
  struct machine *m = p->m;
  p->armed = regs_of(m);
  p->armed_valid = true;
  const struct dbg_regs *r = &p->armed;
  unsigned data = dbg_bp_armed(r, DBG_ACCESS_READ) | dbg_bp_armed(r, DBG_ACCESS_WRITE);
  unsigned io = dbg_bp_armed(r, DBG_ACCESS_IO);
  p->insn_mask = dbg_bp_armed(r, DBG_ACCESS_EXEC);

  /* Data breakpoints: the linear pages of their ranges (an aligned range
   * of at most 8 bytes never crosses a page). */
  m->dbg.data_pages = 0;
  if (data && map_windows(p)) {
    for (unsigned n = 0; n < 4; n++) {
      if (!(data >> n & 1)) continue;
      uint64_t page = r->dr[n] & ~(uint64_t)(dbg_bp_len(r->dr7, n) - 1) & ~0xfffull;
      bool seen = false;
      for (unsigned k = 0; k < m->dbg.data_pages; k++) seen |= m->dbg.page[k] == page;
      if (!seen) m->dbg.page[m->dbg.data_pages++] = page;
    }
  }
  bool hooks = m->dbg.data_pages || io;
  if (hooks && !p->hooks_on) {
    uc_hook_add(m->uc, &p->mem_hook, UC_HOOK_MEM_READ | UC_HOOK_MEM_WRITE, (void *)hook_watched_access, p,
                DEBUG_BP_ALIAS_BASE, DEBUG_BP_ALIAS_BASE + ALIAS_WINDOWS * DEBUG_BP_ALIAS_STRIDE - 1);
    uc_hook_add(m->uc, &p->code_hook, UC_HOOK_CODE, (void *)hook_every_insn, p, 1, 0);
  } else if (!hooks && p->hooks_on) {
    uc_hook_del(m->uc, p->mem_hook);
    uc_hook_del(m->uc, p->code_hook);
  }
  p->hooks_on = hooks;

  /* Instruction breakpoints: Unicorn exits, next to the run loop's own
   * `until` address (ignored while exits are on). */
  p->nexits = 0;
  if (p->insn_mask) {
    p->exits[p->nexits++] = MACHINE_UNREACHABLE_RIP;
    for (unsigned n = 0; n < 4; n++)
      if (p->insn_mask >> n & 1) p->exits[p->nexits++] = r->dr[n];
    if (!p->exits_on) uc_ctl_exits_enable(m->uc);
    set_exits(p, MACHINE_UNREACHABLE_RIP);
  } else if (p->exits_on) {
    uc_ctl_exits_disable(m->uc);
  }
  p->exits_on = p->insn_mask != 0;
  m->dbg.active = (r->dr7 & DR7_ENABLES) != 0;

  /* Translations made before carry neither the hook calls nor the exits,
   * and Unicorn's TLB holds pages without their aliases. */
  uc_ctl_flush_tb(m->uc);
  machine_flush_unicorn_tlb(m);
  trace_event(&m->trace, m->insns, "debug-bp", "dr7=0x%llx insn=0x%x data=0x%x io=0x%x", (unsigned long long)r->dr7,
              p->insn_mask, data, io);
}

static bool insn_bp_at(const struct debug_bp_private *p, uint64_t rip)
{
  for (unsigned i = 1; i < p->nexits; i++)
    if (p->exits[i] == rip) return true;
  return false;
}

/* Does what is armed differ from what the registers enable now? Changes
 * while DR7 enables nothing (before and after) arm nothing. */
static bool needs_arming(const struct debug_bp_private *p, const struct dbg_regs *now)
{
  bool was = p->armed_valid && (p->armed.dr7 & DR7_ENABLES);
  if (!was && !(now->dr7 & DR7_ENABLES)) return false;
  return !p->armed_valid || !same_regs(now, &p->armed);
}

/* Breakpoint matches raise nothing now (virt_ops.breakpoints_discarded:
 * SVM with GIF = 0). */
static bool discarded(struct machine *m)
{
  return m->virt && m->virt->breakpoints_discarded && m->virt->breakpoints_discarded(m);
}

/* A #DB for `conditions` is due: true when it is discarded instead (no
 * DR6 update, nothing delivered; an instruction breakpoint's instruction
 * runs at the next start, for which debug_bp_before_run lifts the exit). */
static bool discard(struct machine *m, uint64_t conditions)
{
  if (!discarded(m)) return false;
  trace_event(&m->trace, m->insns, "debug-bp-discarded", "rip=0x%llx conditions=0x%llx",
              (unsigned long long)m->cpu.rip, (unsigned long long)conditions);
  return true;
}

bool debug_bp_before_run(struct machine *m)
{
  struct debug_bp_private *p = m->dbg.p;
  p->dr6_before = m->cpu.dr[6];
  p->cur_rip = m->cpu.rip;
  struct dbg_regs now = regs_of(m);
  if (needs_arming(p, &now)) arm(p);
  if (p->held) return true;   /* the instruction after MOV SS / POP SS */
  /* "Instruction-Breakpoint Exception Condition": with RF = 1 the
   * processor ignores instruction breakpoints for one instruction; a
   * discarded match lets the instruction run as well. */
  if (!p->insn_mask || !insn_bp_at(p, m->cpu.rip)) return false;
  if (!(m->cpu.rflags & RFLAGS_RF) && !discarded(m)) return false;
  p->lifted = true;
  p->lifted_rip = m->cpu.rip;
  set_exits(p, m->cpu.rip);
  uc_ctl_remove_cache(m->uc, m->cpu.rip, m->cpu.rip + 1);
  return true;
}

/* ---- delivery ------------------------------------------------------------ */

static void deliver_db(struct debug_bp_private *p, uint64_t conditions, bool fault)
{
  struct machine *m = p->m;
  m->cpu.dr[6] |= conditions;
  trace_event(&m->trace, m->insns, "debug-bp-hit", "rip=0x%llx conditions=0x%llx %s", (unsigned long long)m->cpu.rip,
              (unsigned long long)conditions, fault ? "fault" : "trap");
  p->delivering = true;
  p->delivering_fault = fault;
  p->delivering_conditions = conditions;
  struct pending_event ev = {.valid = true, .vector = VEC_DB};
  deliver_event(m, &ev);
  p->delivering = false;
  p->dr6_before = m->cpu.dr[6];
  m->state_dirty = true;
  /* The delivery's own accesses (its stack frame) hit a data breakpoint:
   * another #DB comes before the handler runs. Delivered at the same RIP
   * and RSP again, it would recur forever (as on hardware, with a stack
   * that does not move); the machine stops instead of hanging. */
  if (!p->hit) {
    p->recur_valid = false;
    return;
  }
  uint64_t rsp = m->cpu.gpr[GPR_RSP];
  if (p->recur_valid && p->recur_rip == m->cpu.rip && p->recur_rsp == rsp) {
    machine_stop(m, STOP_INTERNAL, 125, "the #DB delivered at rip 0x%llx hits a data breakpoint with its own "
                 "stack frame (rsp 0x%llx) again: endless #DB recursion", (unsigned long long)m->cpu.rip,
                 (unsigned long long)rsp);
    return;
  }
  p->recur_valid = true;
  p->recur_rip = m->cpu.rip;
  p->recur_rsp = rsp;
}

static bool is_rep_string(const ZydisDecodedInstruction *zi)
{
  if (!(zi->attributes & (ZYDIS_ATTRIB_HAS_REP | ZYDIS_ATTRIB_HAS_REPE | ZYDIS_ATTRIB_HAS_REPNE))) return false;
  switch (zi->mnemonic) {
  case ZYDIS_MNEMONIC_MOVSB: case ZYDIS_MNEMONIC_MOVSW: case ZYDIS_MNEMONIC_MOVSD: case ZYDIS_MNEMONIC_MOVSQ:
  case ZYDIS_MNEMONIC_STOSB: case ZYDIS_MNEMONIC_STOSW: case ZYDIS_MNEMONIC_STOSD: case ZYDIS_MNEMONIC_STOSQ:
  case ZYDIS_MNEMONIC_LODSB: case ZYDIS_MNEMONIC_LODSW: case ZYDIS_MNEMONIC_LODSD: case ZYDIS_MNEMONIC_LODSQ:
  case ZYDIS_MNEMONIC_CMPSB: case ZYDIS_MNEMONIC_CMPSW: case ZYDIS_MNEMONIC_CMPSD: case ZYDIS_MNEMONIC_CMPSQ:
  case ZYDIS_MNEMONIC_SCASB: case ZYDIS_MNEMONIC_SCASW: case ZYDIS_MNEMONIC_SCASD: case ZYDIS_MNEMONIC_SCASQ:
  case ZYDIS_MNEMONIC_INSB: case ZYDIS_MNEMONIC_INSW: case ZYDIS_MNEMONIC_INSD:
  case ZYDIS_MNEMONIC_OUTSB: case ZYDIS_MNEMONIC_OUTSW: case ZYDIS_MNEMONIC_OUTSD:
    return true;
  default:
    return false;
  }
}

/* MOV SS and POP SS block debug exceptions for one instruction ("MOV—Move
 * to/from Segment Registers", "POP—Pop a Value From the Stack": the
 * processor holds a data breakpoint's #DB they raise until the next
 * instruction completed). */
static bool loads_ss(struct machine *m, uint64_t rip)
{
  struct insn in;
  if (!insn_decode(m, rip, &in) || in.zi.operand_count_visible < 1) return false;
  if (in.zi.mnemonic != ZYDIS_MNEMONIC_MOV && in.zi.mnemonic != ZYDIS_MNEMONIC_POP) return false;
  return in.op[0].type == ZYDIS_OPERAND_TYPE_REGISTER && in.op[0].reg.value == ZYDIS_REGISTER_SS;
}

/* After the instruction MOV SS / POP SS held the #DB for: it is delivered
 * now, with the conditions that instruction met itself (a single step of
 * it merges both). A fault of that instruction comes after: it is raised
 * again when the instruction runs after the handler. Any other event
 * loses the held conditions ("held pending or lost"). */
static bool deliver_held(struct debug_bp_private *p)
{
  struct machine *m = p->m;
  unsigned conditions = p->held | p->hit;
  p->held = 0;
  p->hit = 0;
  m->dbg.trap_pending = false;
  if (m->event.valid && m->event.vector == VEC_DB && !m->event.software) {
    p->hit = conditions;
    return false;
  }
  if (m->event.valid) {
    p->held_event = conditions;
    return false;
  }
  if (discard(m, conditions)) return true;
  m->fault_pending = false;
  m->fault_noncanonical = false;
  m->irq_stop = false;
  deliver_db(p, conditions, false);
  return true;
}

/* Unicorn stopped before the instruction after the one that hit. A REP
 * string instruction that hit stops before its next iteration, at itself
 * ("Data Memory and I/O Breakpoint Exception Conditions": the trap comes
 * after the iteration); once its count is 0 it is complete, where Unicorn
 * would take one more empty pass to move on. Returns whether the trap
 * comes after an iteration that is not the last: RF is pushed as 1 then
 * ("Instruction-Breakpoint Exception Condition", how the processor
 * establishes the RF pushed for a trap-class exception). */
static bool boundary_after_hit(struct debug_bp_private *p)
{
  struct machine *m = p->m;
  if (m->cpu.rip != p->hit_rip) return false;
  struct insn in;
  if (!insn_decode(m, m->cpu.rip, &in) || !is_rep_string(&in.zi)) return false;
  uint64_t mask = in.zi.address_width == 64 ? ~0ull : in.zi.address_width == 32 ? 0xffffffffull : 0xffffull;
  if (m->cpu.gpr[GPR_RCX] & mask) return true;
  m->cpu.rip = in.next_rip;
  return false;
}

bool debug_bp_after_run(struct machine *m)
{
  struct debug_bp_private *p = m->dbg.p;
  if (p->lifted) {
    p->lifted = false;
    set_exits(p, MACHINE_UNREACHABLE_RIP);
    uc_ctl_remove_cache(m->uc, p->lifted_rip, p->lifted_rip + 1);
  }
  if (p->held) return deliver_held(p);
  if (p->hit) {
    /* A Unicorn #DB (a single step of the same instruction) reports it
     * (debug_bp_merge_single_step); a fault means the instruction did not
     * complete and its trap never happens. */
    if (m->event.valid && m->event.vector == VEC_DB && !m->event.software) return false;
    if (m->fault_pending || m->event.valid) {
      p->hit = 0;
      m->dbg.trap_pending = false;
      return false;
    }
    uint64_t conditions = p->hit;
    p->hit = 0;
    m->dbg.trap_pending = false;
    if (discard(m, conditions)) return true;
    if (loads_ss(m, p->hit_rip) && m->cpu.rip != p->hit_rip) {
      p->held = (unsigned)conditions;
      return true;   /* the next start runs one instruction */
    }
    if (boundary_after_hit(p)) m->cpu.rflags |= RFLAGS_RF;
    /* A trap of the previous instruction comes before an interrupt
     * ("Priority Among Concurrent Events"), which is looked at again at
     * the next block. */
    m->irq_stop = false;
    deliver_db(p, conditions, false);
    return true;
  }
  /* Unicorn stopped before the instruction at an instruction breakpoint
   * (or for another reason at the same boundary): the fault, unless an
   * interrupt or NMI is taken there first ("Priority Among Concurrent
   * Events": code breakpoints come after them). */
  if (!p->insn_mask || m->irq_stop || m->halted || m->fault_pending || m->event.valid || !insn_bp_at(p, m->cpu.rip))
    return false;
  if (m->cpu.rflags & RFLAGS_RF) return true;   /* the next start steps over it */
  struct dbg_regs r = regs_of(m);
  unsigned matched = dbg_bp_match(&r, DBG_ACCESS_EXEC, m->cpu.rip, 1);
  if (discard(m, matched)) return true;          /* so does it */
  deliver_db(p, matched, true);
  return true;
}

void debug_bp_general_detect(struct machine *m)
{
  struct debug_bp_private *p = m->dbg.p;
  /* DR6 and DR7 live in Unicorn while it runs: the run loop fetches them. */
  uint64_t dr6 = m->cpu.dr[6] | DR6_BD, dr7 = m->cpu.dr[7] & ~DR7_GD;
  uc_reg_write(m->uc, UC_X86_REG_DR6, &dr6);
  uc_reg_write(m->uc, UC_X86_REG_DR7, &dr7);
  m->cpu.dr[6] = dr6;
  m->cpu.dr[7] = dr7;
  p->general_detect = true;
  raise_exception(m, VEC_DB, false, 0);
}

void debug_bp_merge_single_step(struct machine *m, const struct pending_event *ev)
{
  struct debug_bp_private *p = m->dbg.p;
  if (ev->vector != VEC_DB || ev->software || ev->external) return;
  if (p->general_detect) {
    p->general_detect = false;
    p->delivering = true;
    p->delivering_fault = true;
    p->delivering_conditions = DR6_BD;
    return;
  }
  uint64_t hits = p->hit && !discard(m, p->hit) ? p->hit : 0;
  p->hit = 0;
  m->dbg.trap_pending = false;
  m->cpu.dr[6] = (m->cpu.dr[6] & ~DR6_B3_B0) | (p->dr6_before & DR6_B3_B0) | hits;
  p->delivering = true;
  p->delivering_fault = false;
  p->delivering_conditions = hits | DR6_BS;
}

void debug_bp_event_done(struct machine *m)
{
  struct debug_bp_private *p = m->dbg.p;
  p->delivering = false;
  p->held_event = 0;   /* delivered through the guest IDT: lost ("held pending or lost") */
  p->dr6_before = m->cpu.dr[6];
}

unsigned debug_bp_take_held(struct machine *m)
{
  struct debug_bp_private *p = m->dbg.p;
  unsigned held = p->held | p->held_event;
  if (!held) return 0;
  p->held = p->held_event = 0;
  trace_event(&m->trace, m->insns, "debug-bp-held-exit", "conditions=0x%x", held);
  return held;
}

void debug_bp_taken_up_slow(struct machine *m)
{
  struct debug_bp_private *p = m->dbg.p;
  p->held = 0;
  debug_bp_regs_written(m);
}

void debug_bp_regs_written(struct machine *m)
{
  struct debug_bp_private *p = m->dbg.p;
  p->dr6_before = m->cpu.dr[6];
  struct dbg_regs now = regs_of(m);
  if (needs_arming(p, &now)) machine_request_loop_turn(m);
}

bool debug_bp_delivering(const struct machine *m, uint64_t *conditions, bool *fault)
{
  const struct debug_bp_private *p = m->dbg.p;
  if (!p || !p->delivering) return false;
  *conditions = p->delivering_conditions;
  *fault = p->delivering_fault;
  return true;
}
