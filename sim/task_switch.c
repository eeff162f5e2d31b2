/* Task switches: the rules of SDM Vol. 3A, chapter "Task Management"
 * ("Task Switching", "Task Linking", table "Exception Conditions Checked
 * During a Task Switch") over a struct cpu_state and struct ts_mem. Where
 * the SDM leaves a choice open (the order of the checks is "model
 * specific"; the upper halves of registers a 16-bit TSS loads; the fault
 * for bad PDPTEs loaded by a task switch), the choice is Bochs 2.7's, the
 * oracle the guest images are compared with. */
#include "sim/task_switch.h"

#include <string.h>

/* ---- descriptors ------------------------------------------------------------ */

static unsigned d_type(const uint32_t d[2]) { return (d[1] >> 8) & 0xF; }
static bool d_s(const uint32_t d[2]) { return (d[1] & (1u << 12)) != 0; }
static unsigned d_dpl(const uint32_t d[2]) { return (d[1] >> 13) & 3; }
static bool d_present(const uint32_t d[2]) { return (d[1] & (1u << 15)) != 0; }
static uint64_t d_base(const uint32_t d[2]) { return (d[0] >> 16) | ((d[1] & 0xFF) << 16) | (d[1] & 0xFF000000u); }

static uint32_t d_limit(const uint32_t d[2])
{
  uint32_t limit = (d[0] & 0xFFFF) | (d[1] & 0xF0000);
  return (d[1] & (1u << 23)) ? (limit << 12) | 0xFFF : limit;
}

static struct segment d_segment(uint16_t sel, const uint32_t d[2])
{
  return (struct segment){.selector = sel, .base = d_base(d), .limit = d_limit(d),
                          .ar = ((d[1] >> 8) & 0xFF) | ((d[1] >> 8) & 0xF000)};
}

static bool tss32_type(unsigned type) { return type == TS_TYPE_TSS32_AVAILABLE || type == TS_TYPE_TSS32_BUSY; }

/* Where reading a descriptor ended. */
enum fetch { FETCH_OK, FETCH_LIMIT, FETCH_MEMORY };

/* The descriptor `sel` names in the GDT or (TI = 1) the current LDT; its
 * linear address in `*la`. Beyond the table's limit (or an LDT selector
 * with no LDT loaded) is FETCH_LIMIT. */
static enum fetch fetch(const struct cpu_state *s, const struct ts_mem *mem, uint16_t sel, uint32_t d[2],
                        uint64_t *la)
{
  uint64_t base = s->gdtr.base, limit = s->gdtr.limit;
  if (sel & 4) {
    if (s->seg[SEG_LDTR].ar & SEG_AR_UNUSABLE) return FETCH_LIMIT;
    base = s->seg[SEG_LDTR].base;
    limit = s->seg[SEG_LDTR].limit;
  }
  if ((uint64_t)(sel & ~7u) + 7 > limit) return FETCH_LIMIT;
  *la = (base + (sel & ~7u)) & 0xFFFFFFFFull;
  return mem->read(mem->ctx, *la, d, 8) ? FETCH_OK : FETCH_MEMORY;
}

/* ---- faults ----------------------------------------------------------------- */

/* "Error Code": a selector's bits 15:2 (index and TI) with EXT in bit 0. */
static enum ts_outcome fault(struct ts_fault *f, enum ts_outcome o, uint8_t vector, uint32_t sel, bool ext)
{
  *f = (struct ts_fault){.vector = vector, .error = (sel & 0xFFFCu) | (ext ? 1u : 0u)};
  return o;
}

static enum ts_outcome memory_fault(struct ts_fault *f, enum ts_outcome o)
{
  *f = (struct ts_fault){.memory = true};
  return o;
}

enum { VEC_TS_ = 10, VEC_NP_ = 11, VEC_SS_ = 12, VEC_GP_ = 13 };

/* The descriptor a segment register of the new task names, or false with
 * the fault in *f: beyond its table is #TS(selector), in the context of
 * the new task. */
static bool fetch_in_new_task(const struct cpu_state *s, const struct ts_mem *mem, uint16_t sel, bool ext,
                              uint32_t d[2], uint64_t *la, struct ts_fault *f)
{
  switch (fetch(s, mem, sel, d, la)) {
  case FETCH_OK: return true;
  case FETCH_LIMIT: fault(f, TS_FAULT_IN_NEW_TASK, VEC_TS_, sel, ext); return false;
  case FETCH_MEMORY: memory_fault(f, TS_FAULT_IN_NEW_TASK); return false;
  }
  return false;   /* unreachable: every fetch result is listed */
}

/* ---- the checks before the switch ----------------------------------------- */

enum ts_outcome task_switch_check_target(const struct cpu_state *s, const struct ts_mem *mem, uint16_t sel,
                                         enum ts_source source, bool ext, struct ts_target *t, struct ts_fault *f)
{
  /* IRET's return reports selector and type failures as #TS, the others
   * as #GP (table "Exception Conditions Checked During a Task Switch"). */
  bool iret = source == TS_FROM_IRET;
  uint8_t bad = iret ? VEC_TS_ : VEC_GP_;
  if (sel & 4) return fault(f, TS_FAULT, bad, sel, ext);   /* the TSS is in the GDT */
  uint64_t la;
  switch (fetch(s, mem, sel, t->desc, &la)) {
  case FETCH_OK: break;
  case FETCH_LIMIT: return fault(f, TS_FAULT, bad, sel, ext);
  case FETCH_MEMORY: return memory_fault(f, TS_FAULT);
  }
  unsigned type = d_type(t->desc);
  unsigned want32 = iret ? TS_TYPE_TSS32_BUSY : TS_TYPE_TSS32_AVAILABLE;
  unsigned want16 = iret ? TS_TYPE_TSS16_BUSY : TS_TYPE_TSS16_AVAILABLE;
  if (d_s(t->desc) || (type != want32 && type != want16)) return fault(f, TS_FAULT, bad, sel, ext);
  if (!d_present(t->desc)) return fault(f, TS_FAULT, VEC_NP_, sel, ext);
  /* "Task-State Segment (TSS)": a limit below 67H (2BH for a 16-bit TSS)
   * is #TS. */
  if (d_limit(t->desc) < (tss32_type(type) ? (uint32_t)TSS32_MIN_LIMIT : (uint32_t)TSS16_MIN_LIMIT))
    return fault(f, TS_FAULT, VEC_TS_, sel, ext);
  t->selector = sel;
  return TS_DONE;
}

/* ---- the switch -------------------------------------------------------------- */

/* The new task's state as read from its TSS. */
struct new_state {
  uint32_t eip, eflags, gpr[8], cr3;
  uint16_t sel[SEG_GS + 1], ldt, trap;
};

static uint16_t rd16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static uint32_t rd32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static void wr16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static void wr32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }

/* The order of the selector fields in both TSS formats. */
static const int tss_seg_order[] = {SEG_ES, SEG_CS, SEG_SS, SEG_DS, SEG_FS, SEG_GS};

static void parse_new(const uint8_t *tss, bool is32, struct new_state *n)
{
  const int *order = tss_seg_order;
  memset(n, 0, sizeof *n);
  if (is32) {
    n->cr3 = rd32(tss + TSS32_CR3);
    n->eip = rd32(tss + TSS32_EIP);
    n->eflags = rd32(tss + TSS32_EFLAGS);
    for (int i = 0; i < 8; i++) n->gpr[i] = rd32(tss + TSS32_EAX + 4 * i);
    for (int i = 0; i < 6; i++) n->sel[order[i]] = rd16(tss + TSS32_ES + 4 * i);
    n->ldt = rd16(tss + TSS32_LDT);
    n->trap = rd16(tss + TSS32_TRAP);
    return;
  }
  /* A 16-bit TSS: the SDM leaves the upper halves of the registers
   * undefined; Bochs fills them with ones, clears EFLAGS[31:16] and EIP's,
   * and loads null FS and GS. */
  n->eip = rd16(tss + TSS16_IP);
  n->eflags = rd16(tss + TSS16_FLAGS);
  for (int i = 0; i < 8; i++) n->gpr[i] = 0xFFFF0000u | rd16(tss + TSS16_AX + 2 * i);
  for (int i = 0; i < 4; i++) n->sel[order[i]] = rd16(tss + TSS16_ES + 2 * i);
  n->ldt = rd16(tss + TSS16_LDT);
}

/* The old task's dynamic fields ("Task Switching" step 8), patched into
 * `blk`, the block of the old TSS from `*off` (read by the caller, so the
 * reserved upper halves of the selector slots keep their contents). */
static void old_block(bool is32, unsigned *off, unsigned *len)
{
  *off = is32 ? TSS32_EIP : TSS16_IP;
  *len = is32 ? TSS32_GS + 2 - TSS32_EIP : TSS16_DS + 2 - TSS16_IP;
}

static void save_old(const struct cpu_state *s, bool is32, uint32_t eflags, uint8_t *blk)
{
  if (is32) {
    wr32(blk, (uint32_t)s->rip);
    wr32(blk + 4, eflags);
    for (int i = 0; i < 8; i++) wr32(blk + 8 + 4 * i, (uint32_t)s->gpr[i]);
    for (int i = 0; i < 6; i++) wr16(blk + TSS32_ES - TSS32_EIP + 4 * i, s->seg[tss_seg_order[i]].selector);
    return;
  }
  wr16(blk, (uint16_t)s->rip);
  wr16(blk + 2, (uint16_t)eflags);
  for (int i = 0; i < 8; i++) wr16(blk + 4 + 2 * i, (uint16_t)s->gpr[i]);
  for (int i = 0; i < 4; i++) wr16(blk + TSS16_ES - TSS16_IP + 2 * i, s->seg[tss_seg_order[i]].selector);
}

/* Sets or clears the busy bit (type bit 1) of the TSS descriptor `sel` in
 * the GDT. */
static bool set_busy(const struct cpu_state *s, const struct ts_mem *mem, uint16_t sel, bool busy)
{
  uint64_t la = (s->gdtr.base + (sel & ~7u) + 5) & 0xFFFFFFFFull;
  uint8_t type;
  if (!mem->read(mem->ctx, la, &type, 1)) return false;
  type = busy ? (uint8_t)(type | 2) : (uint8_t)(type & ~2);
  return mem->write(mem->ctx, la, &type, 1);
}

/* "Segment Descriptors": loading a code or data segment sets the accessed
 * bit of its descriptor in memory. */
static bool touch(const struct ts_mem *mem, uint64_t la, uint32_t d[2])
{
  if (d[1] & (1u << 8)) return true;
  d[1] |= 1u << 8;
  uint8_t type = (uint8_t)(d[1] >> 8);
  return mem->write(mem->ctx, la + 5, &type, 1);
}

/* A segment register left without a descriptor after a fault in the new
 * task: its selector, unusable. */
static struct segment unloaded(uint16_t sel) { return (struct segment){.selector = sel, .ar = SEG_AR_UNUSABLE}; }

/* The CPL during the segment loads: CS's DPL field stands for it
 * (cpu_cpl). Bochs runs the LDT and SS loads at CPL 3, so that a fault
 * there switches to a stack from the new TSS, then at the new CS's RPL. */
static void set_cpl(struct cpu_state *s, unsigned cpl)
{
  s->seg[SEG_CS].ar = (s->seg[SEG_CS].ar & ~(3u << 5)) | (cpl << 5);
}

/* LDTR from the new TSS: a null selector leaves LDTR unusable; otherwise
 * the selector must be in the GDT, within its limit, name an LDT
 * descriptor that is present, else #TS(LDT selector). */
static enum ts_outcome load_ldt(struct cpu_state *s, const struct ts_mem *mem, uint16_t sel, bool ext,
                                struct ts_fault *f)
{
  if (sel & 4) return fault(f, TS_FAULT_IN_NEW_TASK, VEC_TS_, sel, ext);
  if ((sel & ~3u) == 0) {
    s->seg[SEG_LDTR] = unloaded(sel);
    return TS_DONE;
  }
  uint32_t d[2];
  uint64_t la;
  if (!fetch_in_new_task(s, mem, sel, ext, d, &la, f)) return TS_FAULT_IN_NEW_TASK;
  if (d_s(d) || d_type(d) != TS_TYPE_LDT || !d_present(d)) return fault(f, TS_FAULT_IN_NEW_TASK, VEC_TS_, sel, ext);
  s->seg[SEG_LDTR] = d_segment(sel, d);
  return TS_DONE;
}

/* SS: not null, within its table, a writable data segment (#TS), present
 * (#SS), DPL equal to the new CS's RPL and to its own RPL (#TS). */
static enum ts_outcome load_ss(struct cpu_state *s, const struct ts_mem *mem, uint16_t sel, unsigned cs_rpl,
                               bool ext, struct ts_fault *f)
{
  if ((sel & ~3u) == 0) return fault(f, TS_FAULT_IN_NEW_TASK, VEC_TS_, sel, ext);
  uint32_t d[2];
  uint64_t la;
  if (!fetch_in_new_task(s, mem, sel, ext, d, &la, f)) return TS_FAULT_IN_NEW_TASK;
  bool writable_data = d_s(d) && !(d_type(d) & 8) && (d_type(d) & 2);
  if (!writable_data) return fault(f, TS_FAULT_IN_NEW_TASK, VEC_TS_, sel, ext);
  if (!d_present(d)) return fault(f, TS_FAULT_IN_NEW_TASK, VEC_SS_, sel, ext);
  if (d_dpl(d) != cs_rpl || d_dpl(d) != (sel & 3u)) return fault(f, TS_FAULT_IN_NEW_TASK, VEC_TS_, sel, ext);
  if (!touch(mem, la, d)) return memory_fault(f, TS_FAULT_IN_NEW_TASK);
  s->seg[SEG_SS] = d_segment(sel, d);
  return TS_DONE;
}

/* DS, ES, FS, GS: null is allowed (unusable); otherwise within its table,
 * a data or readable code segment (#TS), for data and non-conforming code
 * a DPL at least the RPL and the CPL (#TS), present (#NP). */
static enum ts_outcome load_data(struct cpu_state *s, const struct ts_mem *mem, int reg, uint16_t sel,
                                 unsigned cpl, bool ext, struct ts_fault *f)
{
  if ((sel & ~3u) == 0) {
    s->seg[reg] = unloaded(sel);
    return TS_DONE;
  }
  uint32_t d[2];
  uint64_t la;
  if (!fetch_in_new_task(s, mem, sel, ext, d, &la, f)) return TS_FAULT_IN_NEW_TASK;
  unsigned type = d_type(d);
  bool code = type & 8;
  if (!d_s(d) || (code && !(type & 2))) return fault(f, TS_FAULT_IN_NEW_TASK, VEC_TS_, sel, ext);
  bool conforming = code && (type & 4);
  if (!conforming && ((sel & 3u) > d_dpl(d) || cpl > d_dpl(d))) return fault(f, TS_FAULT_IN_NEW_TASK, VEC_TS_, sel, ext);
  if (!d_present(d)) return fault(f, TS_FAULT_IN_NEW_TASK, VEC_NP_, sel, ext);
  if (!touch(mem, la, d)) return memory_fault(f, TS_FAULT_IN_NEW_TASK);
  s->seg[reg] = d_segment(sel, d);
  return TS_DONE;
}

/* CS: not null, within its table, a code segment (#TS), DPL equal to the
 * RPL when non-conforming, at most the RPL when conforming (#TS), present
 * (#NP). */
static enum ts_outcome load_cs(struct cpu_state *s, const struct ts_mem *mem, uint16_t sel, bool ext,
                               struct ts_fault *f)
{
  if ((sel & ~3u) == 0) return fault(f, TS_FAULT_IN_NEW_TASK, VEC_TS_, sel, ext);
  uint32_t d[2];
  uint64_t la;
  if (!fetch_in_new_task(s, mem, sel, ext, d, &la, f)) return TS_FAULT_IN_NEW_TASK;
  unsigned type = d_type(d), rpl = sel & 3u;
  if (!d_s(d) || !(type & 8)) return fault(f, TS_FAULT_IN_NEW_TASK, VEC_TS_, sel, ext);
  bool conforming = type & 4;
  if ((!conforming && d_dpl(d) != rpl) || (conforming && d_dpl(d) > rpl))
    return fault(f, TS_FAULT_IN_NEW_TASK, VEC_TS_, sel, ext);
  if (!d_present(d)) return fault(f, TS_FAULT_IN_NEW_TASK, VEC_NP_, sel, ext);
  if (!touch(mem, la, d)) return memory_fault(f, TS_FAULT_IN_NEW_TASK);
  s->seg[SEG_CS] = d_segment(sel, d);
  /* The CPL is the RPL (SDM Vol. 3A, "Privilege Levels"); the model keeps
   * it in CS's DPL field (cpu_cpl). */
  set_cpl(s, rpl);
  return TS_DONE;
}

/* Virtual-8086 mode (a 32-bit TSS with EFLAGS.VM): selectors load as
 * paragraph numbers (SDM Vol. 3B, "Virtual-8086 Mode"), DPL 3. */
static void load_v86(struct cpu_state *s, const uint16_t sel[SEG_GS + 1])
{
  for (int i = SEG_ES; i <= SEG_GS; i++)
    s->seg[i] = (struct segment){.selector = sel[i], .base = (uint64_t)sel[i] << 4, .limit = 0xFFFF,
                                 .ar = 0xF3 };
}

/* Writes the event's error code on the new task's stack ("Exception- or
 * Interrupt-Handler Procedures": a task switch caused by an exception with
 * an error code pushes it on the new task's stack): 4 bytes with a 32-bit
 * TSS, 2 with a 16-bit one. */
static bool push_error_code(struct cpu_state *s, const struct ts_mem *mem, bool is32, uint32_t error)
{
  unsigned width = is32 ? 4 : 2;
  bool big = s->seg[SEG_SS].ar & SEG_AR_DB;
  uint64_t mask = big ? 0xFFFFFFFFull : 0xFFFF;
  uint64_t sp = (s->gpr[GPR_RSP] - width) & mask;
  if (!mem->write(mem->ctx, (s->seg[SEG_SS].base + sp) & 0xFFFFFFFFull, &error, width)) return false;
  s->gpr[GPR_RSP] = (s->gpr[GPR_RSP] & ~mask) | sp;
  return true;
}

enum ts_outcome task_switch(struct cpu_state *s, const struct ts_mem *mem, const struct ts_target *t,
                            enum ts_source source, const struct ts_event *ev, struct ts_fault *f, bool *debug_trap)
{
  *debug_trap = false;
  bool ext = ev->ext;
  bool new32 = tss32_type(d_type(t->desc));
  uint64_t new_base = d_base(t->desc) & 0xFFFFFFFFull;
  /* The old TSS must hold the fields the switch saves (Bochs: #TS with
   * the old TR's selector; the SDM lists no such check, a TSS too short
   * for them cannot be loaded into TR by LTR either). */
  bool old32 = tss32_type(SEG_AR_TYPE(s->seg[SEG_TR].ar));
  uint16_t old_sel = s->seg[SEG_TR].selector;
  uint64_t old_base = s->seg[SEG_TR].base & 0xFFFFFFFFull;
  if (s->seg[SEG_TR].limit < (old32 ? TSS32_GS + 3u : TSS16_DS + 1u))
    return fault(f, TS_FAULT, VEC_TS_, old_sel, ext);

  /* Step 5: the new TSS must be readable before anything is written. */
  uint8_t tss[TSS32_MIN_LIMIT + 1];
  unsigned new_len = new32 ? TSS32_MIN_LIMIT + 1 : TSS16_MIN_LIMIT + 1;
  if (!mem->read(mem->ctx, new_base, tss, new_len)) return memory_fault(f, TS_FAULT);

  /* Step 6: JMP and IRET leave the old task, whose busy bit is cleared;
   * CALL and events nest, and keep it. */
  if ((source == TS_FROM_JMP || source == TS_FROM_IRET) && !set_busy(s, mem, old_sel, false))
    return memory_fault(f, TS_FAULT);
  /* Step 7: IRET clears NT in the EFLAGS image it saves. */
  uint32_t old_eflags = (uint32_t)s->rflags;
  if (source == TS_FROM_IRET) old_eflags &= ~(uint32_t)RFLAGS_NT;
  if (ev->fault) old_eflags |= (uint32_t)RFLAGS_RF;
  /* Step 8: the old task's state into its TSS. */
  uint8_t blk[TSS32_GS + 2];
  unsigned off, len;
  old_block(old32, &off, &len);
  if (!mem->read(mem->ctx, old_base + off, blk, len)) return memory_fault(f, TS_FAULT);
  save_old(s, old32, old_eflags, blk);
  if (!mem->write(mem->ctx, old_base + off, blk, len)) return memory_fault(f, TS_FAULT);
  /* "Task Linking": CALL and events write the old TSS's selector into the
   * new TSS's previous-task-link field. */
  if (source == TS_FROM_CALL || source == TS_FROM_INT) {
    if (!mem->write(mem->ctx, new_base, &old_sel, 2)) return memory_fault(f, TS_FAULT);
  }
  if (!mem->read(mem->ctx, new_base, tss, new_len)) return memory_fault(f, TS_FAULT);
  struct new_state n;
  parse_new(tss, new32, &n);
  /* Step 10: the new task's busy bit is set, except by IRET (already set). */
  if (source != TS_FROM_IRET && !set_busy(s, mem, t->selector, true)) return memory_fault(f, TS_FAULT);

  /* ---- commit point: what follows happens in the new task ---- */
  s->seg[SEG_TR] = d_segment(t->selector, t->desc);
  s->seg[SEG_TR].ar |= 2;   /* busy */
  /* "Control Registers": CR0.TS is set on every task switch. "Debug
   * Control Register (DR7)": the local enables L0-L3 and LE are cleared. */
  s->cr0 |= CR0_TS;
  s->dr[7] &= ~0x155ull;
  /* Step 9: CALL and events set NT in the new task's EFLAGS. */
  if (source == TS_FROM_CALL || source == TS_FROM_INT) n.eflags |= (uint32_t)RFLAGS_NT;
  /* EFLAGS: reserved bits 31:22, 15, 5, 3 read 0, bit 1 reads 1. */
  s->rflags = (n.eflags & 0x3F7FD5u) | RFLAGS_FIXED1;
  s->rip = n.eip;
  for (int i = 0; i < 8; i++) s->gpr[i] = n.gpr[i];
  /* Selectors first, descriptors as each one passes its checks. */
  for (int i = SEG_ES; i <= SEG_GS; i++) s->seg[i] = unloaded(n.sel[i]);
  s->seg[SEG_LDTR] = unloaded(n.ldt);

  /* "Task Switching" step 12: CR3 from a 32-bit TSS when paging is on
   * (with paging off it is read, not loaded). PAE paging loads the PDPTEs
   * when CR3 changes ("PDPTE Registers"); the SDM names no fault for bad
   * ones here, Bochs raises #TS(0). */
  if (new32 && (s->cr0 & CR0_PG) && n.cr3 != (uint32_t)s->cr3 && !mem->load_cr3(mem->ctx, s, n.cr3))
    return fault(f, TS_FAULT_IN_NEW_TASK, VEC_TS_, 0, ext);

  unsigned cs_rpl = n.sel[SEG_CS] & 3u;
  set_cpl(s, 3);
  enum ts_outcome o = load_ldt(s, mem, n.ldt, ext, f);
  if (o != TS_DONE) return o;
  if (s->rflags & RFLAGS_VM) {
    load_v86(s, n.sel);
  } else {
    if ((o = load_ss(s, mem, n.sel[SEG_SS], cs_rpl, ext, f)) != TS_DONE) return o;
    set_cpl(s, cs_rpl);
    static const int data[] = {SEG_DS, SEG_ES, SEG_FS, SEG_GS};
    for (int i = 0; i < 4; i++)
      if ((o = load_data(s, mem, data[i], n.sel[data[i]], cs_rpl, ext, f)) != TS_DONE) return o;
    if ((o = load_cs(s, mem, n.sel[SEG_CS], ext, f)) != TS_DONE) return o;
  }
  /* "Debug Exceptions": the T flag of a 32-bit TSS raises #DB (task
   * switch) before the new task's first instruction. */
  *debug_trap = new32 && (n.trap & 1);
  if (ev->push_error && !push_error_code(s, mem, new32, ev->error)) return memory_fault(f, TS_FAULT_IN_NEW_TASK);
  /* "Task Switching": the new EIP must lie within CS's limit, else #GP(0)
   * in the new task. */
  if (s->rip > s->seg[SEG_CS].limit) return fault(f, TS_FAULT_IN_NEW_TASK, VEC_GP_, 0, ext);
  return TS_DONE;
}
