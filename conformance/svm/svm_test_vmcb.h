/* A valid baseline VMCB for the conformance tests: a 64-bit guest that
 * passes every VMRUN consistency check on every AMD CPU model, from which
 * each negative test breaks exactly one rule. */
#ifndef HVSIM_CONFORMANCE_SVM_TEST_VMCB_H
#define HVSIM_CONFORMANCE_SVM_TEST_VMCB_H

#include <string.h>

#include "models/svm/features.h"
#include "models/svm/svm_catalog.h"
#include "models/svm/vmcb.h"
#include "sim/cpu_state.h"

static inline void svm_test_seg(struct svm_vmcb_seg *s, uint16_t sel, uint16_t attrib, uint32_t limit)
{
  s->selector = sel;
  s->attrib = attrib;
  s->limit = limit;
  s->base = 0;
}

static inline void svm_test_baseline(struct svm_vmcb *v, const struct svm_features *f)
{
  memset(v, 0, sizeof *v);
  svm_intercept_set(v, SVM_INTERCEPT_VMRUN, true);
  v->control.guest_asid = 1;
  v->control.msrpm_base_pa = 0x10000;
  v->control.iopm_base_pa = 0x20000;
  if (svm_has(f, SVM_FEAT_NP)) {
    v->control.np_control = SVM_NP_ENABLE;
    v->control.ncr3 = 0x3000;
  }
  v->save.efer = EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE | EFER_SVME;
  v->save.cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_PG;
  v->save.cr4 = CR4_PAE | CR4_PGE | CR4_OSFXSR | CR4_OSXMMEXCPT;
  v->save.cr3 = 0x1000;
  v->save.dr6 = 0xFFFF0FF0;
  v->save.dr7 = 0x400;
  v->save.rflags = RFLAGS_FIXED1;
  v->save.rip = 0x401000;
  v->save.rsp = 0x8000;
  v->save.g_pat = 0x0007040600070406ull; /* the power-on PAT */
  /* 64-bit code (type B, S, P, L), flat data, busy 64-bit TSS. */
  svm_test_seg(&v->save.cs, 0x08, 0x29B, 0xFFFFFFFF);
  svm_test_seg(&v->save.ss, 0x10, 0x493, 0xFFFFFFFF);
  svm_test_seg(&v->save.ds, 0x10, 0x493, 0xFFFFFFFF);
  svm_test_seg(&v->save.es, 0x10, 0x493, 0xFFFFFFFF);
  svm_test_seg(&v->save.tr, 0x18, 0x08B, 0x67);
  v->save.gdtr.limit = 0x1F;
  v->save.idtr.limit = 0xFFF;
}

#endif
