/* Block decoding and code hooks for the system instructions (see
 * intercept.h for the scheme). */
#include "sim/intercept.h"

#include <stdlib.h>
#include <string.h>
#include <unicorn/unicorn.h>

#include "sim/machine.h"
#include "sim/sysinsn.h"

/* The bytes of a code page when its blocks were decoded, and the
 * generation its decoded blocks must carry to be current: a new one
 * whenever the bytes change (which forgets them all at once). */
struct code_page { uint64_t la, pa, generation; uint8_t bytes[4096]; };
#define CODE_PAGES 256          /* direct-mapped by a hash of both page numbers */
#define CODE_CHUNK 64           /* bytes compared at once to find what changed */

/* A decoded translation block. */
struct code_block { uint64_t la, pa, generation; uint32_t size; uint16_t icount; uint8_t mode; };
#define CODE_BLOCKS 16384       /* direct-mapped by a hash of both addresses */

/* Linear-to-physical code pages of Unicorn's TLB since its last flush, in
 * the part of it that was filled (sim/uc_tlb.c). */
struct fetch_page { uint64_t la, pa, generation; int part; };
#define FETCH_PAGES 1024

/* A hooked instruction as decoded last time, with its bytes: a hook fires
 * at the same few addresses over and over (a hypervisor's VMREAD and
 * VMWRITE), and comparing at most 15 bytes is much cheaper than decoding. */
struct decoded_insn { uint64_t pa; uint8_t code_size; uint8_t bytes[15]; struct insn in; /* in.rip: the key */ };
#define DECODED_INSN_BITS 8
#define DECODED_INSNS (1u << DECODED_INSN_BITS)   /* direct-mapped by a hash of the address */

/* A placed code hook: Unicorn walks the list of all of them at every
 * hooked instruction it runs, so those that stopped firing are removed
 * (intercepts_sweep). */
struct hook_slot { uint64_t la; uc_hook h; uint64_t fires; };

struct intercepts {
  struct machine *m;
  const struct uc_bridge *bridge;
  struct hook_slot *hooked;    /* open addressing by address */
  size_t cap, count;
  uint64_t next_sweep;         /* `handled` at which hooks_sweep runs next */
  uint64_t hooks, handled;
  unsigned classes;            /* conditional classes hooked when seen */
  struct code_page *pages;     /* CODE_PAGES */
  struct code_block *blocks;   /* CODE_BLOCKS */
  struct fetch_page fetch[FETCH_PAGES];
  struct decoded_insn decoded[DECODED_INSNS];
  uint64_t generation;         /* of Unicorn's TLB: bumped by every flush */
  uint64_t page_generations;   /* handed out to code pages, never twice */
  uint64_t retranslate_la;     /* a block to translate again, or UINT64_MAX */
  uint32_t retranslate_size;
};

#define EMPTY UINT64_MAX

static uint64_t page_hash(uint64_t la, uint64_t pa)
{
  return ((la >> 12) * 0x9e3779b97f4a7c15ull ^ (pa >> 12) * 0xff51afd7ed558ccdull) * 0x9e3779b97f4a7c15ull;
}

static void intercept_hook(uc_engine *uc, uint64_t address, uint32_t size, void *user);

static size_t slot_of(uint64_t la, size_t cap) { return (la * 0x9e3779b97f4a7c15ull) >> 20 & (cap - 1); }

static bool set_grow(struct intercepts *ic, size_t ncap)
{
  struct hook_slot *n = malloc(ncap * sizeof *n);
  if (!n) return false;
  for (size_t i = 0; i < ncap; i++) n[i].la = EMPTY;
  for (size_t i = 0; i < ic->cap; i++) {
    if (ic->hooked[i].la == EMPTY) continue;
    size_t j = slot_of(ic->hooked[i].la, ncap);
    while (n[j].la != EMPTY) j = (j + 1) & (ncap - 1);
    n[j] = ic->hooked[i];
  }
  free(ic->hooked);
  ic->hooked = n;
  ic->cap = ncap;
  return true;
}

/* The slot of `la`, or of where it would go (la EMPTY). */
static struct hook_slot *set_find(struct intercepts *ic, uint64_t la)
{
  size_t j = slot_of(la, ic->cap);
  while (ic->hooked[j].la != EMPTY && ic->hooked[j].la != la) j = (j + 1) & (ic->cap - 1);
  return &ic->hooked[j];
}

/* ---- code pages and their decoded blocks --------------------------------- */

static struct code_page *page_slot(struct intercepts *ic, uint64_t page_la, uint64_t page_pa)
{
  return &ic->pages[page_hash(page_la, page_pa) >> 56];
}

/* Starts watching the page with a fresh generation: none of its blocks
 * decoded so far is current. */
static void watch_page(struct intercepts *ic, struct code_page *cp, uint64_t page_la, uint64_t page_pa, const uint8_t *p)
{
  cp->la = page_la;
  cp->pa = page_pa;
  cp->generation = ++ic->page_generations;
  memcpy(cp->bytes, p, 4096);
}

void intercepts_fetch_fill(struct intercepts *ic, uint64_t page_la, uint64_t page_pa, const uint8_t *p)
{
  struct fetch_page *f = &ic->fetch[(page_la >> 12) & (FETCH_PAGES - 1)];
  *f = (struct fetch_page){page_la, page_pa, ic->generation, ic->m->utlb.active};
  ic->m->code_epoch++;
  struct code_page *cp = page_slot(ic, page_la, page_pa);
  if (cp->la != page_la || cp->pa != page_pa) {
    watch_page(ic, cp, page_la, page_pa, p);
    return;
  }
  for (unsigned c = 0; c < 4096; c += CODE_CHUNK) {
    /* Written since its blocks were decoded (self-modifying code, data
     * sharing the page with code)? */
    if (memcmp(cp->bytes + c, p + c, CODE_CHUNK) != 0) {
      watch_page(ic, cp, page_la, page_pa, p);
      return;
    }
  }
}

void intercepts_tlb_flushed(struct intercepts *ic)
{
  ic->generation++;
  ic->m->code_epoch++;
}

/* The physical page behind the linear code page `la` in Unicorn's TLB now,
 * or EMPTY when it is not known. */
static uint64_t fetch_page_pa(struct intercepts *ic, uint64_t page_la)
{
  struct fetch_page *f = &ic->fetch[(page_la >> 12) & (FETCH_PAGES - 1)];
  if (f->la == page_la && f->generation == ic->generation && f->part == ic->m->utlb.active) return f->pa;
  /* Not filled since the flush: Unicorn went on through translation
   * blocks chained to each other, without looking its TLB up. */
  struct mmu_context ctx;
  machine_paging_context(ic->m, &ctx);
  struct mmu_translation t;
  struct mmu_fault fault;
  if (!mmu_translate(&ic->m->mmu, &ctx, page_la, MMU_FETCH, 0, &t, &fault) || t.page_base >= ic->m->ram_size)
    return EMPTY;
  *f = (struct fetch_page){page_la, t.page_base, ic->generation, ic->m->utlb.active};
  return t.page_base;
}

static void hook_address(struct intercepts *ic, uint64_t a)
{
  if (ic->count * 2 >= ic->cap && !set_grow(ic, ic->cap ? ic->cap * 2 : 1024)) return;
  struct hook_slot *slot = set_find(ic, a);
  if (slot->la == a) return;
  *slot = (struct hook_slot){.la = a};
  uc_hook_add(ic->m->uc, &slot->h, UC_HOOK_CODE, (void *)intercept_hook, ic, a, a);
  ic->count++;
  ic->hooks++;
}

/* Decodes the block's instructions, hooks those the model owns and counts
 * them. `*owned`: the block has at least one. */
static unsigned decode_block(struct intercepts *ic, uint64_t la, uint32_t size, const struct cpu_mode *mode, bool *owned)
{
  struct machine *m = ic->m;
  uint8_t bytes[4096 + 15];
  uint32_t len = size < 4096 ? size : 4096;
  *owned = false;
  if (!machine_peek_linear(m, la, bytes, len, false)) return 1;
  ZydisDecoder dec;
  insn_decoder_init(&dec, mode);
  unsigned count = 0;
  for (uint32_t at = 0; at < len; count++) {
    ZydisDecodedInstruction zi;
    if (!ZYAN_SUCCESS(ZydisDecoderDecodeInstruction(&dec, NULL, bytes + at, len - at, &zi))) {
      /* Unicorn ends a block at an instruction it cannot decode either
       * (#UD); one cut by `len` is counted too. */
      count++;
      break;
    }
    if (sysinsn_hooked(&zi, ic->classes)) {
      hook_address(ic, la + at);
      *owned = true;
    }
    at += zi.length;
  }
  return count ? count : 1;
}

unsigned intercepts_enter_block(struct intercepts *ic, uint64_t la, uint32_t size)
{
  uint8_t mode_key = (uint8_t)uc_bridge_code_size(ic->bridge);
  struct cpu_mode mode = {.cs64 = mode_key >> 1, .cs32 = mode_key & 1};
  uint64_t page_la = la & ~0xfffull, pa = fetch_page_pa(ic, page_la);
  bool owned;
  if (pa == EMPTY) return decode_block(ic, la, size, &mode, &owned);   /* not seen through a fill: not remembered */
  struct code_page *cp = page_slot(ic, page_la, pa);
  if (cp->la != page_la || cp->pa != pa) {
    /* Its record gave way to another page's: watch it again from now. */
    watch_page(ic, cp, page_la, pa, ic->m->ram + pa);
  }
  struct code_block *b = &ic->blocks[(page_hash(la, pa) ^ (la & 0xfff) * 0x2545f4914f6cdd1dull) >> 50];
  if (b->size == size && b->la == la && b->pa == pa && b->mode == mode_key && b->generation == cp->generation)
    return b->icount;
  unsigned icount = decode_block(ic, la, size, &mode, &owned);
  *b = (struct code_block){la, pa, cp->generation, size, (uint16_t)icount, mode_key};
  if (!owned) return icount;
  /* Its translation may predate a hook it needs: translate it again before
   * it runs (once; it is remembered as decoded from now on). */
  ic->retranslate_la = la;
  ic->retranslate_size = size;
  return 0;
}

bool intercepts_invalid_at(struct intercepts *ic, uint64_t la)
{
  struct cpu_mode mode;
  uc_bridge_mode(ic->m->bridge, &mode);
  bool owned;
  decode_block(ic, la, 15, &mode, &owned);
  if (!owned) return false;
  if (ic->retranslate_la == UINT64_MAX) {
    ic->retranslate_la = la;
    ic->retranslate_size = 1;
  }
  /* Whether the instruction at `la` itself is hooked now. */
  return ic->retranslate_la == la && set_find(ic, la)->la == la;
}

bool intercepts_classes_missing(const struct intercepts *ic, unsigned classes) { return (classes & ~ic->classes) != 0; }

/* Forgets every decoded block and translation: code runs through
 * decode_block again, which hooks what it needs. */
static void redecode_everything(struct intercepts *ic)
{
  memset(ic->blocks, 0, CODE_BLOCKS * sizeof *ic->blocks);
  ic->m->code_epoch++;
  uc_ctl_flush_tb(ic->m->uc);
}

bool intercepts_sweep_due(const struct intercepts *ic) { return ic->handled >= ic->next_sweep; }

void intercepts_sweep(struct intercepts *ic)
{
  if (!intercepts_sweep_due(ic)) return;
  /* At doubling intervals of handled instructions (a function of the run,
   * so deterministic): boot and set-up code runs its system instructions
   * once, and a hypervisor's exit path a handful over and over. */
  ic->next_sweep = ic->handled * 2;
  size_t removed = 0;
  for (size_t i = 0; i < ic->cap; i++) {
    struct hook_slot *slot = &ic->hooked[i];
    if (slot->la == EMPTY) continue;
    if (slot->fires == 0) {
      uc_hook_del(ic->m->uc, slot->h);
      slot->la = EMPTY;
      removed++;
    }
    slot->fires = 0;
  }
  if (!removed) return;
  ic->count -= removed;
  set_grow(ic, ic->cap);   /* rehash the survivors */
  /* A translation still calling a removed hook would run its instruction
   * as Unicorn's own: all code is translated and decoded again, and what
   * runs again is hooked again. Unicorn drops the removed hooks from its
   * list when the current run (uc_emu_start) ends. */
  redecode_everything(ic);
}

bool intercepts_retranslate_pending(const struct intercepts *ic) { return ic->retranslate_la != UINT64_MAX; }

void intercepts_retranslate(struct intercepts *ic)
{
  if (ic->retranslate_la == UINT64_MAX) return;
  uc_ctl_remove_cache(ic->m->uc, ic->retranslate_la, ic->retranslate_la + ic->retranslate_size);
  ic->retranslate_la = UINT64_MAX;
}

void intercepts_want_classes(struct intercepts *ic, unsigned classes)
{
  unsigned added = classes & ~ic->classes;
  ic->classes |= classes;
  if (!added) return;
  /* Code decoded without these classes must be decoded and translated
   * again. */
  redecode_everything(ic);
}

/* The instruction at `address` decoded: the last decode of the same bytes
 * at the same linear and physical address in the same code size when there
 * is one, else a new one. Handlers only read it; it stays valid until the
 * next hook. */
static struct insn *decode_hooked(struct intercepts *ic, uint64_t address, struct insn *scratch)
{
  struct machine *m = ic->m;
  uint64_t page_la = address & ~0xfffull, offset = address & 0xfff;
  uint64_t pa = fetch_page_pa(ic, page_la);
  uint8_t code_size = (uint8_t)uc_bridge_code_size(ic->bridge);
  struct decoded_insn *d = &ic->decoded[(address * 0x9e3779b97f4a7c15ull) >> (64 - DECODED_INSN_BITS)];
  /* A kept decode lies within its page (its bytes are compared there). */
  if (pa != EMPTY && d->in.rip == address && d->pa == pa + offset && d->code_size == code_size &&
      !memcmp(d->bytes, m->ram + pa + offset, d->in.zi.length)) {
    uc_bridge_mode(m->bridge, &d->in.mode);   /* the CPL may differ */
    return &d->in;
  }
  if (pa == EMPTY) return insn_decode(m, address, scratch) ? scratch : NULL;
  d->in.rip = EMPTY;
  if (!insn_decode(m, address, &d->in)) return NULL;
  if (offset + d->in.zi.length > 4096) {
    /* It continues on the next page, which need not follow in physical
     * memory: not kept. */
    *scratch = d->in;
    d->in.rip = EMPTY;
    return scratch;
  }
  d->pa = pa + offset;
  d->code_size = code_size;
  memcpy(d->bytes, m->ram + pa + offset, d->in.zi.length);
  return &d->in;
}

static void intercept_hook(uc_engine *uc, uint64_t address, uint32_t size, void *user)
{
  struct intercepts *ic = user;
  struct machine *m = ic->m;
  if (m->stop != STOP_NONE) return;
  struct insn scratch;
  struct insn *in = decode_hooked(ic, address, &scratch);
  if (!in) return;
  insn_handler fn = sysinsn_handler(in);
  /* A hook placed for other code at this linear address (another address
   * space, code since rewritten) finds an instruction the model does not
   * own: it runs on. */
  if (!sysinsn_hooked(&in->zi, ~0u)) return;
  ic->handled++;
  struct hook_slot *slot = set_find(ic, address);
  if (slot->la == address) slot->fires++;
  if (intercepts_sweep_due(ic)) machine_request_loop_turn(m);
  if (m->dbg.trap_pending) {
    /* The instruction before this one hit a data or I/O breakpoint and
     * this hook came before the machine's own: the trap is delivered first
     * (sim/debug_bp.h), this instruction runs after it. */
    uc_emu_stop(m->uc);
    machine_request_loop_turn(m);
    uc_bridge_set_rip(m->bridge, address);
    return;
  }
  if (m->virt && m->virt->insn_exits && m->virt->insn_exits(m, in)) {
    /* The hypervisor intercepts it: the exit, with the whole state in
     * hand; the instruction does not execute. */
    machine_take_up_in_hook(m, in, true);
    return;
  }
  enum insn_result r = fn(in);
  switch (r) {
  case INSN_NEXT:
    uc_bridge_redirect(m->bridge, in->next_rip);
    return;
  case INSN_FAULTED:
    /* raise_exception stopped Unicorn; keep RIP at the instruction so the
     * fault is precise and the instruction has no effect. */
    uc_bridge_set_rip(m->bridge, address);
    return;
  case INSN_STOPPED:
    return;
  case INSN_DEFERRED:
    if (m->virt && m->virt->execute_in_hook && m->virt->execute_in_hook(m, in)) return;
    machine_take_up_in_hook(m, in, false);
    return;
  case INSN_EXIT:
    machine_take_up_in_hook(m, in, true);
    return;
  case INSN_NATIVE:
    return;
  }
}

struct intercepts *intercepts_create(struct machine *m)
{
  struct intercepts *ic = calloc(1, sizeof *ic);
  if (!ic) return NULL;
  ic->pages = malloc(CODE_PAGES * sizeof *ic->pages);
  ic->blocks = calloc(CODE_BLOCKS, sizeof *ic->blocks);
  if (!ic->pages || !ic->blocks) { intercepts_destroy(ic); return NULL; }
  ic->m = m;
  ic->bridge = m->bridge;
  ic->retranslate_la = UINT64_MAX;
  ic->next_sweep = 1u << 16;
  if (!set_grow(ic, 1024)) { intercepts_destroy(ic); return NULL; }
  for (size_t i = 0; i < CODE_PAGES; i++) ic->pages[i].la = ic->pages[i].pa = EMPTY;
  for (size_t i = 0; i < FETCH_PAGES; i++) ic->fetch[i].la = EMPTY;
  for (size_t i = 0; i < DECODED_INSNS; i++) ic->decoded[i].in.rip = EMPTY;
  return ic;
}

void intercepts_destroy(struct intercepts *ic)
{
  if (!ic) return;
  free(ic->hooked);
  free(ic->pages);
  free(ic->blocks);
  free(ic);
}

uint64_t intercepts_hook_count(const struct intercepts *ic) { return ic->hooks; }
uint64_t intercepts_handled(const struct intercepts *ic) { return ic->handled; }
