/* The breakpoint rules of the debug registers, as pure functions (SDM
 * Vol. 3A, "Debug Registers": "Debug Control Register (DR7)",
 * "Breakpoint Field Recognition"; "Debug Exceptions": "Instruction-
 * Breakpoint Exception Condition", "Data Memory and I/O Breakpoint
 * Exception Conditions"; AMD APM Vol. 2, "Debug Registers"). */
#include "sim/debug_bp.h"

enum dbg_rw dbg_bp_rw(uint64_t dr7, unsigned n) { return (enum dbg_rw)((dr7 >> (16 + 4 * n)) & 3); }

/* "Breakpoint Field Recognition": LENn 00 = 1 byte, 01 = 2, 10 = 8 (in
 * IA-32e mode and on processors that define it; both vendors' 64-bit
 * processors do), 11 = 4. */
unsigned dbg_bp_len(uint64_t dr7, unsigned n)
{
  static const unsigned len[4] = {1, 2, 8, 4};
  return len[(dr7 >> (18 + 4 * n)) & 3];
}

bool dbg_bp_enabled(uint64_t dr7, unsigned n) { return (dr7 >> (2 * n) & 3) != 0; }

/* "Debug Control Register (DR7)", R/W0-R/W3: 10 "break on I/O reads or
 * writes" when CR4.DE = 1; "when DE is set to 0, the processor
 * interprets bits of the R/Wn fields as ... undefined". hvsim: no
 * breakpoint. */
bool dbg_bp_is_io(const struct dbg_regs *r, unsigned n) { return r->de && dbg_bp_rw(r->dr7, n) == DBG_RW_IO; }

static bool kind_matches(const struct dbg_regs *r, unsigned n, enum dbg_access a)
{
  enum dbg_rw rw = dbg_bp_rw(r->dr7, n);
  switch (a) {
  case DBG_ACCESS_EXEC: return rw == DBG_RW_EXEC;
  case DBG_ACCESS_READ: return rw == DBG_RW_READ_WRITE;
  case DBG_ACCESS_WRITE: return rw == DBG_RW_WRITE || rw == DBG_RW_READ_WRITE;
  case DBG_ACCESS_IO: return dbg_bp_is_io(r, n);
  }
  return false;
}

unsigned dbg_bp_match(const struct dbg_regs *r, enum dbg_access a, uint64_t addr, unsigned size)
{
  unsigned hits = 0;
  for (unsigned n = 0; n < 4; n++) {
    if (!kind_matches(r, n, a)) continue;
    if (a == DBG_ACCESS_EXEC) {
      if (r->dr[n] == addr) hits |= 1u << n;
      continue;
    }
    /* "Breakpoint Field Recognition": the range is LENn bytes from DRn
     * with its low bits masked (an unaligned DRn does not widen it); an
     * access matches when any of its bytes falls in the range. Ports are
     * 16-bit addresses. */
    uint64_t len = dbg_bp_len(r->dr7, n);
    uint64_t lo = r->dr[n] & ~(len - 1);
    if (a == DBG_ACCESS_IO) lo &= 0xffff;
    if (size && addr <= lo + len - 1 && lo <= addr + size - 1) hits |= 1u << n;
  }
  return hits;
}

unsigned dbg_bp_armed(const struct dbg_regs *r, enum dbg_access a)
{
  unsigned mask = 0;
  for (unsigned n = 0; n < 4; n++)
    if (dbg_bp_enabled(r->dr7, n) && kind_matches(r, n, a)) mask |= 1u << n;
  return mask;
}
