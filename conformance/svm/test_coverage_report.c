/* The coverage report itself: it must name what is missing and what is
 * stale, and count nothing as a problem when a table is complete. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "conformance/svm/coverage_report.h"
#include "models/svm/vmrun_checks.h"

static char buf[8192];

static unsigned report(const struct svm_cov_entry *table)
{
  const struct svm_cov_entry *const tables[] = {table, NULL};
  FILE *out = fmemopen(buf, sizeof buf, "w");
  assert_non_null(out);
  unsigned n = svm_coverage_report(tables, out);
  fclose(out);
  return n;
}

static void svm_coverage_empty_table_lists_every_check(void **state)
{
  const struct svm_cov_entry none[] = {{NULL, NULL, NULL}};
  assert_int_equal(report(none), SVM_CHECK_COUNT);
  assert_non_null(strstr(buf, "vmrun_check SVM_VMRUN_ASID_ZERO: no test"));
}

static void svm_coverage_one_entry_covers_one_check(void **state)
{
  const struct svm_cov_entry one[] = {{"vmrun_check", "SVM_VMRUN_ASID_ZERO", "t"}, {NULL, NULL, NULL}};
  assert_int_equal(report(one), SVM_CHECK_COUNT - 1);
  assert_null(strstr(buf, "SVM_VMRUN_ASID_ZERO: no test"));
}

static void svm_coverage_stale_entry_reported(void **state)
{
  const struct svm_cov_entry stale[] = {{"vmrun_check", "SVM_VMRUN_GONE", "t_gone"}, {NULL, NULL, NULL}};
  assert_int_equal(report(stale), SVM_CHECK_COUNT + 1);
  assert_non_null(strstr(buf, "SVM_VMRUN_GONE: test t_gone names no catalogue entry"));
}

static void svm_coverage_real_tables_complete(void **state)
{
  assert_int_equal(report(svm_cov_vmrun_checks), 0);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(svm_coverage_empty_table_lists_every_check),
    cmocka_unit_test(svm_coverage_one_entry_covers_one_check),
    cmocka_unit_test(svm_coverage_stale_entry_reported),
    cmocka_unit_test(svm_coverage_real_tables_complete),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
