/* How conformance tests declare which catalogue entries they cover.
 *
 * Each test file exports one table of struct svm_cov_entry, ended by an
 * entry with catalogue == NULL, generated from the same list that generates
 * its cmocka tests, so an entry exists exactly when the test does. The
 * coverage command (svm_coverage.c) links the test files built with
 * SVM_COVERAGE_BUILD (which drops their main) and reads the tables. */
#ifndef HVSIM_CONFORMANCE_SVM_COVERAGE_H
#define HVSIM_CONFORMANCE_SVM_COVERAGE_H

struct svm_cov_entry {
  const char *catalogue;  /* "vmrun_check", later "intercept", "exit_code" */
  const char *id;         /* the entry's stable name, e.g. "SVM_VMRUN_ASID_ZERO" */
  const char *test;       /* the cmocka test that asserts it */
};

/* The tables, one per test file that covers catalogue entries. */
extern const struct svm_cov_entry svm_cov_vmrun_checks[];


#endif
