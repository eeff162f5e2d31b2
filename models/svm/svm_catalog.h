/* The SVM intercept and #VMEXIT exit-code catalogues (intercepts.def,
 * exit_codes.def) expanded into enums and name tables, plus access to the
 * intercept bits of a VMCB. */
#ifndef HVSIM_MODELS_SVM_SVM_CATALOG_H
#define HVSIM_MODELS_SVM_SVM_CATALOG_H

#include <stdbool.h>
#include <stdint.h>

#include "models/svm/vmcb.h"

/* Can the modelled CPUs produce a catalogue entry (the last column of
 * intercepts.def and exit_codes.def)? */
enum svm_availability {
  SVM_AVAIL_PRODUCED,      /* yes: a conformance case must produce it */
  SVM_AVAIL_NEVER,         /* no modelled CPU can, for an architectural reason */
  SVM_AVAIL_NOT_MODELLED,  /* a real CPU of the model could; the machine cannot yet */
};
struct svm_avail {
  enum svm_availability kind;
  const char *reason;      /* NULL when produced; the reason and its citation otherwise */
};
#define SVM_PRODUCED {SVM_AVAIL_PRODUCED, NULL}
#define SVM_NEVER(why, cite) {SVM_AVAIL_NEVER, why " (" cite ")"}
#define SVM_NOT_MODELLED(why) {SVM_AVAIL_NOT_MODELLED, why}

/* Exit codes: SVM_EXIT_<NAME> = EXITCODE value (SVM_EXIT_INVALID = -1). */
enum svm_exit_code {
#define SVM_EXIT(name, value, avail) SVM_EXIT_##name = (value),
#include "models/svm/exit_codes.def"
#undef SVM_EXIT
};

/* Exit codes as a dense index, for tables and coverage lists. */
enum svm_exit_index {
#define SVM_EXIT(name, value, avail) SVM_EXIT_IDX_##name,
#include "models/svm/exit_codes.def"
#undef SVM_EXIT
  SVM_EXIT_COUNT
};

struct svm_exit_info {
  const char *name;  /* e.g. "VMMCALL" */
  int64_t code;      /* EXITCODE as a signed value */
  struct svm_avail avail;  /* the catalogue's column: meaningful for codes no intercept produces */
};
extern const struct svm_exit_info svm_exit_infos[SVM_EXIT_COUNT];

/* The dense index of an EXITCODE value (the 64-bit field as stored), or -1. */
int svm_exit_index_of(uint64_t exitcode);
/* Name of an EXITCODE value, or NULL. */
const char *svm_exit_name(uint64_t exitcode);
/* The dense index of an exit code by name ("VMMCALL"), or -1. */
int svm_exit_by_name(const char *name);

/* Intercepts: SVM_INTERCEPT_<NAME> is a dense index into svm_intercepts. */
enum svm_intercept {
#define SVM_INTERCEPT(name, word, bit, exit, cite, avail) SVM_INTERCEPT_##name,
#include "models/svm/intercepts.def"
#undef SVM_INTERCEPT
  SVM_INTERCEPT_COUNT
};

struct svm_intercept_info {
  const char *name;       /* e.g. "VMRUN" */
  uint8_t word;           /* byte offset in the VMCB / 4 */
  uint8_t bit;
  int64_t exitcode;       /* the #VMEXIT code this intercept produces */
  const char *citation;
  struct svm_avail avail;
};
extern const struct svm_intercept_info svm_intercepts[SVM_INTERCEPT_COUNT];

/* The index of an intercept by name ("CPUID"), or -1. */
int svm_intercept_by_name(const char *name);
/* Whether exit code `idx` can be produced: the catalogue's own column for
 * a code no intercept produces; otherwise produced when one of its
 * intercepts is, else not modelled when one is, else never (with the
 * first intercept's reason). */
struct svm_avail svm_exit_availability(enum svm_exit_index idx);

bool svm_intercept_is_set(const struct svm_vmcb *v, enum svm_intercept i);
void svm_intercept_set(struct svm_vmcb *v, enum svm_intercept i, bool on);

#endif
