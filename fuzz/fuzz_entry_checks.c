/* fuzz_entry_checks: a VMCS or a VMCB from the input through the VM-entry /
 * VMRUN consistency checks and the VMX / SVM instructions.
 *
 * Input: byte 0 picks the vendor (bit 0) and the CPU model (bits 2:1); then
 * records, each starting with a tag byte (tag % 4):
 *   0 field    VMX: u32 encoding, u64 value (the dictionary's encodings);
 *              SVM: u16 offset, u8 size (1 << (n & 3)), u64 value, raw
 *              bytes of the VMCB image, reserved ones included
 *   1 memory   u16 qword index, u64 value: the 64 KiB of physical memory
 *              the checks and instructions read (MSR-load lists, the VMCS
 *              link pointer, PDPTEs, VMCB/HSAVE, ...)
 *   2 insn     u8 instruction, u64 a, u64 b: run after the VM entry
 *   3 cpu      u8 register, u64 value: perturbs the host vCPU state
 *
 * Properties (no crash besides):
 *  - determinism: the whole scenario runs twice from the same state and
 *    logs the same results, registers and memory;
 *  - the first-failure and all-failures evaluations agree (same first ID,
 *    IDs in catalogue order, messages terminated), and the outcome they
 *    report matches the check's catalogue entry;
 *  - VMLAUNCH/VMRESUME reports exactly the check the direct evaluation
 *    finds on the current VMCS; VMRUN exits with VMEXIT_INVALID for exactly
 *    the first failing VMRUN check, and enters the guest when none fails. */
#include <string.h>

#include "fuzz/fuzz_input.h"
#include "models/svm/svm_insn.h"
#include "models/svm/vmrun_checks.h"
#include "models/vmx/vmx_insn.h"
/* After vmx_insn.h: vmx_bits.h's MSR_IA32_VMX_BASIC macro would otherwise
 * rename caps.h's enumerator of the same name. */
#include "models/vmx/vmx_bits.h"

#define MEM_SIZE 0x10000u
#define VMXON_PA 0xE000u
#define VMCS_PA  0xF000u
#define HSAVE_PA 0x1000u
#define VMCB_PA  0x2000u
#define MAX_RECORDS 256

struct record { uint8_t tag, k; uint32_t a; uint64_t v, w; };
struct scenario {
  uint8_t hdr;
  unsigned n;
  struct record r[MAX_RECORDS];
};

static uint8_t mem[MEM_SIZE];
static struct fuzz_log logs[2];
static struct fuzz_log *lg;

static bool mread(void *ctx, uint64_t pa, void *buf, size_t len)
{
  if (pa >= MEM_SIZE || len > MEM_SIZE - pa) return false;
  memcpy(buf, mem + pa, len);
  return true;
}
static bool mwrite(void *ctx, uint64_t pa, const void *buf, size_t len)
{
  if (pa >= MEM_SIZE || len > MEM_SIZE - pa) return false;
  memcpy(mem + pa, buf, len);
  return true;
}
/* A deterministic refusal, so VM-entry MSR loading can fail: WRMSR of an
 * index whose low byte is 0xFF "raises #GP". */
static bool wrmsr_ok(void *ctx, uint32_t index, uint64_t value) { return (index & 0xFF) != 0xFF; }
static void invalidate(void *ctx, int insn, uint64_t type, uint64_t tag, uint64_t addr)
{
  flog(lg, 0x1171);
  flog(lg, (uint64_t)insn);
  flog(lg, type);
  flog(lg, tag);
  flog(lg, addr);
}
static void invlpga(void *ctx, uint64_t va, uint32_t asid)
{
  flog(lg, 0x1172);
  flog(lg, va);
  flog(lg, asid);
}

static void put_mem64(uint64_t idx, uint64_t v) { memcpy(mem + (idx % (MEM_SIZE / 8)) * 8, &v, 8); }

static void log_cpu(const struct cpu_state *s)
{
  for (int i = 0; i < GPR_COUNT; i++) flog(lg, s->gpr[i]);
  flog(lg, s->rip);
  flog(lg, s->rflags);
  for (int i = 0; i < SEG_COUNT; i++) {
    flog(lg, s->seg[i].selector);
    flog(lg, s->seg[i].base);
    flog(lg, ((uint64_t)s->seg[i].limit << 32) | s->seg[i].ar);
  }
  flog(lg, s->cr0);
  flog(lg, s->cr3);
  flog(lg, s->cr4);
  flog(lg, s->efer);
  flog(lg, s->dr[6]);
  flog(lg, s->dr[7]);
}

/* The host perturbations a record may apply. */
static void perturb(struct cpu_state *s, uint8_t k, uint64_t v)
{
  switch (k % 8) {
  case 0: s->cr0 = v; return;
  case 1: s->cr4 = v; return;
  case 2: s->efer = v; return;
  case 3: s->rflags = v; return;
  case 4: s->seg[SEG_CS].ar = (uint32_t)v; return;
  case 5: s->movss_blocking = v & 1; return;
  case 6: s->gpr[GPR_RAX] = v; return;
  case 7: s->seg[SEG_SS].ar = (uint32_t)v; return;
  }
}

/* ---- VMX ------------------------------------------------------------------ */

/* The direct evaluations of a VMCS agree with each other; returns the
 * first failing check. */
static enum vmx_check_id check_vmcs(const struct vmcs *v, const struct vmx_entry_env *env)
{
  static struct vmx_entry_report rep;
  struct vmx_entry_result res;
  bool ok = vmx_entry_check(v, env, &res);
  vmx_entry_check_all(v, env, &rep);
  FUZZ_CHECK(ok == (rep.count == 0) && ok == (res.id == VMX_ENTRY_OK), "first-failure says %d (%s), all-failures %u",
             ok, vmx_checks[res.id].name, rep.count);
  FUZZ_CHECK(env->read_phys == NULL || rep.skipped_count == 0, "%u checks skipped with memory", rep.skipped_count);
  for (unsigned i = 0; i < rep.count; i++) {
    FUZZ_CHECK(rep.fail[i].id > VMX_ENTRY_OK && rep.fail[i].id < VMX_CHECK_END, "bad ID %d", rep.fail[i].id);
    FUZZ_CHECK(i == 0 || rep.fail[i].id > rep.fail[i - 1].id, "IDs out of catalogue order");
    FUZZ_CHECK(memchr(rep.fail[i].msg, 0, sizeof rep.fail[i].msg), "message not terminated");
  }
  flog(lg, res.id);
  flog(lg, rep.count);
  if (ok) {
    FUZZ_CHECK(res.vm_instruction_error == 0 && res.exit_reason == 0, "pass with error %u", res.vm_instruction_error);
    return VMX_ENTRY_OK;
  }
  FUZZ_CHECK(rep.fail[0].id == res.id, "first failure %s, first of all %s", vmx_checks[res.id].name,
             vmx_checks[rep.fail[0].id].name);
  const struct vmx_check_info *ci = &vmx_checks[res.id];
  switch (ci->outcome) {
  case VMX_OUTCOME_CTLS: FUZZ_CHECK(res.vm_instruction_error == 7 && res.exit_reason == 0, "%s", ci->name); break;
  case VMX_OUTCOME_HOST: FUZZ_CHECK(res.vm_instruction_error == 8 && res.exit_reason == 0, "%s", ci->name); break;
  case VMX_OUTCOME_GUEST:
    FUZZ_CHECK(res.exit_reason == (33u | 1u << 31) && res.exit_qual == ci->qual, "%s: reason %#x", ci->name,
               res.exit_reason);
    break;
  case VMX_OUTCOME_MSR: FUZZ_CHECK(res.exit_reason == (34u | 1u << 31), "%s: reason %#x", ci->name, res.exit_reason); break;
  }
  return res.id;
}

/* FUZZ_ENTRY_TRACE=1 prints every instruction's outcome (first run only). */
static bool tracing(void)
{
  static int on = -1;
  if (on < 0) on = getenv("FUZZ_ENTRY_TRACE") != NULL;
  return on && lg == &logs[0];
}

/* The VM-entry check an instruction stopped on (VMX_ENTRY_OK: none). */
static enum vmx_check_id entry_id(const struct vmx_insn_result *r) { return r->entry ? r->entry->id : VMX_ENTRY_OK; }

static void log_insn(const struct vmx_insn_result *r)
{
  if (tracing())
    fprintf(stderr, "vmx: outcome %d error %u value %#llx entry check %s\n", r->outcome, r->error,
            (unsigned long long)r->value, vmx_checks[entry_id(r)].name ? vmx_checks[entry_id(r)].name : "-");
  flog(lg, r->outcome);
  flog(lg, r->error);
  flog(lg, r->value);
  flog(lg, entry_id(r));
}

static struct vmx_insn_result vmx_op(struct vmx_cpu *x, struct cpu_state *s, const struct vmx_mem_ops *m,
                                     const struct record *rec)
{
  uint64_t a = rec->v, b = rec->w, desc[2] = { b, a };
  bool reg = rec->k & 0x80;
  switch (rec->k % 14) {
  case 0: return vmx_vmxon(x, s, m, reg, a);
  case 1: return vmx_vmxoff(x, s);
  case 2: return vmx_vmclear(x, s, m, reg, a);
  case 3: return vmx_vmptrld(x, s, m, reg, a);
  case 4: return vmx_vmptrst(x, s, reg);
  case 5: return vmx_vmread(x, s, a);
  case 6: return vmx_vmwrite(x, s, a, b);
  case 7: return vmx_vmlaunch(x, s, m, false);
  case 8: return vmx_vmlaunch(x, s, m, true);
  case 9: return vmx_invept(x, s, m, reg, a, desc);
  case 10: return vmx_invvpid(x, s, m, reg, a, desc);
  case 11: return vmx_vmcall(x, s);
  case 12: return vmx_vmfunc(x, s);
  }
  x->non_root = !x->non_root; /* 13: a VM entry / VM exit happened elsewhere */
  return (struct vmx_insn_result){ .outcome = VMX_INSN_SUCCEED };
}

/* VMLAUNCH/VMRESUME against the direct evaluation of the current VMCS. */
static void launch_matches_checks(const struct vmx_insn_result *r, enum vmx_check_id direct)
{
  switch (r->outcome) {
  case VMX_INSN_ENTERED:
    FUZZ_CHECK(direct == VMX_ENTRY_OK, "VM entry succeeded but %s fails", vmx_checks[direct].name);
    return;
  case VMX_INSN_ENTRY_FAILED:
    FUZZ_CHECK(entry_id(r) == direct, "VM entry failed on %s, direct evaluation %s", vmx_checks[entry_id(r)].name,
               vmx_checks[direct].name);
    return;
  case VMX_INSN_FAIL_VALID:
    if (r->error == 7 || r->error == 8)
      FUZZ_CHECK(entry_id(r) == direct, "VMfailValid(%u) on %s, direct evaluation %s", r->error,
                 vmx_checks[entry_id(r)].name, vmx_checks[direct].name);
    return;
  default:
    return; /* refused before the checks (#UD, #GP, launch state, ...) */
  }
}

static void run_vmx(const struct scenario *sc)
{
  const struct vmx_caps *caps = vmx_cpu_models[((sc->hdr >> 1) & 3) % 2];
  struct vmx_mem_ops ops = { .read = mread, .write = mwrite, .wrmsr_ok = wrmsr_ok, .invalidate = invalidate };
  struct vmx_entry_env env = { .caps = caps, .host_ia32e = true, .read_phys = mread, .wrmsr_ok = wrmsr_ok };

  /* The VMCS as the records describe it, every field writable. */
  static struct vmcs direct;
  memset(&direct, 0, sizeof direct);
  for (unsigned i = 0; i < sc->n; i++) {
    int f = sc->r[i].tag == 0 ? vmcs_field_by_encoding(sc->r[i].a) : -1;
    if (f >= 0) vmcs_set(&direct, f, sc->r[i].v);
  }
  env.host_ia32e = sc->hdr & 8;
  check_vmcs(&direct, &env);
  struct vmx_entry_env no_mem = env;
  no_mem.read_phys = NULL;
  check_vmcs(&direct, &no_mem);

  /* The same through the instructions: VMXON, VMPTRLD, VMWRITEs, VMLAUNCH. */
  static struct vmx_cpu x;
  struct cpu_state s;
  memset(&s, 0, sizeof s);
  vmx_cpu_init(&x, caps);
  x.feature_control = FEATCTL_LOCK | FEATCTL_VMX_OUTSIDE_SMX;
  s.cr0 = 0x80010031;
  s.cr4 = 0x2020;
  s.efer = EFER_LMA | EFER_LME;
  s.seg[SEG_CS].ar = SEG_AR_P | SEG_AR_S | SEG_AR_L | 0xB;
  s.rflags = RFLAGS_FIXED1;
  uint32_t rev = BASIC_REVISION(caps->basic);
  memcpy(mem + VMXON_PA, &rev, 4);
  memcpy(mem + VMCS_PA, &rev, 4);
  for (unsigned i = 0; i < sc->n; i++)
    if (sc->r[i].tag == 3) perturb(&s, sc->r[i].k, sc->r[i].v);

  struct vmx_insn_result r = vmx_vmxon(&x, &s, &ops, false, VMXON_PA);
  log_insn(&r);
  r = vmx_vmptrld(&x, &s, &ops, false, VMCS_PA);
  log_insn(&r);
  for (unsigned i = 0; i < sc->n; i++) {
    if (sc->r[i].tag != 0) continue;
    r = vmx_vmwrite(&x, &s, sc->r[i].a, sc->r[i].v);
    vmx_insn_apply_rflags(&s, &r);
    log_insn(&r);
  }
  for (unsigned i = 0; i < sc->n; i++) {
    if (sc->r[i].tag != 2) continue;
    env.host_ia32e = (s.efer & EFER_LMA) != 0;
    enum vmx_check_id before = x.current_vmcs_ptr != VMX_INVALID_PTR ? check_vmcs(&x.current, &env) : VMX_ENTRY_OK;
    r = vmx_op(&x, &s, &ops, &sc->r[i]);
    unsigned k = sc->r[i].k % 14;
    if (k == 7 || k == 8) launch_matches_checks(&r, before);
    vmx_insn_apply_rflags(&s, &r);
    log_insn(&r);
  }
  /* A final VMLAUNCH whatever the records did. */
  env.host_ia32e = (s.efer & EFER_LMA) != 0;
  enum vmx_check_id before = x.current_vmcs_ptr != VMX_INVALID_PTR ? check_vmcs(&x.current, &env) : VMX_ENTRY_OK;
  r = vmx_vmlaunch(&x, &s, &ops, false);
  launch_matches_checks(&r, before);
  log_insn(&r);
  log_cpu(&s);
  flog(lg, fuzz_hash(x.current.val, sizeof x.current.val));
  flog(lg, x.current_vmcs_ptr);
  flog(lg, ((uint64_t)x.vmx_operation << 1) | x.non_root);
}

/* ---- SVM ------------------------------------------------------------------ */

static enum svm_check_id check_vmcb(const struct svm_vmcb *v, const struct svm_features *f)
{
  static struct svm_check_failure all[SVM_CHECK_COUNT];
  struct svm_check_failure first;
  enum svm_check_id id = svm_vmrun_check_first(v, f, &first);
  unsigned n = svm_vmrun_check_all(v, f, all);
  FUZZ_CHECK((n == 0) == (id == SVM_CHECK_NONE) && n <= SVM_CHECK_COUNT, "first %d, %u failures", id, n);
  for (unsigned i = 0; i < n; i++) {
    FUZZ_CHECK(svm_check_info(all[i].id) != NULL, "bad ID %d", all[i].id);
    FUZZ_CHECK(i == 0 || all[i].id > all[i - 1].id, "IDs out of catalogue order");
    FUZZ_CHECK(memchr(all[i].message, 0, sizeof all[i].message), "message not terminated");
  }
  if (n) FUZZ_CHECK(all[0].id == id && first.id == id, "first %s, first of all %s", svm_check_info(id)->id,
                    svm_check_info(all[0].id)->id);
  /* VMRUN's form of the checks: EXITCODE = -1 on a failure, else nothing. */
  static struct svm_vmcb copy;
  copy = *v;
  FUZZ_CHECK(svm_vmrun_consistency(&copy, f, NULL) == id, "svm_vmrun_consistency disagrees");
  if (id == SVM_CHECK_NONE) FUZZ_CHECK(memcmp(&copy, v, sizeof copy) == 0, "passing checks changed the VMCB");
  else FUZZ_CHECK(copy.control.exitcode == (uint64_t)-1, "EXITCODE %#llx", (unsigned long long)copy.control.exitcode);
  flog(lg, id);
  flog(lg, n);
  return id;
}

static void log_svm(const struct svm_result *r)
{
  if (tracing())
    fprintf(stderr, "svm: outcome %d vector %u exitcode %#llx check %d\n", r->outcome, r->vector,
            (unsigned long long)r->exitcode, r->check);
  flog(lg, r->outcome);
  flog(lg, r->vector);
  flog(lg, r->exitcode);
  flog(lg, r->check);
}

static void host_state(struct cpu_state *s)
{
  memset(s, 0, sizeof *s);
  s->efer = EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE | EFER_SVME;
  s->cr0 = CR0_PE | CR0_ET | CR0_NE | CR0_WP | CR0_PG;
  s->cr3 = 0x9000;
  s->cr4 = CR4_PAE | CR4_OSFXSR;
  s->rflags = RFLAGS_FIXED1;
  s->rip = 0x100000;
  s->gpr[GPR_RSP] = 0x7000;
  s->gpr[GPR_RAX] = VMCB_PA;
  s->dr[7] = 0x400;
  s->seg[SEG_CS] = (struct segment){ 0x08, 0, 0xFFFFFFFF, 0x209B };
  s->seg[SEG_SS] = (struct segment){ 0x10, 0, 0xFFFFFFFF, 0xC093 };
  s->seg[SEG_DS] = s->seg[SEG_ES] = s->seg[SEG_SS];
  s->gdtr = (struct dtable){ 0x5000, 0x37 };
  s->idtr = (struct dtable){ 0x6000, 0xFFF };
}

static void run_svm(const struct scenario *sc)
{
  const struct svm_features *f = svm_cpu_models[((sc->hdr >> 1) & 3) % 2];
  const struct svm_machine m = { NULL, mread, mwrite, invlpga };
  for (unsigned i = 0; i < sc->n; i++) {
    const struct record *r = &sc->r[i];
    if (r->tag != 0) continue;
    unsigned size = 1u << (r->k & 3), off = r->a % SVM_VMCB_SIZE;
    for (unsigned b = 0; b < size && off + b < SVM_VMCB_SIZE; b++) mem[VMCB_PA + off + b] = (uint8_t)(r->v >> (8 * b));
  }
  static struct svm_vmcb img;
  memcpy(&img, mem + VMCB_PA, sizeof img);
  enum svm_check_id first = check_vmcb(&img, f);

  static struct svm_vcpu v;
  struct cpu_state s;
  host_state(&s);
  svm_vcpu_reset(&v, &s, f);
  v.msrs.vm_hsave_pa = HSAVE_PA;
  for (unsigned i = 0; i < sc->n; i++)
    if (sc->r[i].tag == 3) perturb(&s, sc->r[i].k, sc->r[i].v);
  uint64_t next = 0x100003, rax = s.gpr[GPR_RAX];
  struct svm_result r = svm_vmrun(&v, &m, next);
  log_svm(&r);
  /* The VMCB VMRUN reads is the one checked while RAX still names it (the
   * host save area, at HSAVE_PA, cannot overlap it). */
  if (rax == VMCB_PA) {
    if (r.outcome == SVM_VMEXITED && r.exitcode == (uint64_t)-1)
      FUZZ_CHECK(r.check == first && first != SVM_CHECK_NONE, "VMRUN failed on %d, direct evaluation %d", r.check, first);
    if (r.outcome == SVM_DONE && v.in_guest)
      FUZZ_CHECK(first == SVM_CHECK_NONE, "VMRUN entered the guest but %s fails", svm_check_info(first)->id);
  }
  for (unsigned i = 0; i < sc->n; i++) {
    const struct record *rec = &sc->r[i];
    if (rec->tag != 2) continue;
    next += 3;
    switch (rec->k % 10) {
    case 0: r = svm_vmrun(&v, &m, next); break;
    case 1: r = svm_vmload(&v, &m, next); break;
    case 2: r = svm_vmsave(&v, &m, next); break;
    case 3: r = svm_stgi(&v, &m, next); break;
    case 4: r = svm_clgi(&v, &m, next); break;
    case 5: r = svm_vmmcall(&v, &m, next); break;
    case 6: r = svm_invlpga(&v, &m, next); break;
    case 7: r = svm_skinit(&v, &m, next); break;
    case 8: r = svm_vmexit(&v, &m, rec->v, rec->w, rec->a, next); break;
    case 9:
      for (int e = SVM_EV_INTR; e <= SVM_EV_VINTR; e++) flog(lg, svm_event_allowed_by_gif(&v, (enum svm_event)e));
      continue;
    }
    log_svm(&r);
  }
  log_cpu(&s);
  flog(lg, ((uint64_t)v.gif << 1) | v.in_guest);
  flog(lg, v.vmcb_pa);
}

/* ---- Driver ---------------------------------------------------------------- */

static void parse(struct fuzz_in *in, struct scenario *sc)
{
  sc->hdr = fin_u8(in);
  sc->n = 0;
  while (fin_more(in) && sc->n < MAX_RECORDS) {
    struct record *r = &sc->r[sc->n++];
    *r = (struct record){ .tag = fin_u8(in) % 4 };
    bool svm = sc->hdr & 1;
    switch (r->tag) {
    case 0:
      if (svm) {
        r->a = fin_u16(in);
        r->k = fin_u8(in);
      } else {
        r->a = fin_u32(in);
      }
      r->v = fin_u64(in);
      break;
    case 1: r->a = fin_u16(in); r->v = fin_u64(in); break;
    case 2: r->k = fin_u8(in); r->v = fin_u64(in); r->w = fin_u64(in); r->a = fin_u32(in); break;
    case 3: r->k = fin_u8(in); r->v = fin_u64(in); break;
    }
  }
}

static void run(const struct scenario *sc, int pass)
{
  lg = &logs[pass];
  lg->n = 0;
  memset(mem, 0, sizeof mem);
  for (unsigned i = 0; i < sc->n; i++)
    if (sc->r[i].tag == 1) put_mem64(sc->r[i].a, sc->r[i].v);
  if (sc->hdr & 1) run_svm(sc);
  else run_vmx(sc);
  flog(lg, fuzz_hash(mem, sizeof mem));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static struct scenario sc;
  struct fuzz_in in = { data, size };
  parse(&in, &sc);
  run(&sc, 0);
  run(&sc, 1);
  FUZZ_CHECK(logs[0].n == logs[1].n && memcmp(logs[0].v, logs[1].v, logs[0].n * sizeof logs[0].v[0]) == 0,
             "two runs of the same input differ (%u / %u results)", logs[0].n, logs[1].n);
  return 0;
}
