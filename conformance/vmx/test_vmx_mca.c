/* Machine checks and VMX through the whole machine (sim/mca.h, sim/vmx_*.c)
 * on skylake-x: a tiny 32-bit VMX host written byte by byte (guest32.h)
 * turns on paging and VMX, builds a VMCS for a flat 32-bit guest that
 * loops, VMLAUNCHes, and on the VM exit stores the exit reason,
 * interruption information, qualification and guest RIP; an injected
 * machine check (machine_options.mce) meets the guest or the VM entry.
 * Checked (SDM Vol. 3C): #MC in non-root operation with bit 18 of the
 * exception bitmap is exit reason 0 with a hardware exception, vector 18,
 * no error code ("Exceptions" under "Instructions That Cause VM Exits
 * Conditionally"; "VM Exits Caused by Events"), without it the guest's IDT
 * takes it; with the guest's CR4.MCE = 0 the shutdown is a triple-fault
 * exit ("Triple Fault"); a machine check during VM entry fails the entry
 * with exit reason 41 and bit 31, the host state loaded and the VMLAUNCH's
 * VMCS left not launched ("Machine-Check Events During VM Entry",
 * "VM-Entry Failures During or After Loading Guest State"). `--covers`
 * prints "exit 0" and "exit 41" for the passing cases (vmx-coverage). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "conformance/covers.h"
#include "conformance/machine/guest32.h"
#include "models/vmx/vmcs.h"
#include "sim/mca.h"

/* The image's segment holds the host code (from CODE), the guest's code,
 * the exit handler, the guest's #MC handler and the results; the VMX
 * regions and the page directory are in RAM past it. */
#define GUEST_CODE  0x100600u
#define EXIT_RIP    0x100620u
#define GUEST_MC    0x1006e0u
#define RESULT      0x100700u   /* exit reason, interruption info, qualification, guest RIP, VM-instruction error */
#define PTR_VMXON   0x100780u   /* the regions' physical addresses (m64 operands) */
#define PTR_VMCS    0x100788u
#define PD          0x200000u
#define VMXON_REG   0x201000u
#define VMCS_REG    0x202000u
#define HOST_STACK  0x170000u
#define GUEST_STACK 0x160000u

#define CR0_REQUIRED 0x80000021u   /* PG, NE, PE: IA32_VMX_CR0_FIXED0 of VMX operation */
#define AT 3000                    /* well after the host's set-up, with the guest looping */

enum { R_REASON, R_INTR_INFO, R_QUAL, R_GUEST_RIP, R_INSN_ERROR };

/* ---- host code --------------------------------------------------------------- */

static void wr32(struct guest *g, uint32_t addr, uint32_t v) { EMIT(g, 0xc7, 0x05, U32(addr), U32(v)); }
static uint32_t enc(int field) { return vmcs_fields[field].encoding; }

/* mov ecx, encoding; mov edx, value; vmwrite ecx, edx */
static void vmwrite(struct guest *g, int field, uint32_t value)
{
  EMIT(g, 0xb9, U32(enc(field)), 0xba, U32(value), 0x0f, 0x79, 0xca);
}
/* The high half of a 64-bit field (encoding | 1). */
static void vmwrite_high(struct guest *g, int field, uint32_t value)
{
  EMIT(g, 0xb9, U32(enc(field) | 1), 0xba, U32(value), 0x0f, 0x79, 0xca);
}
/* vmwrite field, CRn (mov edx, crN: 0f 20 /r with r/m = edx) */
static void vmwrite_cr(struct guest *g, int field, unsigned cr)
{
  EMIT(g, 0x0f, 0x20, (uint8_t)(0xc2 | cr << 3), 0xb9, U32(enc(field)), 0x0f, 0x79, 0xca);
}
/* A control field at its capability MSR's required 1-settings (the
 * allowed 0-settings in the MSR's low half: "VM-Execution Controls"). */
static void vmwrite_required(struct guest *g, int field, uint32_t cap_msr, uint32_t extra)
{
  EMIT(g, 0xb9, U32(cap_msr), 0x0f, 0x32, 0x89, 0xc2, 0x81, 0xca, U32(extra));   /* rdmsr; mov edx, eax; or edx, extra */
  EMIT(g, 0xb9, U32(enc(field)), 0x0f, 0x79, 0xca);
}
/* vmread edx, field; mov [RESULT + 8 * slot], edx */
static void vmread_to(struct guest *g, int field, unsigned slot)
{
  EMIT(g, 0xb9, U32(enc(field)), 0x0f, 0x78, 0xca, 0x89, 0x15, U32(RESULT + 8 * slot));
}
static void exit_with(struct guest *g, uint8_t value) { EMIT(g, 0xb0, value, 0xe6, 0xf4, 0xeb, 0xfe); }

/* The segment registers of guest and host: flat 32-bit code 08H and data
 * 10H from guest32.h's GDT; TR 18H, a busy 32-bit TSS in the access-rights
 * format; LDTR unusable. */
static void segments(struct guest *g)
{
  static const struct { int sel, limit, ar, base; uint32_t selector, ar_value; } seg[] = {
    {VMCSI_GUEST_ES_SELECTOR, VMCSI_GUEST_ES_LIMIT, VMCSI_GUEST_ES_AR_BYTES, VMCSI_GUEST_ES_BASE, 0x10, 0xc093},
    {VMCSI_GUEST_CS_SELECTOR, VMCSI_GUEST_CS_LIMIT, VMCSI_GUEST_CS_AR_BYTES, VMCSI_GUEST_CS_BASE, 0x08, 0xc09b},
    {VMCSI_GUEST_SS_SELECTOR, VMCSI_GUEST_SS_LIMIT, VMCSI_GUEST_SS_AR_BYTES, VMCSI_GUEST_SS_BASE, 0x10, 0xc093},
    {VMCSI_GUEST_DS_SELECTOR, VMCSI_GUEST_DS_LIMIT, VMCSI_GUEST_DS_AR_BYTES, VMCSI_GUEST_DS_BASE, 0x10, 0xc093},
    {VMCSI_GUEST_FS_SELECTOR, VMCSI_GUEST_FS_LIMIT, VMCSI_GUEST_FS_AR_BYTES, VMCSI_GUEST_FS_BASE, 0x10, 0xc093},
    {VMCSI_GUEST_GS_SELECTOR, VMCSI_GUEST_GS_LIMIT, VMCSI_GUEST_GS_AR_BYTES, VMCSI_GUEST_GS_BASE, 0x10, 0xc093},
    {VMCSI_GUEST_LDTR_SELECTOR, VMCSI_GUEST_LDTR_LIMIT, VMCSI_GUEST_LDTR_AR_BYTES, VMCSI_GUEST_LDTR_BASE, 0, 0x10000},
    {VMCSI_GUEST_TR_SELECTOR, VMCSI_GUEST_TR_LIMIT, VMCSI_GUEST_TR_AR_BYTES, VMCSI_GUEST_TR_BASE, 0x18, 0x8b},
  };
  for (size_t i = 0; i < sizeof seg / sizeof seg[0]; i++) {
    vmwrite(g, seg[i].sel, seg[i].selector);
    vmwrite(g, seg[i].limit, seg[i].ar_value == 0x8b ? 0x67 : 0xffffffffu);
    vmwrite(g, seg[i].ar, seg[i].ar_value);
    vmwrite(g, seg[i].base, 0);
  }
  static const int host_sel[] = {VMCSI_HOST_ES_SELECTOR, VMCSI_HOST_SS_SELECTOR, VMCSI_HOST_DS_SELECTOR,
                                 VMCSI_HOST_FS_SELECTOR, VMCSI_HOST_GS_SELECTOR};
  for (size_t i = 0; i < sizeof host_sel / sizeof host_sel[0]; i++) vmwrite(g, host_sel[i], 0x10);
  vmwrite(g, VMCSI_HOST_CS_SELECTOR, 0x08);
  vmwrite(g, VMCSI_HOST_TR_SELECTOR, 0x18);
}

/* The host: paging (one 4 MiB page), CR4.VMXE and MCE, VMXON (the
 * firmware left IA32_FEATURE_CONTROL locked with VMX enabled), a VMCS for the guest at GUEST_CODE (jmp $), the case's exception
 * bitmap and guest CR4, VMLAUNCH. A VMLAUNCH that fails (VMfail) exits
 * EEH. The exit handler stores the exit information; after a failed VM
 * entry (bit 31) it tries VMRESUME and stores the VM-instruction error.
 * The guest's IDT is the host's: vector 18 goes to GUEST_MC, which exits
 * 12H. */
static void build(struct guest *g, uint32_t exception_bitmap, bool guest_mce)
{
  guest_start(g, VEC_MC);
  const uint8_t mc_gate[8] = {(uint8_t)GUEST_MC, (uint8_t)(GUEST_MC >> 8), 0x08, 0, 0, 0x8e, (uint8_t)(GUEST_MC >> 16),
                              (uint8_t)(GUEST_MC >> 24)};
  memcpy(g->seg + (IDT - BASE) + 8 * VEC_MC, mc_gate, sizeof mc_gate);
  const uint64_t ptrs[2] = {VMXON_REG, VMCS_REG};
  memcpy(g->seg + (PTR_VMXON - BASE), ptrs, sizeof ptrs);

  wr32(g, PD, 0x83);                                          /* 0-4 MiB, present, writable, 4 MiB page */
  EMIT(g, 0x0f, 0x20, 0xe0, 0x0d, U32(CR4_PSE | CR4_VMXE | CR4_MCE), 0x0f, 0x22, 0xe0);   /* cr4 |= ... */
  EMIT(g, 0xb8, U32(PD), 0x0f, 0x22, 0xd8);                   /* mov cr3, PD */
  EMIT(g, 0x0f, 0x20, 0xc0, 0x0d, U32(CR0_REQUIRED), 0x0f, 0x22, 0xc0);   /* cr0 |= PG, NE, PE */
  EMIT(g, 0xb9, U32(0x480), 0x0f, 0x32, 0xa3, U32(VMXON_REG), 0xa3, U32(VMCS_REG));   /* revision identifiers */
  EMIT(g, 0xf3, 0x0f, 0xc7, 0x35, U32(PTR_VMXON));           /* vmxon [PTR_VMXON] */
  EMIT(g, 0x66, 0x0f, 0xc7, 0x35, U32(PTR_VMCS));            /* vmclear [PTR_VMCS] */
  EMIT(g, 0x0f, 0xc7, 0x35, U32(PTR_VMCS));                  /* vmptrld [PTR_VMCS] */

  vmwrite_required(g, VMCSI_PIN_BASED_VM_EXEC_CONTROL, 0x481, 0);
  vmwrite_required(g, VMCSI_CPU_BASED_VM_EXEC_CONTROL, 0x482, 0);
  vmwrite_required(g, VMCSI_VM_EXIT_CONTROLS, 0x483, 0);
  vmwrite_required(g, VMCSI_VM_ENTRY_CONTROLS, 0x484, 0);
  vmwrite(g, VMCSI_EXCEPTION_BITMAP, exception_bitmap);
  vmwrite(g, VMCSI_VMCS_LINK_POINTER, 0xffffffffu);
  vmwrite_high(g, VMCSI_VMCS_LINK_POINTER, 0xffffffffu);

  vmwrite_cr(g, VMCSI_HOST_CR0, 0);
  vmwrite_cr(g, VMCSI_HOST_CR3, 3);
  vmwrite_cr(g, VMCSI_HOST_CR4, 4);
  vmwrite(g, VMCSI_HOST_GDTR_BASE, GDT);
  vmwrite(g, VMCSI_HOST_IDTR_BASE, IDT);
  vmwrite(g, VMCSI_HOST_RSP, HOST_STACK);
  vmwrite(g, VMCSI_HOST_RIP, EXIT_RIP);

  vmwrite_cr(g, VMCSI_GUEST_CR0, 0);
  vmwrite_cr(g, VMCSI_GUEST_CR3, 3);
  /* The guest's CR4: the host's, less MCE unless `guest_mce`. */
  EMIT(g, 0x0f, 0x20, 0xe2);                                  /* mov edx, cr4 */
  if (!guest_mce) EMIT(g, 0x81, 0xe2, U32(~(uint32_t)CR4_MCE));   /* and edx, ~MCE */
  EMIT(g, 0xb9, U32(enc(VMCSI_GUEST_CR4)), 0x0f, 0x79, 0xca);
  vmwrite(g, VMCSI_GUEST_DR7, 0x400);
  vmwrite(g, VMCSI_GUEST_RFLAGS, 0x2);
  vmwrite(g, VMCSI_GUEST_RIP, GUEST_CODE);
  vmwrite(g, VMCSI_GUEST_RSP, GUEST_STACK);
  vmwrite(g, VMCSI_GUEST_GDTR_BASE, GDT);
  vmwrite(g, VMCSI_GUEST_GDTR_LIMIT, 0x17);
  vmwrite(g, VMCSI_GUEST_IDTR_BASE, IDT);
  vmwrite(g, VMCSI_GUEST_IDTR_LIMIT, 8 * VEC_MC + 7);
  segments(g);

  EMIT(g, 0x0f, 0x01, 0xc2);                                  /* vmlaunch */
  exit_with(g, 0xee);                                         /* VMfail */
  if (g->at > GUEST_CODE) fail_msg("host code runs into the guest's (%#x)", g->at);

  g->at = GUEST_CODE;
  EMIT(g, 0xeb, 0xfe);                                        /* jmp $ */
  g->at = EXIT_RIP;
  vmread_to(g, VMCSI_VM_EXIT_REASON, R_REASON);
  vmread_to(g, VMCSI_VM_EXIT_INTR_INFO, R_INTR_INFO);
  vmread_to(g, VMCSI_EXIT_QUALIFICATION, R_QUAL);
  vmread_to(g, VMCSI_GUEST_RIP, R_GUEST_RIP);
  EMIT(g, 0xa1, U32(RESULT + 8 * R_REASON), 0x85, 0xc0, 0x79, 0x11);   /* mov eax, [reason]; test eax, eax; jns +17 */
  EMIT(g, 0x0f, 0x01, 0xc3);                                  /* vmresume (3 bytes) */
  vmread_to(g, VMCSI_VM_INSTRUCTION_ERROR, R_INSN_ERROR);     /* (14 bytes) */
  exit_with(g, 0x55);
  if (g->at > GUEST_MC) fail_msg("the exit handler runs into the guest's #MC handler (%#x)", g->at);
  g->at = GUEST_MC;
  exit_with(g, VEC_MC);
}

struct outcome {
  int status;
  enum stop_reason stop;
  uint64_t r[5];
  uint64_t mcg_status, bank0_status;
};

static struct outcome run(uint32_t exception_bitmap, bool guest_mce, const struct mca_injection *mce)
{
  struct guest g;
  build(&g, exception_bitmap, guest_mce);
  struct machine_options opt = {.cpu = cpu_model_find("skylake-x"), .ram_size = 4u << 20, .max_insns = 200000,
                                .image_name = "vmx-mca", .mce = mce, .mce_count = mce ? 1 : 0};
  struct outcome o = {0};
  char err[256] = "";
  struct machine *m = machine_create(&opt, g.file, sizeof g.file, err, sizeof err);
  if (!m) {
    o.stop = STOP_INTERNAL;
    return o;
  }
  machine_run(m);
  o.stop = m->stop;
  o.status = m->exit_status;
  memcpy(o.r, m->ram + RESULT, sizeof o.r);
  o.mcg_status = m->mca.mcg_status;
  o.bank0_status = m->mca.bank[0].status;
  machine_destroy(m);
  return o;
}

static const struct mca_injection in_guest = {
  .at = AT, .mcg_status = MCG_STATUS_RIPV,
  .status = MCI_STATUS_VAL | MCI_STATUS_UC | MCI_STATUS_EN | MCI_STATUS_PCC | 0x1};

/* ---- the cases (no cmocka assertions: --covers runs them too) ------------------ */

#define HOST_DONE ((0x55 << 1) | 1)
#define INTR_INFO_MC (0x80000000u | 3u << 8 | VEC_MC)   /* valid, hardware exception, vector 18, no error code */

static bool mc_exits_reason_0(void)
{
  struct outcome o = run(1u << VEC_MC, true, &in_guest);
  return o.stop == STOP_DEBUG_EXIT && o.status == HOST_DONE && o.r[R_REASON] == 0 &&
         o.r[R_INTR_INFO] == INTR_INFO_MC && o.r[R_GUEST_RIP] == GUEST_CODE &&
         o.mcg_status == (MCG_STATUS_MCIP | MCG_STATUS_RIPV) && o.bank0_status == in_guest.status;
}

static bool mc_without_bitmap_bit_goes_to_guest_idt(void)
{
  struct outcome o = run(0, true, &in_guest);
  return o.stop == STOP_DEBUG_EXIT && o.status == ((VEC_MC << 1) | 1);
}

static bool mc_with_guest_cr4_mce_clear_is_triple_fault_exit(void)
{
  struct outcome o = run(1u << VEC_MC, false, &in_guest);
  return o.stop == STOP_DEBUG_EXIT && o.status == HOST_DONE && o.r[R_REASON] == 2;
}

/* Exit reason 41 with bit 31; the handler's VMRESUME then fails with
 * VM-instruction error 5, "VMRESUME with non-launched VMCS". */
static bool mc_during_vm_entry_fails_entry_41(void)
{
  struct mca_injection at_entry = in_guest;
  at_entry.at = 0;
  at_entry.vm_entry = true;
  struct outcome o = run(1u << VEC_MC, true, &at_entry);
  return o.stop == STOP_DEBUG_EXIT && o.status == HOST_DONE && o.r[R_REASON] == (0x80000000u | 41) &&
         o.r[R_QUAL] == 0 && o.r[R_INSN_ERROR] == 5 && o.mcg_status == (MCG_STATUS_MCIP | MCG_STATUS_RIPV) &&
         o.bank0_status == at_entry.status;
}

/* Not yet due at the entry (it is due long after the run's end): the
 * entry succeeds and the guest loops to the instruction limit. */
static bool mc_not_due_at_vm_entry_lets_entry_succeed(void)
{
  struct mca_injection later = in_guest;
  later.at = 1000000;
  later.vm_entry = true;
  struct outcome o = run(1u << VEC_MC, true, &later);
  return o.stop == STOP_MAX_INSNS && o.r[R_REASON] == 0 && o.bank0_status == 0;
}

static void vmx_mca_mc_in_guest_exits_reason_0_vector_18(void **state)
{
  (void)state;
  assert_true(mc_exits_reason_0());
}

static void vmx_mca_mc_without_bitmap_bit_is_delivered_to_guest(void **state)
{
  (void)state;
  assert_true(mc_without_bitmap_bit_goes_to_guest_idt());
}

static void vmx_mca_guest_cr4_mce_clear_triple_fault_exits(void **state)
{
  (void)state;
  assert_true(mc_with_guest_cr4_mce_clear_is_triple_fault_exit());
}

static void vmx_mca_mc_during_vm_entry_fails_with_reason_41(void **state)
{
  (void)state;
  assert_true(mc_during_vm_entry_fails_entry_41());
}

static void vmx_mca_mc_not_due_at_vm_entry_entry_succeeds(void **state)
{
  (void)state;
  assert_true(mc_not_due_at_vm_entry_lets_entry_succeed());
}

/* --covers: the exit reasons the passing cases produce. */
static void covered(void)
{
  if (mc_exits_reason_0() && mc_without_bitmap_bit_goes_to_guest_idt()) printf("exit 0\n");
  if (mc_during_vm_entry_fails_entry_41() && mc_not_due_at_vm_entry_lets_entry_succeed()) printf("exit 41\n");
}

int main(int argc, char **argv)
{
  static const struct CMUnitTest tests[] = {
    cmocka_unit_test(vmx_mca_mc_in_guest_exits_reason_0_vector_18),
    cmocka_unit_test(vmx_mca_mc_without_bitmap_bit_is_delivered_to_guest),
    cmocka_unit_test(vmx_mca_guest_cr4_mce_clear_triple_fault_exits),
    cmocka_unit_test(vmx_mca_mc_during_vm_entry_fails_with_reason_41),
    cmocka_unit_test(vmx_mca_mc_not_due_at_vm_entry_entry_succeeds),
  };
  return cov_main(argc, argv, "vmx_mca", tests, sizeof tests / sizeof tests[0], covered);
}
