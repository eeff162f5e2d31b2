/* svm_coverage: lists the SVM catalogue entries (VMRUN checks, intercepts,
 * exit codes) that no passing conformance case proves, and fails while
 * that list is not empty.
 *
 * Usage: svm_coverage [--strict] TEST_BINARY...
 * Each binary runs with `--covers` and prints "vmrun_check ID",
 * "intercept NAME" or "exit_code NAME" for what its passing cases prove
 * (svm_coverage.h). Entries the catalogue marks never produced are listed
 * with their reason; entries marked not modelled are listed as known gaps
 * and fail the run only with --strict. Exit status: 0 complete, 1 entries
 * missing, 2 a binary could not run or failed. */
#include <stdlib.h>
#include <string.h>

#include "conformance/svm/coverage_report.h"

static struct svm_cov_entry *proved;
static size_t count, cap;

static bool add(const char *catalogue, const char *id, const char *test)
{
  if (count + 1 >= cap) {
    size_t ncap = cap ? 2 * cap : 256;
    struct svm_cov_entry *p = realloc(proved, ncap * sizeof *p);
    if (!p) return false;
    proved = p;
    cap = ncap;
  }
  proved[count].catalogue = strdup(catalogue);
  proved[count].id = strdup(id);
  proved[count].test = test;
  if (!proved[count].catalogue || !proved[count].id) return false;
  count++;
  proved[count] = (struct svm_cov_entry){NULL, NULL, NULL};
  return true;
}

/* One line of a binary's `--covers` output. */
static bool line(const char *catalogue, const char *id, const char *binary, void *ctx)
{
  (void)ctx;
  if (add(catalogue, id, binary)) return true;
  fprintf(stderr, "svm_coverage: out of memory\n");
  return false;
}

int main(int argc, char **argv)
{
  bool strict = false;
  int first = 1;
  if (argc > 1 && strcmp(argv[1], "--strict") == 0) {
    strict = true;
    first = 2;
  }
  if (first >= argc) {
    fprintf(stderr, "usage: svm_coverage [--strict] TEST_BINARY...\n");
    return 2;
  }
  static const struct svm_cov_entry none = {NULL, NULL, NULL};
  for (int i = first; i < argc; i++)
    if (!cov_collect("svm_coverage", argv[i], line, NULL)) return 2;
  return svm_coverage_report(proved ? proved : &none, strict, stdout) == 0 ? 0 : 1;
}
