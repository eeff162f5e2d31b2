/* The negative VM-entry conformance cases: one per check ID, each breaking
 * exactly that check from the baseline VMCS (entry_negative.c), and the
 * runner that verifies a case on every CPU model it applies to. */
#ifndef HVSIM_CONFORMANCE_VMX_ENTRY_NEGATIVE_H
#define HVSIM_CONFORMANCE_VMX_ENTRY_NEGATIVE_H

#include <stdbool.h>
#include <stddef.h>

#include "conformance/vmx/baseline.h"

struct neg_case {
  enum vmx_check_id id;
  /* Breaks the check in a baseline; false when the model cannot express
   * the case (the feature it needs is absent). */
  bool (*mutate)(struct tcase *t);
  /* Another check that necessarily fails too and comes first
   * architecturally (VMX_ENTRY_OK: none). */
  enum vmx_check_id also;
  long qual;               /* expected exit qualification; -1: the catalogue's */
};

extern const struct neg_case neg_cases[];
extern const size_t neg_case_count;

/* Runs a case on every model; false (with `why`) when the model's result
 * differs from the expectation or no model applies. */
bool neg_case_holds(const struct neg_case *n, char *why, size_t len);

#endif
