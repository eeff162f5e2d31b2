/* acheck: alignment checking. With CR0.AM = 1 and RFLAGS.AC = 1, CPL-3
 * data and stack accesses misaligned for their type fault with #AC(0),
 * saved RIP at the instruction, nothing written: a word load at an odd
 * address, a doubleword store, a quadword load, an 80-bit x87 load at
 * 4 mod 8, MOVSW from an odd source, a PUSH on a stack pointer 4 mod 8.
 * Aligned accesses and byte accesses do not fault; neither does a
 * misaligned load with AC = 0, with CR0.AM = 0, or at CPL 0.
 * SDM Vol. 3A, "Interrupt 17—Alignment Check Exception (#AC)" (table
 * "Alignment Requirements by Data Type"); AMD APM Vol. 2, "#AC—Alignment-
 * Check Exception". QEMU 7.2 TCG checks no alignment (declared:
 * qemu-tcg-no-alignment-check). */
#include "rt/rt.h"

#define CR0_AM (1ul << 18)
#define RFLAGS_AC (1ul << 18)
#define VEC_AC 17

static uint8_t buf[64] __attribute__((aligned(16)));

struct caught { int vector; uint64_t error; unsigned cpl; bool at_site; };
static struct caught word_load, word_ok, dword_store, qword_load, x87_load, movsw, push, byte_load;
static uint32_t dword_after;

static struct caught take(void)
{
    return (struct caught){rt_fault_vector(), rt_fault.error_code, rt_fault.cpl, rt_fault.rip == rt_fault.site};
}

static void set_ac(void) { __asm__ volatile("pushfq\n orq %0, (%%rsp)\n popfq" : : "i"(RFLAGS_AC) : "memory", "cc"); }
static void clear_ac(void) { __asm__ volatile("pushfq\n andq %0, (%%rsp)\n popfq" : : "i"(~RFLAGS_AC) : "memory", "cc"); }

static int misaligned_word_load(void)
{
    uint16_t v;
    rt_fault_clear();
    __asm__ volatile(RT_PROBE("movw (%1), %0") : "=r"(v) : "r"(buf + 1) : "memory");
    return rt_fault_vector();
}

static void user_checks(void)
{
    set_ac();
    uint64_t v = 0;
    rt_fault_clear();
    __asm__ volatile(RT_PROBE("movw (%1), %w0") : "=r"(v) : "r"(buf + 1) : "memory");
    word_load = take();
    rt_fault_clear();
    __asm__ volatile(RT_PROBE("movw (%1), %w0") : "=r"(v) : "r"(buf + 2) : "memory");
    word_ok = take();
    rt_fault_clear();
    __asm__ volatile(RT_PROBE("movl %1, (%0)") : : "r"(buf + 6), "r"(0x11223344u) : "memory");
    dword_store = take();
    dword_after = *(volatile uint32_t *)(buf + 8);
    rt_fault_clear();
    __asm__ volatile(RT_PROBE("movq (%1), %0") : "=r"(v) : "r"(buf + 4) : "memory");
    qword_load = take();
    rt_fault_clear();
    __asm__ volatile(RT_PROBE("fldt (%0)") "\n fninit" : : "r"(buf + 20) : "memory");
    x87_load = take();
    rt_fault_clear();
    __asm__ volatile("cld\n" RT_PROBE("movsw") : : "S"(buf + 33), "D"(buf + 40) : "memory");
    movsw = take();
    rt_fault_clear();
    __asm__ volatile("mov %%rsp, %%r12\n sub $4, %%rsp\n" RT_PROBE("push %%rax") "mov %%r12, %%rsp"
                     : : "a"(0) : "r12", "memory");
    push = take();
    uint8_t b;
    rt_fault_clear();
    __asm__ volatile(RT_PROBE("movb (%1), %0") : "=r"(b) : "r"(buf + 3) : "memory");
    byte_load = take();
    clear_ac();
}

static int user_no_ac;
static void user_without_ac(void) { user_no_ac = misaligned_word_load(); }
static int user_no_am;
static void user_without_am(void) { set_ac(); user_no_am = misaligned_word_load(); clear_ac(); }

/* One line per case: vector, error code, CPL and whether the saved RIP is
 * the instruction's, packed (0: nothing was raised, QEMU's departure). */
static uint64_t packed(const struct caught *c)
{
    if (c->vector < 0) return 0;
    return (uint64_t)c->vector | (uint64_t)c->cpl << 8 | (uint64_t)c->at_site << 12 | c->error << 16;
}

static void expect_ac(const struct caught *c, const char *what)
{
    const struct caught ac = {VEC_AC, 0, 3, true};
    tap_eq_or_departure(packed(&ac), packed(c), 0, "qemu-tcg-no-alignment-check",
                        "%s: #AC(0) at CPL 3, a fault (saved RIP at the instruction)", what);
}

void test_main(void)
{
    memset(buf, 0, sizeof buf);
    write_cr0(read_cr0() | CR0_AM);
    rt_user_call(user_checks);
    expect_ac(&word_load, "word load at an odd address");
    tap_no_fault(word_ok.vector, "word load at an even address");
    expect_ac(&dword_store, "doubleword store at 2 mod 4");
    tap_eq_or_departure(0, dword_after, 0x1122, "qemu-tcg-no-alignment-check", "the faulting store wrote nothing");
    expect_ac(&qword_load, "quadword load at 4 mod 8");
    expect_ac(&x87_load, "80-bit x87 load at 4 mod 8");
    expect_ac(&movsw, "MOVSW from an odd source");
    expect_ac(&push, "PUSH with RSP at 4 mod 8");
    tap_no_fault(byte_load.vector, "byte load at an odd address");

    rt_user_call(user_without_ac);
    tap_no_fault(user_no_ac, "RFLAGS.AC = 0: a misaligned word load at CPL 3");
    set_ac();
    int kernel = misaligned_word_load();
    clear_ac();
    tap_no_fault(kernel, "CPL 0 with RFLAGS.AC = 1: a misaligned word load");
    write_cr0(read_cr0() & ~CR0_AM);
    rt_user_call(user_without_am);
    tap_no_fault(user_no_am, "CR0.AM = 0: a misaligned word load at CPL 3 with AC = 1");
}
