/* Compares the model's catalogues with what the test tables cover. The
 * catalogues are read from the model itself (the VMRUN check table), so a
 * new catalogue entry shows up here without anyone listing it. */
#include "conformance/svm/coverage_report.h"

#include <stdbool.h>
#include <string.h>

#include "models/svm/vmrun_checks.h"

static const struct svm_cov_entry *find(const struct svm_cov_entry *const tables[],
                                        const char *catalogue, const char *id)
{
  for (unsigned t = 0; tables[t]; t++)
    for (const struct svm_cov_entry *e = tables[t]; e->catalogue; e++)
      if (strcmp(e->catalogue, catalogue) == 0 && strcmp(e->id, id) == 0) return e;
  return NULL;
}

/* Is (catalogue, id) an entry of a model catalogue? */
static bool known(const char *catalogue, const char *id)
{
  if (strcmp(catalogue, "vmrun_check") == 0) return svm_check_by_name(id) != SVM_CHECK_NONE;
  return false;
}

unsigned svm_coverage_report(const struct svm_cov_entry *const tables[], FILE *out)
{
  unsigned problems = 0, covered = 0;
  for (int id = 1; id <= SVM_CHECK_COUNT; id++) {
    const char *name = svm_check_info((enum svm_check_id)id)->id;
    if (find(tables, "vmrun_check", name)) {
      covered++;
      continue;
    }
    fprintf(out, "vmrun_check %s: no test\n", name);
    problems++;
  }
  for (unsigned t = 0; tables[t]; t++)
    for (const struct svm_cov_entry *e = tables[t]; e->catalogue; e++) {
      if (known(e->catalogue, e->id)) continue;
      fprintf(out, "%s %s: test %s names no catalogue entry\n", e->catalogue, e->id, e->test);
      problems++;
    }
  fprintf(out, "vmrun_check: %u of %d entries have a test\n", covered, SVM_CHECK_COUNT);
  return problems;
}
