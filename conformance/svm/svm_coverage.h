/* What SVM conformance binaries prove, in the `--covers` protocol
 * (conformance/covers.h): lines "vmrun_check SVM_VMRUN_<ID>", "intercept
 * <NAME>" (intercepts.def), "exit_code <NAME>" (exit_codes.def).
 * svm_coverage (svm_coverage.c) runs the binaries and lists the catalogue
 * entries nobody proved. */
#ifndef HVSIM_CONFORMANCE_SVM_COVERAGE_H
#define HVSIM_CONFORMANCE_SVM_COVERAGE_H

#include "conformance/covers.h"

/* One proved entry, as the coverage report reads it. */
struct svm_cov_entry {
  const char *catalogue;  /* "vmrun_check", "intercept", "exit_code" */
  const char *id;         /* the entry's stable name, e.g. "SVM_VMRUN_ASID_ZERO", "CPUID" */
  const char *test;       /* the binary (or case) that proved it */
};

#endif
