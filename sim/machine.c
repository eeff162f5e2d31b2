/* The machine: creation, Unicorn's hooks and the run loop. */
#include "sim/machine.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unicorn/unicorn.h>

#include "sim/align_check.h"
#include "sim/fpu_except.h"
#include "sim/fastsys.h"
#include "sim/intercept.h"
#include "sim/irq.h"
#include "sim/loader.h"
#include "sim/portio.h"
#include "sim/sysinsn.h"
#include "sim/uc_bridge.h"

#define TCG_BUFFER_BYTES (16u << 20)
/* uc_ctl_request_cache, built without Unicorn's UC_CTL_READ_WRITE, which
 * shifts 3 into an int's sign bit (undefined behaviour UBSan stops on). */
#define UC_CTL_REQUEST_CACHE_UNSIGNED \
  ((uc_control_type)((uint32_t)UC_CTL_TB_REQUEST_CACHE | (2u << 26) | ((uint32_t)UC_CTL_IO_READ_WRITE << 30)))

struct block_info { uint64_t address; uint32_t size; };

/* The blocks that ran in this code epoch (sim/intercept.h): their
 * instruction counts, looked up on every block start. */
struct recent_block { uint64_t address, epoch; uint32_t size; uint16_t icount; uint8_t code_size; };
#define RECENT_BLOCKS 4096

struct machine_private {
  struct machine m;
  struct uc_bridge bridge;
  struct block_info prev;      /* the block that ran last (size 0: none since uc_emu_start) */
  bool stop_at_next_block;     /* the run loop's turn, after a hook that wrote RIP */
  bool stopped_for_loop;       /* ... and Unicorn stopped for it */
  struct recent_block recent[RECENT_BLOCKS];
  struct irq_nmi nmi;          /* the NMI latch and the local APIC (sim/irq.h) */
  /* The block hook stopped Unicorn before the block at block_stop_rip ran
   * (for the run loop, a retranslation or irq.c). Unicorn's own RIP can
   * then still be an earlier block's start (measured: after a chained
   * jump between blocks that ran linked before), so the run loop goes on
   * from block_stop_rip. */
  bool stopped_at_block;
  uint64_t block_stop_rip;
  /* Unicorn's #UD at an instruction the machine owns, not hooked yet
   * (hook_invalid), and the last such RIP run again (take_up_loop_event). */
  uint64_t owned_ud_rip, owned_ud_retried;
  bool align_stepping;         /* this run is one instruction the loop checked for #AC */
  bool fpu_stepping;           /* ... checked for floating-point errors (sim/fpu_except.h) */
  bool single_step;            /* this run is one instruction */
  bool checked_stepping;       /* ... one of a stretch the loop checks (align, fpu, step_at) */
  uint64_t step_at;            /* run the instruction here alone (machine_step_from); UINT64_MAX: none */
};

/* The block hook's way to stop Unicorn before the block at `address`. */
static void stop_before_block(struct machine_private *mp, uint64_t address)
{
  mp->stopped_at_block = true;
  mp->block_stop_rip = address;
  uc_emu_stop(mp->m.uc);
}

struct irq_nmi *machine_irq_nmi(struct machine *m) { return &((struct machine_private *)m)->nmi; }

void machine_stop(struct machine *m, enum stop_reason why, int status, const char *fmt, ...)
{
  if (m->stop != STOP_NONE) return;
  m->stop = why;
  m->exit_status = status;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(m->stop_detail, sizeof m->stop_detail, fmt, ap);
  va_end(ap);
  uc_emu_stop(m->uc);
}

/* ---- memory as the model sees it ---------------------------------------- */

static unsigned current_cpl(struct machine *m)
{
  if (!(m->cpu.cr0 & CR0_PE)) return 0;
  uint16_t cs = 0;
  uc_reg_read(m->uc, UC_X86_REG_CS, &cs);
  return cs & 3;   /* CS.RPL is the CPL in protected mode */
}

void machine_paging_context(struct machine *m, struct mmu_context *ctx)
{
  mmu_context_from_cpu(ctx, &m->cpu);
  ctx->cpl = (uint8_t)current_cpl(m);
  if (m->cpu.cr4 & CR4_SMAP) ctx->ac = (uc_bridge_rflags(m->bridge) & RFLAGS_AC) != 0;
  if (m->virt && m->virt->paging_context) m->virt->paging_context(m, ctx);
}

bool machine_translate_linear(struct machine *m, uint64_t la, enum mmu_access acc, bool supervisor, uint64_t *pa)
{
  struct mmu_context ctx;
  machine_paging_context(m, &ctx);
  struct mmu_translation t;
  struct mmu_fault f;
  if (!mmu_translate(&m->mmu, &ctx, la, acc, supervisor ? MMU_IMPLICIT_SUPERVISOR : 0, &t, &f)) {
    m->fault = f;
    m->fault_linear = la;
    m->fault_pending = true;
    return false;
  }
  *pa = t.pa;
  return true;
}

static bool access_linear(struct machine *m, uint64_t la, void *buf, unsigned len, bool write, bool supervisor)
{
  uint8_t *p = buf;
  while (len) {
    unsigned chunk = 4096 - (la & 0xfff);
    if (chunk > len) chunk = len;
    uint64_t pa;
    if (!machine_translate_linear(m, la, write ? MMU_WRITE : MMU_READ, supervisor, &pa)) return false;
    if (pa + chunk > m->ram_size) return false;
    if (write) memcpy(m->ram + pa, p, chunk);
    else memcpy(p, m->ram + pa, chunk);
    la += chunk; p += chunk; len -= chunk;
  }
  return true;
}

bool machine_read_linear(struct machine *m, uint64_t la, void *buf, unsigned len, bool supervisor)
{
  return access_linear(m, la, buf, len, false, supervisor);
}

bool machine_peek_linear(struct machine *m, uint64_t la, void *buf, unsigned len, bool supervisor)
{
  struct mmu_fault fault = m->fault;
  bool pending = m->fault_pending;
  uint64_t linear = m->fault_linear;
  bool ok = access_linear(m, la, buf, len, false, supervisor);
  m->fault = fault;
  m->fault_pending = pending;
  m->fault_linear = linear;
  return ok;
}

bool machine_write_linear(struct machine *m, uint64_t la, const void *buf, unsigned len, bool supervisor)
{
  return access_linear(m, la, (void *)buf, len, true, supervisor);
}

/* ---- hooks -------------------------------------------------------------- */

/* Unicorn's TLB is only a cache of the current context's translations; the
 * model walks the page tables on every fill. A page is never writable and
 * executable in Unicorn's TLB at once (see intercept.h). */
static bool hook_tlb_fill(uc_engine *uc, uint64_t va, uc_mem_type type, uc_tlb_entry *e, void *user)
{
  struct machine *m = user;
  /* After a failed fill Unicorn unwinds and may ask for more translations
   * (seen: a fetch at -4096); the first failure is the architectural one. */
  if (m->fault_pending) return false;
  /* Unicorn probes the page just below uc_emu_start's `until` address,
   * which the run loop puts where no guest fetch can reach. */
  if (type == UC_MEM_FETCH && va - (MACHINE_UNREACHABLE_RIP - 0x1000) < 0x2000) return false;
  if ((uint64_t)((int64_t)(va << 16) >> 16) != va) {
    /* Unicorn's virtual-TLB mode skips QEMU's canonical check: the model
     * raises #GP(0) or #SS(0) once RIP is precise. */
    m->fault = (struct mmu_fault){.kind = MMU_FAULT_NONE};
    m->fault_noncanonical = true;
    m->fault_linear = va;
    m->fault_pending = true;
    return false;
  }
  enum mmu_access acc = type == UC_MEM_WRITE ? MMU_WRITE : type == UC_MEM_FETCH ? MMU_FETCH : MMU_READ;
  mmu_prefetch(&m->mmu, va); /* overlaps the TLB set's cache miss with reading the context */
  struct mmu_context ctx;
  machine_paging_context(m, &ctx);
  struct mmu_translation t;
  struct mmu_fault f;
  if (!mmu_translate(&m->mmu, &ctx, va, acc, 0, &t, &f)) {
    m->fault = f;
    m->fault_linear = va;
    m->fault_pending = true;
    if (m->trace.out)
      trace_event(&m->trace, m->insns, "fill-fault", "la=0x%llx %c error=0x%x", (unsigned long long)va,
                  acc == MMU_FETCH ? 'x' : acc == MMU_WRITE ? 'w' : 'r', f.error_code);
    return false;
  }
  /* Unicorn's TLB (QEMU's dynamic TLB) grows only when it is flushed while
   * mostly full, and the run loop flushes it only on context changes: a
   * guest whose working set outgrows it would refill every access. A flush
   * every 4096 translations lets it grow to the working set. It is safe at
   * any time (the TLB only caches the model's translations; QEMU re-reads
   * its TLB after a fill) and deterministic (a function of the count). */
  if ((++m->tlb_fills & 4095) == 0) machine_flush_unicorn_tlb(m);
  /* The local APIC's register page (sim/irq.h): Unicorn's MMIO page. */
  if (irq_is_apic_page(m, t.page_base)) {
    if (acc == MMU_FETCH) {
      machine_stop(m, STOP_INTERNAL, 125, "instruction fetch from the local APIC page (linear 0x%llx)",
                   (unsigned long long)va);
      return false;
    }
    e->paddr = irq_apic_mmio_page(m);
    e->perms = UC_PROT_READ | ((t.perms & MMU_PERM_WRITE) ? UC_PROT_WRITE : 0);
    return true;
  }
  if (t.page_base >= m->ram_size) {
    /* The status goes through machine_stop: after another stop (a debug
     * exit whose translation block runs on) it must not be overwritten. */
    machine_stop(m, STOP_INTERNAL, 125, "guest accessed physical address 0x%llx outside RAM (0x%llx bytes) at linear 0x%llx",
                 (unsigned long long)t.pa, (unsigned long long)m->ram_size, (unsigned long long)va);
    return false;
  }
  unsigned perms = UC_PROT_READ;
  if (acc == MMU_FETCH) {
    perms |= UC_PROT_EXEC;
    intercepts_fetch_fill(m->icpt, va & ~0xfffull, t.page_base, m->ram + t.page_base);
  } else if (t.perms & MMU_PERM_WRITE) {
    perms |= UC_PROT_WRITE;
  }
  /* A page a data breakpoint watches goes through its alias window. */
  e->paddr = acc == MMU_FETCH ? t.page_base : debug_bp_fill_paddr(&m->dbg, va, t.page_base);
  e->perms = perms;
  if (m->trace.out)
    trace_event(&m->trace, m->insns, "fill", "la=0x%llx pa=0x%llx %c refs=%u", (unsigned long long)(va & ~0xfffull),
                (unsigned long long)t.page_base, acc == MMU_FETCH ? 'x' : acc == MMU_WRITE ? 'w' : 'r', t.refs);
  return true;
}

/* Exceptions Unicorn raised while executing (#UD, #DE, #GP, INT n, ...). */
static void hook_intr(uc_engine *uc, uint32_t intno, void *user)
{
  struct machine *m = user;
  if (m->stop != STOP_NONE || m->event.valid) return;
  uint64_t rip = uc_bridge_rip(m->bridge);
  uint8_t before[2] = {0, 0};
  bool software = false;
  uint8_t len = 0;
  /* INT n, INT3 and INTO leave RIP after themselves; faults leave it at
   * the instruction. The bytes before RIP tell which one this was. */
  if (rip >= 2 && machine_read_linear(m, rip - 2, before, 2, false)) {
    if (before[0] == 0xcd && before[1] == intno) software = true, len = 2;
    else if (intno == VEC_BP && before[1] == 0xcc) software = true, len = 1;
    else if (intno == VEC_OF && before[1] == 0xce) software = true, len = 1;
  }
  m->fault_pending = false;
  bool has_error = !software && exception_has_error_code((uint8_t)intno);
  m->event = (struct pending_event){.valid = true, .vector = (uint8_t)intno, .software = software, .insn_len = len,
                                    .has_error = has_error, .error = has_error ? uc_bridge_error_code(m->bridge) : 0};
  uc_emu_stop(uc);
}

/* Instructions Unicorn cannot execute: UD2, and the VMX and SVM
 * instructions, which the run loop offers to the virtualization extension
 * before delivering #UD. */
static bool hook_invalid(uc_engine *uc, void *user)
{
  struct machine *m = user;
  if (m->stop != STOP_NONE) return false;
  uint64_t rip = uc_bridge_rip(m->bridge);
  m->event = (struct pending_event){.valid = true, .vector = VEC_UD, .at_rip = true,
                                    .rip = rip, .rax = uc_bridge_gpr(m->bridge, GPR_RAX)};
  ((struct machine_private *)m)->owned_ud_rip = intercepts_invalid_at(m->icpt, rip) ? rip : UINT64_MAX;
  uc_emu_stop(uc);
  return false;
}

/* Virtual time: each translation block adds its instruction count as it
 * starts. Interrupts: Unicorn calls this hook before the block's first
 * instruction (and before its exit-request check), so uc_emu_stop here
 * stops at this block's start with the block not run and not counted. */
static void hook_block(uc_engine *uc, uint64_t address, uint32_t size, void *user)
{
  struct machine_private *mp = user;
  struct machine *m = &mp->m;
  /* A hook that wrote RIP made Unicorn go on (which cancels a stop it
   * asked for): stop here, before this block runs. */
  if (mp->stop_at_next_block) {
    mp->stop_at_next_block = false;
    mp->stopped_for_loop = true;
    stop_before_block(mp, address);
    return;
  }
  /* Alignment checking starts to apply: the run loop takes over, one
   * instruction at a time (sim/align_check.h). */
  if (!mp->align_stepping && align_check_active(m)) {
    mp->stopped_for_loop = true;
    stop_before_block(mp, address);
    return;
  }
  /* Floating-point checks need no test here: only the hooked control
   * loads can start them (sim/fpu_except.h). */
  /* The blocking by STI / MOV SS a VM entry or VMRUN loaded lasts one
   * instruction: once a block ran, it is over (a block boundary is the
   * machine's granularity; sim/irq.h). */
  if (mp->prev.size) m->cpu.sti_blocking = m->cpu.movss_blocking = false;
  if (m->insns >= m->irq_check_at && m->stop == STOP_NONE && !m->event.valid && !m->fault_pending &&
      irq_should_stop(m, mp->prev.address, mp->prev.size)) {
    m->irq_stop = true;
    stop_before_block(mp, address);
    return;
  }
  if (m->utlb.active == 0 && !uc_bridge_cpl0_without_ac(&mp->bridge)) uc_tlb_leave_part0(m);
  /* A block with an instruction to hook that its translation lacks does
   * not run: the run loop has it translated again. Blocks of the two
   * parts of Unicorn's TLB are told apart (the same address can be another
   * context's code). */
  uint8_t code_size = (uint8_t)(uc_bridge_code_size(&mp->bridge) | (m->utlb.active + 1) << 2);
  struct recent_block *r = &mp->recent[(address ^ address >> 12) & (RECENT_BLOCKS - 1)];
  unsigned icount = r->icount;
  if (r->address != address || r->epoch != m->code_epoch || r->size != size || r->code_size != code_size) {
    icount = intercepts_enter_block(m->icpt, address, size);
    if (!icount) {
      stop_before_block(mp, address);
      return;
    }
    *r = (struct recent_block){address, m->code_epoch, size, (uint16_t)icount, code_size};
  }
  m->insns += icount;
  m->blocks++;
  mp->prev = (struct block_info){address, size};
  /* The same block started again (after a stop before it ran, or a retry)
   * keeps the one before it. */
  if (m->ran[0].address != address) m->ran[1] = m->ran[0];
  m->ran[0] = (struct ran_block){address, size, uc_bridge_if(&mp->bridge)};
  if (m->opt.max_insns && m->insns >= m->opt.max_insns)
    machine_stop(m, STOP_MAX_INSNS, 124, "stopped after %llu instructions (--max-insns)", (unsigned long long)m->insns);
}

/* String port I/O, which Unicorn carries out after sim/portio.c checked
 * it; IN and OUT never reach these hooks (the model executes them). */
static uint32_t hook_in(uc_engine *uc, uint32_t port, int size, void *user)
{
  (void)uc;
  debug_bp_port_io(user, (uint16_t)port, (unsigned)size, DEBUG_BP_RUNNING_INSN);
  return port_read(user, (uint16_t)port, (unsigned)size);
}

static void hook_out(uc_engine *uc, uint32_t port, int size, uint32_t value, void *user)
{
  (void)uc;
  debug_bp_port_io(user, (uint16_t)port, (unsigned)size, DEBUG_BP_RUNNING_INSN);
  port_write(user, (uint16_t)port, (unsigned)size, value);
}

/* ---- creation ----------------------------------------------------------- */

/* The multiboot machine state (Multiboot Specification, "Machine state"):
 * 32-bit protected mode, flat 4 GiB CS (execute/read) and data segments,
 * paging off, interrupts off, EAX = magic, EBX = information structure. */
static void boot_state(struct cpu_state *s, const struct boot_info *bi)
{
  *s = (struct cpu_state){0};
  s->gpr[GPR_RAX] = MULTIBOOT_BOOTLOADER_MAGIC;
  s->gpr[GPR_RBX] = bi->mbi;
  s->rip = bi->entry;
  s->rflags = RFLAGS_FIXED1;
  s->cr0 = CR0_PE | CR0_ET;
  const uint32_t code = 0xb | SEG_AR_S | SEG_AR_P | SEG_AR_DB | SEG_AR_G;
  const uint32_t data = 0x3 | SEG_AR_S | SEG_AR_P | SEG_AR_DB | SEG_AR_G;
  for (int i = 0; i < 6; i++) s->seg[i] = (struct segment){0x10, 0, 0xffffffffu, data};
  s->seg[SEG_CS] = (struct segment){0x08, 0, 0xffffffffu, code};
  s->seg[SEG_LDTR] = (struct segment){0, 0, 0xffff, 0x2 | SEG_AR_P};
  s->seg[SEG_TR] = (struct segment){0, 0, 0xffff, 0xb | SEG_AR_P};
  s->gdtr = (struct dtable){0, 0xffff};
  s->idtr = (struct dtable){0, 0xffff};
  s->dr[6] = 0xffff0ff0;
  s->dr[7] = 0x400;
  s->pat = 0x0007040600070406ull;
}

static unsigned mmu_features(const struct cpu_model *c)
{
  unsigned f = MMU_FEAT_PSE36;
  if (cpu_model_has(c, 0x80000001, CPUID_EDX, CPUIDX1_EDX_PDPE1GB)) f |= MMU_FEAT_1G_PAGES;
  if (cpu_model_has(c, 7, CPUID_ECX, CPUID7_ECX_PKU)) f |= MMU_FEAT_PKU;
  if (cpu_model_has(c, 7, CPUID_ECX, CPUID7_ECX_LA57)) f |= MMU_FEAT_LA57;
  return f;
}

struct machine *machine_create(const struct machine_options *opt, const uint8_t *image, size_t image_size,
                               char *err, size_t n)
{
  struct machine_private *mp = calloc(1, sizeof *mp);
  if (!mp) { snprintf(err, n, "out of memory"); return NULL; }
  struct machine *m = &mp->m;
  m->opt = *opt;
  m->ram_size = opt->ram_size;
  m->bridge = &mp->bridge;
  mp->owned_ud_rip = mp->owned_ud_retried = mp->step_at = UINT64_MAX;
  m->rng_state = 0x9e3779b97f4a7c15ull;
  m->apic_base = 0xfee00900;   /* enabled, bootstrap processor */
  m->mtrr_def_type = 0xc00 | 6;
  /* Anonymous memory reads as zero and costs nothing until the guest
   * touches it. */
  void *ram = mmap(NULL, m->ram_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (ram == MAP_FAILED) { snprintf(err, n, "cannot allocate %llu bytes of RAM", (unsigned long long)m->ram_size); goto fail; }
  m->ram = ram;

  char cmdline[2048];
  snprintf(cmdline, sizeof cmdline, "%s%s%s", opt->image_name ? opt->image_name : "",
           opt->cmdline && *opt->cmdline ? " " : "", opt->cmdline ? opt->cmdline : "");
  struct boot_info bi;
  if (multiboot_load(m->ram, m->ram_size, image, image_size, cmdline, &bi, err, n)) goto fail;

  struct mmu_geometry geo = mmu_default_geometry;
  geo.maxphyaddr = opt->cpu->maxphyaddr;
  geo.features = mmu_features(opt->cpu);
  if (!mmu_init(&m->mmu, &geo, m->ram, m->ram_size)) { snprintf(err, n, "cannot set up the MMU model"); goto fail; }

  uc_engine *uc;
  uc_err e = uc_open(UC_ARCH_X86, UC_MODE_64, &uc);
  if (e != UC_ERR_OK) { snprintf(err, n, "Unicorn: %s", uc_strerror(e)); goto fail; }
  m->uc = uc;
  /* Unicorn reserves a 1 GiB translated-code buffer by default, and every
   * flush of translated code (the first run, the hook sweeps) clears the
   * whole buffer, each of its pages zeroed by the kernel first: seconds of
   * system time per run. 16 MiB holds the code of any test guest (a run of
   * boot.elf took 22 ms with 64 MiB, 13 ms with 16 MiB); when it fills,
   * TCG flushes it and translates again. Must precede every other call. */
  e = uc_ctl_set_tcg_buffer_size(uc, TCG_BUFFER_BYTES);
  if (e != UC_ERR_OK) { snprintf(err, n, "Unicorn cannot size its code buffer: %s", uc_strerror(e)); goto fail; }
  e = uc_mem_map_ptr(uc, 0, m->ram_size, UC_PROT_ALL, m->ram);
  if (e != UC_ERR_OK) { snprintf(err, n, "Unicorn cannot map RAM: %s", uc_strerror(e)); goto fail; }
  uc_ctl_tlb_mode(uc, UC_TLB_VIRTUAL);
  if (!uc_bridge_init(&mp->bridge, uc, m->ram, 0, err, n)) goto fail;
  m->utlb = (struct uc_tlb){.active = -1, .part = {UC_TLB_UNKNOWN, UC_TLB_UNKNOWN}};
  m->icpt = intercepts_create(m);
  if (!m->icpt) { snprintf(err, n, "out of memory"); goto fail; }
  if (!debug_bp_create(m, err, n)) goto fail;
  if (!virt_attach(m, err, n)) goto fail;

  uc_hook h;
  uc_hook_add(uc, &h, UC_HOOK_TLB_FILL, (void *)hook_tlb_fill, m, 1, 0);
  uc_hook_add(uc, &h, UC_HOOK_INTR, (void *)hook_intr, m, 1, 0);
  uc_hook_add(uc, &h, UC_HOOK_INSN_INVALID, (void *)hook_invalid, m, 1, 0);
  uc_hook_add(uc, &h, UC_HOOK_BLOCK, (void *)hook_block, mp, 1, 0);
  uc_hook_add(uc, &h, UC_HOOK_INSN, (void *)hook_in, m, 1, 0, UC_X86_INS_IN);
  uc_hook_add(uc, &h, UC_HOOK_INSN, (void *)hook_out, m, 1, 0, UC_X86_INS_OUT);

  devices_init(&m->dev, opt->serial_out);
  irq_init(m);
  if (!mca_init(m, opt->mce, opt->mce_count, err, n)) goto fail;
  irq_rearm(m);   /* the first injection's time */
  trace_open(&m->trace, opt->trace_out, opt->image_name ? opt->image_name : "-", opt->cpu->name, m->ram_size);
  trace_event(&m->trace, 0, "boot", "entry=0x%x mbi=0x%x", bi.entry, bi.mbi);
  boot_state(&m->cpu, &bi);
  m->state_dirty = true;
  return m;

fail:
  machine_destroy(m);
  return NULL;
}

void machine_destroy(struct machine *m)
{
  if (!m) return;
  struct machine_private *mp = (struct machine_private *)m;
  if (m->virt && m->virt->destroy) m->virt->destroy(m);
  intercepts_destroy(m->icpt);
  debug_bp_destroy(m);
  fpu_except_fini(m);
  uc_bridge_fini(&mp->bridge);
  if (m->uc) uc_close(m->uc);
  if (m->mmu.phys.ram) mmu_fini(&m->mmu);
  if (m->ram) munmap(m->ram, m->ram_size);
  free(mp);
}

/* ---- the run loop ------------------------------------------------------- */

static void deliver_page_fault(struct machine *m)
{
  m->fault_pending = false;
  uint64_t la;
  bool stack = false;
  if (m->fault_noncanonical) {
    /* "#SS(0) if a memory address referencing the SS segment is in a
     * non-canonical form", #GP(0) otherwise (SDM Vol. 3A, "Interrupt
     * 12—Stack Fault Exception (#SS)", "Interrupt 13—General Protection"). */
    m->fault_noncanonical = false;
    insn_fault_address(m, m->cpu.rip, UINT64_MAX, &la, &stack);
    struct pending_event ev = {.valid = true, .vector = stack ? VEC_SS : VEC_GP, .has_error = true, .error = 0};
    deliver_event(m, &ev);
    return;
  }
  if (m->fault.kind == MMU_FAULT_PF && (m->fault.error_code & PF_I)) {
    /* A fetch fault: CR2 is the first byte that could not be fetched. */
    if ((m->cpu.rip & ~0xfffull) == (m->fault.cr2 & ~0xfffull)) m->fault.cr2 = m->cpu.rip;
  } else if (m->fault.kind == MMU_FAULT_PF && insn_fault_address(m, m->cpu.rip, m->fault.cr2 & ~0xfffull, &la, &stack)) {
    m->fault.cr2 = la;
  }
  if (MMU_FAULT_IS_SECOND_LEVEL(m->fault.kind) && m->virt && m->virt->slat_fault) {
    m->virt->slat_fault(m, &m->fault, m->fault_linear);
    return;
  }
  if (m->fault.kind != MMU_FAULT_PF) {
    machine_stop(m, STOP_INTERNAL, 125, "translation of 0x%llx failed with a %s fault outside guest mode (%s)",
                 (unsigned long long)m->fault_linear,
                 m->fault.kind == MMU_FAULT_BAD_CONTEXT ? "context" : "second-level",
                 m->fault.reason ? m->fault.reason : "no detail");
    return;
  }
  struct pending_event ev = {.valid = true, .vector = VEC_PF, .has_error = true, .error = m->fault.error_code};
  deliver_event(m, &ev);
}

/* Carries out an instruction whose hook left it to the machine with the
 * whole state in hand (m->cpu): a fast system call, one only the
 * extension knows, or the exit the extension announced for it. */
static void take_up_insn(struct machine *m, struct insn *in, bool vm_exit)
{
  if (vm_exit) m->virt->exit_for_insn(m, in);
  else if (fastsys_owns(in)) fastsys_execute(m, in);
  else if (!(m->virt && m->virt->execute && m->virt->execute(m, in))) {
    struct pending_event ud = {.valid = true, .vector = VEC_UD};
    deliver_event(m, &ud);
  }
}

/* The extension's own instructions, which Unicorn does not know: their
 * #UD reaches the run loop the first time, before they are hooked
 * (intercepts_invalid_at). True when the extension carried one out. */
static bool take_up_loop_event(struct machine *m, const struct pending_event *ev)
{
  struct machine_private *mp = (struct machine_private *)m;
  struct insn in;
  if (ev->vector != VEC_UD || !ev->at_rip || ev->software) return false;
  if (m->virt && m->virt->execute && insn_decode(m, m->cpu.rip, &in) && m->virt->execute(m, &in)) return true;
  /* One the machine itself owns that Unicorn does not know (INVPCID):
   * run it again, now hooked; once only, so a #UD there again is
   * delivered rather than retried forever. */
  if (mp->owned_ud_rip != m->cpu.rip || mp->owned_ud_retried == m->cpu.rip) return false;
  mp->owned_ud_retried = m->cpu.rip;
  return true;
}

/* Hands the model's state back to Unicorn after the run loop changed it.
 * When only the general registers, RIP and RFLAGS changed (VMREAD, VMWRITE,
 * an exception-free instruction of the extension) and the translation
 * context stayed (no m->tlb_flush, no world switch), writing those is
 * enough: Unicorn's TLB and translated code stay valid. Anything else
 * reloads everything, and Unicorn's TLB keeps what it holds for the new
 * context or is flushed (sim/uc_tlb.c). */
static void reload_unicorn(struct machine *m, const struct cpu_state *fetched)
{
  m->state_dirty = false;
  /* Everything after the general registers, RIP and RFLAGS (both copies
   * come from the same fetch, padding included). */
  const size_t rest = offsetof(struct cpu_state, seg);
  _Static_assert(offsetof(struct cpu_state, rflags) + sizeof(uint64_t) == offsetof(struct cpu_state, seg),
                 "cpu_state: GPRs, RIP and RFLAGS come first");
  if (!m->tlb_flush && !m->context_switched &&
      memcmp((const uint8_t *)&m->cpu + rest, (const uint8_t *)fetched + rest, sizeof m->cpu - rest) == 0) {
    uc_bridge_store_registers(m->bridge, &m->cpu);
    return;
  }
  bool switched = m->context_switched;
  m->context_switched = false;
  uc_bridge_store(m->bridge, &m->cpu);
  /* A world switch puts the blocking by STI or MOV SS it loaded into
   * Unicorn's interrupt-inhibit flag. Otherwise the flag is Unicorn's own:
   * what a guest STI, MOV SS or POP SS set, which m->cpu does not hold. */
  if (switched) uc_bridge_set_inhibited(m->bridge, m->cpu.sti_blocking || m->cpu.movss_blocking);
  uc_tlb_switch(m);
}

/* The classes of conditionally hooked instructions the extension wants. */
static unsigned wanted_hook_classes(struct machine *m)
{
  return m->virt && m->virt->hook_classes ? m->virt->hook_classes(m) : 0;
}

void machine_request_loop_turn(struct machine *m) { ((struct machine_private *)m)->stop_at_next_block = true; }

bool machine_step_from(struct machine *m, uint64_t rip)
{
  struct machine_private *mp = (struct machine_private *)m;
  if (mp->single_step) return false;
  mp->step_at = rip;
  mp->stopped_for_loop = true;
  stop_before_block(mp, rip);
  return true;
}

void machine_take_up_in_hook(struct machine *m, struct insn *in, bool vm_exit)
{
  struct cpu_state fetched;
  uc_bridge_fetch(m->bridge, &m->cpu);
  memcpy(&fetched, &m->cpu, sizeof fetched);
  take_up_insn(m, in, vm_exit);
  /* The model carried the instruction out: a blocking by STI or MOV SS it
   * ran in is over (Unicorn, sent on past the block's end, would keep its
   * flag one more instruction). A world switch set the blocking itself. */
  if (!m->context_switched) {
    m->cpu.sti_blocking = m->cpu.movss_blocking = false;
    uc_bridge_set_inhibited(m->bridge, false);
  }
  /* Breakpoints armed, or enabled by what the model just did. */
  if (m->dbg.active || (m->cpu.dr[7] & DR7_ENABLES)) debug_bp_taken_up_slow(m);
  reload_unicorn(m, &fetched);
  m->tlb_flush = false;
  /* As at the start of a run: blocking by STI or MOV SS that a VM entry
   * loaded holds for the first instruction. */
  ((struct machine_private *)m)->prev.size = 0;
  if (m->stop != STOP_NONE || m->halted || m->fault_pending || m->event.valid ||
      intercepts_classes_missing(m->icpt, wanted_hook_classes(m)) ||
      (m->virt && m->virt->stepping && m->virt->stepping(m)))
    ((struct machine_private *)m)->stop_at_next_block = true;
}

void machine_run(struct machine *m)
{
  struct machine_private *mp = (struct machine_private *)m;
  struct cpu_state fetched;
  while (m->stop == STOP_NONE) {
    /* One instruction at a time when the extension asks (virt_ops.step). */
    bool step = m->virt && m->virt->step && m->virt->step(m);
    /* Hardware breakpoints as DR7 has them now; RF = 1 at an instruction
     * breakpoint steps over it. */
    step |= debug_bp_before_run(m);
    if (m->state_dirty) reload_unicorn(m, &fetched);
    m->tlb_flush = false;
    /* Alignment checking: the instruction is checked, then run alone. */
    mp->align_stepping = align_check_active(m);
    if (mp->align_stepping && !m->halted && !m->fault_pending && !m->event.valid && align_check_insn(m)) {
      m->state_dirty = true;
      continue;
    }
    step |= mp->align_stepping;
    /* Floating-point errors: the instruction is checked, run alone, and
     * its SIMD result checked. */
    mp->fpu_stepping = fpu_except_active(m);
    if (mp->fpu_stepping && !m->halted && !m->fault_pending && !m->event.valid && fpu_except_before(m)) {
      m->state_dirty = true;
      continue;
    }
    /* Until it ran: a run can end before its first instruction. */
    if (m->cpu.rip != mp->step_at) mp->step_at = UINT64_MAX;
    step |= mp->fpu_stepping || mp->step_at != UINT64_MAX;
    intercepts_retranslate(m->icpt);
    intercepts_want_classes(m->icpt, wanted_hook_classes(m));
    /* Unicorn drops removed hooks when a run ends: end this one at once. */
    bool swept = intercepts_sweep_due(m->icpt);
    intercepts_sweep(m->icpt);
    if (m->halted && !m->fault_pending && !m->event.valid) {
      /* Halted before any guest instruction ran (a VM entry into the HLT
       * activity state): wait for the interrupt first. */
      irq_take(m);
      continue;
    }
    mp->prev.size = 0;
    mp->stop_at_next_block = swept;
    mp->stopped_for_loop = false;
    mp->stopped_at_block = false;
    /* Unicorn counts a run's instructions with a code hook it adds for a
     * counted run and drops after an uncounted one; a block translated
     * while it was absent runs on past the count. So no run alone starts
     * in such a block: a stretch of checked instructions, which goes on
     * through code translated before, starts with none left; any other
     * run alone after an uncounted one (an MTF step, a held #DB, a lifted
     * breakpoint) drops the block at its start. */
    bool checked = mp->align_stepping || mp->fpu_stepping || mp->step_at != UINT64_MAX;
    if (checked && !mp->checked_stepping) uc_ctl_flush_tb(m->uc);
    else if (step && !mp->single_step) uc_ctl_remove_cache(m->uc, m->cpu.rip, m->cpu.rip + 1);
    mp->checked_stepping = checked;
    mp->single_step = step;
    uc_err e = uc_emu_start(m->uc, m->cpu.rip, MACHINE_UNREACHABLE_RIP, 0, step ? 1 : 0);
    uc_bridge_fetch(m->bridge, &m->cpu);
    memcpy(&fetched, &m->cpu, sizeof fetched);
    if (m->stop != STOP_NONE) break;
    if (mp->fpu_stepping && fpu_except_after(m)) memcpy(&fetched, &m->cpu, sizeof fetched);
    if (mp->stopped_at_block && m->cpu.rip != mp->block_stop_rip) {
      m->cpu.rip = mp->block_stop_rip;
      m->state_dirty = true;
    }
    if (debug_bp_after_run(m)) continue;
    bool loop_turn = intercepts_retranslate_pending(m->icpt) || mp->stopped_for_loop;
    if (loop_turn && !m->irq_stop && !m->fault_pending && !m->event.valid && !m->halted) continue;
    if ((m->irq_stop || m->halted) && !m->fault_pending && !m->event.valid) {
      irq_take(m);
      continue;
    }
    m->irq_stop = false;
    if (m->fault_pending) {
      deliver_page_fault(m);
      m->state_dirty = true;
      continue;
    }
    if (m->event.valid) {
      struct pending_event ev = m->event;
      m->event.valid = false;
      if (ev.at_rip) {
        /* The instruction's hook raised it: RIP and RAX as they were before
         * the instruction. */
        m->cpu.rip = ev.rip;
        m->cpu.gpr[GPR_RAX] = ev.rax;
      }
      debug_bp_merge_single_step(m, &ev);
      if (!take_up_loop_event(m, &ev)) deliver_event(m, &ev);
      debug_bp_event_done(m);
      m->state_dirty = true;
      continue;
    }
    if (step) continue;   /* the one instruction retired */
    machine_stop(m, STOP_INTERNAL, 125, "Unicorn stopped at rip 0x%llx: %s", (unsigned long long)m->cpu.rip,
                 e == UC_ERR_OK ? "no reason given" : uc_strerror(e));
  }
  trace_event(&m->trace, m->insns, "stop", "reason=%d status=%d", m->stop, m->exit_status);
}
