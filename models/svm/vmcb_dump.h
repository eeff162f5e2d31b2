/* The VMCB dump format (docs/explain-vmcb.md): reading a dump into a VMCB
 * image and writing one. Two syntaxes, told apart by the first character
 * that is not blank or a comment:
 *   text  one `field_name = value` per line; `#` starts a comment
 *   JSON  one flat object {"field_name": value, ...}; values are JSON
 *         integers or strings holding a number ("0x80050033")
 * Field names are those of vmcb_fields.def (e.g. "cr0", "cs.attrib",
 * "guest_asid"); numbers are decimal, 0x-hex, or negative decimal (two's
 * complement at the field's width). Fields not given are zero. */
#ifndef HVSIM_MODELS_SVM_VMCB_DUMP_H
#define HVSIM_MODELS_SVM_VMCB_DUMP_H

#include <stdio.h>

#include "models/svm/vmcb.h"

/* Largest dump accepted, so bad input cannot exhaust memory. */
#define SVM_DUMP_MAX_BYTES (1u << 20)

/* Parses a dump into *out (zeroed first). Errors go to err as
 * "input_name:LINE: message", every one found; returns the number of errors
 * (0 = success). */
unsigned svm_vmcb_parse(FILE *in, const char *input_name, struct svm_vmcb *out, FILE *err);

/* Writes every field of the table in the text syntax, one per line. */
void svm_vmcb_dump_text(const struct svm_vmcb *v, FILE *out);

#endif
