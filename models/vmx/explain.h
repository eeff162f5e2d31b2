/* explain-vmcs: reads a VMCS dump (vmcs_dump.h, docs/explain-vmcs.md) and
 * lists every VM-entry check it fails on a CPU model, with the check's ID,
 * outcome, SDM citation, predicate and the offending values. The
 * simulator's `hvsim explain-vmcs FILE [--cpu MODEL]` calls this. */
#ifndef HVSIM_MODELS_VMX_EXPLAIN_H
#define HVSIM_MODELS_VMX_EXPLAIN_H

#include <stdio.h>

#include "models/vmx/caps.h"

/* Exit statuses of vmx_explain_vmcs. */
enum {
  VMX_EXPLAIN_PASS = 0,      /* every evaluated check passes */
  VMX_EXPLAIN_FAIL = 1,      /* at least one check fails */
  VMX_EXPLAIN_BAD_INPUT = 2, /* malformed dump: line-numbered errors on err */
};

int vmx_explain_vmcs(FILE *in, const char *input_name, const struct vmx_caps *caps,
                     FILE *out, FILE *err);

#endif
