/* State transfer between the model and Unicorn (see uc_bridge.h for why a
 * saved context is involved). The CPU-state layout used here is QEMU's
 * CPUX86State for x86-64 targets, which Unicorn 2.x embeds; uc_bridge_init
 * checks every offset it relies on before the first run. */
#include "sim/uc_bridge.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unicorn/unicorn.h>

/* Offsets inside CPUX86State (x86-64 target). */
enum {
  ENV_REGS = 0, ENV_EIP = 128, ENV_EFLAGS = UC_BRIDGE_ENV_EFLAGS, ENV_HFLAGS = UC_BRIDGE_ENV_HFLAGS, ENV_SEGS = 184, SEGCACHE_SIZE = 24,
  ENV_LDT = ENV_SEGS + 6 * SEGCACHE_SIZE, ENV_TR = ENV_LDT + SEGCACHE_SIZE,
  ENV_GDT = ENV_SEGS + 8 * SEGCACHE_SIZE, ENV_IDT = ENV_GDT + SEGCACHE_SIZE,
  ENV_CR = ENV_IDT + SEGCACHE_SIZE,
  SC_SELECTOR = 0, SC_BASE = 8, SC_LIMIT = 16, SC_FLAGS = 20,
};

/* QEMU hflags bits. */
#define HF_CPL_MASK    3u
#define HF_CS32_MASK   (1u << 4)
#define HF_SS32_MASK   (1u << 5)
#define HF_ADDSEG_MASK (1u << 6)
#define HF_LMA_MASK    (1u << 14)
#define HF_CS64_MASK   (1u << 15)
#define HF_MP_SHIFT    9                    /* MP, EM, TS: CR0 bits 1-3 */
#define HF_CR0_MASK    (7u << HF_MP_SHIFT)
#define HF_SMAP_MASK   (1u << 23)
_Static_assert(ENV_HFLAGS == 176 && HF_CS64_MASK >> 14 == 2 && HF_CS32_MASK >> 4 == 1, "uc_bridge_code_size");
/* QEMU descriptor-cache flags: the descriptor's high dword. */
#define DESC_P_MASK    (1u << 15)
#define DESC_L_MASK    (1u << 21)
#define DESC_B_MASK    (1u << 22)

static const int gpr_ids[GPR_COUNT] = {
  UC_X86_REG_RAX, UC_X86_REG_RCX, UC_X86_REG_RDX, UC_X86_REG_RBX,
  UC_X86_REG_RSP, UC_X86_REG_RBP, UC_X86_REG_RSI, UC_X86_REG_RDI,
  UC_X86_REG_R8, UC_X86_REG_R9, UC_X86_REG_R10, UC_X86_REG_R11,
  UC_X86_REG_R12, UC_X86_REG_R13, UC_X86_REG_R14, UC_X86_REG_R15,
};

static uint16_t get16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static uint32_t get32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t get64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }
static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

/* VMCS access-rights layout <-> descriptor high dword. */
static uint32_t ar_to_flags(uint32_t ar)
{
  if (ar & SEG_AR_UNUSABLE) return 0;
  return ((ar & 0xffu) << 8) | ((ar & 0xf000u) << 8);
}

static uint32_t flags_to_ar(uint32_t flags)
{
  uint32_t ar = ((flags >> 8) & 0xffu) | ((flags >> 8) & 0xf000u);
  return (flags & DESC_P_MASK) ? ar : (ar | SEG_AR_UNUSABLE);
}

static void stop_on_intr(uc_engine *uc, uint32_t intno, void *user) { uc_emu_stop(uc); }

/* ---- finding the live CPU state and its fields --------------------------- */

/* A copy of the CPU state as it is now (Unicorn's saved context). */
struct snapshot { uint8_t *bytes; size_t size; };

static bool snapshot_take(struct uc_bridge *b, struct snapshot *s)
{
  if (!s->bytes) {
    /* The context is the CPU state plus a small header. */
    s->size = uc_context_size(b->uc) - 64;
    s->bytes = malloc(s->size);
    if (!s->bytes) return false;
  }
  memcpy(s->bytes, b->env, s->size);
  return true;
}

/* The one offset where a field of `width` bytes went from `from` in
 * `before` to `to` now; SIZE_MAX unless exactly one did. */
static size_t changed_field(struct uc_bridge *b, const struct snapshot *before, unsigned width, uint64_t from, uint64_t to)
{
  size_t found = SIZE_MAX, hits = 0;
  for (size_t off = 0; off + width <= before->size; off += width) {
    uint64_t was = width == 8 ? get64(before->bytes + off) : width == 4 ? get32(before->bytes + off)
                 : width == 2 ? get16(before->bytes + off) : before->bytes[off];
    uint64_t is = width == 8 ? get64(b->env + off) : width == 4 ? get32(b->env + off)
                : width == 2 ? get16(b->env + off) : b->env[off];
    if (was == from && is == to) found = off, hits++;
  }
  return hits == 1 ? found : SIZE_MAX;
}

/* Writes MSR `index` twice through the API and returns where it lives. */
static size_t find_msr(struct uc_bridge *b, struct snapshot *snap, uint32_t index, unsigned width, uint64_t a, uint64_t v)
{
  uc_x86_msr msr = {index, a};
  uc_reg_write(b->uc, UC_X86_REG_MSR, &msr);
  if (!snapshot_take(b, snap)) return SIZE_MAX;
  msr.value = v;
  uc_reg_write(b->uc, UC_X86_REG_MSR, &msr);
  return changed_field(b, snap, width, a, v);
}

/* QEMU remembers the last contributory exception or page fault
 * (old_exception) to turn the next one into #DF, and forgets it when it
 * delivers; Unicorn never delivers, so the bridge resets it after every
 * model delivery. Found by raising one #DE: the only int32 that goes from
 * -1 to 0. `scratch` is 4 KiB of RAM at guest-physical `scratch_pa`,
 * restored afterwards. */
static size_t find_old_exception(struct uc_bridge *b, struct snapshot *snap, uint8_t *scratch, uint64_t scratch_pa)
{
  uint8_t saved[4];
  memcpy(saved, scratch, 4);
  static const uint8_t div_ecx[] = {0xf7, 0xf1};   /* div ecx, with ECX = 0 */
  memcpy(scratch, div_ecx, sizeof div_ecx);
  uint64_t zero = 0;
  uc_reg_write(b->uc, UC_X86_REG_RCX, &zero);
  if (!snapshot_take(b, snap)) return SIZE_MAX;
  uc_hook h;
  uc_hook_add(b->uc, &h, UC_HOOK_INTR, (void *)stop_on_intr, NULL, 1, 0);
  uc_emu_start(b->uc, scratch_pa, scratch_pa + sizeof div_ecx, 0, 1);
  uc_hook_del(b->uc, h);
  memcpy(scratch, saved, 4);
  return changed_field(b, snap, 4, UINT32_MAX, 0);
}

/* QEMU's exit-request word sits just below its CPU state (icount_decr): a
 * translation block checks it after each code hook and, when it is
 * negative, goes back to the execution loop, which clears it and goes on at
 * the state's RIP. A RIP write through Unicorn's API sets it too, but also
 * asks the loop to return to Unicorn, which then enters it again: a
 * hundred nanoseconds per hooked instruction. Found by what such a write,
 * from inside a code hook, changes below the state from 0 to FFFFH, then
 * checked by redirecting a run past an instruction that must not run. */
struct exit_probe { uint8_t *env; uint8_t before[64]; ptrdiff_t found; int hits; bool skipped_ran; };

static void probe_exit_word(uc_engine *uc, uint64_t address, uint32_t size, void *user)
{
  (void)size;
  struct exit_probe *p = user;
  const uint8_t *below = p->env - sizeof p->before;
  memcpy(p->before, below, sizeof p->before);
  uc_reg_write(uc, UC_X86_REG_RIP, &address);
  for (size_t i = 0; i + 2 <= sizeof p->before; i += 2) {
    uint16_t was, now;
    memcpy(&was, p->before + i, 2);
    memcpy(&now, below + i, 2);
    if (was == 0 && now == 0xffff) p->found = (ptrdiff_t)i - (ptrdiff_t)sizeof p->before, p->hits++;
  }
  uc_emu_stop(uc);
}

static void probe_redirect(uc_engine *uc, uint64_t address, uint32_t size, void *user)
{
  (void)uc; (void)size;
  struct exit_probe *p = user;
  put64(p->env + ENV_EIP, address + 2);
  uint16_t stop = 0xffff;
  memcpy(p->env + p->found, &stop, 2);
}

static void probe_skipped(uc_engine *uc, uint64_t address, uint32_t size, void *user)
{
  (void)uc; (void)address; (void)size;
  ((struct exit_probe *)user)->skipped_ran = true;
}

static ptrdiff_t find_exit_word(struct uc_bridge *b, uint8_t *scratch, uint64_t scratch_pa)
{
  uint8_t saved[3];
  memcpy(saved, scratch, 3);
  memset(scratch, 0x90, 3);   /* NOP; NOP; NOP */
  struct exit_probe p = {.env = b->env};
  uc_hook h, h2;
  uc_hook_add(b->uc, &h, UC_HOOK_CODE, (void *)probe_exit_word, &p, scratch_pa, scratch_pa);
  uc_emu_start(b->uc, scratch_pa, scratch_pa + 3, 0, 0);
  uc_hook_del(b->uc, h);
  uc_ctl_remove_cache(b->uc, scratch_pa, scratch_pa + 3);
  ptrdiff_t found = p.hits == 1 ? p.found : 0;
  if (found) {
    uc_hook_add(b->uc, &h, UC_HOOK_CODE, (void *)probe_redirect, &p, scratch_pa, scratch_pa);
    uc_hook_add(b->uc, &h2, UC_HOOK_CODE, (void *)probe_skipped, &p, scratch_pa + 1, scratch_pa + 1);
    uc_emu_start(b->uc, scratch_pa, scratch_pa + 3, 0, 0);
    uc_hook_del(b->uc, h);
    uc_hook_del(b->uc, h2);
    uc_ctl_remove_cache(b->uc, scratch_pa, scratch_pa + 3);
    if (p.skipped_ran || uc_bridge_rip(b) != scratch_pa + 3) found = 0;
  }
  memcpy(scratch, saved, 3);
  return found;
}

/* QEMU keeps the error code of the exception it raises in its CPU state;
 * Unicorn's interrupt hook does not pass it on. Found by loading DS with a
 * selector past the GDT limit (#GP(selector)): the only int32 that goes
 * from 0 to that selector. */
static size_t find_error_code(struct uc_bridge *b, struct snapshot *snap, uint8_t *scratch, uint64_t scratch_pa)
{
  uint8_t saved[2];
  memcpy(saved, scratch, 2);
  static const uint8_t mov_ds_cx[] = {0x8e, 0xd9};   /* mov ds, cx */
  memcpy(scratch, mov_ds_cx, sizeof mov_ds_cx);
  uint64_t selector = 0xfff8, zero = 0;
  uc_reg_write(b->uc, UC_X86_REG_RCX, &selector);
  uc_x86_mmr gdt = {0, 0x1000, 0x1ff, 0};
  uc_reg_write(b->uc, UC_X86_REG_GDTR, &gdt);
  /* Selectors mean something in protected mode only. */
  uint64_t cr0 = 0, pe = 0;
  uc_reg_read(b->uc, UC_X86_REG_CR0, &cr0);
  pe = cr0 | CR0_PE;
  uc_reg_write(b->uc, UC_X86_REG_CR0, &pe);
  /* The #DE of find_old_exception would turn this #GP into #DF. */
  put32(b->env + b->old_exception, UINT32_MAX);
  size_t found = SIZE_MAX;
  if (snapshot_take(b, snap)) {
    uc_hook h;
    uc_hook_add(b->uc, &h, UC_HOOK_INTR, (void *)stop_on_intr, NULL, 1, 0);
    uc_emu_start(b->uc, scratch_pa, scratch_pa + sizeof mov_ds_cx, 0, 1);
    uc_hook_del(b->uc, h);
    found = changed_field(b, snap, 4, 0, selector);
  }
  put32(b->env + b->old_exception, UINT32_MAX);
  uc_reg_write(b->uc, UC_X86_REG_RCX, &zero);
  uc_reg_write(b->uc, UC_X86_REG_CR0, &cr0);
  memcpy(scratch, saved, 2);
  return found;
}

/* Writes register `reg` (`width` bytes) twice through the API and returns
 * the one field of that width that followed. */
static size_t find_register(struct uc_bridge *b, struct snapshot *snap, int reg, unsigned width, uint32_t a, uint32_t v)
{
  uc_reg_write(b->uc, reg, &a);
  if (!snapshot_take(b, snap)) return SIZE_MAX;
  uc_reg_write(b->uc, reg, &v);
  return changed_field(b, snap, width, a, v);
}

/* QEMU 5.0 computes SSE arithmetic in softfloat and keeps the exception
 * flags it raises in its SSE float_status, never in MXCSR, and raises no
 * #XF (sim/fpu_except.h). The status's rounding-mode byte is the one byte
 * an MXCSR.RC write from nearest (0) to up (2) changes; its flags byte
 * follows it. Checked by running one instruction per flag and comparing
 * the byte with softfloat's encoding of what the SDM says the operation
 * raises ("SIMD Floating-Point Exception Conditions"). */
static size_t find_sse_flags(struct uc_bridge *b, struct snapshot *snap, uint8_t *scratch, uint64_t scratch_pa)
{
  uint32_t mxcsr = 0x1f80, round_up = 0x5f80;
  uc_reg_write(b->uc, UC_X86_REG_MXCSR, &mxcsr);
  if (!snapshot_take(b, snap)) return SIZE_MAX;
  uc_reg_write(b->uc, UC_X86_REG_MXCSR, &round_up);
  size_t rounding = changed_field(b, snap, 1, 0, 2);   /* float_round_nearest_even, float_round_up */
  uc_reg_write(b->uc, UC_X86_REG_MXCSR, &mxcsr);
  if (rounding == SIZE_MAX || b->env[rounding] != 0) return SIZE_MAX;
  size_t flags = rounding + 1;
  uint64_t cr4 = 0, sse = 0;
  uc_reg_read(b->uc, UC_X86_REG_CR4, &cr4);
  sse = cr4 | CR4_OSFXSR;
  uc_reg_write(b->uc, UC_X86_REG_CR4, &sse);
  uint8_t saved[4];
  memcpy(saved, scratch, 4);
  static const struct { uint8_t op; float x, y; uint8_t raised; } probes[] = {
    {0x5e, 1.0f, 0.0f, UC_BRIDGE_SSE_ZERO_DIVIDE},                             /* divss: 1 / 0 */
    {0x5e, 0.0f, 0.0f, UC_BRIDGE_SSE_INVALID},                                 /* divss: 0 / 0 */
    {0x5e, 1.0f, 3.0f, UC_BRIDGE_SSE_INEXACT},                                 /* divss: 1 / 3 */
    {0x59, 3e38f, 3e38f, UC_BRIDGE_SSE_OVERFLOW | UC_BRIDGE_SSE_INEXACT},      /* mulss: too large */
    {0x59, 1e-38f, 0.3f, UC_BRIDGE_SSE_UNDERFLOW | UC_BRIDGE_SSE_INEXACT},     /* mulss: tiny, inexact */
  };
  bool agree = true;
  for (size_t i = 0; i < sizeof probes / sizeof *probes && agree; i++) {
    const uint8_t code[4] = {0xf3, 0x0f, probes[i].op, 0xc1};   /* op xmm0, xmm1 */
    memcpy(scratch, code, 4);
    uint8_t x[16] = {0}, y[16] = {0};
    memcpy(x, &probes[i].x, 4);
    memcpy(y, &probes[i].y, 4);
    uc_reg_write(b->uc, UC_X86_REG_XMM0, x);
    uc_reg_write(b->uc, UC_X86_REG_XMM1, y);
    b->env[flags] = 0;
    uc_hook h;
    uc_hook_add(b->uc, &h, UC_HOOK_INTR, (void *)stop_on_intr, NULL, 1, 0);
    uc_emu_start(b->uc, scratch_pa, scratch_pa + 4, 0, 1);
    uc_hook_del(b->uc, h);
    uc_ctl_remove_cache(b->uc, scratch_pa, scratch_pa + 4);
    agree = b->env[flags] == probes[i].raised;
  }
  b->env[flags] = 0;
  memcpy(scratch, saved, 4);
  uc_reg_write(b->uc, UC_X86_REG_CR4, &cr4);
  /* XMM registers are 0 after RESET ("Processor State Following
   * Power-up"). */
  const uint8_t zero[16] = {0};
  uc_reg_write(b->uc, UC_X86_REG_XMM0, zero);
  uc_reg_write(b->uc, UC_X86_REG_XMM1, zero);
  return agree ? flags : SIZE_MAX;
}

/* Readable, writable, non-executable private mappings of this process
 * (where Unicorn's heap lives), except the guest's RAM and anything too
 * large to be a heap. Calls `visit` on each until it returns true. */
static bool for_each_heap_mapping(const uint8_t *ram, bool (*visit)(uint8_t *lo, uint8_t *hi, void *arg), void *arg)
{
  FILE *f = fopen("/proc/self/maps", "r");
  if (!f) return false;
  char line[512];
  bool done = false;
  while (!done && fgets(line, sizeof line, f)) {
    unsigned long lo, hi;
    char perms[5];
    if (sscanf(line, "%lx-%lx %4s", &lo, &hi, perms) != 3) continue;
    if (strcmp(perms, "rw-p") != 0 || hi - lo > (1ul << 30)) continue;
    if ((uintptr_t)ram >= lo && (uintptr_t)ram < hi) continue;
    done = visit((uint8_t *)lo, (uint8_t *)hi, arg);
  }
  fclose(f);
  return done;
}

struct env_search { const uint64_t *pattern; size_t words; uint8_t *found[4]; unsigned hits; const uint8_t *skip; };

/* Reads whole mappings, including memory no object owns: the address
 * sanitizer must not check these reads. Pages never touched cannot hold
 * the registers just written and are skipped (mincore), so that large
 * reserved areas cost nothing. */
__attribute__((no_sanitize_address)) static bool search_mapping(uint8_t *lo, uint8_t *hi, void *arg)
{
  struct env_search *s = arg;
  size_t len = s->words * 8, page = 4096;
  unsigned char resident[256];
  for (uint8_t *chunk = lo; chunk < hi; chunk += sizeof resident * page) {
    size_t pages = (size_t)(hi - chunk) / page;
    if (pages > sizeof resident) pages = sizeof resident;
    if (mincore(chunk, pages * page, resident) != 0) memset(resident, 1, pages);
    for (size_t i = 0; i < pages; i++) {
      if (!(resident[i] & 1)) continue;
      for (uint8_t *p = chunk + i * page; p < chunk + (i + 1) * page && p + len <= hi; p += 8) {
        const uint64_t *w = (const uint64_t *)p;
        if (w[0] != s->pattern[0] || w[1] != s->pattern[1]) continue;
        size_t k = 2;
        while (k < s->words && w[k] == s->pattern[k]) k++;
        if (k < s->words || p == s->skip) continue;
        if (s->hits < 4) s->found[s->hits] = p;
        s->hits++;
      }
    }
  }
  return false;
}

/* Finds Unicorn's live CPU state: the one place in the heap holding the
 * general registers written through the API, which follows further writes
 * through the API and whose writes the API reads back. */
static uint8_t *find_live_env(struct uc_bridge *b, const uint8_t *ram)
{
  uint64_t pattern[GPR_COUNT];
  for (int i = 0; i < GPR_COUNT; i++) {
    pattern[i] = 0x6876736d00000000ull | (uint64_t)(i * 0x1357 + 0x2468);
    uc_reg_write(b->uc, gpr_ids[i], &pattern[i]);
  }
  struct env_search s = {.pattern = pattern, .words = GPR_COUNT, .skip = (const uint8_t *)pattern};
  for_each_heap_mapping(ram, search_mapping, &s);
  if (s.hits == 0 || s.hits > 4) return NULL;
  uint8_t *env = NULL;
  for (unsigned i = 0; i < s.hits; i++) {
    uint64_t v = 0x7777000011112222ull + i, back = 0;
    uc_reg_write(b->uc, UC_X86_REG_RAX, &v);
    if (get64(s.found[i]) != v) continue;
    put64(s.found[i] + 8 * GPR_RBX, v ^ 0xffff);
    uc_reg_read(b->uc, UC_X86_REG_RBX, &back);
    if (back != (v ^ 0xffff)) continue;
    if (env) return NULL;   /* two live copies: not the layout we know */
    env = s.found[i];
  }
  return env;
}

bool uc_bridge_init(struct uc_bridge *b, struct uc_struct *uc, uint8_t *scratch, uint64_t scratch_pa, char *err, size_t n)
{
  *b = (struct uc_bridge){.uc = uc, .smap_copy = -1};
  struct snapshot snap = {0};
  b->env = find_live_env(b, scratch);
  if (!b->env || uc_context_size(uc) < ENV_CR + 5 * 8) goto unknown;

  /* The fixed offsets, checked against the API. */
  uc_x86_mmr gdt = {0, 0x123456789abcull, 0x1ff, 0}, idt = {0, 0xfedcba98700ull, 0xfff, 0};
  uc_reg_write(uc, UC_X86_REG_GDTR, &gdt);
  uc_reg_write(uc, UC_X86_REG_IDTR, &idt);
  uint64_t rip = 0x1234567, cr0 = 0;
  uc_reg_write(uc, UC_X86_REG_RIP, &rip);
  uc_reg_read(uc, UC_X86_REG_CR0, &cr0);
  uint8_t *e = b->env;
  if (get64(e + ENV_EIP) != rip) goto unknown;
  if (get64(e + ENV_GDT + SC_BASE) != gdt.base || get32(e + ENV_GDT + SC_LIMIT) != gdt.limit) goto unknown;
  if (get64(e + ENV_IDT + SC_BASE) != idt.base || get32(e + ENV_IDT + SC_LIMIT) != idt.limit) goto unknown;
  if (get64(e + ENV_CR) != cr0) goto unknown;
  /* RFLAGS.AC where uc_bridge_cpl0_without_ac reads it. */
  uint64_t rflags = RFLAGS_FIXED1 | RFLAGS_AC;
  uc_reg_write(uc, UC_X86_REG_RFLAGS, &rflags);
  if (!(get64(e + ENV_EFLAGS) & RFLAGS_AC)) goto unknown;
  rflags = RFLAGS_FIXED1;
  uc_reg_write(uc, UC_X86_REG_RFLAGS, &rflags);
  if (get64(e + ENV_EFLAGS) & RFLAGS_AC) goto unknown;
  uc_x86_mmr ldt = {0x28, 0x5a5a000, 0x77, 0x8200}, back = {0};
  /* CR0's MP, EM and TS in QEMU's mode flags (uc_bridge_set_cr). */
  for (uint64_t bits = CR0_MP; bits <= CR0_TS; bits <<= 1) {
    uint64_t v = cr0 | bits;
    uc_reg_write(uc, UC_X86_REG_CR0, &v);
    if ((get32(e + ENV_HFLAGS) & HF_CR0_MASK) != (uint32_t)bits << (HF_MP_SHIFT - 1)) goto unknown;
  }
  uc_reg_write(uc, UC_X86_REG_CR0, &cr0);
  uc_reg_write(uc, UC_X86_REG_LDTR, &ldt);
  if (get64(e + ENV_LDT + SC_BASE) != ldt.base || get32(e + ENV_LDT + SC_LIMIT) != ldt.limit) goto unknown;
  put64(e + ENV_TR + SC_BASE, 0x3c3c000);
  uc_reg_read(uc, UC_X86_REG_TR, &back);
  if (back.base != 0x3c3c000) goto unknown;

  /* The rest by what one write through the API changes. */
  /* EFER: NXE, then NXE|SCE, keeping the long-mode bits Unicorn starts with. */
  uc_x86_msr efer = {0xc0000080, 0};
  uc_reg_read(uc, UC_X86_REG_MSR, &efer);
  efer.value = (efer.value | EFER_NXE) & ~EFER_SCE;
  b->efer = find_msr(b, &snap, 0xc0000080, 8, efer.value, efer.value | EFER_SCE);
  b->pat = find_msr(b, &snap, 0x277, 8, 0x0007040600070406ull, 0x0006040600070406ull);
  b->star = find_msr(b, &snap, 0xc0000081, 8, 0x0023001000000001ull, 0x0023001000000002ull);
  b->lstar = find_msr(b, &snap, 0xc0000082, 8, 0xffff800000001000ull, 0xffff800000002000ull);
  b->cstar = find_msr(b, &snap, 0xc0000083, 8, 0xffff800000003000ull, 0xffff800000004000ull);
  b->fmask = find_msr(b, &snap, 0xc0000084, 8, 0x4700, 0x4701);
  b->kernel_gs_base = find_msr(b, &snap, 0xc0000102, 8, 0xffff800000005000ull, 0xffff800000006000ull);
  b->sysenter_cs = find_msr(b, &snap, 0x174, 4, 0x5e08, 0x5e10);
  b->sysenter_esp = find_msr(b, &snap, 0x175, 8, 0xffff800000007000ull, 0xffff800000008000ull);
  b->sysenter_eip = find_msr(b, &snap, 0x176, 8, 0xffff800000009000ull, 0xffff80000000a000ull);
  uint64_t dr0 = 0x1111000;
  uc_reg_write(uc, UC_X86_REG_DR0, &dr0);
  if (!snapshot_take(b, &snap)) goto unknown;
  dr0 = 0x2222000;
  uc_reg_write(uc, UC_X86_REG_DR0, &dr0);
  b->dr = changed_field(b, &snap, 8, 0x1111000, 0x2222000);
  b->old_exception = find_old_exception(b, &snap, scratch, scratch_pa);
  b->error_code = find_error_code(b, &snap, scratch, scratch_pa);
  b->exit_word = find_exit_word(b, scratch, scratch_pa);
  b->fpus = find_register(b, &snap, UC_X86_REG_FPSW, 2, 0, 0x81);
  b->fpuc = find_register(b, &snap, UC_X86_REG_FPCW, 2, 0x37f, 0x37b);
  b->mxcsr = find_register(b, &snap, UC_X86_REG_MXCSR, 4, 0x1f80, 0x1d80);
  b->sse_flags = find_sse_flags(b, &snap, scratch, scratch_pa);
  uint16_t fsw = 0, fcw = 0x37f;
  uint32_t mxcsr = 0x1f80;
  uc_reg_write(uc, UC_X86_REG_FPSW, &fsw);
  uc_reg_write(uc, UC_X86_REG_FPCW, &fcw);
  uc_reg_write(uc, UC_X86_REG_MXCSR, &mxcsr);
  const size_t *found[] = {&b->efer, &b->pat, &b->star, &b->lstar, &b->cstar, &b->fmask, &b->kernel_gs_base,
                           &b->sysenter_cs, &b->sysenter_esp, &b->sysenter_eip, &b->dr, &b->old_exception,
                           &b->error_code, &b->fpus, &b->fpuc, &b->mxcsr, &b->sse_flags};
  for (size_t i = 0; i < sizeof found / sizeof *found; i++)
    if (*found[i] == SIZE_MAX) goto unknown;
  /* DR7 sits at DR0 + 7 slots: a write through the API shows there. */
  uint64_t dr7 = 0x401;
  uc_reg_write(uc, UC_X86_REG_DR7, &dr7);
  if (get64(e + b->dr + 56) != dr7) goto unknown;
  dr7 = 0x400;
  uc_reg_write(uc, UC_X86_REG_DR7, &dr7);
  free(snap.bytes);
  return true;

unknown:
  free(snap.bytes);
  snprintf(err, n, "this Unicorn build's CPU state layout is not the one hvsim knows "
                   "(Unicorn 2.1.x expected; run scripts/deps.sh)");
  b->env = NULL;
  return false;
}

void uc_bridge_fini(struct uc_bridge *b) { b->env = NULL; }

uint64_t uc_bridge_gpr(struct uc_bridge *b, enum gpr r) { return get64(b->env + ENV_REGS + 8 * r); }

void uc_bridge_set_gpr(struct uc_bridge *b, enum gpr r, uint64_t v) { put64(b->env + ENV_REGS + 8 * r, v); }

uint32_t uc_bridge_error_code(struct uc_bridge *b) { return get32(b->env + b->error_code); }

uint64_t uc_bridge_rip(struct uc_bridge *b) { return get64(b->env + ENV_EIP); }

/* Through the API: inside a hook, a new RIP also makes Unicorn leave the
 * current translation block and go on from there. */
void uc_bridge_set_rip(struct uc_bridge *b, uint64_t rip) { uc_reg_write(b->uc, UC_X86_REG_RIP, &rip); }

void uc_bridge_redirect(struct uc_bridge *b, uint64_t rip)
{
  if (!b->exit_word) { uc_bridge_set_rip(b, rip); return; }
  put64(b->env + ENV_EIP, rip);
  uint16_t leave_block = 0xffff;
  memcpy(b->env + b->exit_word, &leave_block, 2);
}

/* Through the API: while Unicorn executes, the arithmetic flags live in
 * QEMU's lazy condition-code state, not in the EFLAGS field. */
uint64_t uc_bridge_rflags(struct uc_bridge *b)
{
  uint64_t v = 0;
  uc_reg_read(b->uc, UC_X86_REG_RFLAGS, &v);
  return v;
}

void uc_bridge_set_rflags(struct uc_bridge *b, uint64_t v) { uc_reg_write(b->uc, UC_X86_REG_RFLAGS, &v); }

void uc_bridge_mode(struct uc_bridge *b, struct cpu_mode *out)
{
  uint32_t hflags = get32(b->env + ENV_HFLAGS);
  *out = (struct cpu_mode){hflags & HF_CPL_MASK, (hflags & HF_CS64_MASK) != 0, (hflags & HF_CS32_MASK) != 0};
}

static const int cr_ids[] = {UC_X86_REG_CR0, UC_X86_REG_CR1, UC_X86_REG_CR2, UC_X86_REG_CR3, UC_X86_REG_CR4};

/* CR0 and CR4 through the API (Unicorn recomputes its mode flags), and
 * only when they change. */
/* QEMU's copy of CR4.SMAP as the steering wants it; QEMU's CR4 update
 * path sets it from CR4 (already cut to the features its CPU has). */
static void steer(struct uc_bridge *b)
{
  uint32_t hflags = get32(b->env + ENV_HFLAGS) & ~HF_SMAP_MASK;
  bool copy = b->smap_copy < 0 ? (get64(b->env + ENV_CR + 8 * 4) & CR4_SMAP) != 0 : b->smap_copy;
  put32(b->env + ENV_HFLAGS, hflags | (copy ? HF_SMAP_MASK : 0));
}

void uc_bridge_steer_tlb_index(struct uc_bridge *b, int copy)
{
  b->smap_copy = copy;
  steer(b);
}

void uc_bridge_set_cr(struct uc_bridge *b, int cr, uint64_t v)
{
  /* CR4.VMXE is the model's: Unicorn's copy keeps it clear. */
  if (cr == 4) v &= ~CR4_VMXE;
  if (get64(b->env + ENV_CR + 8 * cr) == v) return;
  /* Unicorn translates through the model (its virtual-TLB mode): CR2 and
   * CR3 are plain values to it, and the machine flushes Unicorn's TLB
   * itself on every change of translation context. */
  if (cr == 2 || cr == 3) { put64(b->env + ENV_CR + 8 * cr, v); return; }
  /* So is CR0 while PE and PG stay: QEMU would only copy MP, EM and TS to
   * its mode flags, and flush its TLB for a change of WP, which the
   * machine's own flush covers. */
  uint64_t old = get64(b->env + ENV_CR);
  if (cr == 0 && !((old ^ v) & (CR0_PE | CR0_PG))) {
    put64(b->env + ENV_CR, v | CR0_ET);
    uint32_t hflags = get32(b->env + ENV_HFLAGS);
    put32(b->env + ENV_HFLAGS, (hflags & ~HF_CR0_MASK) | ((uint32_t)v << (HF_MP_SHIFT - 1) & HF_CR0_MASK));
    return;
  }
  uc_reg_write(b->uc, cr_ids[cr], &v);
  if (cr == 4) steer(b);
}

void uc_bridge_set_efer(struct uc_bridge *b, uint64_t efer)
{
  /* EFER.SVME is the model's: Unicorn cannot hold it (ORACLES.md). */
  efer &= ~EFER_SVME;
  if (get64(b->env + b->efer) == efer) return;
  uc_x86_msr msr = {0xc0000080, efer};
  uc_reg_write(b->uc, UC_X86_REG_MSR, &msr);
}

static void store_segment(uint8_t *sc, const struct segment *s)
{
  put32(sc + SC_SELECTOR, s->selector);
  put64(sc + SC_BASE, s->base);
  put32(sc + SC_LIMIT, s->limit);
  put32(sc + SC_FLAGS, ar_to_flags(s->ar));
}

static struct segment fetch_segment(const uint8_t *sc)
{
  return (struct segment){(uint16_t)get32(sc + SC_SELECTOR), get64(sc + SC_BASE), get32(sc + SC_LIMIT),
                          flags_to_ar(get32(sc + SC_FLAGS))};
}

/* QEMU's mode flags as its segment-load path would compute them. */
static uint32_t mode_hflags(uint32_t hflags, const struct cpu_state *s)
{
  hflags &= ~(HF_CPL_MASK | HF_CS32_MASK | HF_SS32_MASK | HF_ADDSEG_MASK | HF_CS64_MASK | HF_LMA_MASK);
  /* IA-32e mode as the model has it: Unicorn starts in 64-bit mode with
   * QEMU's LMA flag set, and its WRMSR keeps EFER.LMA, so a 32-bit guest
   * would have its LTR and IRET with NT run as in IA-32e mode. */
  if (s->efer & EFER_LMA) hflags |= HF_LMA_MASK;
  uint32_t cs = ar_to_flags(s->seg[SEG_CS].ar), ss = ar_to_flags(s->seg[SEG_SS].ar);
  /* Unusable SS still has a DPL in the VMCS; CPL is SS.DPL (SDM Vol. 3C,
   * "Checks on Guest Segment Registers"). */
  hflags |= cpu_cpl(s) & HF_CPL_MASK;
  if ((s->efer & EFER_LMA) && (cs & DESC_L_MASK)) {
    hflags |= HF_CS32_MASK | HF_SS32_MASK | HF_CS64_MASK;
    return hflags;
  }
  if (cs & DESC_B_MASK) hflags |= HF_CS32_MASK;
  if (ss & DESC_B_MASK) hflags |= HF_SS32_MASK;
  if (!(s->cr0 & CR0_PE) || (s->rflags & RFLAGS_VM) || !(hflags & HF_CS32_MASK))
    hflags |= HF_ADDSEG_MASK;
  else if (s->seg[SEG_DS].base | s->seg[SEG_ES].base | s->seg[SEG_SS].base)
    hflags |= HF_ADDSEG_MASK;
  return hflags;
}

static const int dr_ids[8] = {UC_X86_REG_DR0, UC_X86_REG_DR1, UC_X86_REG_DR2, UC_X86_REG_DR3,
                              UC_X86_REG_DR4, UC_X86_REG_DR5, UC_X86_REG_DR6, UC_X86_REG_DR7};

void uc_bridge_store(struct uc_bridge *b, const struct cpu_state *s)
{
  uint8_t *e = b->env;
  /* EFER before CR0 so that Unicorn's own long-mode activation agrees. */
  uc_bridge_set_efer(b, s->efer);
  uc_bridge_set_cr(b, 4, s->cr4);
  uc_bridge_set_cr(b, 3, s->cr3);
  uc_bridge_set_cr(b, 0, s->cr0);
  uc_bridge_set_cr(b, 2, s->cr2);
  /* Debug registers through the API: DR7 arms QEMU's breakpoints. */
  for (int i = 0; i < 8; i++) {
    if (i == 4 || i == 5 || get64(e + b->dr + 8 * i) == s->dr[i]) continue;
    uc_reg_write(b->uc, dr_ids[i], &s->dr[i]);
  }
  uc_bridge_store_registers(b, s);
  put64(e + ENV_GDT + SC_BASE, s->gdtr.base);
  put32(e + ENV_GDT + SC_LIMIT, s->gdtr.limit);
  put64(e + ENV_IDT + SC_BASE, s->idtr.base);
  put32(e + ENV_IDT + SC_LIMIT, s->idtr.limit);
  store_segment(e + ENV_LDT, &s->seg[SEG_LDTR]);
  store_segment(e + ENV_TR, &s->seg[SEG_TR]);
  for (int i = 0; i < 6; i++) store_segment(e + ENV_SEGS + i * SEGCACHE_SIZE, &s->seg[i]);
  put64(e + b->star, s->star);
  put64(e + b->lstar, s->lstar);
  put64(e + b->cstar, s->cstar);
  put64(e + b->fmask, s->sfmask);
  put64(e + b->kernel_gs_base, s->kernel_gs_base);
  put32(e + b->sysenter_cs, (uint32_t)s->sysenter_cs);
  put64(e + b->sysenter_esp, s->sysenter_esp);
  put64(e + b->sysenter_eip, s->sysenter_eip);
  put64(e + b->pat, s->pat);
  put32(e + ENV_HFLAGS, mode_hflags(get32(e + ENV_HFLAGS), s));
  steer(b);
}

/* The flag is part of the key QEMU looks translated blocks up by, so
 * setting it makes the next instruction a block of its own, as after a
 * guest STI. */
void uc_bridge_set_inhibited(struct uc_bridge *b, bool on)
{
  uint32_t hflags = get32(b->env + ENV_HFLAGS) & ~UC_BRIDGE_HF_INHIBIT_IRQ;
  put32(b->env + ENV_HFLAGS, hflags | (on ? UC_BRIDGE_HF_INHIBIT_IRQ : 0));
}

void uc_bridge_store_registers(struct uc_bridge *b, const struct cpu_state *s)
{
  /* Unicorn never delivers the exceptions it raises (the model does), so
   * QEMU's memory of the last one must not turn the next into #DF. */
  put32(b->env + b->old_exception, (uint32_t)-1);
  memcpy(b->env + ENV_REGS, s->gpr, sizeof s->gpr);
  uc_bridge_redirect(b, s->rip);
  uc_reg_write(b->uc, UC_X86_REG_RFLAGS, &s->rflags);
}

void uc_bridge_fetch(struct uc_bridge *b, struct cpu_state *s)
{
  const uint8_t *e = b->env;
  memcpy(s->gpr, e + ENV_REGS, sizeof s->gpr);
  s->rip = get64(e + ENV_EIP);
  s->rflags = uc_bridge_rflags(b);
  /* CR0/CR3/CR4/EFER are written only by the model (every write to them is
   * intercepted), so the model's copies are authoritative; CR2 too. */
  for (int i = 0; i < 8; i++) s->dr[i] = get64(e + b->dr + 8 * i);
  s->gdtr = (struct dtable){get64(e + ENV_GDT + SC_BASE), get32(e + ENV_GDT + SC_LIMIT)};
  s->idtr = (struct dtable){get64(e + ENV_IDT + SC_BASE), get32(e + ENV_IDT + SC_LIMIT)};
  s->seg[SEG_LDTR] = fetch_segment(e + ENV_LDT);
  s->seg[SEG_TR] = fetch_segment(e + ENV_TR);
  s->star = get64(e + b->star);
  s->lstar = get64(e + b->lstar);
  s->cstar = get64(e + b->cstar);
  s->sfmask = get64(e + b->fmask);
  s->kernel_gs_base = get64(e + b->kernel_gs_base);
  s->sysenter_cs = get32(e + b->sysenter_cs);
  s->sysenter_esp = get64(e + b->sysenter_esp);
  s->sysenter_eip = get64(e + b->sysenter_eip);
  for (int i = 0; i < 6; i++) {
    s->seg[i] = fetch_segment(e + ENV_SEGS + i * SEGCACHE_SIZE);
    /* Loading a code or data segment register sets the descriptor's
     * accessed bit, so the cached type always has it (SDM Vol. 3A,
     * "Segment Descriptors"); QEMU leaves it clear when IRET or a far
     * transfer loads CS, and a VM exit would save that into the VMCS. */
    if ((s->seg[i].ar & SEG_AR_S) && !(s->seg[i].ar & SEG_AR_UNUSABLE)) s->seg[i].ar |= 1;
  }
}
