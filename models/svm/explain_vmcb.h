/* explain-vmcb: reads a VMCB dump (text or JSON, see vmcb_dump.h and
 * docs/explain-vmcb.md) and explains whether VMRUN would accept it on a
 * CPU model, listing every failing consistency check with its ID, citation,
 * predicate and the values involved. `hvsim explain-vmcb FILE [--cpu MODEL]`
 * calls svm_explain_vmcb. */
#ifndef HVSIM_MODELS_SVM_EXPLAIN_VMCB_H
#define HVSIM_MODELS_SVM_EXPLAIN_VMCB_H

#include <stdio.h>

#include "models/svm/features.h"

/* Return values. */
enum {
  SVM_EXPLAIN_PASS = 0,        /* every VMRUN consistency check passes */
  SVM_EXPLAIN_CHECKS_FAIL = 1, /* at least one check fails (listed on out) */
  SVM_EXPLAIN_BAD_INPUT = 2,   /* the dump is malformed (errors on err) */
};

/* in: the dump; input_name: its name in messages; f: the CPU model (must
 * not be NULL; svm_features_by_name() maps --cpu); out: the explanation;
 * err: line-numbered input errors. */
int svm_explain_vmcb(FILE *in, const char *input_name, const struct svm_features *f, FILE *out, FILE *err);

#endif
