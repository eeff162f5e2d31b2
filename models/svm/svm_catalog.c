/* Tables generated from the intercept and exit-code catalogues. */
#include "models/svm/svm_catalog.h"

#include <string.h>

const struct svm_exit_info svm_exit_infos[SVM_EXIT_COUNT] = {
#define SVM_EXIT(name, value) [SVM_EXIT_IDX_##name] = {#name, (value)},
#include "models/svm/exit_codes.def"
#undef SVM_EXIT
};

int svm_exit_index_of(uint64_t exitcode)
{
  switch (exitcode) {
#define SVM_EXIT(name, value) case (uint64_t)(int64_t)(value): return SVM_EXIT_IDX_##name;
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
#define SVM_INTERCEPT(name, word, bit, exit, cite) \
  [SVM_INTERCEPT_##name] = {#name, (word), (bit), SVM_EXIT_##exit, cite},
#include "models/svm/intercepts.def"
#undef SVM_INTERCEPT
};

/* Bits are in bounds: words 0-5, bits 0-31. */
#define SVM_INTERCEPT(name, word, bit, exit, cite) \
  _Static_assert((word) <= 5 && (bit) <= 31, "intercept " #name " out of range");
#include "models/svm/intercepts.def"
#undef SVM_INTERCEPT

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
