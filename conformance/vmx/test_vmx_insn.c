/* Conformance of the VMX instructions in VMX root operation (SDM Vol. 3C,
 * "VMX Instruction Reference"): #UD, #GP(0), VM exit, VMsucceed,
 * VMfailInvalid and every VM-instruction error number the model produces
 * (1, 2, 3, 4, 5, 7, 8, 9, 10, 11, 12, 13, 15, 26, 28). */
#include "conformance/covers.h"

#include <stdio.h>
#include <string.h>

#include "conformance/vmx/baseline.h"
#include "models/vmx/vmx_bits.h"
#include "models/vmx/vmx_insn.h"

#define VMXON_PA 0x1000
#define VMCS_PA  0x2000
#define VMCS2_PA 0x3000

static uint8_t mem[TMEM_SIZE];
static int invalidations;
static uint64_t last_inv_type, last_inv_tag;

static bool mread(void *ctx, uint64_t pa, void *buf, size_t len)
{
  if (pa >= TMEM_SIZE || len > TMEM_SIZE - pa) return false;
  memcpy(buf, mem + pa, len);
  return true;
}
static bool mwrite(void *ctx, uint64_t pa, const void *buf, size_t len)
{
  if (pa >= TMEM_SIZE || len > TMEM_SIZE - pa) return false;
  memcpy(mem + pa, buf, len);
  return true;
}
static void minval(void *ctx, int insn, uint64_t type, uint64_t tag, uint64_t addr)
{
  invalidations++;
  last_inv_type = type;
  last_inv_tag = tag;
}
static const struct vmx_mem_ops ops = { .read = mread, .write = mwrite, .invalidate = minval };

static struct vmx_cpu x;
static struct cpu_state s;

static void put32(uint64_t pa, uint32_t v) { memcpy(mem + pa, &v, 4); }

/* A 64-bit ring-0 host ready for VMXON on `caps`. */
static void setup(const struct vmx_caps *caps)
{
  memset(mem, 0, sizeof mem);
  memset(&s, 0, sizeof s);
  invalidations = 0;
  vmx_cpu_init(&x, caps);
  s.cr0 = 0x80010031;
  s.cr4 = 0x2020;
  s.efer = EFER_LMA | EFER_LME;
  s.seg[SEG_CS].ar = SEG_AR_P | SEG_AR_S | SEG_AR_L | 0xB;
  s.rflags = RFLAGS_FIXED1;
  put32(VMXON_PA, BASIC_REVISION(caps->basic));
  put32(VMCS_PA, BASIC_REVISION(caps->basic));
  put32(VMCS2_PA, BASIC_REVISION(caps->basic));
}
static enum vmx_insn_outcome vmxon(uint64_t pa) { return vmx_vmxon(&x, &s, &ops, false, pa).outcome; }
/* VMXON and VMPTRLD of VMCS_PA. */
static void setup_current(const struct vmx_caps *caps)
{
  setup(caps);
  assert_int_equal(vmxon(VMXON_PA), VMX_INSN_SUCCEED);
  assert_int_equal(vmx_vmptrld(&x, &s, &ops, false, VMCS_PA).outcome, VMX_INSN_SUCCEED);
}
static void expect_fail_valid(struct vmx_insn_result r, unsigned error)
{
  assert_int_equal(r.outcome, VMX_INSN_FAIL_VALID);
  assert_int_equal(r.error, error);
  assert_int_equal(vmcs_get(&x.current, VMCSI_VM_INSTRUCTION_ERROR), error);
}

static void insn_vmxon_ud_cases(void **state)
{
  setup(&vmx_caps_skylake_x);
  assert_int_equal(vmx_vmxon(&x, &s, &ops, true, VMXON_PA).outcome, VMX_INSN_UD);   /* register operand */
  s.cr4 &= ~CR4_VMXE;
  assert_int_equal(vmxon(VMXON_PA), VMX_INSN_UD);
  setup(&vmx_caps_skylake_x);
  s.seg[SEG_CS].ar &= ~SEG_AR_L;                                                    /* compatibility mode */
  assert_int_equal(vmxon(VMXON_PA), VMX_INSN_UD);
  setup(&vmx_caps_skylake_x);
  s.cr0 &= ~(CR0_PE | CR0_PG);
  s.efer = 0;
  assert_int_equal(vmxon(VMXON_PA), VMX_INSN_UD);
  setup(&vmx_caps_skylake_x);
  s.efer = 0;
  s.rflags |= RFLAGS_VM;
  assert_int_equal(vmxon(VMXON_PA), VMX_INSN_UD);
  setup(&vmx_caps_skylake_x);
  assert_int_equal(vmxon(VMXON_PA), VMX_INSN_SUCCEED);
}

static void insn_vmxon_gp_cases(void **state)
{
  setup(&vmx_caps_skylake_x);
  s.seg[SEG_CS].ar |= 3 << 5;                                                       /* CPL 3 */
  assert_int_equal(vmxon(VMXON_PA), VMX_INSN_GP);
  setup(&vmx_caps_skylake_x);
  s.cr0 &= ~CR0_NE;                                                                 /* CR0 not VMX-compatible */
  assert_int_equal(vmxon(VMXON_PA), VMX_INSN_GP);
  setup(&vmx_caps_skylake_x);
  x.feature_control = FEATCTL_VMX_OUTSIDE_SMX;                                      /* not locked */
  assert_int_equal(vmxon(VMXON_PA), VMX_INSN_GP);
  x.feature_control = FEATCTL_LOCK | FEATCTL_VMX_IN_SMX;                            /* locked, outside-SMX off */
  assert_int_equal(vmxon(VMXON_PA), VMX_INSN_GP);
  x.in_smx = true;
  assert_int_equal(vmxon(VMXON_PA), VMX_INSN_SUCCEED);
}

static void insn_vmxon_bad_region_fails_invalid(void **state)
{
  setup(&vmx_caps_nehalem);
  assert_int_equal(vmxon(VMXON_PA + 8), VMX_INSN_FAIL_INVALID);                     /* misaligned */
  assert_int_equal(vmxon(1ull << 36), VMX_INSN_FAIL_INVALID);                       /* beyond 36 bits */
  put32(VMXON_PA, BASIC_REVISION(vmx_caps_nehalem.basic) + 1);
  assert_int_equal(vmxon(VMXON_PA), VMX_INSN_FAIL_INVALID);                         /* wrong revision */
  put32(VMXON_PA, BASIC_REVISION(vmx_caps_nehalem.basic) | 0x80000000u);
  struct vmx_insn_result r = vmx_vmxon(&x, &s, &ops, false, VMXON_PA);
  assert_int_equal(r.outcome, VMX_INSN_FAIL_INVALID);                               /* bit 31 set */
  vmx_insn_apply_rflags(&s, &r);
  assert_int_equal(s.rflags & (RFLAGS_CF | (1u << 6)), RFLAGS_CF);
  assert_false(x.vmx_operation);
}

static void insn_vmxon_in_root_error_15(void **state)
{
  setup(&vmx_caps_skylake_x);
  assert_int_equal(vmxon(VMXON_PA), VMX_INSN_SUCCEED);
  assert_int_equal(vmxon(VMXON_PA), VMX_INSN_FAIL_INVALID);                         /* no current VMCS */
  assert_int_equal(vmx_vmptrld(&x, &s, &ops, false, VMCS_PA).outcome, VMX_INSN_SUCCEED);
  expect_fail_valid(vmx_vmxon(&x, &s, &ops, false, VMXON_PA), VMXERR_VMXON_IN_ROOT);
  x.non_root = true;
  assert_int_equal(vmxon(VMXON_PA), VMX_INSN_VMEXIT);
}

static void insn_outside_vmx_operation_ud(void **state)
{
  uint64_t desc[2] = { 0, 0 };
  setup(&vmx_caps_skylake_x);
  assert_int_equal(vmx_vmxoff(&x, &s).outcome, VMX_INSN_UD);
  assert_int_equal(vmx_vmclear(&x, &s, &ops, false, VMCS_PA).outcome, VMX_INSN_UD);
  assert_int_equal(vmx_vmptrld(&x, &s, &ops, false, VMCS_PA).outcome, VMX_INSN_UD);
  assert_int_equal(vmx_vmptrst(&x, &s, false).outcome, VMX_INSN_UD);
  assert_int_equal(vmx_vmread(&x, &s, VMCS_GUEST_RIP).outcome, VMX_INSN_UD);
  assert_int_equal(vmx_vmwrite(&x, &s, VMCS_GUEST_RIP, 0).outcome, VMX_INSN_UD);
  assert_int_equal(vmx_vmlaunch(&x, &s, &ops, false).outcome, VMX_INSN_UD);
  assert_int_equal(vmx_invept(&x, &s, &ops, false, 2, desc).outcome, VMX_INSN_UD);
  assert_int_equal(vmx_invvpid(&x, &s, &ops, false, 2, desc).outcome, VMX_INSN_UD);
  assert_int_equal(vmx_vmcall(&x, &s).outcome, VMX_INSN_UD);
  assert_int_equal(vmx_vmfunc(&x, &s).outcome, VMX_INSN_UD);
}

static void insn_cpl3_gp_and_non_root_exit(void **state)
{
  setup_current(&vmx_caps_skylake_x);
  s.seg[SEG_CS].ar |= 3 << 5;
  assert_int_equal(vmx_vmread(&x, &s, VMCS_GUEST_RIP).outcome, VMX_INSN_GP);
  assert_int_equal(vmx_vmclear(&x, &s, &ops, false, VMCS_PA).outcome, VMX_INSN_GP);
  assert_int_equal(vmx_vmcall(&x, &s).outcome, VMX_INSN_GP);
  assert_int_equal(vmx_vmclear(&x, &s, &ops, true, VMCS_PA).outcome, VMX_INSN_UD);  /* register operand first */
  x.non_root = true;
  assert_int_equal(vmx_vmread(&x, &s, VMCS_GUEST_RIP).outcome, VMX_INSN_VMEXIT);
  assert_int_equal(vmx_vmcall(&x, &s).outcome, VMX_INSN_VMEXIT);
  assert_int_equal(vmx_vmfunc(&x, &s).outcome, VMX_INSN_VMEXIT);
}

static void insn_vmclear_errors_2_and_3(void **state)
{
  setup(&vmx_caps_skylake_x);
  assert_int_equal(vmxon(VMXON_PA), VMX_INSN_SUCCEED);
  assert_int_equal(vmx_vmclear(&x, &s, &ops, false, VMCS_PA + 1).outcome, VMX_INSN_FAIL_INVALID);
  assert_int_equal(vmx_vmptrld(&x, &s, &ops, false, VMCS_PA).outcome, VMX_INSN_SUCCEED);
  expect_fail_valid(vmx_vmclear(&x, &s, &ops, false, VMCS2_PA + 0x10), VMXERR_VMCLEAR_INVALID_ADDR);
  expect_fail_valid(vmx_vmclear(&x, &s, &ops, false, 1ull << 40), VMXERR_VMCLEAR_INVALID_ADDR);
  expect_fail_valid(vmx_vmclear(&x, &s, &ops, false, VMXON_PA), VMXERR_VMCLEAR_VMXON_PTR);
  assert_int_equal(vmx_vmclear(&x, &s, &ops, false, VMCS2_PA).outcome, VMX_INSN_SUCCEED);
  assert_int_equal(x.current_vmcs_ptr, VMCS_PA);                                    /* other VMCS: pointer kept */
}

static void insn_vmptrld_errors_9_10_11(void **state)
{
  setup(&vmx_caps_nehalem);
  assert_int_equal(vmxon(VMXON_PA), VMX_INSN_SUCCEED);
  assert_int_equal(vmx_vmptrld(&x, &s, &ops, false, VMCS_PA + 4).outcome, VMX_INSN_FAIL_INVALID);
  assert_int_equal(vmx_vmptrld(&x, &s, &ops, false, VMCS_PA).outcome, VMX_INSN_SUCCEED);
  expect_fail_valid(vmx_vmptrld(&x, &s, &ops, false, VMCS2_PA + 4), VMXERR_VMPTRLD_INVALID_ADDR);
  expect_fail_valid(vmx_vmptrld(&x, &s, &ops, false, VMXON_PA), VMXERR_VMPTRLD_VMXON_PTR);
  put32(VMCS2_PA, 0x1234);
  expect_fail_valid(vmx_vmptrld(&x, &s, &ops, false, VMCS2_PA), VMXERR_VMPTRLD_BAD_REVISION);
  /* A shadow VMCS (bit 31) needs VMCS shadowing: Nehalem lacks it. */
  put32(VMCS2_PA, BASIC_REVISION(vmx_caps_nehalem.basic) | 0x80000000u);
  expect_fail_valid(vmx_vmptrld(&x, &s, &ops, false, VMCS2_PA), VMXERR_VMPTRLD_BAD_REVISION);
  setup(&vmx_caps_skylake_x);
  assert_int_equal(vmxon(VMXON_PA), VMX_INSN_SUCCEED);
  put32(VMCS2_PA, BASIC_REVISION(vmx_caps_skylake_x.basic) | 0x80000000u);
  assert_int_equal(vmx_vmptrld(&x, &s, &ops, false, VMCS2_PA).outcome, VMX_INSN_SUCCEED);
}

static void insn_vmptrst_stores_current_pointer(void **state)
{
  setup(&vmx_caps_skylake_x);
  assert_int_equal(vmxon(VMXON_PA), VMX_INSN_SUCCEED);
  struct vmx_insn_result r = vmx_vmptrst(&x, &s, false);
  assert_int_equal(r.outcome, VMX_INSN_SUCCEED);
  assert_int_equal(r.value, VMX_INVALID_PTR);
  assert_int_equal(vmx_vmptrld(&x, &s, &ops, false, VMCS_PA).outcome, VMX_INSN_SUCCEED);
  assert_int_equal(vmx_vmptrst(&x, &s, false).value, VMCS_PA);
  assert_int_equal(vmx_vmptrst(&x, &s, true).outcome, VMX_INSN_UD);
}

static void insn_vmread_vmwrite_errors_12_13(void **state)
{
  setup(&vmx_caps_nehalem);
  assert_int_equal(vmxon(VMXON_PA), VMX_INSN_SUCCEED);
  assert_int_equal(vmx_vmread(&x, &s, VMCS_GUEST_RIP).outcome, VMX_INSN_FAIL_INVALID);
  assert_int_equal(vmx_vmwrite(&x, &s, VMCS_GUEST_RIP, 1).outcome, VMX_INSN_FAIL_INVALID);
  assert_int_equal(vmx_vmptrld(&x, &s, &ops, false, VMCS_PA).outcome, VMX_INSN_SUCCEED);
  assert_int_equal(vmx_vmwrite(&x, &s, VMCS_GUEST_RIP, 0xFFFFFFFF81000000ull).outcome, VMX_INSN_SUCCEED);
  struct vmx_insn_result r = vmx_vmread(&x, &s, VMCS_GUEST_RIP);
  assert_int_equal(r.outcome, VMX_INSN_SUCCEED);
  assert_int_equal(r.value, 0xFFFFFFFF81000000ull);
  expect_fail_valid(vmx_vmread(&x, &s, VMCS_PML_ADDRESS), VMXERR_UNSUPPORTED_FIELD);   /* no PML on Nehalem */
  expect_fail_valid(vmx_vmread(&x, &s, 0x100006800ull), VMXERR_UNSUPPORTED_FIELD);
  expect_fail_valid(vmx_vmwrite(&x, &s, VMCS_VM_EXIT_REASON, 1), VMXERR_VMWRITE_READ_ONLY);
  r = vmx_vmwrite(&x, &s, VMCS_VM_EXIT_REASON, 1);
  vmx_insn_apply_rflags(&s, &r);
  assert_int_equal(s.rflags & (RFLAGS_CF | (1u << 6)), 1u << 6);                   /* ZF */
}

/* Outside 64-bit mode VMREAD/VMWRITE use 32-bit operands. */
static void insn_vmread_vmwrite_32bit_operands(void **state)
{
  setup_current(&vmx_caps_skylake_x);
  s.efer = 0;
  s.seg[SEG_CS].ar = SEG_AR_P | SEG_AR_S | SEG_AR_DB | 0xB;
  assert_int_equal(vmx_vmwrite(&x, &s, VMCS_GUEST_RIP, 0xFFFFFFFF12345678ull).outcome, VMX_INSN_SUCCEED);
  assert_int_equal(vmcs_get(&x.current, VMCSI_GUEST_RIP), 0x12345678);
  vmcs_set(&x.current, VMCSI_TSC_OFFSET, 0x1122334455667788ull);
  assert_int_equal(vmx_vmread(&x, &s, VMCS_TSC_OFFSET).value, 0x55667788);
  assert_int_equal(vmx_vmread(&x, &s, VMCS_TSC_OFFSET_HIGH).value, 0x11223344);
}

static void insn_vmclear_vmptrld_roundtrip_through_region(void **state)
{
  setup_current(&vmx_caps_skylake_x);
  assert_int_equal(vmx_vmwrite(&x, &s, VMCS_GUEST_RSP, 0xABCD).outcome, VMX_INSN_SUCCEED);
  x.current.launched = true;
  assert_int_equal(vmx_vmclear(&x, &s, &ops, false, VMCS_PA).outcome, VMX_INSN_SUCCEED);
  assert_int_equal(x.current_vmcs_ptr, VMX_INVALID_PTR);
  assert_int_equal(vmx_vmptrld(&x, &s, &ops, false, VMCS_PA).outcome, VMX_INSN_SUCCEED);
  assert_int_equal(vmx_vmread(&x, &s, VMCS_GUEST_RSP).value, 0xABCD);
  assert_false(x.current.launched);
  /* Switching VMCS writes the old one back first. */
  assert_int_equal(vmx_vmwrite(&x, &s, VMCS_GUEST_RSP, 0x1111).outcome, VMX_INSN_SUCCEED);
  assert_int_equal(vmx_vmptrld(&x, &s, &ops, false, VMCS2_PA).outcome, VMX_INSN_SUCCEED);
  assert_int_equal(vmx_vmread(&x, &s, VMCS_GUEST_RSP).value, 0);
  assert_int_equal(vmx_vmptrld(&x, &s, &ops, false, VMCS_PA).outcome, VMX_INSN_SUCCEED);
  assert_int_equal(vmx_vmread(&x, &s, VMCS_GUEST_RSP).value, 0x1111);
}

/* Loads the entry-check baseline into the current VMCS. */
static void load_baseline(const struct vmx_caps *caps)
{
  static struct tcase t;
  tcase_baseline(&t, caps);
  memcpy(x.current.val, t.v.val, sizeof t.v.val);
}

static void insn_vmlaunch_vmresume_errors_4_5_26_7_8(void **state)
{
  setup(&vmx_caps_skylake_x);
  assert_int_equal(vmxon(VMXON_PA), VMX_INSN_SUCCEED);
  assert_int_equal(vmx_vmlaunch(&x, &s, &ops, false).outcome, VMX_INSN_FAIL_INVALID);
  assert_int_equal(vmx_vmptrld(&x, &s, &ops, false, VMCS_PA).outcome, VMX_INSN_SUCCEED);
  load_baseline(&vmx_caps_skylake_x);
  expect_fail_valid(vmx_vmlaunch(&x, &s, &ops, true), VMXERR_VMRESUME_NOT_LAUNCHED);
  s.movss_blocking = true;
  expect_fail_valid(vmx_vmlaunch(&x, &s, &ops, false), VMXERR_ENTRY_MOV_SS_BLOCKING);
  s.movss_blocking = false;
  vmcs_set(&x.current, VMCSI_CR3_TARGET_COUNT, 5);
  struct vmx_insn_result r = vmx_vmlaunch(&x, &s, &ops, false);
  expect_fail_valid(r, VMXERR_ENTRY_INVALID_CTLS);
  assert_non_null(r.entry);
  assert_int_equal(r.entry->id, VMX_ENTRY_CTLS_CR3_TARGET_COUNT);
  vmcs_set(&x.current, VMCSI_CR3_TARGET_COUNT, 0);
  vmcs_set(&x.current, VMCSI_HOST_CS_SELECTOR, 0);
  expect_fail_valid(vmx_vmlaunch(&x, &s, &ops, false), VMXERR_ENTRY_INVALID_HOST);
  vmcs_set(&x.current, VMCSI_HOST_CS_SELECTOR, 8);
  assert_false(x.current.launched);
  assert_int_equal(vmx_vmlaunch(&x, &s, &ops, false).outcome, VMX_INSN_ENTERED);
  assert_true(x.current.launched);
  expect_fail_valid(vmx_vmlaunch(&x, &s, &ops, false), VMXERR_VMLAUNCH_NOT_CLEAR);
  assert_int_equal(vmx_vmlaunch(&x, &s, &ops, true).outcome, VMX_INSN_ENTERED);
}

static void insn_vmlaunch_guest_state_failure_exits_33(void **state)
{
  setup_current(&vmx_caps_nehalem);
  load_baseline(&vmx_caps_nehalem);
  vmcs_set(&x.current, VMCSI_GUEST_TR_AR_BYTES, 0x89);
  struct vmx_insn_result r = vmx_vmlaunch(&x, &s, &ops, false);
  assert_int_equal(r.outcome, VMX_INSN_ENTRY_FAILED);
  assert_non_null(r.entry);
  assert_int_equal(r.entry->id, VMX_ENTRY_GUEST_TR_TYPE);
  assert_int_equal(vmcs_get(&x.current, VMCSI_VM_EXIT_REASON), 0x80000021u);
  assert_int_equal(vmcs_get(&x.current, VMCSI_EXIT_QUALIFICATION), 0);
  assert_false(x.current.launched);
}

static void insn_invept_error_28_and_success(void **state)
{
  uint64_t desc[2] = { 0x5000 | (3 << 3) | 6, 0 };
  setup_current(&vmx_caps_nehalem);
  expect_fail_valid(vmx_invept(&x, &s, &ops, false, 0, desc), VMXERR_INVALID_INVEPT_INVVPID_OPERAND);
  expect_fail_valid(vmx_invept(&x, &s, &ops, false, 3, desc), VMXERR_INVALID_INVEPT_INVVPID_OPERAND);
  assert_int_equal(vmx_invept(&x, &s, &ops, false, 1, desc).outcome, VMX_INSN_SUCCEED);
  assert_int_equal(last_inv_tag, 0x5000);
  desc[0] |= 1u << 6;                                     /* A/D: not on Nehalem */
  expect_fail_valid(vmx_invept(&x, &s, &ops, false, 1, desc), VMXERR_INVALID_INVEPT_INVVPID_OPERAND);
  assert_int_equal(vmx_invept(&x, &s, &ops, false, 2, desc).outcome, VMX_INSN_SUCCEED);  /* all-context ignores EPTP */
  assert_int_equal(last_inv_type, 2);
  assert_int_equal(invalidations, 2);
  struct vmx_caps no_invept = vmx_caps_nehalem;
  no_invept.ept_vpid_cap &= ~EPTCAP_INVEPT;
  x.caps = &no_invept;
  assert_int_equal(vmx_invept(&x, &s, &ops, false, 2, desc).outcome, VMX_INSN_UD);
}

static void insn_invvpid_error_28_and_success(void **state)
{
  uint64_t desc[2] = { 5, 0x400000 };
  setup_current(&vmx_caps_skylake_x);
  for (uint64_t type = 0; type <= 3; type++)
    assert_int_equal(vmx_invvpid(&x, &s, &ops, false, type, desc).outcome, VMX_INSN_SUCCEED);
  expect_fail_valid(vmx_invvpid(&x, &s, &ops, false, 4, desc), VMXERR_INVALID_INVEPT_INVVPID_OPERAND);
  uint64_t high[2] = { 5 | (1ull << 16), 0 };
  expect_fail_valid(vmx_invvpid(&x, &s, &ops, false, 2, high), VMXERR_INVALID_INVEPT_INVVPID_OPERAND);
  uint64_t vpid0[2] = { 0, 0x1000 };
  expect_fail_valid(vmx_invvpid(&x, &s, &ops, false, 0, vpid0), VMXERR_INVALID_INVEPT_INVVPID_OPERAND);
  expect_fail_valid(vmx_invvpid(&x, &s, &ops, false, 1, vpid0), VMXERR_INVALID_INVEPT_INVVPID_OPERAND);
  expect_fail_valid(vmx_invvpid(&x, &s, &ops, false, 3, vpid0), VMXERR_INVALID_INVEPT_INVVPID_OPERAND);
  assert_int_equal(vmx_invvpid(&x, &s, &ops, false, 2, vpid0).outcome, VMX_INSN_SUCCEED); /* all-context: VPID unused */
  uint64_t noncanon[2] = { 5, 0x0000800000000000ull };
  expect_fail_valid(vmx_invvpid(&x, &s, &ops, false, 0, noncanon), VMXERR_INVALID_INVEPT_INVVPID_OPERAND);
  struct vmx_caps single_only = vmx_caps_skylake_x;
  single_only.ept_vpid_cap &= ~EPTCAP_INVVPID_ADDR;
  x.caps = &single_only;
  expect_fail_valid(vmx_invvpid(&x, &s, &ops, false, 0, desc), VMXERR_INVALID_INVEPT_INVVPID_OPERAND);
}

static void insn_vmcall_in_root_error_1(void **state)
{
  setup(&vmx_caps_skylake_x);
  assert_int_equal(vmxon(VMXON_PA), VMX_INSN_SUCCEED);
  assert_int_equal(vmx_vmcall(&x, &s).outcome, VMX_INSN_FAIL_INVALID);
  assert_int_equal(vmx_vmptrld(&x, &s, &ops, false, VMCS_PA).outcome, VMX_INSN_SUCCEED);
  expect_fail_valid(vmx_vmcall(&x, &s), VMXERR_VMCALL_IN_ROOT);
  assert_int_equal(vmx_vmfunc(&x, &s).outcome, VMX_INSN_UD);   /* VMFUNC in root operation */
}

static void insn_vmxoff_leaves_vmx_operation(void **state)
{
  setup_current(&vmx_caps_skylake_x);
  struct vmx_insn_result r = vmx_vmxoff(&x, &s);
  assert_int_equal(r.outcome, VMX_INSN_SUCCEED);
  s.rflags |= RFLAGS_CF | (1u << 6);
  vmx_insn_apply_rflags(&s, &r);
  assert_int_equal(s.rflags & (RFLAGS_CF | (1u << 6)), 0);
  assert_false(x.vmx_operation);
  assert_int_equal(vmx_vmread(&x, &s, VMCS_GUEST_RIP).outcome, VMX_INSN_UD);
  assert_int_equal(vmxon(VMXON_PA), VMX_INSN_SUCCEED);   /* VMXON works again */
}

/* ---- One scenario per modelled VM-instruction error ----
 * Each returns the result of the instruction that must fail with its
 * error; no cmocka assertions, so `--covers` can run them too. */
static bool root(const struct vmx_caps *caps, bool with_vmcs)
{
  setup(caps);
  if (vmxon(VMXON_PA) != VMX_INSN_SUCCEED) return false;
  return !with_vmcs || vmx_vmptrld(&x, &s, &ops, false, VMCS_PA).outcome == VMX_INSN_SUCCEED;
}
static struct vmx_insn_result not_run(void) { return (struct vmx_insn_result){ .outcome = VMX_INSN_UD }; }
static struct vmx_insn_result e1(void) { return root(&vmx_caps_skylake_x, true) ? vmx_vmcall(&x, &s) : not_run(); }
static struct vmx_insn_result e2(void)
{
  return root(&vmx_caps_skylake_x, true) ? vmx_vmclear(&x, &s, &ops, false, VMCS2_PA + 0x10) : not_run();
}
static struct vmx_insn_result e3(void)
{
  return root(&vmx_caps_skylake_x, true) ? vmx_vmclear(&x, &s, &ops, false, VMXON_PA) : not_run();
}
static struct vmx_insn_result launch_baseline(bool launched_first, bool resume)
{
  if (!root(&vmx_caps_skylake_x, true)) return not_run();
  load_baseline(&vmx_caps_skylake_x);
  if (launched_first && vmx_vmlaunch(&x, &s, &ops, false).outcome != VMX_INSN_ENTERED) return not_run();
  return vmx_vmlaunch(&x, &s, &ops, resume);
}
static struct vmx_insn_result e4(void) { return launch_baseline(true, false); }
static struct vmx_insn_result e5(void) { return launch_baseline(false, true); }
static struct vmx_insn_result e7(void)
{
  if (!root(&vmx_caps_nehalem, true)) return not_run();
  load_baseline(&vmx_caps_nehalem);
  vmcs_set(&x.current, VMCSI_VIRTUAL_PROCESSOR_ID, 0);
  return vmx_vmlaunch(&x, &s, &ops, false);
}
static struct vmx_insn_result e8(void)
{
  if (!root(&vmx_caps_nehalem, true)) return not_run();
  load_baseline(&vmx_caps_nehalem);
  vmcs_set(&x.current, VMCSI_HOST_CR4, 0x20);
  return vmx_vmlaunch(&x, &s, &ops, false);
}
static struct vmx_insn_result e9(void)
{
  return root(&vmx_caps_nehalem, true) ? vmx_vmptrld(&x, &s, &ops, false, 1ull << 36) : not_run();
}
static struct vmx_insn_result e10(void)
{
  return root(&vmx_caps_nehalem, true) ? vmx_vmptrld(&x, &s, &ops, false, VMXON_PA) : not_run();
}
static struct vmx_insn_result e11(void)
{
  if (!root(&vmx_caps_nehalem, true)) return not_run();
  put32(VMCS2_PA, 0x7FFFFFFF);
  return vmx_vmptrld(&x, &s, &ops, false, VMCS2_PA);
}
static struct vmx_insn_result e12(void) { return root(&vmx_caps_nehalem, true) ? vmx_vmread(&x, &s, 0x482C) : not_run(); }
static struct vmx_insn_result e13(void)
{
  return root(&vmx_caps_nehalem, true) ? vmx_vmwrite(&x, &s, VMCS_IO_RIP, 1) : not_run();
}
static struct vmx_insn_result e15(void) { return root(&vmx_caps_skylake_x, true) ? vmx_vmxon(&x, &s, &ops, false, VMXON_PA) : not_run(); }
static struct vmx_insn_result e26(void)
{
  if (!root(&vmx_caps_skylake_x, true)) return not_run();
  load_baseline(&vmx_caps_skylake_x);
  s.movss_blocking = true;
  return vmx_vmlaunch(&x, &s, &ops, false);
}
static struct vmx_insn_result e28(void)
{
  static const uint64_t desc[2] = { 0, 0 };
  return root(&vmx_caps_skylake_x, true) ? vmx_invept(&x, &s, &ops, false, 0, desc) : not_run();
}

static const struct { unsigned error; struct vmx_insn_result (*run)(void); } error_cases[] = {
  { 1, e1 }, { 2, e2 }, { 3, e3 }, { 4, e4 }, { 5, e5 }, { 7, e7 }, { 8, e8 }, { 9, e9 }, { 10, e10 },
  { 11, e11 }, { 12, e12 }, { 13, e13 }, { 15, e15 }, { 26, e26 }, { 28, e28 },
};
#define ERROR_CASES (sizeof error_cases / sizeof error_cases[0])

/* VMfailValid with the error, recorded in the current VMCS too. */
static bool error_case_holds(size_t i)
{
  struct vmx_insn_result r = error_cases[i].run();
  return r.outcome == VMX_INSN_FAIL_VALID && r.error == error_cases[i].error &&
         vmcs_get(&x.current, VMCSI_VM_INSTRUCTION_ERROR) == error_cases[i].error;
}

static void insn_every_modelled_error_number_is_produced(void **state)
{
  for (size_t i = 0; i < ERROR_CASES; i++)
    if (!error_case_holds(i)) fail_msg("VM-instruction error %u not produced", error_cases[i].error);
}

static void covered_errors(void)
{
  for (size_t i = 0; i < ERROR_CASES; i++)
    if (error_case_holds(i)) printf("error %u\n", error_cases[i].error);
}

int main(int argc, char **argv)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(insn_vmxon_ud_cases),
    cmocka_unit_test(insn_vmxon_gp_cases),
    cmocka_unit_test(insn_vmxon_bad_region_fails_invalid),
    cmocka_unit_test(insn_vmxon_in_root_error_15),
    cmocka_unit_test(insn_outside_vmx_operation_ud),
    cmocka_unit_test(insn_cpl3_gp_and_non_root_exit),
    cmocka_unit_test(insn_vmclear_errors_2_and_3),
    cmocka_unit_test(insn_vmptrld_errors_9_10_11),
    cmocka_unit_test(insn_vmptrst_stores_current_pointer),
    cmocka_unit_test(insn_vmread_vmwrite_errors_12_13),
    cmocka_unit_test(insn_vmread_vmwrite_32bit_operands),
    cmocka_unit_test(insn_vmclear_vmptrld_roundtrip_through_region),
    cmocka_unit_test(insn_vmlaunch_vmresume_errors_4_5_26_7_8),
    cmocka_unit_test(insn_vmlaunch_guest_state_failure_exits_33),
    cmocka_unit_test(insn_invept_error_28_and_success),
    cmocka_unit_test(insn_invvpid_error_28_and_success),
    cmocka_unit_test(insn_vmcall_in_root_error_1),
    cmocka_unit_test(insn_vmxoff_leaves_vmx_operation),
    cmocka_unit_test(insn_every_modelled_error_number_is_produced),
  };
  return cov_main(argc, argv, "vmx_insn", tests, sizeof tests / sizeof tests[0], covered_errors);
}
