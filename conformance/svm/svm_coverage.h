/* How SVM conformance binaries say which catalogue entries they prove.
 *
 * Run with `--covers`, a covering test binary does not run its cmocka
 * group: it runs the same conformance cases its tests assert and prints one
 * line per catalogue entry a case proves, only for the cases that pass:
 * "vmrun_check SVM_VMRUN_<ID>", "intercept <NAME>" (intercepts.def),
 * "exit_code <NAME>" (exit_codes.def). svm_coverage (svm_coverage.c) runs
 * the binaries and lists the catalogue entries nobody proved. So "has a
 * test" is derived from cases that run and pass, never from a hand list. */
#ifndef HVSIM_CONFORMANCE_SVM_COVERAGE_H
#define HVSIM_CONFORMANCE_SVM_COVERAGE_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

/* One proved entry, as the coverage report reads it. */
struct svm_cov_entry {
  const char *catalogue;  /* "vmrun_check", "intercept", "exit_code" */
  const char *id;         /* the entry's stable name, e.g. "SVM_VMRUN_ASID_ZERO", "CPUID" */
  const char *test;       /* the binary (or case) that proved it */
};

/* Runs the cmocka group, or with `--covers` calls `covers` (which prints
 * the entries the binary's passing cases prove). */
int svm_cov_main(int argc, char **argv, const char *group, const struct CMUnitTest *tests, size_t count,
                 void (*covers)(void));

#endif
