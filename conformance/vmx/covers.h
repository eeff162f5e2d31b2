/* Test coverage registration for the VMX catalogues.
 *
 * A test claims a catalogue entry only through the macro that asserts it:
 * the assertion macros in the test files expand COVERS(kind, id), which
 * places a record in the `hvsim_cov` section of the test binary. Running
 * the binary with `--covers` prints those records ("check ID" lines) plus
 * anything the binary proves at run time (cov_extra), and vmx-coverage
 * compares the union with the catalogues. So "has a test" is derived from
 * the assertions themselves, not from a list kept by hand. */
#ifndef HVSIM_CONFORMANCE_VMX_COVERS_H
#define HVSIM_CONFORMANCE_VMX_COVERS_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

struct cov_record { const char *kind; const char *id; };

#define COV_CAT2(a, b) a##b
#define COV_CAT(a, b) COV_CAT2(a, b)
#define COVERS(kind, id)                                                    \
  static const struct cov_record COV_CAT(cov_rec_, __COUNTER__)             \
    __attribute__((used, section("hvsim_cov"), aligned(sizeof(void *)))) = { kind, id }

/* Runs the cmocka group, or with `--covers` prints the coverage records
 * and calls `extra` (may be NULL) to print run-time proven entries. */
int cov_main(int argc, char **argv, const char *group,
             const struct CMUnitTest *tests, size_t count, void (*extra)(void));

#endif
