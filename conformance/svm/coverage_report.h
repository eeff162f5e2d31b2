/* The coverage report: which catalogue entries have no test. */
#ifndef HVSIM_CONFORMANCE_SVM_COVERAGE_REPORT_H
#define HVSIM_CONFORMANCE_SVM_COVERAGE_REPORT_H

#include <stdio.h>

#include "conformance/svm/svm_coverage.h"

/* Prints every catalogue entry no table covers and every table entry that
 * names no catalogue entry (a stale or misspelt ID) to out; returns how many
 * problems it printed (0 = complete). tables ends with NULL. */
unsigned svm_coverage_report(const struct svm_cov_entry *const tables[], FILE *out);

#endif
