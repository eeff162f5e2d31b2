/* The `--covers` protocol (covers.h). */
#include "conformance/covers.h"

#include <stdio.h>
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

bool cov_collect(const char *tool, const char *binary,
                 bool (*line)(const char *kind, const char *name, const char *binary, void *ctx), void *ctx)
{
  if (strchr(binary, '\'')) {
    fprintf(stderr, "%s: unsupported path %s\n", tool, binary);
    return false;
  }
  char cmd[4096];
  snprintf(cmd, sizeof cmd, "'%s' --covers", binary);
  FILE *p = popen(cmd, "r");
  if (!p) {
    fprintf(stderr, "%s: cannot run %s\n", tool, binary);
    return false;
  }
  char text[512];
  bool ok = true;
  while (fgets(text, sizeof text, p)) {
    char kind[32], name[128];
    if (sscanf(text, "%31s %127s", kind, name) != 2) continue;
    if (!line(kind, name, binary, ctx)) ok = false;
  }
  int status = pclose(p);
  if (status != 0) {
    fprintf(stderr, "%s: %s --covers exited with status %d\n", tool, binary, status);
    return false;
  }
  return ok;
}
