/* Test coverage reporting for the VMX catalogues.
 *
 * Every VMX conformance binary runs its cmocka group normally; run with
 * `--covers`, it instead prints one line per catalogue entry it proves
 * ("field NAME", "check ID", "error N"), found by *running* the same conformance
 * cases the cmocka tests assert and printing only those that pass.
 * vmx-coverage collects these lines from every binary and lists catalogue
 * entries nobody proved. So "has a test" is derived from tests that pass,
 * never from a list kept by hand. */
#ifndef HVSIM_CONFORMANCE_VMX_COVERS_H
#define HVSIM_CONFORMANCE_VMX_COVERS_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

/* Runs the cmocka group, or with `--covers` calls `covers` (which prints
 * the entries the binary proves). */
int cov_main(int argc, char **argv, const char *group,
             const struct CMUnitTest *tests, size_t count, void (*covers)(void));

#endif
