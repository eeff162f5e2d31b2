/* A small printf on the serial console: %d %i %u %x %X %p %s %c %%, with
 * 0-padding, a field width and the l / ll / z length modifiers. 64-bit
 * decimal conversion uses shifts only, so 32-bit images need no libgcc. */
#include "rt/rt.h"

static uint64_t divmod10(uint64_t n, unsigned *rem)
{
    uint64_t q = 0, r = 0;
    for (int i = 63; i >= 0; i--) {
        r = (r << 1) | ((n >> i) & 1);
        if (r >= 10) {
            r -= 10;
            q |= 1ull << i;
        }
    }
    *rem = (unsigned)r;
    return q;
}

static void put_num(uint64_t v, unsigned base, bool upper, bool negative, unsigned width, char pad)
{
    char buf[24];
    unsigned n = 0;
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    do {
        unsigned d;
        if (base == 16) {
            d = v & 15;
            v >>= 4;
        } else {
            v = divmod10(v, &d);
        }
        buf[n++] = digits[d];
    } while (v);
    unsigned len = n + (negative ? 1 : 0);
    if (negative && pad == '0')
        uart_putc('-');
    for (; len < width; len++)
        uart_putc(pad);
    if (negative && pad != '0')
        uart_putc('-');
    while (n)
        uart_putc(buf[--n]);
}

void rt_vprintf(const char *fmt, va_list ap)
{
    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            uart_putc(*fmt);
            continue;
        }
        fmt++;
        char pad = ' ';
        unsigned width = 0, longs = 0;
        if (*fmt == '0') {
            pad = '0';
            fmt++;
        }
        while (*fmt >= '0' && *fmt <= '9')
            width = width * 10 + (unsigned)(*fmt++ - '0');
        for (; *fmt == 'l' || *fmt == 'z'; fmt++)
            longs += *fmt == 'z' ? (sizeof(size_t) == 8 ? 2 : 0) : 1;
        uint64_t u;
        int64_t s;
        switch (*fmt) {
        case 'd':
        case 'i':
            s = longs >= 2 ? va_arg(ap, long long) : longs == 1 ? va_arg(ap, long) : va_arg(ap, int);
            put_num(s < 0 ? (uint64_t)0 - (uint64_t)s : (uint64_t)s, 10, false, s < 0, width, pad);
            break;
        case 'u':
        case 'x':
        case 'X':
            u = longs >= 2 ? va_arg(ap, unsigned long long)
                : longs == 1 ? va_arg(ap, unsigned long) : va_arg(ap, unsigned);
            put_num(u, *fmt == 'u' ? 10 : 16, *fmt == 'X', false, width, pad);
            break;
        case 'p':
            uart_putc('0');
            uart_putc('x');
            put_num((uintptr_t)va_arg(ap, void *), 16, false, false, width, pad);
            break;
        case 'c':
            uart_putc((char)va_arg(ap, int));
            break;
        case 's': {
            const char *str = va_arg(ap, const char *);
            unsigned len = 0;
            for (const char *q = str; *q; q++)
                len++;
            for (; len < width; len++)
                uart_putc(' ');
            while (*str)
                uart_putc(*str++);
            break;
        }
        case '%':
            uart_putc('%');
            break;
        case '\0':
            return;
        default:
            /* An unknown conversion is printed as is, so the mistake shows. */
            uart_putc('%');
            uart_putc(*fmt);
            break;
        }
    }
}

void rt_printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    rt_vprintf(fmt, ap);
    va_end(ap);
}
