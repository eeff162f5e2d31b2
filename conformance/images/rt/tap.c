/* TAP output of the test images (Test Anything Protocol, version 12 lines):
 * one "ok"/"not ok" line per check, the plan "1..N" at the end, then a final
 * PASS or FAIL line that the oracle runner reads. */
#include "rt/rt.h"

static unsigned tap_count, tap_failures;

static void begin(bool ok)
{
    tap_count++;
    if (!ok)
        tap_failures++;
    rt_printf("%sok %u - ", ok ? "" : "not ", tap_count);
}

void tap_check(bool ok, const char *fmt, ...)
{
    va_list ap;
    begin(ok);
    va_start(ap, fmt);
    rt_vprintf(fmt, ap);
    va_end(ap);
    rt_printf("\n");
}

void tap_eq(uint64_t expected, uint64_t got, const char *fmt, ...)
{
    va_list ap;
    begin(expected == got);
    va_start(ap, fmt);
    rt_vprintf(fmt, ap);
    va_end(ap);
    if (expected == got)
        rt_printf(" = 0x%llx\n", (unsigned long long)got);
    else
        rt_printf(" (expected 0x%llx, got 0x%llx)\n", (unsigned long long)expected, (unsigned long long)got);
}

void tap_eq_or_departure(uint64_t expected, uint64_t got, uint64_t departure, const char *id,
                         const char *fmt, ...)
{
    va_list ap;
    bool known = got != expected && got == departure;
    tap_count++;
    if (got != expected && !known)
        tap_failures++;
    rt_printf("%sok %u - ", got == expected ? "" : "not ", tap_count);
    va_start(ap, fmt);
    rt_vprintf(fmt, ap);
    va_end(ap);
    if (got == expected)
        rt_printf(" = 0x%llx\n", (unsigned long long)got);
    else
        rt_printf(" (expected 0x%llx, got 0x%llx)%s%s\n", (unsigned long long)expected,
                  (unsigned long long)got, known ? " # TODO known departure: " : "", known ? id : "");
}

void tap_no_fault(int vector, const char *fmt, ...)
{
    va_list ap;
    begin(vector < 0);
    va_start(ap, fmt);
    rt_vprintf(fmt, ap);
    va_end(ap);
    if (vector < 0)
        rt_printf(": no exception\n");
    else
        rt_printf(" (expected no exception, got vector %d)\n", vector);
}

void tap_note(const char *fmt, ...)
{
    va_list ap;
    rt_printf("# ");
    va_start(ap, fmt);
    rt_vprintf(fmt, ap);
    va_end(ap);
    rt_printf("\n");
}

bool tap_failed(void) { return tap_failures != 0; }

void tap_done(void)
{
    rt_printf("1..%u\n", tap_count);
    /* A run that checked nothing proves nothing. */
    bool pass = tap_failures == 0 && tap_count > 0;
    rt_printf("%s\n", pass ? "PASS" : "FAIL");
    rt_exit(pass ? 0 : 1);
}
