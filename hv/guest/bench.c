/* The guest's benchmark mode: with `bench=cpuid:N` or `bench=hypercall:N`
 * on its command line (hv's HC_CMDLINE), the guest runs N CPUID or NOP
 * hypercall exits back to back, prints one "# bench" line and exits; the
 * runner (bench/hv) times it against N=0 to get exit round trips per
 * second. */
#include "hv/guest/guest.h"
#include "hv/hypercall.h"

static bool starts_with(const char *s, const char *prefix)
{
    while (*prefix)
        if (*s++ != *prefix++)
            return false;
    return true;
}

bool bench_requested(const char *cmdline)
{
    for (const char *w = cmdline; *w; w++) {
        if (w != cmdline && w[-1] != ' ')
            continue;
        if (!starts_with(w, "bench="))
            continue;
        w += 6;
        bool cpuid_loop = starts_with(w, "cpuid:");
        if (!cpuid_loop && !starts_with(w, "hypercall:"))
            return false;
        const char *p = w + (cpuid_loop ? 6 : 10);
        unsigned long n = 0;
        for (; *p >= '0' && *p <= '9'; p++)
            n = n * 10 + (unsigned long)(*p - '0');
        for (unsigned long i = 0; i < n; i++) {
            if (cpuid_loop) {
                uint32_t r[4];
                cpuid(0, 0, r);
            } else {
                hypercall(HC_NOP, 0, 0);
            }
        }
        gprintf("# bench kind=%s iterations=%lu\n", cpuid_loop ? "cpuid" : "hypercall", n);
        return true;
    }
    return false;
}
