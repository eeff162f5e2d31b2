/* Trace lines (sim/trace.c) format their arguments as printf would: the
 * digest of a run must not depend on which formatter wrote a line. Each
 * case compares a traced line with snprintf's. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sim/trace.h"

/* The line trace_event writes for the arguments, without its newline. */
#define TRACED(buf, ...)                                          \
  do {                                                            \
    char *mem = NULL;                                             \
    size_t size = 0;                                              \
    FILE *f = open_memstream(&mem, &size);                        \
    struct trace t;                                               \
    trace_open(&t, f, "img", "cpu", 1);                           \
    trace_event(&t, 42, "kind", __VA_ARGS__);                     \
    fclose(f);                                                    \
    const char *line = strchr(mem, '\n') + 1;                     \
    snprintf(buf, sizeof buf, "%.*s", (int)(strcspn(line, "\n")), line); \
    free(mem);                                                    \
  } while (0)

#define SAME_AS_PRINTF(...)                                       \
  do {                                                            \
    char got[600], want[600], args[560];                          \
    TRACED(got, __VA_ARGS__);                                     \
    snprintf(args, sizeof args, __VA_ARGS__);                     \
    snprintf(want, sizeof want, "42 kind %s", args);              \
    assert_string_equal(got, want);                               \
  } while (0)

static void trace_line_formats_like_printf(void **state)
{
  (void)state;
  SAME_AS_PRINTF("la=0x%llx pa=0x%llx %c refs=%u", 0xffff800000001000ull, 0x1000ull, 'x', 24u);
  SAME_AS_PRINTF("%d %d %i %u", 0, -5, -2147483647 - 1, 4294967295u);
  SAME_AS_PRINTF("%u %u %u %u %u %d %d", 9u, 10u, 99u, 100u, 1001u, -10, -100);   /* two digits at a time */
  SAME_AS_PRINTF("%x %X %#x %#x %08x %#010x %-6x|", 0xabcu, 0xabcu, 0x10u, 0u, 0x1fu, 0x1fu, 0x2u);
  SAME_AS_PRINTF("%lu %ld %llu %lld %zu", 7ul, -7l, 18446744073709551615ull, -9223372036854775807ll - 1, (size_t)99);
  SAME_AS_PRINTF("%hhx %hx %hhd %hd", 0x1ffu, 0x1ffffu, 200, 40000);
  SAME_AS_PRINTF("%s|%-8s|%8s|%%|%05d|%-5d|%5d", "vmx", "ab", "cd", -42, 3, -3);
  /* Precision is not among the fast conversions: the same line anyway. */
  SAME_AS_PRINTF("%.3s %.4x %5.1f", "abcdef", 0x1u, 2.25);
}

static void trace_line_without_arguments_is_kind_only(void **state)
{
  (void)state;
  char got[600];
  TRACED(got, "%s", "");
  assert_string_equal(got, "42 kind ");
  TRACED(got, NULL);
  assert_string_equal(got, "42 kind");
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(trace_line_formats_like_printf),
    cmocka_unit_test(trace_line_without_arguments_is_kind_only),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
