/* The machine: RAM, one vCPU, its devices, virtual time and the trace.
 *
 * A run is a pure function of (image, CPU model, options): nothing here reads
 * host time or host randomness. The vCPU's architectural state lives in
 * `cpu` (the model's copy); Unicorn holds a working copy while it executes,
 * synchronised by sim/uc_bridge.c around every return from Unicorn. */
#ifndef HVSIM_SIM_MACHINE_H
#define HVSIM_SIM_MACHINE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "sim/cpu_model.h"
#include "sim/cpu_state.h"
#include "sim/debug_bp.h"
#include "sim/devices.h"
#include "sim/exceptions.h"
#include "sim/mca.h"
#include "sim/mmu/mmu.h"
#include "sim/pic.h"
#include "sim/pit.h"
#include "sim/trace.h"
#include "sim/virt.h"

struct uc_struct;

/* The rate of virtual time: one retired instruction is one nanosecond, so
 * the TSC (one tick per instruction) runs at 1 GHz and the PIT's 1.193182
 * MHz clock advances once every ~838 instructions (sim/irq.h). */
#define MACHINE_INSNS_PER_SECOND 1000000000ull
/* uc_emu_start's `until`: a non-canonical address no guest can reach. */
#define MACHINE_UNREACHABLE_RIP 0x8000000000000000ull

/* Why a run ended. */
enum stop_reason {
  STOP_NONE,
  STOP_DEBUG_EXIT,     /* the guest wrote isa-debug-exit (port 0xf4) */
  STOP_IODEBUG_EXIT,   /* the guest wrote Bochs's iodebug exit sequence */
  STOP_SHUTDOWN,       /* triple fault: the processor entered shutdown */
  STOP_HALTED,         /* HLT with nothing to wake it (IF=0, or no interrupt to come) */
  STOP_MAX_INSNS,      /* --max-insns reached */
  STOP_INTERNAL,       /* the simulator could not go on (reported in stop_detail) */
};

struct machine_options {
  const struct cpu_model *cpu;
  uint64_t ram_size;
  uint64_t max_insns;          /* 0: no limit */
  FILE *serial_out;            /* COM1 output */
  FILE *trace_out;             /* NULL: no trace */
  const char *cmdline;         /* multiboot command line */
  const char *image_name;      /* as given by the user, for the multiboot info */
  const struct mca_injection *mce;   /* machine-check errors to inject (sim/mca.h) */
  unsigned mce_count;
};

/* Unicorn's TLB in two parts that hold a translation context each
 * (sim/uc_tlb.c). */
#define UC_TLB_PARTS 2
enum uc_tlb_part { UC_TLB_EMPTY, UC_TLB_HOLDS, UC_TLB_UNKNOWN };
struct uc_tlb {
  int active;                            /* the part running code fills; -1: QEMU's own indexes */
  enum uc_tlb_part part[UC_TLB_PARTS];
  struct mmu_context key[UC_TLB_PARTS];  /* of a part that holds one */
  uint64_t invalidations;                /* the model's, when last compared */
};

struct machine {
  struct machine_options opt;
  uint8_t *ram;
  uint64_t ram_size;
  struct uc_struct *uc;

  struct cpu_state cpu;
  struct mmu mmu;
  struct devices dev;
  struct trace trace;

  /* Virtual time: instructions retired so far (counted per translation block
   * as it starts executing, so exact to within one block at a fault), plus
   * the time a halted vCPU waited for its interrupt (sim/irq.c). */
  uint64_t insns;
  uint64_t blocks;             /* translation blocks started: the unit of Unicorn's per-block cost */
  /* The last two translation blocks that started, newest first, with
   * RFLAGS.IF as each started: where sim/irq.c finds the STI, MOV SS or
   * POP SS whose shadow an exit happens in (irq_shadow_sync). */
  struct ran_block { uint64_t address; uint32_t size; bool if_at_start; } ran[2];

  /* Interrupt sources (sim/irq.h): the 8259A pair and the 8254. */
  struct pic pic;
  struct pit pit;
  uint64_t irq_check_at;       /* the block hook consults irq.c from this time on */
  bool irq_stop;               /* Unicorn stopped before a block to take an interrupt */
  bool irq_hold;               /* not taken at this boundary: let one block run */
  bool halted;                 /* HLT with IF=1: waiting for an interrupt */

  /* The machine-check banks and the injections (sim/mca.h). */
  struct mca mca;

  /* Model-side MSR state not in cpu_state. */
  uint64_t tsc_offset;        /* IA32_TSC = insns + tsc_offset */
  uint64_t apic_base, misc_enable, feature_control, mtrr_def_type;

  /* A fault recorded by the TLB-fill hook, delivered after Unicorn returns. */
  bool fault_pending;
  struct mmu_fault fault;
  uint64_t fault_linear;
  bool fault_noncanonical;     /* the pending fault is a non-canonical access */

  /* An exception raised by a hook, delivered after Unicorn returns. */
  struct pending_event event;

  uint64_t rng_state;          /* RDRAND/RDSEED, fixed seed */

  /* The address-range monitor MONITOR arms (sim/sysinsn.c): the physical
   * line it watches, and Unicorn's write hook on it, present only while
   * armed (a memory hook slows every store Unicorn executes). */
  struct addr_monitor {
    bool armed;
    uint64_t line;               /* physical, aligned to `size` */
    uint32_t size;
    size_t hook;
  } monitor;

  /* Floating-point errors Unicorn does not report (sim/fpu_except.h): the
   * legacy error pins and the saved state an unmasked SIMD exception
   * restores. */
  struct fpu_errors {
    bool ferr;                   /* FERR# asserted: a pending x87 error met a waiting instruction */
    bool ignne;                  /* IGNNE# asserted (a write to port F0h while FERR# was) */
    bool frozen;                 /* halted by the freeze, not by HLT */
    bool simd_check;             /* the instruction running alone has its SIMD result checked */
    struct uc_context *before;   /* the state before that instruction */
  } fpu;

  enum stop_reason stop;
  int exit_status;             /* the status `hvsim run` exits with */
  char stop_detail[256];

  /* Hardware breakpoints (sim/debug_bp.h). */
  struct debug_bp dbg;

  /* The virtualization extension of the CPU model (sim/virt.h), or NULL. */
  const struct virt_ops *virt;
  void *virt_state;
  /* While the extension decides on an event raised during the delivery of
   * another: that other event (IDT-vectoring information, EXITINTINFO). */
  const struct pending_event *delivering;

  /* Intercept bookkeeping (sim/intercept.c). */
  struct intercepts *icpt;
  struct uc_bridge *bridge;
  bool state_dirty;            /* cpu changed by the model: reload Unicorn */
  bool tlb_flush;              /* flush Unicorn's TLB before resuming */
  bool context_switched;       /* a world switch: the context may change while m->cpu does not */
  struct uc_tlb utlb;          /* what Unicorn's TLB holds (sim/uc_tlb.c) */
  uint64_t tlb_fills;          /* translations Unicorn asked for */
  uint64_t code_epoch;         /* sim/intercept.c: what decides a block's decode may have changed */
};

/* Creates the machine and loads IMAGE (a multiboot ELF). On failure returns
 * NULL and writes one line to `err`. */
struct machine *machine_create(const struct machine_options *opt, const uint8_t *image,
                               size_t image_size, char *err, size_t err_size);
void machine_destroy(struct machine *m);

/* Runs until the guest exits, shuts down or hits a limit; sets m->stop. */
void machine_run(struct machine *m);

/* Stops the run from inside a hook. */
void machine_stop(struct machine *m, enum stop_reason why, int status, const char *fmt, ...)
  __attribute__((format(printf, 4, 5)));

/* [hook] Takes up at once, from the code hook of the instruction `in`,
 * what its hook would hand to the run loop — the instruction carried out
 * with the whole state in hand, or the exit announced for it (`vm_exit`)
 * — without leaving Unicorn: the live state is fetched into m->cpu, the
 * model works on it, and it goes back to Unicorn, whose new RIP makes
 * Unicorn leave the current translation block. Stops Unicorn afterwards
 * when what comes next is the run loop's (the run's end, a halted vCPU, a
 * pending event, a class of hooks newly wanted). */
struct insn;
void machine_take_up_in_hook(struct machine *m, struct insn *in, bool vm_exit);

/* [hook] Has Unicorn stop at the next block start, for the run loop. */
void machine_request_loop_turn(struct machine *m);
/* [hook] Has Unicorn stop before the instruction at `rip`, which the run
 * loop then runs alone; false (and nothing done) when this run already is
 * one instruction alone. */
bool machine_step_from(struct machine *m, uint64_t rip);

/* Flushes Unicorn's TLB (a translation-context change). */
void machine_flush_unicorn_tlb(struct machine *m);
/* After a full store of the state into Unicorn: keeps what Unicorn's TLB
 * holds for the new context, or flushes it (sim/uc_tlb.c). */
void uc_tlb_switch(struct machine *m);
/* [block hook] The part-0 context left CPL 0 or set RFLAGS.AC. */
void uc_tlb_leave_part0(struct machine *m);

/* The translation context of the current mode: paging from m->cpu, the CPL
 * and RFLAGS.AC from Unicorn, SLAT root and tag from the extension. */
void machine_paging_context(struct machine *m, struct mmu_context *ctx);

/* Model-side memory access through the current translation (implicit
 * supervisor accesses set `supervisor`). Return false after recording the
 * architectural fault in m->fault. */
bool machine_read_linear(struct machine *m, uint64_t la, void *buf, unsigned len, bool supervisor);
/* The physical address of `la` for access `acc`, or false with the fault
 * recorded (pending) in m->fault, as for a model-side access. */
bool machine_translate_linear(struct machine *m, uint64_t la, enum mmu_access acc, bool supervisor, uint64_t *pa);
bool machine_write_linear(struct machine *m, uint64_t la, const void *buf, unsigned len, bool supervisor);
/* A read the model makes for itself (instruction bytes, a descriptor it
 * inspects): a failure is no architectural fault and leaves none pending. */
bool machine_peek_linear(struct machine *m, uint64_t la, void *buf, unsigned len, bool supervisor);

/* Time stamp counter as the guest sees it (virtual time). */
static inline uint64_t machine_tsc(const struct machine *m) { return m->insns + m->tsc_offset; }

#endif
