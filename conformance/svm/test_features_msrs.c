/* Tests of the AMD CPU models (CPUID Fn8000_000A) and of the SVM MSR rules
 * (AMD APM Vol. 2, "SVM Related MSRs", "Enabling SVM", "TSC Ratio MSR"). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "models/svm/features.h"
#include "models/svm/svm_msrs.h"
#include "sim/cpu_state.h"

/* Bochs 2.7 ryzen: revision 1, 0x8000 ASIDs, NP|LBRV|SVML|NRIPS|FlushByAsid|
 * PauseFilter = 0x44F. */
static void svm_cpuid_ryzen_matches_bochs(void **state)
{
  uint32_t r[4];
  svm_cpuid_8000000a(&svm_features_ryzen, r);
  assert_int_equal(r[0], 1);
  assert_int_equal(r[1], 0x8000);
  assert_int_equal(r[2], 0);
  assert_int_equal(r[3], 0x44F);
}

/* QEMU 7.2 TCG -cpu EPYC,+svm,+npt: revision 1, 16 ASIDs, NP only. */
static void svm_cpuid_epyc_qemu_matches_tcg(void **state)
{
  uint32_t r[4];
  svm_cpuid_8000000a(&svm_features_epyc_qemu, r);
  assert_int_equal(r[0], 1);
  assert_int_equal(r[1], 16);
  assert_int_equal(r[3], 0x1);
  assert_false(svm_has(&svm_features_epyc_qemu, SVM_FEAT_NRIP_SAVE));
  assert_true(svm_has(&svm_features_ryzen, SVM_FEAT_NRIP_SAVE));
}

/* zen2: ryzen's features plus VMCB clean bits, decode assists and the
 * PAUSE filter threshold (bit 12) = 0x14EF. */
static void svm_cpuid_zen2_has_decode_assists(void **state)
{
  uint32_t r[4];
  svm_cpuid_8000000a(&svm_features_zen2, r);
  assert_int_equal(r[0], 1);
  assert_int_equal(r[1], 0x8000);
  assert_int_equal(r[3], 0x14EF);
  assert_true(svm_has(&svm_features_zen2, SVM_FEAT_PAUSE_FILTER_THRESHOLD));
  assert_true(svm_has(&svm_features_zen2, SVM_FEAT_DECODE_ASSISTS));
  assert_true(svm_has(&svm_features_zen2, SVM_FEAT_VMCB_CLEAN));
}

/* The models that reproduce an oracle must not claim what the oracle lacks:
 * neither Bochs 2.7 ryzen nor QEMU 7.2 TCG offers decode assists, VMCB
 * clean bits, TSC rate or the filter threshold. */
static void svm_cpuid_oracle_models_lack_decode_assists(void **state)
{
  const struct svm_features *oracles[] = {&svm_features_ryzen, &svm_features_epyc_qemu};
  for (unsigned i = 0; i < 2; i++) {
    assert_false(svm_has(oracles[i], SVM_FEAT_DECODE_ASSISTS));
    assert_false(svm_has(oracles[i], SVM_FEAT_VMCB_CLEAN));
    assert_false(svm_has(oracles[i], SVM_FEAT_TSC_RATE));
    assert_false(svm_has(oracles[i], SVM_FEAT_PAUSE_FILTER_THRESHOLD));
  }
}

static void svm_cpu_models_found_by_name(void **state)
{
  assert_ptr_equal(svm_features_by_name("zen2"), &svm_features_zen2);
  assert_ptr_equal(svm_features_by_name("ryzen"), &svm_features_ryzen);
  assert_ptr_equal(svm_features_by_name("epyc-qemu"), &svm_features_epyc_qemu);
  assert_null(svm_features_by_name("pentium"));
  for (unsigned i = 0; svm_cpu_models[i]; i++) {
    /* SVME is implemented by every SVM model; VMXE never on AMD. */
    assert_true(svm_cpu_models[i]->efer_valid & EFER_SVME);
    assert_false(svm_cpu_models[i]->cr4_valid & CR4_VMXE);
  }
}

static void svm_vm_cr_reserved_bit_gp(void **state)
{
  struct svm_msrs m;
  svm_msrs_reset(&m);
  assert_int_equal(svm_wrmsr(&svm_features_ryzen, &m, 0, MSR_VM_CR, 1ull << 5), SVM_MSR_GP);
  assert_int_equal(m.vm_cr, 0);
  assert_int_equal(svm_wrmsr(&svm_features_ryzen, &m, 0, MSR_VM_CR, VM_CR_DPD), SVM_MSR_OK);
  assert_int_equal(m.vm_cr, VM_CR_DPD);
}

static void svm_vm_cr_svmdis_with_svme_gp(void **state)
{
  struct svm_msrs m;
  svm_msrs_reset(&m);
  assert_int_equal(svm_wrmsr(&svm_features_ryzen, &m, EFER_SVME, MSR_VM_CR, VM_CR_SVMDIS), SVM_MSR_GP);
  assert_int_equal(m.vm_cr, 0);
  assert_int_equal(svm_wrmsr(&svm_features_ryzen, &m, 0, MSR_VM_CR, VM_CR_SVMDIS), SVM_MSR_OK);
  assert_int_equal(m.vm_cr, VM_CR_SVMDIS);
}

/* With LOCK set, LOCK and SVMDIS keep their values; other bits still change. */
static void svm_vm_cr_lock_freezes_svmdis(void **state)
{
  struct svm_msrs m;
  svm_msrs_reset(&m);
  assert_int_equal(svm_wrmsr(&svm_features_ryzen, &m, 0, MSR_VM_CR, VM_CR_LOCK | VM_CR_SVMDIS), SVM_MSR_OK);
  assert_int_equal(svm_wrmsr(&svm_features_ryzen, &m, 0, MSR_VM_CR, VM_CR_R_INIT), SVM_MSR_OK);
  assert_int_equal(m.vm_cr, VM_CR_LOCK | VM_CR_SVMDIS | VM_CR_R_INIT);
  /* Without LOCK the same write clears SVMDIS. */
  svm_msrs_reset(&m);
  assert_int_equal(svm_wrmsr(&svm_features_ryzen, &m, 0, MSR_VM_CR, VM_CR_SVMDIS), SVM_MSR_OK);
  assert_int_equal(svm_wrmsr(&svm_features_ryzen, &m, 0, MSR_VM_CR, VM_CR_R_INIT), SVM_MSR_OK);
  assert_int_equal(m.vm_cr, VM_CR_R_INIT);
}

static void svm_efer_svme_with_svmdis_gp(void **state)
{
  struct svm_msrs m;
  svm_msrs_reset(&m);
  assert_int_equal(svm_efer_write_check(&svm_features_ryzen, &m, EFER_SVME | EFER_LME), SVM_MSR_OK);
  m.vm_cr = VM_CR_SVMDIS;
  assert_int_equal(svm_efer_write_check(&svm_features_ryzen, &m, EFER_SVME | EFER_LME), SVM_MSR_GP);
  assert_int_equal(svm_efer_write_check(&svm_features_ryzen, &m, EFER_LME), SVM_MSR_OK);
}

static void svm_efer_unimplemented_bit_gp(void **state)
{
  struct svm_msrs m;
  svm_msrs_reset(&m);
  assert_int_equal(svm_efer_write_check(&svm_features_epyc_qemu, &m, EFER_LMSLE), SVM_MSR_GP);
  assert_int_equal(svm_efer_write_check(&svm_features_epyc_qemu, &m, 1ull << 63), SVM_MSR_GP);
  assert_int_equal(svm_efer_write_check(&svm_features_epyc_qemu, &m, EFER_NXE), SVM_MSR_OK);
}

static void svm_hsave_unaligned_or_beyond_maxphyaddr_gp(void **state)
{
  struct svm_msrs m;
  svm_msrs_reset(&m);
  const struct svm_features *f = &svm_features_ryzen; /* 40-bit physical addresses */
  assert_int_equal(svm_wrmsr(f, &m, 0, MSR_VM_HSAVE_PA, 0x10008), SVM_MSR_GP);
  assert_int_equal(svm_wrmsr(f, &m, 0, MSR_VM_HSAVE_PA, 1ull << 40), SVM_MSR_GP);
  assert_int_equal(m.vm_hsave_pa, 0);
  assert_int_equal(svm_wrmsr(f, &m, 0, MSR_VM_HSAVE_PA, (1ull << 40) - 0x1000), SVM_MSR_OK);
  uint64_t v = 0;
  assert_int_equal(svm_rdmsr(f, &m, MSR_VM_HSAVE_PA, &v), SVM_MSR_OK);
  assert_int_equal(v, (1ull << 40) - 0x1000);
}

/* No model offers TscRateMsr: the MSR does not exist (#GP). */
static void svm_tsc_ratio_absent_gp(void **state)
{
  struct svm_msrs m;
  uint64_t v;
  svm_msrs_reset(&m);
  assert_int_equal(svm_rdmsr(&svm_features_ryzen, &m, MSR_TSC_RATIO, &v), SVM_MSR_GP);
  assert_int_equal(svm_wrmsr(&svm_features_epyc_qemu, &m, 0, MSR_TSC_RATIO, TSC_RATIO_RESET), SVM_MSR_GP);
}

/* A CPU with TscRateMsr: 1.0 after reset, bits 63:40 reserved. */
static void svm_tsc_ratio_reserved_bits_gp(void **state)
{
  struct svm_features f = svm_features_ryzen;
  f.feature_edx |= SVM_FEAT_TSC_RATE;
  struct svm_msrs m;
  uint64_t v = 0;
  svm_msrs_reset(&m);
  assert_int_equal(svm_rdmsr(&f, &m, MSR_TSC_RATIO, &v), SVM_MSR_OK);
  assert_int_equal(v, TSC_RATIO_RESET);
  assert_int_equal(svm_wrmsr(&f, &m, 0, MSR_TSC_RATIO, 1ull << 40), SVM_MSR_GP);
  assert_int_equal(svm_wrmsr(&f, &m, 0, MSR_TSC_RATIO, 0x000000FF80000000ull), SVM_MSR_OK);
  assert_int_equal(m.tsc_ratio, 0x000000FF80000000ull);
}

static void svm_other_msr_not_handled(void **state)
{
  struct svm_msrs m;
  uint64_t v;
  svm_msrs_reset(&m);
  assert_int_equal(svm_rdmsr(&svm_features_ryzen, &m, 0x10, &v), SVM_MSR_NOT_SVM);
  assert_int_equal(svm_wrmsr(&svm_features_ryzen, &m, 0, 0xC0000081u, 0), SVM_MSR_NOT_SVM);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(svm_cpuid_ryzen_matches_bochs),
    cmocka_unit_test(svm_cpuid_epyc_qemu_matches_tcg),
    cmocka_unit_test(svm_cpuid_zen2_has_decode_assists),
    cmocka_unit_test(svm_cpuid_oracle_models_lack_decode_assists),
    cmocka_unit_test(svm_cpu_models_found_by_name),
    cmocka_unit_test(svm_vm_cr_reserved_bit_gp),
    cmocka_unit_test(svm_vm_cr_svmdis_with_svme_gp),
    cmocka_unit_test(svm_vm_cr_lock_freezes_svmdis),
    cmocka_unit_test(svm_efer_svme_with_svmdis_gp),
    cmocka_unit_test(svm_efer_unimplemented_bit_gp),
    cmocka_unit_test(svm_hsave_unaligned_or_beyond_maxphyaddr_gp),
    cmocka_unit_test(svm_tsc_ratio_absent_gp),
    cmocka_unit_test(svm_tsc_ratio_reserved_bits_gp),
    cmocka_unit_test(svm_other_msr_not_handled),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
