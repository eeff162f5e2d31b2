/* vmx-explain-vmcs FILE [--cpu MODEL]: the explain-vmcs library function
 * as a command ("-" reads standard input). Exit status as
 * vmx_explain_vmcs: 0 pass, 1 a check fails, 2 bad input or usage. */
#include <stdio.h>
#include <string.h>

#include "models/vmx/explain.h"

int main(int argc, char **argv)
{
  const char *file = NULL, *cpu = "skylake-x";
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--cpu") == 0 && i + 1 < argc) cpu = argv[++i];
    else if (!file) file = argv[i];
    else file = NULL, i = argc;
  }
  const struct vmx_caps *caps = vmx_caps_by_name(cpu);
  if (!file || !caps) {
    fprintf(stderr, "usage: vmx-explain-vmcs FILE [--cpu MODEL]\n");
    if (!caps) {
      fprintf(stderr, "unknown CPU model '%s'; models:", cpu);
      for (int m = 0; vmx_cpu_models[m]; m++) fprintf(stderr, " %s", vmx_cpu_models[m]->name);
      fputc('\n', stderr);
    }
    return VMX_EXPLAIN_BAD_INPUT;
  }
  FILE *in = strcmp(file, "-") == 0 ? stdin : fopen(file, "r");
  if (!in) {
    perror(file);
    return VMX_EXPLAIN_BAD_INPUT;
  }
  int rc = vmx_explain_vmcs(in, file, caps, stdout, stderr);
  if (in != stdin) fclose(in);
  return rc;
}
