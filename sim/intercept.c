/* Page scanning and code hooks for the system instructions (see
 * intercept.h for the scheme). */
#include "sim/intercept.h"

#include <stdlib.h>
#include <string.h>
#include <unicorn/unicorn.h>

#include "sim/machine.h"
#include "sim/sysinsn.h"

/* A page already scanned: where it was and its bytes when scanned. */
struct scanned_page { uint64_t la, pa; uint8_t bytes[4096]; };
#define SCANNED_PAGES 256      /* direct-mapped by a hash of both page numbers (>> 56) */
#define SCAN_BLOCK 64          /* bytes compared at once to find what changed */

struct intercepts {
  struct machine *m;
  uint64_t *hooked;            /* open-addressing set of hooked addresses */
  size_t cap, count;
  uint64_t hooks, handled;
  struct scanned_page *scanned;   /* SCANNED_PAGES of them */
};

#define EMPTY UINT64_MAX

/* Second opcode bytes after 0F that start an instruction the model owns:
 * 01 (group 7: INVLPG, LMSW, XSETBV, MONITOR/MWAIT, RDTSCP, the VMX and SVM
 * instructions without operands, ...), 05 SYSCALL, 06 CLTS, 07 SYSRET,
 * 08 INVD, 09 WBINVD, 20-23 MOV CR/DR, 30 WRMSR, 31 RDTSC, 32 RDMSR,
 * 33 RDPMC, 34 SYSENTER, 35 SYSEXIT, 38 (INVPCID, INVEPT, INVVPID are
 * 0F 38 8x), A2 CPUID, C7 (group 9: RDRAND, RDSEED, VMPTRLD, VMCLEAR,
 * VMXON, VMPTRST), 00 (group 6: SLDT, STR, LLDT, LTR), AA RSM. VMREAD and
 * VMWRITE (0F 78/79) are left to Unicorn's #UD, which reaches the run loop
 * as cheaply as a hook and keeps Unicorn's list of code hooks, walked on
 * every hook that fires, shorter. */
static bool second_byte_owned(uint8_t b)
{
  switch (b) {
  case 0x01: case 0x05: case 0x06: case 0x07: case 0x08: case 0x09: case 0x20: case 0x21: case 0x22:
  case 0x23: case 0x30: case 0x31: case 0x32: case 0x33: case 0x34: case 0x35: case 0x38: case 0xa2:
  case 0xc7: case 0x00: case 0xaa:
    return true;
  }
  return false;
}

/* One-byte opcodes the model owns: F4 HLT, E4-E7 and EC-EF IN/OUT, 6C-6F
 * INS/OUTS, F1 ICEBP. */
static bool one_byte_owned(uint8_t b)
{
  return b == 0xf4 || (b & 0xf4) == 0xe4 || (b & 0xfc) == 0x6c || b == 0xf1;
}

/* Does an instruction the model owns have its opcode at p[i]? PAUSE is
 * F3 90: only a 90 after F3 is a candidate (plain NOPs are everywhere), and
 * an F3 that ends the page may be PAUSE's prefix. */
static bool candidate_at(const uint8_t *p, unsigned i)
{
  if (one_byte_owned(p[i])) return true;
  if (p[i] == 0x0f) return i == 4095 || second_byte_owned(p[i + 1]);
  if (p[i] == 0x90) return i > 0 && p[i - 1] == 0xf3;
  return p[i] == 0xf3 && i == 4095;
}

static bool is_prefix(uint8_t b)
{
  return b == 0x66 || b == 0x67 || b == 0xf2 || b == 0xf3 || b == 0x2e || b == 0x36 || b == 0x3e ||
         b == 0x26 || b == 0x64 || b == 0x65 || b == 0xf0 || (b & 0xf0) == 0x40;
}

static void intercept_hook(uc_engine *uc, uint64_t address, uint32_t size, void *user);

static bool set_insert(struct intercepts *ic, uint64_t a)
{
  if (ic->count * 2 >= ic->cap) {
    size_t ncap = ic->cap ? ic->cap * 2 : 1024;
    uint64_t *n = malloc(ncap * sizeof *n);
    if (!n) return false;
    for (size_t i = 0; i < ncap; i++) n[i] = EMPTY;
    for (size_t i = 0; i < ic->cap; i++) {
      if (ic->hooked[i] == EMPTY) continue;
      size_t j = (ic->hooked[i] * 0x9e3779b97f4a7c15ull) >> 20 & (ncap - 1);
      while (n[j] != EMPTY) j = (j + 1) & (ncap - 1);
      n[j] = ic->hooked[i];
    }
    free(ic->hooked);
    ic->hooked = n;
    ic->cap = ncap;
  }
  size_t j = (a * 0x9e3779b97f4a7c15ull) >> 20 & (ic->cap - 1);
  while (ic->hooked[j] != EMPTY) {
    if (ic->hooked[j] == a) return false;
    j = (j + 1) & (ic->cap - 1);
  }
  ic->hooked[j] = a;
  ic->count++;
  return true;
}

/* Hooks the instruction starts [first, last]: a candidate opcode and the
 * prefix bytes before it. Unicorn walks its whole list of code hooks each
 * time one fires, so one ranged hook per candidate, not one per byte;
 * addresses hooked before (a page scanned again after it changed) are
 * skipped so that no instruction start is hooked twice. */
static void hook_range(struct intercepts *ic, uint64_t first, uint64_t last)
{
  uint64_t run = UINT64_MAX;
  for (uint64_t a = first;; a++) {
    bool fresh = a <= last && set_insert(ic, a);
    if (fresh && run == UINT64_MAX) run = a;
    if (!fresh && run != UINT64_MAX) {
      uc_hook h;
      uc_hook_add(ic->m->uc, &h, UC_HOOK_CODE, (void *)intercept_hook, ic, run, a - 1);
      ic->hooks++;
      run = UINT64_MAX;
    }
    if (a >= last && run == UINT64_MAX) return;
  }
}

/* Hooks the candidates that start in [from, to) of the page at `page_la`. */
static void scan_range(struct intercepts *ic, uint64_t page_la, const uint8_t *p, unsigned from, unsigned to)
{
  for (unsigned i = from; i < to; i++) {
    if (!candidate_at(p, i)) continue;
    unsigned k = 0;
    while (k < 4 && k < i && is_prefix(p[i - k - 1])) k++;
    hook_range(ic, page_la + i - k, page_la + i);
  }
}

void intercepts_scan_page(struct intercepts *ic, uint64_t page_la, uint64_t page_pa, const uint8_t *p)
{
  /* Unicorn's TLB is flushed on every world switch and paging change, and
   * each refill for execution lands here. A page scanned before at the same
   * place has its hooks already: only the bytes that changed since (data
   * sharing the page with code, self-modifying code) are scanned again,
   * with the bytes around them that decide a candidate (the second opcode
   * byte after, up to four prefix bytes before). Hooks are never removed;
   * a stale one finds no system instruction and lets the code run on. */
  /* Hashed by both addresses: a hypervisor and its guest often run code
   * at the same linear address in different physical pages. */
  uint64_t key = (page_la >> 12) * 0x9e3779b97f4a7c15ull ^ (page_pa >> 12) * 0xff51afd7ed558ccdull;
  struct scanned_page *seen = &ic->scanned[(key * 0x9e3779b97f4a7c15ull) >> 56];
  if (seen->la != page_la || seen->pa != page_pa) {
    seen->la = page_la;
    seen->pa = page_pa;
    memcpy(seen->bytes, p, 4096);
    scan_range(ic, page_la, p, 0, 4096);
    return;
  }
  for (unsigned b = 0; b < 4096; b += SCAN_BLOCK) {
    if (memcmp(seen->bytes + b, p + b, SCAN_BLOCK) == 0) continue;
    memcpy(seen->bytes + b, p + b, SCAN_BLOCK);
    unsigned from = b ? b - 1 : 0, to = b + SCAN_BLOCK + 4 < 4096 ? b + SCAN_BLOCK + 4 : 4096;
    scan_range(ic, page_la, p, from, to);
  }
}

/* Stops Unicorn before the instruction at `address`, leaving `ev` for the
 * run loop. */
static void hand_to_run_loop(struct machine *m, uint64_t address, struct pending_event ev)
{
  ev.valid = ev.at_rip = true;
  ev.rip = address;
  ev.rax = uc_bridge_gpr(m->bridge, GPR_RAX);
  m->event = ev;
  uc_bridge_set_rip(m->bridge, address);
  uc_emu_stop(m->uc);
}

static void intercept_hook(uc_engine *uc, uint64_t address, uint32_t size, void *user)
{
  struct intercepts *ic = user;
  struct machine *m = ic->m;
  if (m->stop != STOP_NONE) return;
  struct insn in;
  if (!insn_decode(m, address, &in)) return;
  insn_handler fn = sysinsn_handler(&in);
  if (!fn) return;
  if (in.zi.mnemonic == ZYDIS_MNEMONIC_MOV) {
    /* Only MOV to/from control and debug registers belongs to the model. */
    if (in.op[0].type != ZYDIS_OPERAND_TYPE_REGISTER || in.op[1].type != ZYDIS_OPERAND_TYPE_REGISTER) return;
    ZydisRegisterClass a = ZydisRegisterGetClass(in.op[0].reg.value), b = ZydisRegisterGetClass(in.op[1].reg.value);
    if (a != ZYDIS_REGCLASS_CONTROL && b != ZYDIS_REGCLASS_CONTROL && a != ZYDIS_REGCLASS_DEBUG && b != ZYDIS_REGCLASS_DEBUG)
      return;
  }
  ic->handled++;
  if (m->virt && m->virt->insn_exits && m->virt->insn_exits(m, &in)) {
    /* The hypervisor intercepts it: the run loop performs the exit with
     * the whole state in hand; the instruction does not execute. */
    hand_to_run_loop(m, address, (struct pending_event){.vm_exit = true});
    return;
  }
  enum insn_result r = fn(&in);
  switch (r) {
  case INSN_NEXT:
    uc_bridge_set_rip(m->bridge, in.next_rip);
    return;
  case INSN_FAULTED:
    /* raise_exception stopped Unicorn; keep RIP at the instruction so the
     * fault is precise and the instruction has no effect. */
    uc_bridge_set_rip(m->bridge, address);
    return;
  case INSN_STOPPED:
    return;
  case INSN_DEFERRED:
    hand_to_run_loop(m, address, (struct pending_event){.deferred = true});
    return;
  case INSN_EXIT:
    hand_to_run_loop(m, address, (struct pending_event){.vm_exit = true});
    return;
  case INSN_NATIVE:
    return;
  }
}

struct intercepts *intercepts_create(struct machine *m)
{
  struct intercepts *ic = calloc(1, sizeof *ic);
  if (!ic) return NULL;
  ic->scanned = malloc(SCANNED_PAGES * sizeof *ic->scanned);
  if (!ic->scanned) { free(ic); return NULL; }
  ic->m = m;
  for (size_t i = 0; i < SCANNED_PAGES; i++) ic->scanned[i].la = ic->scanned[i].pa = UINT64_MAX;
  return ic;
}

void intercepts_destroy(struct intercepts *ic)
{
  if (!ic) return;
  free(ic->hooked);
  free(ic->scanned);
  free(ic);
}

uint64_t intercepts_hook_count(const struct intercepts *ic) { return ic->hooks; }
uint64_t intercepts_handled(const struct intercepts *ic) { return ic->handled; }
