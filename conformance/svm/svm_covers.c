/* The `--covers` switch of the SVM conformance binaries (svm_coverage.h). */
#include "conformance/svm/svm_coverage.h"

#include <string.h>

int svm_cov_main(int argc, char **argv, const char *group, const struct CMUnitTest *tests, size_t count,
                 void (*covers)(void))
{
  if (argc > 1 && strcmp(argv[1], "--covers") == 0) {
    if (covers) covers();
    return 0;
  }
  return _cmocka_run_group_tests(group, tests, count, NULL, NULL);
}
