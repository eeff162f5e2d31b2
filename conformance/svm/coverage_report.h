/* The coverage report: which SVM catalogue entries (VMRUN checks,
 * intercepts, exit codes) no passing conformance case proves. */
#ifndef HVSIM_CONFORMANCE_SVM_COVERAGE_REPORT_H
#define HVSIM_CONFORMANCE_SVM_COVERAGE_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "conformance/svm/svm_coverage.h"

/* Prints to `out` every catalogue entry that no entry of `proved` (ended
 * by catalogue == NULL) covers, and every proved entry that names no
 * catalogue entry (a stale or misspelt ID). An uncovered entry the
 * catalogue marks as never produced is listed with its reason and is not
 * a problem; one marked not modelled is listed as a known gap, a problem
 * only when `strict`. Returns the number of problems (0 = complete). */
unsigned svm_coverage_report(const struct svm_cov_entry *proved, bool strict, FILE *out);

#endif
