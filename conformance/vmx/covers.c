/* The `--covers` switch of every VMX conformance binary (see covers.h). */
#include "conformance/vmx/covers.h"

#include <string.h>

int cov_main(int argc, char **argv, const char *group,
             const struct CMUnitTest *tests, size_t count, void (*covers)(void))
{
  if (argc > 1 && strcmp(argv[1], "--covers") == 0) {
    if (covers) covers();
    return 0;
  }
  return _cmocka_run_group_tests(group, tests, count, NULL, NULL);
}
