/* explain-vmcb: a VMCB dump in, the VMRUN consistency verdict out. */
#include "models/svm/explain_vmcb.h"

#include "models/svm/vmcb_dump.h"
#include "models/svm/vmrun_checks.h"

int svm_explain_vmcb(FILE *in, const char *input_name, const struct svm_features *f, FILE *out, FILE *err)
{
  if (!f) {
    fprintf(err, "%s: no CPU model given\n", input_name);
    return SVM_EXPLAIN_BAD_INPUT;
  }
  struct svm_vmcb vmcb;
  unsigned errors = svm_vmcb_parse(in, input_name, &vmcb, err);
  if (errors) {
    fprintf(err, "%s: %u error%s, not a valid VMCB dump\n", input_name, errors, errors == 1 ? "" : "s");
    return SVM_EXPLAIN_BAD_INPUT;
  }
  struct svm_check_failure fails[SVM_CHECK_COUNT];
  unsigned n = svm_vmrun_check_all(&vmcb, f, fails);
  fprintf(out, "VMCB %s on CPU model %s (%s)\n", input_name, f->name, f->description);
  if (n == 0) {
    fprintf(out, "all %d VMRUN consistency checks pass: VMRUN would enter the guest\n", SVM_CHECK_COUNT);
    return SVM_EXPLAIN_PASS;
  }
  for (unsigned i = 0; i < n; i++) {
    const struct svm_check_info *info = svm_check_info(fails[i].id);
    fprintf(out, "\nFAIL %s\n", info->id);
    fprintf(out, "  rule:   %s\n", info->predicate);
    fprintf(out, "  cite:   %s\n", info->citation);
    fprintf(out, "  values: %s\n", fails[i].message);
  }
  fprintf(out, "\n%u of %d VMRUN consistency checks fail: VMRUN exits at once with #VMEXIT(VMEXIT_INVALID), EXITCODE = -1; "
               "the first in APM order is %s\n",
          n, SVM_CHECK_COUNT, svm_check_info(fails[0].id)->id);
  return SVM_EXPLAIN_CHECKS_FAIL;
}
