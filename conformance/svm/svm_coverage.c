/* svm_coverage: lists the SVM catalogue entries (VMRUN checks; intercepts
 * and exit codes once their tests exist) that no conformance test covers.
 * Exit status 0 when every entry has a test, 1 otherwise. Run by CTest. */
#include "conformance/svm/coverage_report.h"

static const struct svm_cov_entry *const tables[] = {
  svm_cov_vmrun_checks,
  NULL,
};

int main(void)
{
  return svm_coverage_report(tables, stdout) == 0 ? 0 : 1;
}
