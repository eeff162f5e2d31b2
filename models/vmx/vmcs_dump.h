/* The VMCS dump format read by explain-vmcs (docs/explain-vmcs.md).
 *
 * Text:  one `FIELD = value` per line; FIELD is a catalogue name
 *        (GUEST_CR0), a 64-bit field's high half (TSC_OFFSET_HIGH) or an
 *        encoding (0x6800); value is hexadecimal (0x...) or decimal; `#`
 *        starts a comment; blank lines are ignored.
 * JSON:  one object {"FIELD": value, ...}; values are JSON integers or
 *        strings holding a hexadecimal/decimal integer ("0xffffffff...").
 * Both accept the pseudo-field PROCESSOR_IA32E_MODE (0 or 1, default 1):
 * whether the processor is in IA-32e mode at the VM entry.
 * Fields not in the dump are 0. */
#ifndef HVSIM_MODELS_VMX_VMCS_DUMP_H
#define HVSIM_MODELS_VMX_VMCS_DUMP_H

#include <stdbool.h>
#include <stdio.h>

#include "models/vmx/caps.h"
#include "models/vmx/vmcs.h"

struct vmcs_dump {
  struct vmcs v;
  bool present[VMCS_FIELD_COUNT];   /* field given in the dump */
  bool host_ia32e;                  /* PROCESSOR_IA32E_MODE */
};

/* Parses `in` into `d`. Errors and warnings go to `err` as
 * "NAME:LINE: message". Returns the number of errors (0 = well formed).
 * A field that does not exist on `caps` is a warning and is ignored. */
int vmcs_dump_parse(FILE *in, const char *input_name, const struct vmx_caps *caps,
                    struct vmcs_dump *d, FILE *err);

#endif
