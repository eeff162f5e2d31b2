/* Compares the model's catalogues with what the conformance cases prove.
 * The catalogues are read from the model itself (the VMRUN check table,
 * intercepts.def, exit_codes.def with their availability column), so a new
 * catalogue entry shows up here without anyone listing it. */
#include "conformance/svm/coverage_report.h"

#include <string.h>

#include "models/svm/svm_catalog.h"
#include "models/svm/vmrun_checks.h"

static bool proved_by(const struct svm_cov_entry *proved, const char *catalogue, const char *id)
{
  for (const struct svm_cov_entry *e = proved; e->catalogue; e++)
    if (strcmp(e->catalogue, catalogue) == 0 && strcmp(e->id, id) == 0) return true;
  return false;
}

/* Is (catalogue, id) an entry of a model catalogue? */
static bool known(const char *catalogue, const char *id)
{
  if (strcmp(catalogue, "vmrun_check") == 0) return svm_check_by_name(id) != SVM_CHECK_NONE;
  if (strcmp(catalogue, "intercept") == 0) return svm_intercept_by_name(id) >= 0;
  if (strcmp(catalogue, "exit_code") == 0) return svm_exit_by_name(id) >= 0;
  return false;
}

struct tally {
  unsigned entries, covered, never, gaps, problems;
};

/* One catalogue entry: covered, or listed with why not. */
static void entry(struct tally *t, const struct svm_cov_entry *proved, const char *catalogue, const char *id,
                  struct svm_avail avail, bool strict, FILE *out)
{
  t->entries++;
  if (proved_by(proved, catalogue, id)) {
    t->covered++;
    /* A case that produces what the catalogue says cannot happen: one of
     * the two is wrong. */
    if (avail.kind == SVM_AVAIL_NEVER) {
      fprintf(out, "%s %s: marked never produced, yet a case produces it\n", catalogue, id);
      t->problems++;
    }
    return;
  }
  switch (avail.kind) {
  case SVM_AVAIL_NEVER:
    t->never++;
    fprintf(out, "%s %s: never produced: %s\n", catalogue, id, avail.reason);
    return;
  case SVM_AVAIL_NOT_MODELLED:
    t->gaps++;
    fprintf(out, "%s %s: not modelled (known gap): %s\n", catalogue, id, avail.reason);
    if (strict) t->problems++;
    return;
  case SVM_AVAIL_PRODUCED:
    fprintf(out, "%s %s: no test\n", catalogue, id);
    t->problems++;
    return;
  }
  fprintf(out, "%s %s: unknown availability %d\n", catalogue, id, (int)avail.kind);
  t->problems++;
}

static void summary(const struct tally *t, const char *catalogue, FILE *out)
{
  fprintf(out, "%s: %u of %u entries have a passing case, %u never produced, %u not modelled, %u untested\n",
          catalogue, t->covered, t->entries, t->never, t->gaps, t->entries - t->covered - t->never - t->gaps);
}

unsigned svm_coverage_report(const struct svm_cov_entry *proved, bool strict, FILE *out)
{
  struct tally checks = {0}, icpts = {0}, exits = {0};
  for (int id = 1; id <= SVM_CHECK_COUNT; id++)
    entry(&checks, proved, "vmrun_check", svm_check_info((enum svm_check_id)id)->id, (struct svm_avail)SVM_PRODUCED,
          strict, out);
  for (int i = 0; i < SVM_INTERCEPT_COUNT; i++)
    entry(&icpts, proved, "intercept", svm_intercepts[i].name, svm_intercepts[i].avail, strict, out);
  for (int i = 0; i < SVM_EXIT_COUNT; i++)
    entry(&exits, proved, "exit_code", svm_exit_infos[i].name, svm_exit_availability((enum svm_exit_index)i), strict,
          out);
  unsigned stale = 0;
  for (const struct svm_cov_entry *e = proved; e->catalogue; e++) {
    if (known(e->catalogue, e->id)) continue;
    fprintf(out, "%s %s: %s names no catalogue entry\n", e->catalogue, e->id, e->test);
    stale++;
  }
  summary(&checks, "vmrun_check", out);
  summary(&icpts, "intercept", out);
  summary(&exits, "exit_code", out);
  unsigned problems = checks.problems + icpts.problems + exits.problems + stale;
  fprintf(out, "svm_coverage: %s: %u problem(s)\n", problems ? "FAIL" : "OK", problems);
  return problems;
}
