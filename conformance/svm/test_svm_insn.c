/* The SVM instructions over the vCPU state: faults (#UD, #GP) of VMRUN,
 * VMLOAD, VMSAVE, STGI, CLGI, VMMCALL, INVLPGA, SKINIT (AMD APM Vol. 3);
 * VMRUN saving the host and loading the guest, #VMEXIT back; VMLOAD/VMSAVE
 * moving exactly their state; the GIF (AMD APM Vol. 2). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "conformance/svm/svm_test_vmcb.h"
#include "models/svm/svm_insn.h"

/* 64 KiB of fake physical memory; the TLB callback records INVLPGA. */
#define RAM_SIZE 0x10000u
#define HSAVE_PA 0x1000u
#define VMCB_PA  0x2000u
#define AUX_PA   0x3000u
#define HOST_NEXT_RIP 0x100003u

static uint8_t ram[RAM_SIZE];
static uint64_t invlpga_va;
static uint32_t invlpga_asid;
static unsigned invlpga_calls;

static bool ram_read(void *ctx, uint64_t pa, void *buf, size_t len)
{
  if (pa > RAM_SIZE || len > RAM_SIZE - pa) return false;
  memcpy(buf, ram + pa, len);
  return true;
}

static bool ram_write(void *ctx, uint64_t pa, const void *buf, size_t len)
{
  if (pa > RAM_SIZE || len > RAM_SIZE - pa) return false;
  memcpy(ram + pa, buf, len);
  return true;
}

static void tlb_invlpga(void *ctx, uint64_t va, uint32_t asid)
{
  invlpga_va = va;
  invlpga_asid = asid;
  invlpga_calls++;
}

static const struct svm_machine machine = {NULL, ram_read, ram_write, tlb_invlpga};
static struct cpu_state cpu;
static struct svm_vcpu vcpu;

/* Field by field, so struct padding keeps its bytes and whole-struct
 * comparisons of cpu_state stay meaningful. */
static void set_seg(struct segment *s, uint16_t sel, uint64_t base, uint32_t limit, uint32_t ar)
{
  s->selector = sel;
  s->base = base;
  s->limit = limit;
  s->ar = ar;
}

static void seg(enum seg_reg r, uint16_t sel, uint32_t ar) { set_seg(&cpu.seg[r], sel, 0, 0xFFFFFFFF, ar); }

/* A 64-bit host at CPL 0 with SVM enabled, HSAVE set, RAX = the VMCB. */
static void host_setup(const struct svm_features *f)
{
  memset(ram, 0, sizeof ram);
  memset(&cpu, 0, sizeof cpu);
  invlpga_calls = 0;
  svm_vcpu_reset(&vcpu, &cpu, f);
  cpu.efer = EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE | EFER_SVME;
  cpu.cr0 = CR0_PE | CR0_ET | CR0_NE | CR0_WP | CR0_PG;
  cpu.cr3 = 0x9000;
  cpu.cr4 = CR4_PAE | CR4_OSFXSR;
  cpu.rflags = RFLAGS_FIXED1;
  cpu.rip = 0x100000;
  cpu.gpr[GPR_RSP] = 0x7000;
  cpu.gpr[GPR_RAX] = VMCB_PA;
  cpu.dr[7] = 0x400;
  seg(SEG_CS, 0x08, 0x209B);  /* 64-bit code, DPL 0 */
  seg(SEG_SS, 0x10, 0xC093);
  seg(SEG_DS, 0x10, 0xC093);
  seg(SEG_ES, 0x10, 0xC093);
  cpu.gdtr = (struct dtable){0x5000, 0x37};
  cpu.idtr = (struct dtable){0x6000, 0xFFF};
  vcpu.msrs.vm_hsave_pa = HSAVE_PA;
}

static struct svm_vmcb *vmcb_in_ram(void) { return (struct svm_vmcb *)(ram + VMCB_PA); }

/* A valid guest VMCB in memory, with VMMCALL intercepted. */
static void guest_setup(const struct svm_features *f)
{
  host_setup(f);
  svm_test_baseline(vmcb_in_ram(), f);
  svm_intercept_set(vmcb_in_ram(), SVM_INTERCEPT_VMMCALL, true);
  vmcb_in_ram()->save.cr3 = 0x4000;
  vmcb_in_ram()->save.cpl = 0;
}

static void assert_fault(struct svm_result r, uint8_t vector)
{
  assert_int_equal(r.outcome, SVM_FAULT);
  assert_int_equal(r.vector, vector);
}

/* #UD with EFER.SVME = 0, in real mode, in virtual-8086 mode; #GP at CPL 3;
 * for every instruction that requires SVM and CPL 0. */
typedef struct svm_result insn_fn(struct svm_vcpu *, const struct svm_machine *, uint64_t);
static insn_fn *const privileged[] = {svm_vmrun, svm_vmload, svm_vmsave, svm_stgi, svm_clgi, svm_invlpga};

static void svm_insn_svme_clear_ud(void **state)
{
  for (unsigned i = 0; i < sizeof privileged / sizeof privileged[0]; i++) {
    host_setup(&svm_features_ryzen);
    cpu.efer &= ~EFER_SVME;
    assert_fault(privileged[i](&vcpu, &machine, HOST_NEXT_RIP), SVM_VEC_UD);
    assert_int_equal(cpu.rip, 0x100000);  /* faults leave RIP at the instruction */
  }
}

static void svm_insn_outside_protected_mode_ud(void **state)
{
  for (unsigned i = 0; i < sizeof privileged / sizeof privileged[0]; i++) {
    host_setup(&svm_features_ryzen);
    cpu.efer &= ~(EFER_LME | EFER_LMA);
    cpu.cr0 &= ~(CR0_PE | CR0_PG);
    assert_fault(privileged[i](&vcpu, &machine, HOST_NEXT_RIP), SVM_VEC_UD);
    host_setup(&svm_features_ryzen);
    cpu.efer &= ~(EFER_LME | EFER_LMA);
    cpu.rflags |= RFLAGS_VM;
    assert_fault(privileged[i](&vcpu, &machine, HOST_NEXT_RIP), SVM_VEC_UD);
  }
}

static void svm_insn_cpl3_gp(void **state)
{
  for (unsigned i = 0; i < sizeof privileged / sizeof privileged[0]; i++) {
    host_setup(&svm_features_ryzen);
    cpu.seg[SEG_CS].ar |= 3u << 5;
    cpu.seg[SEG_SS].ar |= 3u << 5;
    assert_fault(privileged[i](&vcpu, &machine, HOST_NEXT_RIP), SVM_VEC_GP);
    /* the same at CPL 0 does not fault */
    host_setup(&svm_features_ryzen);
    guest_setup(&svm_features_ryzen);
    assert_int_not_equal(privileged[i](&vcpu, &machine, HOST_NEXT_RIP).outcome, SVM_FAULT);
  }
}

/* rAX must be a 4 KiB-aligned physical address below 2^MAXPHYADDR. */
static void svm_insn_rax_not_page_aligned_or_beyond_maxphyaddr_gp(void **state)
{
  insn_fn *const takes_vmcb[] = {svm_vmrun, svm_vmload, svm_vmsave};
  for (unsigned i = 0; i < 3; i++) {
    guest_setup(&svm_features_epyc_qemu);
    cpu.gpr[GPR_RAX] = VMCB_PA + 8;
    assert_fault(takes_vmcb[i](&vcpu, &machine, HOST_NEXT_RIP), SVM_VEC_GP);
    cpu.gpr[GPR_RAX] = 1ull << 40;
    assert_fault(takes_vmcb[i](&vcpu, &machine, HOST_NEXT_RIP), SVM_VEC_GP);
    /* outside 64-bit mode only EAX counts: bit 40 is not part of it */
    cpu.seg[SEG_CS].ar &= ~SEG_AR_L;
    cpu.gpr[GPR_RAX] = (1ull << 40) | VMCB_PA;
    assert_int_not_equal(takes_vmcb[i](&vcpu, &machine, HOST_NEXT_RIP).outcome, SVM_FAULT);
  }
}

static void svm_vmrun_saves_host_and_loads_guest(void **state)
{
  guest_setup(&svm_features_ryzen);
  const struct svm_vmcb *g = vmcb_in_ram();
  struct svm_result r = svm_vmrun(&vcpu, &machine, HOST_NEXT_RIP);
  assert_int_equal(r.outcome, SVM_DONE);
  assert_true(vcpu.in_guest);
  assert_true(vcpu.gif);
  assert_int_equal(vcpu.vmcb_pa, VMCB_PA);
  assert_int_equal(cpu.rip, g->save.rip);
  assert_int_equal(cpu.gpr[GPR_RSP], g->save.rsp);
  assert_int_equal(cpu.cr3, 0x4000);
  assert_int_equal(cpu.efer, g->save.efer);
  assert_int_equal(cpu.seg[SEG_CS].ar, 0x209B);  /* attrib 0x29B in AR layout */
  assert_int_equal(cpu.gdtr.limit, 0x1F);
  assert_int_equal(cpu.pat, g->save.g_pat);      /* NP on: guest PAT */
  const struct svm_vmcb *h = (const struct svm_vmcb *)(ram + HSAVE_PA);
  assert_int_equal(h->save.rip, HOST_NEXT_RIP);
  assert_int_equal(h->save.cr3, 0x9000);
  assert_int_equal(h->save.rsp, 0x7000);
  assert_int_equal(h->save.rax, VMCB_PA);
  assert_int_equal(h->save.efer, EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE | EFER_SVME);
  assert_int_equal(h->save.cs.attrib, 0x29B);
  assert_int_equal(h->save.gdtr.base, 0x5000);
  assert_int_equal(h->save.idtr.limit, 0xFFF);
}

/* VMRUN canonicalizes loaded segment bases (48-bit linear addresses). */
static void svm_vmrun_canonicalizes_segment_bases(void **state)
{
  guest_setup(&svm_features_ryzen);
  vmcb_in_ram()->save.ds.base = 0x0000800000001000ull;
  assert_int_equal(svm_vmrun(&vcpu, &machine, HOST_NEXT_RIP).outcome, SVM_DONE);
  assert_int_equal(cpu.seg[SEG_DS].base, 0xFFFF800000001000ull);
}

/* A VMCB failing a consistency check: #VMEXIT(VMEXIT_INVALID) at once, the
 * host continues after VMRUN with GIF = 0 and its state untouched. */
static void svm_vmrun_inconsistent_vmcb_vmexit_invalid(void **state)
{
  guest_setup(&svm_features_ryzen);
  vmcb_in_ram()->control.guest_asid = 0;
  struct cpu_state before;
  memcpy(&before, &cpu, sizeof cpu);
  struct svm_result r = svm_vmrun(&vcpu, &machine, HOST_NEXT_RIP);
  assert_int_equal(r.outcome, SVM_VMEXITED);
  assert_int_equal(r.exitcode, (uint64_t)-1);
  assert_int_equal(r.check, SVM_VMRUN_ASID_ZERO);
  assert_int_equal(vmcb_in_ram()->control.exitcode, (uint64_t)-1);
  assert_false(vcpu.in_guest);
  assert_false(vcpu.gif);
  before.rip = HOST_NEXT_RIP;
  assert_memory_equal(&before, &cpu, sizeof cpu);
}

/* A guest VMMCALL with the intercept set: #VMEXIT(VMMCALL) with the guest
 * state in the VMCB, NRIP on the model with NRIP save only, host back. */
static void run_vmmcall_exit(const struct svm_features *f, uint64_t expected_nrip)
{
  guest_setup(f);
  assert_int_equal(svm_vmrun(&vcpu, &machine, HOST_NEXT_RIP).outcome, SVM_DONE);
  uint64_t guest_rip = cpu.rip;
  cpu.gpr[GPR_RSP] = 0x7FF0;   /* the guest ran a little */
  struct svm_result r = svm_vmmcall(&vcpu, &machine, guest_rip + 3);
  assert_int_equal(r.outcome, SVM_VMEXITED);
  assert_int_equal(r.exitcode, SVM_EXIT_VMMCALL);
  const struct svm_vmcb *g = vmcb_in_ram();
  assert_int_equal(g->control.exitcode, 0x81);
  assert_int_equal(g->control.exitinfo1, 0);
  assert_int_equal(g->control.nrip, expected_nrip ? guest_rip + 3 : 0);
  assert_int_equal(g->save.rip, guest_rip);      /* at the VMMCALL */
  assert_int_equal(g->save.rsp, 0x7FF0);
  assert_int_equal(cpu.rip, HOST_NEXT_RIP);
  assert_int_equal(cpu.cr3, 0x9000);
  assert_int_equal(cpu.gpr[GPR_RSP], 0x7000);
  assert_int_equal(cpu.gpr[GPR_RAX], VMCB_PA);
  assert_int_equal(cpu.dr[7], 0x400);
  assert_false(vcpu.in_guest);
  assert_false(vcpu.gif);
}

/* #VMEXIT writes the guest state and the exit fields (AMD APM Vol. 2,
 * "#VMEXIT") and nothing else: bytes of the VMCB that software changed
 * while the guest ran, outside those fields, keep their new values, also
 * between the fields it writes (FS, STAR, VMCB clean bits). */
static void svm_vmexit_writes_only_its_fields(void **state)
{
  guest_setup(&svm_features_ryzen);
  assert_int_equal(svm_vmrun(&vcpu, &machine, HOST_NEXT_RIP).outcome, SVM_DONE);
  static const unsigned changed[][2] = {
    {0x040, 8},   /* IOPM base */
    {0x0C0, 4},   /* VMCB clean bits, inside the exit fields' span */
    {0x440, 16},  /* FS (VMSAVE's), inside the state-save span */
    {0x600, 8},   /* STAR */
    {0x670, 8},   /* DBGCTL, after G_PAT */
  };
  for (unsigned i = 0; i < sizeof changed / sizeof changed[0]; i++)
    memset(ram + VMCB_PA + changed[i][0], 0xA5, changed[i][1]);
  struct svm_result r = svm_vmmcall(&vcpu, &machine, cpu.rip + 3);
  assert_int_equal(r.outcome, SVM_VMEXITED);
  assert_int_equal(vmcb_in_ram()->control.exitcode, SVM_EXIT_VMMCALL);
  for (unsigned i = 0; i < sizeof changed / sizeof changed[0]; i++)
    for (unsigned b = 0; b < changed[i][1]; b++)
      assert_int_equal(ram[VMCB_PA + changed[i][0] + b], 0xA5);
}

static void svm_vmmcall_intercepted_vmexit_with_nrip(void **state)
{
  run_vmmcall_exit(&svm_features_ryzen, 1);
}

static void svm_vmmcall_intercepted_vmexit_without_nrip_save(void **state)
{
  run_vmmcall_exit(&svm_features_epyc_qemu, 0);
}

static void svm_vmmcall_not_intercepted_ud(void **state)
{
  host_setup(&svm_features_ryzen);
  assert_fault(svm_vmmcall(&vcpu, &machine, HOST_NEXT_RIP), SVM_VEC_UD);
  guest_setup(&svm_features_ryzen);
  svm_intercept_set(vmcb_in_ram(), SVM_INTERCEPT_VMMCALL, false);
  assert_int_equal(svm_vmrun(&vcpu, &machine, HOST_NEXT_RIP).outcome, SVM_DONE);
  assert_fault(svm_vmmcall(&vcpu, &machine, cpu.rip + 3), SVM_VEC_UD);
  assert_true(vcpu.in_guest);
}

/* The bytes of the VMCB that VMLOAD/VMSAVE own. */
static const char *const moved[] = {
  "fs.selector", "fs.attrib", "fs.limit", "fs.base", "gs.selector", "gs.attrib", "gs.limit", "gs.base",
  "tr.selector", "tr.attrib", "tr.limit", "tr.base", "ldtr.selector", "ldtr.attrib", "ldtr.limit", "ldtr.base",
  "kernel_gs_base", "star", "lstar", "cstar", "sfmask", "sysenter_cs", "sysenter_esp", "sysenter_eip",
};

static bool byte_is_moved(unsigned off)
{
  for (unsigned i = 0; i < sizeof moved / sizeof moved[0]; i++) {
    const struct svm_vmcb_field *f = svm_vmcb_field_by_name(moved[i]);
    if (off >= f->offset && off < f->offset + f->size) return true;
  }
  return false;
}

static void svm_vmsave_writes_exactly_its_state(void **state)
{
  host_setup(&svm_features_ryzen);
  memset(ram + AUX_PA, 0xA5, SVM_VMCB_SIZE);
  cpu.gpr[GPR_RAX] = AUX_PA;
  set_seg(&cpu.seg[SEG_FS], 0x2B, 0xFFFF800000010000ull, 0xFFFFF, 0xC0F3);
  set_seg(&cpu.seg[SEG_GS], 0x33, 0x7FFF00002000ull, 0xFFFF, 0x40F3);
  set_seg(&cpu.seg[SEG_TR], 0x40, 0x12345000, 0x67, 0x8B);
  set_seg(&cpu.seg[SEG_LDTR], 0x50, 0x23456000, 0x1F, 0x82);
  cpu.kernel_gs_base = 0x1111; cpu.star = 0x2222; cpu.lstar = 0x3333; cpu.cstar = 0x4444;
  cpu.sfmask = 0x5555; cpu.sysenter_cs = 0x6666; cpu.sysenter_esp = 0x7777; cpu.sysenter_eip = 0x8888;
  assert_int_equal(svm_vmsave(&vcpu, &machine, HOST_NEXT_RIP).outcome, SVM_DONE);
  assert_int_equal(cpu.rip, HOST_NEXT_RIP);
  for (unsigned off = 0; off < SVM_VMCB_SIZE; off++)
    if (!byte_is_moved(off)) assert_int_equal(ram[AUX_PA + off], 0xA5);
  const struct svm_vmcb *s = (const struct svm_vmcb *)(ram + AUX_PA);
  assert_int_equal(s->save.fs.selector, 0x2B);
  assert_int_equal(s->save.fs.attrib, 0xCF3);
  assert_int_equal(s->save.fs.base, 0xFFFF800000010000ull);
  assert_int_equal(s->save.gs.attrib, 0x4F3);
  assert_int_equal(s->save.tr.base, 0x12345000);
  assert_int_equal(s->save.tr.limit, 0x67);
  assert_int_equal(s->save.ldtr.attrib, 0x82);
  assert_int_equal(s->save.kernel_gs_base, 0x1111);
  assert_int_equal(s->save.sfmask, 0x5555);
  assert_int_equal(s->save.sysenter_eip, 0x8888);
}

static void svm_vmload_loads_exactly_its_state(void **state)
{
  host_setup(&svm_features_ryzen);
  for (unsigned i = 0; i < SVM_VMCB_SIZE; i++) ram[AUX_PA + i] = (uint8_t)(i * 7 + 3);
  struct svm_vmcb *s = (struct svm_vmcb *)(ram + AUX_PA);
  s->save.fs = (struct svm_vmcb_seg){0x2B, 0xCF3, 0xFFFFF, 0xFFFF800000010000ull};
  s->save.gs = (struct svm_vmcb_seg){0x33, 0x4F3, 0xFFFF, 0x0000800000002000ull}; /* not canonical */
  s->save.tr = (struct svm_vmcb_seg){0x40, 0x8B, 0x67, 0x12345000};
  s->save.ldtr = (struct svm_vmcb_seg){0x50, 0x82, 0x1F, 0x23456000};
  cpu.gpr[GPR_RAX] = AUX_PA;
  struct cpu_state expected;
  memcpy(&expected, &cpu, sizeof cpu);
  set_seg(&expected.seg[SEG_FS], 0x2B, 0xFFFF800000010000ull, 0xFFFFF, 0xC0F3);
  set_seg(&expected.seg[SEG_GS], 0x33, 0xFFFF800000002000ull, 0xFFFF, 0x40F3);
  set_seg(&expected.seg[SEG_TR], 0x40, 0x12345000, 0x67, 0x8B);
  set_seg(&expected.seg[SEG_LDTR], 0x50, 0x23456000, 0x1F, 0x82);
  expected.kernel_gs_base = s->save.kernel_gs_base;
  expected.star = s->save.star;
  expected.lstar = s->save.lstar;
  expected.cstar = s->save.cstar;
  expected.sfmask = s->save.sfmask;
  expected.sysenter_cs = s->save.sysenter_cs;
  expected.sysenter_esp = s->save.sysenter_esp;
  expected.sysenter_eip = s->save.sysenter_eip;
  expected.rip = HOST_NEXT_RIP;
  assert_int_equal(svm_vmload(&vcpu, &machine, HOST_NEXT_RIP).outcome, SVM_DONE);
  /* Every other register (CR3, EFER, RSP, CS, ... ) is untouched. */
  assert_memory_equal(&expected, &cpu, sizeof cpu);
  assert_true(expected.star != 0 && expected.sysenter_eip != 0);
}

/* VMLOAD/VMSAVE/STGI/CLGI intercepted in the guest exit before doing anything. */
static void svm_vmload_vmsave_gif_intercepted_vmexit(void **state)
{
  struct { insn_fn *fn; enum svm_intercept icpt; uint64_t exit; } cases[] = {
    {svm_vmload, SVM_INTERCEPT_VMLOAD, SVM_EXIT_VMLOAD},
    {svm_vmsave, SVM_INTERCEPT_VMSAVE, SVM_EXIT_VMSAVE},
    {svm_stgi, SVM_INTERCEPT_STGI, SVM_EXIT_STGI},
    {svm_clgi, SVM_INTERCEPT_CLGI, SVM_EXIT_CLGI},
    {svm_invlpga, SVM_INTERCEPT_INVLPGA, SVM_EXIT_INVLPGA},
    {svm_skinit, SVM_INTERCEPT_SKINIT, SVM_EXIT_SKINIT},
  };
  for (unsigned i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    guest_setup(&svm_features_ryzen);
    svm_intercept_set(vmcb_in_ram(), cases[i].icpt, true);
    assert_int_equal(svm_vmrun(&vcpu, &machine, HOST_NEXT_RIP).outcome, SVM_DONE);
    cpu.gpr[GPR_RAX] = 0x7;   /* would #GP (unaligned) if not intercepted first */
    struct svm_result r = cases[i].fn(&vcpu, &machine, cpu.rip + 3);
    assert_int_equal(r.outcome, SVM_VMEXITED);
    assert_int_equal(r.exitcode, cases[i].exit);
    assert_int_equal(vmcb_in_ram()->control.exitcode, cases[i].exit);
    assert_int_equal(invlpga_calls, 0);
  }
}

static void svm_stgi_clgi_set_gif_and_gif_holds_events(void **state)
{
  host_setup(&svm_features_ryzen);
  assert_true(vcpu.gif);  /* 1 after reset */
  assert_int_equal(svm_clgi(&vcpu, &machine, HOST_NEXT_RIP).outcome, SVM_DONE);
  assert_false(vcpu.gif);
  assert_int_equal(cpu.rip, HOST_NEXT_RIP);
  const enum svm_event evs[] = {SVM_EV_INTR, SVM_EV_NMI, SVM_EV_SMI, SVM_EV_INIT, SVM_EV_VINTR};
  for (unsigned i = 0; i < 5; i++) assert_false(svm_event_allowed_by_gif(&vcpu, evs[i]));
  assert_int_equal(svm_stgi(&vcpu, &machine, HOST_NEXT_RIP + 3).outcome, SVM_DONE);
  assert_true(vcpu.gif);
  for (unsigned i = 0; i < 5; i++) assert_true(svm_event_allowed_by_gif(&vcpu, evs[i]));
}

static void svm_invlpga_invalidates_va_for_asid(void **state)
{
  host_setup(&svm_features_ryzen);
  cpu.gpr[GPR_RAX] = 0xFFFF800000123456ull;
  cpu.gpr[GPR_RCX] = 0x100000005ull;   /* ASID is ECX */
  assert_int_equal(svm_invlpga(&vcpu, &machine, HOST_NEXT_RIP).outcome, SVM_DONE);
  assert_int_equal(invlpga_calls, 1);
  assert_int_equal(invlpga_va, 0xFFFF800000123456ull);
  assert_int_equal(invlpga_asid, 5);
  /* 32-bit mode: the address is EAX */
  cpu.seg[SEG_CS].ar &= ~SEG_AR_L;
  assert_int_equal(svm_invlpga(&vcpu, &machine, HOST_NEXT_RIP).outcome, SVM_DONE);
  assert_int_equal(invlpga_va, 0x00123456ull);
}

/* "Decode Assists": an intercepted INVLPGA reports rAX, the address it
 * would invalidate, in EXITINFO1; without decode assists EXITINFO1 is 0. */
static void svm_invlpga_intercepted_decode_assists_reports_address(void **state)
{
  const struct svm_features *models[] = {&svm_features_zen2, &svm_features_ryzen};
  for (unsigned i = 0; i < 2; i++) {
    guest_setup(models[i]);
    svm_intercept_set(vmcb_in_ram(), SVM_INTERCEPT_INVLPGA, true);
    assert_int_equal(svm_vmrun(&vcpu, &machine, HOST_NEXT_RIP).outcome, SVM_DONE);
    cpu.gpr[GPR_RAX] = 0xFFFF800000123456ull;
    cpu.gpr[GPR_RCX] = 3;
    struct svm_result r = svm_invlpga(&vcpu, &machine, cpu.rip + 3);
    assert_int_equal(r.exitcode, SVM_EXIT_INVLPGA);
    assert_int_equal(vmcb_in_ram()->control.exitinfo1, i == 0 ? 0xFFFF800000123456ull : 0);
    assert_int_equal(invlpga_calls, 0);
  }
}

static void svm_skinit_not_modelled_ud(void **state)
{
  host_setup(&svm_features_ryzen);
  assert_fault(svm_skinit(&vcpu, &machine, HOST_NEXT_RIP), SVM_VEC_UD);
}

static void svm_vmexit_in_host_mode_refused(void **state)
{
  host_setup(&svm_features_ryzen);
  struct cpu_state before;
  memcpy(&before, &cpu, sizeof cpu);
  assert_int_equal(svm_vmexit(&vcpu, &machine, SVM_EXIT_HLT, 0, 0, 0).outcome, SVM_NOT_IN_GUEST);
  assert_memory_equal(&before, &cpu, sizeof cpu);
}

static void svm_vmrun_unbacked_vmcb_memory_error(void **state)
{
  guest_setup(&svm_features_ryzen);
  vcpu.msrs.vm_hsave_pa = 0x20000;  /* beyond the fake RAM */
  assert_int_equal(svm_vmrun(&vcpu, &machine, HOST_NEXT_RIP).outcome, SVM_MEMORY_ERROR);
  assert_false(vcpu.in_guest);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(svm_insn_svme_clear_ud),
    cmocka_unit_test(svm_insn_outside_protected_mode_ud),
    cmocka_unit_test(svm_insn_cpl3_gp),
    cmocka_unit_test(svm_insn_rax_not_page_aligned_or_beyond_maxphyaddr_gp),
    cmocka_unit_test(svm_vmrun_saves_host_and_loads_guest),
    cmocka_unit_test(svm_vmrun_canonicalizes_segment_bases),
    cmocka_unit_test(svm_vmrun_inconsistent_vmcb_vmexit_invalid),
    cmocka_unit_test(svm_vmexit_writes_only_its_fields),
    cmocka_unit_test(svm_vmmcall_intercepted_vmexit_with_nrip),
    cmocka_unit_test(svm_vmmcall_intercepted_vmexit_without_nrip_save),
    cmocka_unit_test(svm_vmmcall_not_intercepted_ud),
    cmocka_unit_test(svm_vmsave_writes_exactly_its_state),
    cmocka_unit_test(svm_vmload_loads_exactly_its_state),
    cmocka_unit_test(svm_vmload_vmsave_gif_intercepted_vmexit),
    cmocka_unit_test(svm_stgi_clgi_set_gif_and_gif_holds_events),
    cmocka_unit_test(svm_invlpga_invalidates_va_for_asid),
    cmocka_unit_test(svm_invlpga_intercepted_decode_assists_reports_address),
    cmocka_unit_test(svm_skinit_not_modelled_ud),
    cmocka_unit_test(svm_vmexit_in_host_mode_refused),
    cmocka_unit_test(svm_vmrun_unbacked_vmcb_memory_error),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
