/* SHA-256 (FIPS 180-4), for trace digests. */
#ifndef HVSIM_SIM_SHA256_H
#define HVSIM_SIM_SHA256_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sha256 {
  uint32_t h[8];
  uint64_t length;
  uint8_t block[64];
  size_t used;
};

void sha256_init(struct sha256 *s);
void sha256_update(struct sha256 *s, const void *data, size_t len);
void sha256_final(struct sha256 *s, uint8_t digest[32]);

/* Tests: use the portable compression even where the SHA extensions are
 * there, to compare the two. */
void sha256_force_portable(bool on);

#endif
