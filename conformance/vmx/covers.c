/* The `--covers` side of every VMX conformance binary (see covers.h). */
#include "conformance/vmx/covers.h"

#include <stdio.h>
#include <string.h>

extern const struct cov_record __start_hvsim_cov[] __attribute__((weak));
extern const struct cov_record __stop_hvsim_cov[] __attribute__((weak));

int cov_main(int argc, char **argv, const char *group,
             const struct CMUnitTest *tests, size_t count, void (*extra)(void))
{
  if (argc > 1 && strcmp(argv[1], "--covers") == 0) {
    for (const struct cov_record *r = __start_hvsim_cov; r && r < __stop_hvsim_cov; r++)
      printf("%s %s\n", r->kind, r->id);
    if (extra) extra();
    return 0;
  }
  return _cmocka_run_group_tests(group, tests, count, NULL, NULL);
}
