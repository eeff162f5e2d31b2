/* Tables generated from the intercept and exit-code catalogues. */
#include "models/svm/svm_catalog.h"

#include <string.h>

const struct svm_exit_info svm_exit_infos[SVM_EXIT_COUNT] = {
#define SVM_EXIT(name, value, avail) [SVM_EXIT_IDX_##name] = {#name, (value), avail},
#include "models/svm/exit_codes.def"
#undef SVM_EXIT
};

int svm_exit_index_of(uint64_t exitcode)
{
  switch (exitcode) {
#define SVM_EXIT(name, value, avail) case (uint64_t)(int64_t)(value): return SVM_EXIT_IDX_##name;
#include "models/svm/exit_codes.def"
#undef SVM_EXIT
  default: return -1;   /* not in the catalogue */
  }
}

const char *svm_exit_name(uint64_t exitcode)
{
  int i = svm_exit_index_of(exitcode);
  return i < 0 ? NULL : svm_exit_infos[i].name;
}

/* Every intercept names an exit code of the catalogue: a typo in the exit
 * column fails to compile here. */
const struct svm_intercept_info svm_intercepts[SVM_INTERCEPT_COUNT] = {
#define SVM_INTERCEPT(name, word, bit, exit, cite, avail) \
  [SVM_INTERCEPT_##name] = {#name, (word), (bit), SVM_EXIT_##exit, cite, avail},
#include "models/svm/intercepts.def"
#undef SVM_INTERCEPT
};

/* Bits are in bounds: words 0-5, bits 0-31. */
#define SVM_INTERCEPT(name, word, bit, exit, cite, avail) \
  _Static_assert((word) <= 5 && (bit) <= 31, "intercept " #name " out of range");
#include "models/svm/intercepts.def"
#undef SVM_INTERCEPT

int svm_exit_by_name(const char *name)
{
  for (int i = 0; i < SVM_EXIT_COUNT; i++)
    if (strcmp(svm_exit_infos[i].name, name) == 0) return i;
  return -1;
}

int svm_intercept_by_name(const char *name)
{
  for (int i = 0; i < SVM_INTERCEPT_COUNT; i++)
    if (strcmp(svm_intercepts[i].name, name) == 0) return i;
  return -1;
}

struct svm_avail svm_exit_availability(enum svm_exit_index idx)
{
  const struct svm_avail *never = NULL, *gap = NULL;
  bool any = false;
  for (int i = 0; i < SVM_INTERCEPT_COUNT; i++) {
    if (svm_intercepts[i].exitcode != svm_exit_infos[idx].code) continue;
    any = true;
    const struct svm_avail *a = &svm_intercepts[i].avail;
    if (a->kind == SVM_AVAIL_PRODUCED) return *a;
    if (a->kind == SVM_AVAIL_NOT_MODELLED && !gap) gap = a;
    if (a->kind == SVM_AVAIL_NEVER && !never) never = a;
  }
  if (!any) return svm_exit_infos[idx].avail;
  return gap ? *gap : *never;
}

/* The six intercept words are the first 24 bytes of the control area. */
static uint32_t *intercept_word(struct svm_vmcb *v, unsigned word)
{
  return (uint32_t *)((uint8_t *)v + 4 * word);
}

bool svm_intercept_is_set(const struct svm_vmcb *v, enum svm_intercept i)
{
  const struct svm_intercept_info *info = &svm_intercepts[i];
  uint32_t w;
  memcpy(&w, (const uint8_t *)v + 4 * info->word, sizeof w);
  return (w >> info->bit) & 1u;
}

void svm_intercept_set(struct svm_vmcb *v, enum svm_intercept i, bool on)
{
  const struct svm_intercept_info *info = &svm_intercepts[i];
  uint32_t w;
  memcpy(&w, intercept_word(v, info->word), sizeof w);
  if (on) w |= 1u << info->bit;
  else w &= ~(1u << info->bit);
  memcpy(intercept_word(v, info->word), &w, sizeof w);
}
