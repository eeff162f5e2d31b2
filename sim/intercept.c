/* Page scanning and code hooks for the system instructions (see
 * intercept.h for the scheme). */
#include "sim/intercept.h"

#include <stdlib.h>
#include <string.h>
#include <unicorn/unicorn.h>

#include "sim/machine.h"
#include "sim/sysinsn.h"

struct intercepts {
  struct machine *m;
  uint64_t *hooked;            /* open-addressing set of hooked addresses */
  size_t cap, count;
  uint64_t handled;
};

#define EMPTY UINT64_MAX

/* Second opcode bytes after 0F that start an instruction the model owns:
 * 01 (group 7: INVLPG, LMSW, XSETBV, MONITOR/MWAIT, RDTSCP, ...), 05
 * SYSCALL, 06 CLTS, 07 SYSRET,
 * 08 INVD, 09 WBINVD, 20-23 MOV CR/DR, 30 WRMSR, 31 RDTSC, 32 RDMSR,
 * 33 RDPMC, 34 SYSENTER, 35 SYSEXIT, 38 (INVPCID is 0F 38 82), A2 CPUID,
 * C7 (group 9: RDRAND, RDSEED), 00 (group 6: SLDT, STR, LLDT, LTR), AA RSM. */
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
 * INS/OUTS, F1 ICEBP, and 90 for PAUSE (F3 90: the hook on the F3 prefix
 * before it sees PAUSE; a plain NOP costs one decode). */
static bool one_byte_owned(uint8_t b)
{
  return b == 0xf4 || (b & 0xf4) == 0xe4 || (b & 0xfc) == 0x6c || b == 0xf1 || b == 0x90;
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

static void hook_at(struct intercepts *ic, uint64_t a)
{
  if (!set_insert(ic, a)) return;
  uc_hook h;
  uc_hook_add(ic->m->uc, &h, UC_HOOK_CODE, (void *)intercept_hook, ic, a, a);
}

void intercepts_scan_page(struct intercepts *ic, uint64_t page_la, const uint8_t *p)
{
  for (unsigned i = 0; i < 4096; i++) {
    bool candidate = one_byte_owned(p[i]) || (p[i] == 0x0f && (i == 4095 || second_byte_owned(p[i + 1])));
    if (!candidate) continue;
    hook_at(ic, page_la + i);
    for (unsigned k = 1; k <= 4 && k <= i && is_prefix(p[i - k]); k++) hook_at(ic, page_la + i - k);
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
  if (ic) ic->m = m;
  return ic;
}

void intercepts_destroy(struct intercepts *ic)
{
  if (!ic) return;
  free(ic->hooked);
  free(ic);
}

uint64_t intercepts_hook_count(const struct intercepts *ic) { return ic->count; }
uint64_t intercepts_handled(const struct intercepts *ic) { return ic->handled; }
