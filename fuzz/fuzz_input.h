/* Reading a fuzz input as a stream of little-endian integers, and the
 * checks every harness shares. Reads past the end give 0, so a harness
 * never needs to test the remaining length: a short input is a valid
 * input whose missing tail is zeros. */
#ifndef HVSIM_FUZZ_FUZZ_INPUT_H
#define HVSIM_FUZZ_FUZZ_INPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

struct fuzz_in {
  const uint8_t *p;
  size_t n;
};

static inline bool fin_more(const struct fuzz_in *in) { return in->n > 0; }

static inline uint64_t fin_le(struct fuzz_in *in, unsigned bytes)
{
  uint64_t v = 0;
  for (unsigned i = 0; i < bytes; i++) {
    if (in->n == 0) break;
    v |= (uint64_t)in->p[0] << (8 * i);
    in->p++;
    in->n--;
  }
  return v;
}
static inline uint8_t fin_u8(struct fuzz_in *in) { return (uint8_t)fin_le(in, 1); }
static inline uint16_t fin_u16(struct fuzz_in *in) { return (uint16_t)fin_le(in, 2); }
static inline uint32_t fin_u32(struct fuzz_in *in) { return (uint32_t)fin_le(in, 4); }
static inline uint64_t fin_u64(struct fuzz_in *in) { return fin_le(in, 8); }

/* A harness's property failed: say what and where, then abort() so
 * libFuzzer saves the input as a crash and the replay test fails. */
#define FUZZ_CHECK(cond, ...)                                                  \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "%s:%d: property failed: %s\n  ", __FILE__, __LINE__, #cond); \
      fprintf(stderr, __VA_ARGS__);                                            \
      fputc('\n', stderr);                                                     \
      abort();                                                                 \
    }                                                                          \
  } while (0)

/* A log of observable results, compared between two runs of the same input
 * (determinism). Fixed size: a harness stops logging when it is full. */
#define FUZZ_LOG_MAX 4096
struct fuzz_log {
  unsigned n;
  uint64_t v[FUZZ_LOG_MAX];
};
static inline void flog(struct fuzz_log *l, uint64_t v)
{
  if (l->n < FUZZ_LOG_MAX) l->v[l->n++] = v;
}
/* FNV-1a of a byte range, for logging memory contents. */
static inline uint64_t fuzz_hash(const void *p, size_t n)
{
  const uint8_t *b = p;
  uint64_t h = 0xcbf29ce484222325ull;
  for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 0x100000001b3ull;
  return h;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
