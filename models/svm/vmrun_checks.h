/* VMRUN consistency checks (AMD APM Vol. 2, "Canonicalization and
 * Consistency Checks", plus the event-injection and nested-paging rules the
 * APM sends to VMEXIT_INVALID). Each check of vmrun_checks.def has a stable
 * ID, a citation and the predicate's text; a failing check reports its ID
 * and a message naming the VMCB fields and values involved. */
#ifndef HVSIM_MODELS_SVM_VMRUN_CHECKS_H
#define HVSIM_MODELS_SVM_VMRUN_CHECKS_H

#include <stdint.h>

#include "models/svm/features.h"
#include "models/svm/vmcb.h"

enum svm_check_id {
  SVM_CHECK_NONE = 0,   /* every check passed */
#define SVM_VMRUN_CHECK(id, citation, predicate) SVM_VMRUN_##id,
#include "models/svm/vmrun_checks.def"
#undef SVM_VMRUN_CHECK
  SVM_CHECK_END         /* one past the last ID */
};
#define SVM_CHECK_COUNT (SVM_CHECK_END - 1)

struct svm_check_info {
  const char *id;          /* "SVM_VMRUN_ASID_ZERO" */
  const char *citation;    /* document and section title */
  const char *predicate;   /* the failing condition */
};

/* Catalogue entry of a check ID (1..SVM_CHECK_COUNT); NULL otherwise. */
const struct svm_check_info *svm_check_info(enum svm_check_id id);
/* Check ID by its stable name, SVM_CHECK_NONE when unknown. */
enum svm_check_id svm_check_by_name(const char *name);

struct svm_check_failure {
  enum svm_check_id id;
  char message[224];       /* fields and values, e.g. "guest_asid = 0x0" */
};

/* The first failing check (catalogue order) or SVM_CHECK_NONE; fills *out
 * when out is not NULL. The VMCB is not modified. */
enum svm_check_id svm_vmrun_check_first(const struct svm_vmcb *v, const struct svm_features *f,
                                        struct svm_check_failure *out);

/* Every failing check, in catalogue order; returns how many (at most
 * SVM_CHECK_COUNT entries of out are written). */
unsigned svm_vmrun_check_all(const struct svm_vmcb *v, const struct svm_features *f,
                             struct svm_check_failure out[SVM_CHECK_COUNT]);

/* The checks as VMRUN applies them: when one fails, EXITCODE is set to
 * VMEXIT_INVALID (-1) in the VMCB, as the #VMEXIT that follows reports it,
 * and the failing ID is returned; SVM_CHECK_NONE leaves the VMCB as is. */
enum svm_check_id svm_vmrun_consistency(struct svm_vmcb *v, const struct svm_features *f,
                                        struct svm_check_failure *out);

#endif
