/* Hardware breakpoints: DR0-DR3 with DR7 (and CR4.DE for I/O), raised by
 * the machine itself (SDM Vol. 3A, chapter "Debug, Branch Profile, TSC,
 * and Intel Resource Director Technology Features": "Debug Registers",
 * "Debug Exceptions"; AMD APM Vol. 2, "Debug and Performance Resources").
 *
 * Unicorn 2.1 raises no breakpoint #DB of its own (docs/vmx.md,
 * conformance/vmx/test_unicorn_dbg_facts.c), so the machine watches the
 * breakpoints DR7 enables, and only while it enables one:
 *  - instruction breakpoints (R/Wn = 00) are Unicorn exits: Unicorn stops
 *    before the instruction at DRn, before any code hook there runs (a
 *    fault: the #DB comes before the instruction). RF = 1 steps over it.
 *  - data breakpoints (R/Wn = 01, 11): Unicorn's TLB maps each watched
 *    linear page to an alias of its physical page (RAM mapped again above
 *    DEBUG_BP_ALIAS_BASE, one window per watched page), and memory hooks on
 *    those windows see exactly the accesses made through the watched
 *    linear pages (Unicorn hands memory hooks physical addresses). A hit
 *    stops Unicorn after the instruction (a trap); a code hook on every
 *    instruction, present only while data or I/O breakpoints are armed,
 *    gives Unicorn's stop a boundary inside translation blocks.
 *  - I/O breakpoints (R/Wn = 10 with CR4.DE = 1) are checked in the port
 *    I/O path (sim/portio.c) and trap after the instruction.
 * The machine rebuilds all of this before a start of Unicorn whenever
 * DR0-DR3, DR7 or CR4.DE differ from what is armed (MOV DR, MOV CR4, a
 * world switch or task switch: whatever wrote m->cpu); changes inside a
 * hook ask for a turn of the run loop first. Nothing is hooked while DR7
 * enables no breakpoint. */
#ifndef HVSIM_SIM_DEBUG_BP_H
#define HVSIM_SIM_DEBUG_BP_H

#include <stdbool.h>
#include <stdint.h>

struct machine;
struct pending_event;

/* ---- the architectural rules (pure) ---------------------------------- */

/* DR7's R/Wn field ("Debug Control Register (DR7)"). */
enum dbg_rw { DBG_RW_EXEC = 0, DBG_RW_WRITE = 1, DBG_RW_IO = 2, DBG_RW_READ_WRITE = 3 };

/* What an access is, for matching. */
enum dbg_access { DBG_ACCESS_EXEC, DBG_ACCESS_READ, DBG_ACCESS_WRITE, DBG_ACCESS_IO };

/* DR6 and DR7 bits ("Debug Status Register (DR6)", "Debug Control
 * Register (DR7)"). */
#define DR6_B3_B0 0xFull
#define DR6_BD (1ull << 13)
#define DR6_BS (1ull << 14)
#define DR7_GD (1ull << 13)
#define DR7_ENABLES 0xFFull

/* The debug registers the rules read. `de`: CR4.DE. */
struct dbg_regs {
  uint64_t dr[4];
  uint64_t dr7;
  bool de;
};

enum dbg_rw dbg_bp_rw(uint64_t dr7, unsigned n);
/* LENn decoded: 00 one byte, 01 two, 10 eight, 11 four. */
unsigned dbg_bp_len(uint64_t dr7, unsigned n);
/* Ln or Gn set. */
bool dbg_bp_enabled(uint64_t dr7, unsigned n);
/* The breakpoint's kind as the processor treats it: R/Wn = 10 is an I/O
 * breakpoint only with CR4.DE = 1; with DE = 0 the SDM calls it undefined
 * and hvsim treats it as no breakpoint (dbg_bp_match never matches it). */
bool dbg_bp_is_io(const struct dbg_regs *r, unsigned n);

/* B3-B0 of the breakpoints whose condition ("Breakpoint Exception
 * Conditions") the access of `size` bytes at `addr` (linear address, or
 * port for DBG_ACCESS_IO) meets, enabled or not — DR6 may report those of
 * breakpoints that are not enabled; the #DB is raised only when one that
 * is enabled matched (dbg_bp_triggers). Data and I/O breakpoints cover
 * the LENn bytes from DRn with its low address bits cleared ("the
 * processor uses LENn to mask the low-order address bits in DRn"), and
 * any access overlapping them matches: a data read only R/Wn = 11, a
 * data write 01 and 11, port I/O 10 with CR4.DE = 1. An instruction
 * breakpoint (R/Wn = 00) matches the instruction whose first byte is at
 * DRn (LENn other than 00 is undefined there; hvsim, like QEMU, ignores
 * it). */
unsigned dbg_bp_match(const struct dbg_regs *r, enum dbg_access a, uint64_t addr, unsigned size);
/* Of those, does one that DR7 enables raise #DB? */
static inline bool dbg_bp_triggers(uint64_t dr7, unsigned matched)
{
  for (unsigned n = 0; n < 4; n++)
    if ((matched >> n & 1) && (dr7 >> (2 * n) & 3)) return true;
  return false;
}
/* B3-B0 of the enabled breakpoints of each kind. */
unsigned dbg_bp_armed(const struct dbg_regs *r, enum dbg_access a);

/* ---- the machine ----------------------------------------------------- */

/* Unicorn's physical address of the alias windows: far above any RAM. */
#define DEBUG_BP_ALIAS_BASE (1ull << 40)
#define DEBUG_BP_ALIAS_STRIDE (1ull << 36)

/* Watching state (sim/debug_bp.c); `data_pages` is read on every TLB
 * fill, the rest only while something is armed. */
struct debug_bp {
  /* An instruction hit a data or I/O breakpoint: the next one must not
   * run. The machine's code hook stops Unicorn before it; an intercepted
   * instruction, whose hook may come first, is held by intercept_hook
   * (sim/intercept.c), which reads this. */
  bool trap_pending;
  bool active;                 /* something armed or held: the slow paths below matter */
  unsigned data_pages;         /* watched linear pages (0: nothing to alias) */
  uint64_t page[4];            /* their linear addresses */
  struct debug_bp_private *p;
};

bool debug_bp_create(struct machine *m, char *err, unsigned long err_size);
void debug_bp_destroy(struct machine *m);

/* [hook] The TLB fill of `va` (not a fetch) resolved to `page_pa`:
 * Unicorn's physical page for it, the alias window when `va` is on a
 * watched page. */
static inline uint64_t debug_bp_fill_paddr(const struct debug_bp *d, uint64_t va, uint64_t page_pa)
{
  if (!d->data_pages) return page_pa;
  for (unsigned k = 0; k < d->data_pages; k++)
    if (d->page[k] == (va & ~0xfffull)) return DEBUG_BP_ALIAS_BASE + k * DEBUG_BP_ALIAS_STRIDE + page_pa;
  return page_pa;
}

/* [loop] Before a start of Unicorn, with m->cpu current: arms what DR7
 * enables now (when it changed). True when this run must execute exactly
 * one instruction: RFLAGS.RF = 1 at an instruction breakpoint, which the
 * run steps over (with its exit lifted for that run). */
bool debug_bp_before_run(struct machine *m);
/* [loop] After that run, m->cpu fetched: delivers the breakpoint #DB that
 * ended it — a data or I/O breakpoint's trap after the instruction (for a
 * REP string instruction after the iteration), an instruction
 * breakpoint's fault before the instruction — and restores a lifted exit.
 * True when it delivered one (or stepped over one) and the loop goes on. */
bool debug_bp_after_run(struct machine *m);
/* [loop] A #DB Unicorn raised (a single step) is about to be delivered:
 * DR6 gets the B3-B0 it had before the run (the processor never clears
 * them; QEMU's single step recomputes them, setting those of instruction
 * breakpoints at the next RIP) plus the data or I/O breakpoints the same
 * instruction hit, so one #DB reports both. */
void debug_bp_merge_single_step(struct machine *m, const struct pending_event *ev);
/* [loop] After the delivery of any event the run loop handed to
 * deliver_event: DR6 as it now is is the guest's. */
void debug_bp_event_done(struct machine *m);
/* [hook] DR0-DR3, DR7 or CR4.DE in m->cpu changed inside a hook: the run
 * loop rearms before the next instruction. Also records a guest write of
 * DR6 (the value the next trap starts from). */
void debug_bp_regs_written(struct machine *m);
/* [hook] The model carried out an instruction with the whole state in
 * hand (machine_take_up_in_hook: a VM exit, a world switch, a deferred
 * instruction), while breakpoints are armed (`active`) or DR7 now enables
 * one: a #DB held by MOV SS / POP SS for that instruction and not taken
 * by a VM exit (debug_bp_take_held) is lost ("held pending or lost"), and
 * the registers are looked at again (debug_bp_regs_written). */
void debug_bp_taken_up_slow(struct machine *m);
/* [hook][loop] A VM exit other than a #DB's is being taken while a MOV SS
 * or POP SS holds the #DB of a data or I/O breakpoint it hit (the exit
 * comes from the instruction after it, or from the event that
 * instruction raised): returns the held conditions (B3-B0) and forgets
 * them, 0 when nothing is held. The exit saves them as pending debug
 * exceptions with blocking by MOV SS (SDM Vol. 3C, "Saving Non-Register
 * State": a VM exit "due to another reason (but not a debug exception)"
 * that "occurs while there is MOV-SS blocking of debug exceptions" saves
 * "the causes of any debug exceptions that were pending"). */
unsigned debug_bp_take_held(struct machine *m);
/* [hook] Port I/O of `size` bytes at `port` by the instruction at `rip`
 * (IN and OUT, carried out by the model), or DEBUG_BP_RUNNING_INSN for the
 * string instruction Unicorn is running: an I/O breakpoint it meets traps
 * after the instruction (after the iteration). */
#define DEBUG_BP_RUNNING_INSN UINT64_MAX
void debug_bp_port_io(struct machine *m, uint16_t port, unsigned size, uint64_t rip);
/* [hook][loop] The model itself accessed `len` bytes at linear address
 * `la` for the instruction or event it carries out: the memory operands
 * of the instructions it executes (VMX instructions), and the implicit
 * accesses of event delivery (IDT, GDT/LDT descriptors and their accessed
 * bits, TSS stack pointers, the stack frame). "Data Memory and I/O
 * Breakpoint Exception Conditions": data breakpoints "are reported when
 * the processor attempts to access a memory ... address specified in a
 * breakpoint-address register", explicit or not ("Breakpoint comparisons
 * are made before physical address translation": the VMCS and the
 * structures VMX reaches by physical address never match). A breakpoint
 * DR7 enables traps after the instruction, or after the delivery and
 * before the handler's first instruction (as Bochs 2.7 does). Costs one
 * test when no data breakpoint is armed. */
#define debug_bp_model_access(m, la, len, write)                                   \
  do {                                                                              \
    if ((m)->dbg.data_pages) debug_bp_model_access_slow((m), (la), (len), (write)); \
  } while (0)
void debug_bp_model_access_slow(struct machine *m, uint64_t la, unsigned len, bool write);
/* [hook] A MOV DR with DR7.GD = 1 ("General-Detect Exception
 * Condition"): a #DB fault before the instruction, DR6.BD set and DR7.GD
 * cleared so the handler can use the debug registers. */
void debug_bp_general_detect(struct machine *m);
/* [loop] While the breakpoint #DB the machine raised is being delivered
 * (for the extensions' event_exits): its conditions (B3-B0, BS) and
 * whether it is a fault (an instruction breakpoint). false: the #DB being
 * delivered is none of the machine's breakpoints. */
bool debug_bp_delivering(const struct machine *m, uint64_t *conditions, bool *fault);

#endif
