/* The `--covers` protocol shared by the VMX and SVM conformance binaries
 * and their coverage commands (vmx-coverage, svm_coverage).
 *
 * A covering test binary runs its cmocka group normally; run with
 * `--covers`, it instead runs the same conformance cases its tests assert
 * and prints one line "KIND NAME" per catalogue entry a passing case
 * proves. The coverage commands run the binaries, collect the lines and
 * list the catalogue entries nobody proved: "has a test" is derived from
 * cases that run and pass, never from a list kept by hand. */
#ifndef HVSIM_CONFORMANCE_COVERS_H
#define HVSIM_CONFORMANCE_COVERS_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

/* Runs the cmocka group, or with `--covers` calls `covers` (which prints
 * the entries the binary proves). */
int cov_main(int argc, char **argv, const char *group,
             const struct CMUnitTest *tests, size_t count, void (*covers)(void));

/* Runs `binary --covers` and hands each line's two words to `line` (false
 * from it marks the collection failed). Returns false, with a message
 * naming `tool` on stderr, when the binary cannot run or exits non-zero. */
bool cov_collect(const char *tool, const char *binary,
                 bool (*line)(const char *kind, const char *name, const char *binary, void *ctx), void *ctx);

#endif
