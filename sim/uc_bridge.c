/* State transfer between the model and Unicorn (see uc_bridge.h for why a
 * saved context is involved). The CPU-state layout used here is QEMU's
 * CPUX86State for x86-64 targets, which Unicorn 2.x embeds; uc_bridge_init
 * checks every offset it relies on before the first run. */
#include "sim/uc_bridge.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unicorn/unicorn.h>

/* Offsets inside CPUX86State (x86-64 target). */
enum {
  ENV_REGS = 0, ENV_EIP = 128, ENV_HFLAGS = 176, ENV_SEGS = 184, SEGCACHE_SIZE = 24,
  ENV_GDT = ENV_SEGS + 8 * SEGCACHE_SIZE, ENV_IDT = ENV_GDT + SEGCACHE_SIZE,
  ENV_CR = ENV_IDT + SEGCACHE_SIZE,
  SC_SELECTOR = 0, SC_BASE = 8, SC_LIMIT = 16, SC_FLAGS = 20,
};

/* QEMU hflags bits. */
#define HF_CPL_MASK    3u
#define HF_CS32_MASK   (1u << 4)
#define HF_SS32_MASK   (1u << 5)
#define HF_ADDSEG_MASK (1u << 6)
#define HF_CS64_MASK   (1u << 15)
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

static uint8_t *env(struct uc_bridge *b) { return (uint8_t *)b->ctx + b->env_offset; }

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

/* QEMU remembers the last contributory exception or page fault
 * (old_exception) to turn the next one into #DF, and forgets it when it
 * delivers; Unicorn never delivers, so the bridge resets it after every
 * model delivery. Its offset is found by raising one #DE at start-up:
 * the only int32 that goes from -1 to 0. `scratch` is 4 KiB of RAM mapped
 * at guest-physical `scratch_pa`, restored afterwards. */
static bool find_old_exception(struct uc_bridge *b, uint8_t *scratch, uint64_t scratch_pa)
{
  uint8_t saved[4];
  memcpy(saved, scratch, 4);
  static const uint8_t div_ecx[] = {0xf7, 0xf1};   /* div ecx, with ECX = 0 */
  memcpy(scratch, div_ecx, sizeof div_ecx);
  uint64_t zero = 0;
  uc_reg_write(b->uc, UC_X86_REG_RCX, &zero);
  uc_context_save(b->uc, b->ctx);
  size_t size = b->ctx_size - b->env_offset;
  uint8_t *before = malloc(size);
  if (!before) return false;
  memcpy(before, env(b), size);
  uc_hook h;
  uc_hook_add(b->uc, &h, UC_HOOK_INTR, (void *)stop_on_intr, NULL, 1, 0);
  uc_emu_start(b->uc, scratch_pa, scratch_pa + sizeof div_ecx, 0, 1);
  uc_hook_del(b->uc, h);
  memcpy(scratch, saved, 4);
  uc_context_save(b->uc, b->ctx);
  size_t found = 0, hits = 0;
  for (size_t off = 0; off + 4 <= size; off += 4) {
    if ((int32_t)get32(before + off) == -1 && get32(env(b) + off) == 0) found = off, hits++;
  }
  free(before);
  if (hits != 1) return false;
  b->old_exception_offset = found;
  return true;
}

bool uc_bridge_init(struct uc_bridge *b, struct uc_struct *uc, uint8_t *scratch, uint64_t scratch_pa, char *err, size_t n)
{
  *b = (struct uc_bridge){.uc = uc};
  if (uc_context_alloc(uc, &b->ctx) != UC_ERR_OK) {
    snprintf(err, n, "cannot allocate a Unicorn context");
    return false;
  }
  b->ctx_size = uc_context_size(uc);

  /* Write recognisable values through the API, then find and check them. */
  uint64_t pattern[GPR_COUNT];
  for (int i = 0; i < GPR_COUNT; i++) {
    pattern[i] = 0x6876736d00000000ull | (uint64_t)(i * 0x1357 + 0x2468);
    uc_reg_write(uc, gpr_ids[i], &pattern[i]);
  }
  uc_x86_mmr gdt = {0, 0x123456789abcull, 0x1ff, 0}, idt = {0, 0xfedcba98700ull, 0xfff, 0};
  uc_reg_write(uc, UC_X86_REG_GDTR, &gdt);
  uc_reg_write(uc, UC_X86_REG_IDTR, &idt);
  uint64_t rip = 0x1234567, cr0 = 0;
  uc_reg_write(uc, UC_X86_REG_RIP, &rip);
  uc_reg_read(uc, UC_X86_REG_CR0, &cr0);
  uc_context_save(uc, b->ctx);

  const uint8_t *base = (const uint8_t *)b->ctx;
  const uint8_t *found = memmem(base, b->ctx_size, pattern, sizeof pattern);
  if (!found) goto unknown;
  b->env_offset = (size_t)(found - base);
  if (b->env_offset + ENV_CR + 5 * 8 > b->ctx_size) goto unknown;
  uint8_t *e = env(b);
  if (get64(e + ENV_EIP) != rip) goto unknown;
  if (get64(e + ENV_GDT + SC_BASE) != gdt.base || get32(e + ENV_GDT + SC_LIMIT) != gdt.limit) goto unknown;
  if (get64(e + ENV_IDT + SC_BASE) != idt.base || get32(e + ENV_IDT + SC_LIMIT) != idt.limit) goto unknown;
  if (get64(e + ENV_CR) != cr0) goto unknown;
  if (!find_old_exception(b, scratch, scratch_pa)) goto unknown;
  return true;

unknown:
  snprintf(err, n, "this Unicorn build's CPU state layout is not the one hvsim knows "
                   "(Unicorn 2.1.x expected; run scripts/deps.sh)");
  uc_context_free(b->ctx);
  b->ctx = NULL;
  return false;
}

void uc_bridge_fini(struct uc_bridge *b)
{
  if (b->ctx) uc_context_free(b->ctx);
  b->ctx = NULL;
}

uint64_t uc_bridge_gpr(struct uc_bridge *b, enum gpr r)
{
  uint64_t v = 0;
  uc_reg_read(b->uc, gpr_ids[r], &v);
  return v;
}

void uc_bridge_set_gpr(struct uc_bridge *b, enum gpr r, uint64_t v) { uc_reg_write(b->uc, gpr_ids[r], &v); }

uint64_t uc_bridge_rip(struct uc_bridge *b)
{
  uint64_t v = 0;
  uc_reg_read(b->uc, UC_X86_REG_RIP, &v);
  return v;
}

void uc_bridge_set_rip(struct uc_bridge *b, uint64_t rip) { uc_reg_write(b->uc, UC_X86_REG_RIP, &rip); }

uint64_t uc_bridge_rflags(struct uc_bridge *b)
{
  uint64_t v = 0;
  uc_reg_read(b->uc, UC_X86_REG_RFLAGS, &v);
  return v;
}

void uc_bridge_set_rflags(struct uc_bridge *b, uint64_t v) { uc_reg_write(b->uc, UC_X86_REG_RFLAGS, &v); }

void uc_bridge_mode(struct uc_bridge *b, struct cpu_mode *out)
{
  uc_context_save(b->uc, b->ctx);
  uint32_t hflags = get32(env(b) + ENV_HFLAGS);
  *out = (struct cpu_mode){hflags & HF_CPL_MASK, (hflags & HF_CS64_MASK) != 0, (hflags & HF_CS32_MASK) != 0};
}

static const int cr_ids[] = {UC_X86_REG_CR0, UC_X86_REG_CR1, UC_X86_REG_CR2, UC_X86_REG_CR3, UC_X86_REG_CR4};

void uc_bridge_set_cr(struct uc_bridge *b, int cr, uint64_t v)
{
  /* CR4.VMXE is the model's: Unicorn's copy keeps it clear. */
  if (cr == 4) v &= ~CR4_VMXE;
  uc_reg_write(b->uc, cr_ids[cr], &v);
}

void uc_bridge_set_efer(struct uc_bridge *b, uint64_t efer)
{
  /* EFER.SVME is the model's: Unicorn cannot hold it (ORACLES.md). */
  uc_x86_msr msr = {0xc0000080, efer & ~EFER_SVME};
  uc_reg_write(b->uc, UC_X86_REG_MSR, &msr);
}

static void write_msr(struct uc_bridge *b, uint32_t index, uint64_t v)
{
  uc_x86_msr msr = {index, v};
  uc_reg_write(b->uc, UC_X86_REG_MSR, &msr);
}

static uint64_t read_msr(struct uc_bridge *b, uint32_t index)
{
  uc_x86_msr msr = {index, 0};
  uc_reg_read(b->uc, UC_X86_REG_MSR, &msr);
  return msr.value;
}

static void store_dtable(struct uc_bridge *b, int id, const struct dtable *d)
{
  uc_x86_mmr mmr = {0, d->base, d->limit, 0};
  uc_reg_write(b->uc, id, &mmr);
}

static void store_sysseg(struct uc_bridge *b, int id, const struct segment *s)
{
  uc_x86_mmr mmr = {s->selector, s->base, s->limit, ar_to_flags(s->ar)};
  uc_reg_write(b->uc, id, &mmr);
}

/* QEMU's mode flags as its segment-load path would compute them. */
static uint32_t mode_hflags(uint32_t hflags, const struct cpu_state *s)
{
  hflags &= ~(HF_CPL_MASK | HF_CS32_MASK | HF_SS32_MASK | HF_ADDSEG_MASK | HF_CS64_MASK);
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

void uc_bridge_store(struct uc_bridge *b, const struct cpu_state *s)
{
  struct uc_struct *uc = b->uc;
  /* EFER before CR0 so that Unicorn's own long-mode activation agrees. */
  uc_bridge_set_efer(b, s->efer);
  uc_bridge_set_cr(b, 4, s->cr4);
  uc_bridge_set_cr(b, 3, s->cr3);
  uc_bridge_set_cr(b, 0, s->cr0);
  uc_bridge_set_cr(b, 2, s->cr2);
  for (int i = 0; i < GPR_COUNT; i++) uc_reg_write(uc, gpr_ids[i], &s->gpr[i]);
  uc_reg_write(uc, UC_X86_REG_RIP, &s->rip);
  uc_reg_write(uc, UC_X86_REG_RFLAGS, &s->rflags);
  static const int dr_ids[8] = {UC_X86_REG_DR0, UC_X86_REG_DR1, UC_X86_REG_DR2, UC_X86_REG_DR3,
                                UC_X86_REG_DR4, UC_X86_REG_DR5, UC_X86_REG_DR6, UC_X86_REG_DR7};
  for (int i = 0; i < 8; i++) uc_reg_write(uc, dr_ids[i], &s->dr[i]);
  store_dtable(b, UC_X86_REG_GDTR, &s->gdtr);
  store_dtable(b, UC_X86_REG_IDTR, &s->idtr);
  store_sysseg(b, UC_X86_REG_LDTR, &s->seg[SEG_LDTR]);
  store_sysseg(b, UC_X86_REG_TR, &s->seg[SEG_TR]);
  write_msr(b, 0xc0000081, s->star);
  write_msr(b, 0xc0000082, s->lstar);
  write_msr(b, 0xc0000083, s->cstar);
  write_msr(b, 0xc0000084, s->sfmask);
  write_msr(b, 0xc0000102, s->kernel_gs_base);
  write_msr(b, 0x174, s->sysenter_cs);
  write_msr(b, 0x175, s->sysenter_esp);
  write_msr(b, 0x176, s->sysenter_eip);
  write_msr(b, 0x277, s->pat);

  uc_context_save(uc, b->ctx);
  uint8_t *e = env(b);
  for (int i = 0; i < 6; i++) {
    uint8_t *sc = e + ENV_SEGS + i * SEGCACHE_SIZE;
    put32(sc + SC_SELECTOR, s->seg[i].selector);
    put64(sc + SC_BASE, s->seg[i].base);
    put32(sc + SC_LIMIT, s->seg[i].limit);
    put32(sc + SC_FLAGS, ar_to_flags(s->seg[i].ar));
  }
  put32(e + ENV_HFLAGS, mode_hflags(get32(e + ENV_HFLAGS), s));
  put32(e + b->old_exception_offset, (uint32_t)-1);
  uc_context_restore(uc, b->ctx);
}

void uc_bridge_store_registers(struct uc_bridge *b, const struct cpu_state *s)
{
  for (int i = 0; i < GPR_COUNT; i++) uc_reg_write(b->uc, gpr_ids[i], &s->gpr[i]);
  uc_reg_write(b->uc, UC_X86_REG_RIP, &s->rip);
  uc_reg_write(b->uc, UC_X86_REG_RFLAGS, &s->rflags);
}

static void fetch_sysseg(struct uc_bridge *b, int id, struct segment *s)
{
  uc_x86_mmr mmr = {0};
  uc_reg_read(b->uc, id, &mmr);
  *s = (struct segment){mmr.selector, mmr.base, mmr.limit, flags_to_ar(mmr.flags)};
}

void uc_bridge_fetch(struct uc_bridge *b, struct cpu_state *s)
{
  struct uc_struct *uc = b->uc;
  for (int i = 0; i < GPR_COUNT; i++) uc_reg_read(uc, gpr_ids[i], &s->gpr[i]);
  uc_reg_read(uc, UC_X86_REG_RIP, &s->rip);
  uc_reg_read(uc, UC_X86_REG_RFLAGS, &s->rflags);
  /* CR0/CR3/CR4/EFER are written only by the model (every write to them is
   * intercepted), so the model's copies are authoritative; CR2 too. */
  static const int dr_ids[8] = {UC_X86_REG_DR0, UC_X86_REG_DR1, UC_X86_REG_DR2, UC_X86_REG_DR3,
                                UC_X86_REG_DR4, UC_X86_REG_DR5, UC_X86_REG_DR6, UC_X86_REG_DR7};
  for (int i = 0; i < 8; i++) uc_reg_read(uc, dr_ids[i], &s->dr[i]);
  uc_x86_mmr mmr = {0};
  uc_reg_read(uc, UC_X86_REG_GDTR, &mmr);
  s->gdtr = (struct dtable){mmr.base, mmr.limit};
  uc_reg_read(uc, UC_X86_REG_IDTR, &mmr);
  s->idtr = (struct dtable){mmr.base, mmr.limit};
  fetch_sysseg(b, UC_X86_REG_LDTR, &s->seg[SEG_LDTR]);
  fetch_sysseg(b, UC_X86_REG_TR, &s->seg[SEG_TR]);
  s->star = read_msr(b, 0xc0000081);
  s->lstar = read_msr(b, 0xc0000082);
  s->cstar = read_msr(b, 0xc0000083);
  s->sfmask = read_msr(b, 0xc0000084);
  s->kernel_gs_base = read_msr(b, 0xc0000102);
  s->sysenter_cs = read_msr(b, 0x174);
  s->sysenter_esp = read_msr(b, 0x175);
  s->sysenter_eip = read_msr(b, 0x176);

  uc_context_save(uc, b->ctx);
  const uint8_t *e = env(b);
  for (int i = 0; i < 6; i++) {
    const uint8_t *sc = e + ENV_SEGS + i * SEGCACHE_SIZE;
    s->seg[i] = (struct segment){(uint16_t)get32(sc + SC_SELECTOR), get64(sc + SC_BASE),
                                 get32(sc + SC_LIMIT), flags_to_ar(get32(sc + SC_FLAGS))};
    /* Loading a code or data segment register sets the descriptor's
     * accessed bit, so the cached type always has it (SDM Vol. 3A,
     * "Segment Descriptors"); QEMU leaves it clear when IRET or a far
     * transfer loads CS, and a VM exit would save that into the VMCS. */
    if ((s->seg[i].ar & SEG_AR_S) && !(s->seg[i].ar & SEG_AR_UNUSABLE)) s->seg[i].ar |= 1;
  }
}
