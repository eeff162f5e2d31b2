/* fuzz_decoder_xcheck: Zydis (the simulator's decoder) against Capstone
 * (an independent one) on the instructions the model intercepts: the
 * mnemonics of SYSINSN_TABLE (sim/sysinsn.h; MOV only to/from a control or
 * debug register) and every VMX and SVM instruction. The input's first 15
 * bytes are decoded as one instruction in 16-, 32- and 64-bit mode, with the
 * decoder settings the simulator uses (sim/sysinsn.c). When either decoder
 * sees an intercepted instruction, both must decode it, with the same
 * length and mnemonic; a disagreement aborts with the bytes, since the
 * model would carry out (or miss) the wrong instruction. Known decoder bugs
 * (not ours) are excluded, each with its reason; docs/fuzzing.md lists them. */
#include <Zydis/Zydis.h>
#include <capstone/capstone.h>
#include <string.h>

#include "fuzz/fuzz_input.h"
#include "sim/sysinsn.h"

/* The VMX and SVM instructions (SDM Vol. 3C "VMX Instruction Reference";
 * APM Vol. 3 "System Instruction Reference"). */
#define VIRT_INSNS(X)                                                             \
  X(VMXON) X(VMXOFF) X(VMCLEAR) X(VMPTRLD) X(VMPTRST) X(VMREAD) X(VMWRITE)        \
  X(VMLAUNCH) X(VMRESUME) X(INVEPT) X(INVVPID) X(VMCALL) X(VMFUNC)                \
  X(VMRUN) X(VMLOAD) X(VMSAVE) X(CLGI) X(VMMCALL) X(INVLPGA) X(SKINIT) /* STGI is in SYSINSN_TABLE */

/* The two lists may overlap (SYSINSN_TABLE carries some SVM instructions
 * the machine itself handles): a set, filled once. */
static bool intercepted_mnemonic(ZydisMnemonic m)
{
  static bool set[ZYDIS_MNEMONIC_MAX_VALUE + 1], filled;
  if (!filled) {
#define X(mn, fn) set[ZYDIS_MNEMONIC_##mn] = true;
    SYSINSN_TABLE(X)
#undef X
#define X(mn) set[ZYDIS_MNEMONIC_##mn] = true;
    VIRT_INSNS(X)
#undef X
    filled = true;
  }
  return (unsigned)m <= ZYDIS_MNEMONIC_MAX_VALUE && set[m];
}

static bool zydis_intercepted(const ZydisDecodedInstruction *zi, const ZydisDecodedOperand *op)
{
  if (!intercepted_mnemonic(zi->mnemonic)) return false;
  if (zi->mnemonic != ZYDIS_MNEMONIC_MOV) return true;
  for (unsigned i = 0; i < zi->operand_count_visible; i++) {
    if (op[i].type != ZYDIS_OPERAND_TYPE_REGISTER) continue;
    ZydisRegisterClass c = ZydisRegisterGetClass(op[i].reg.value);
    if (c == ZYDIS_REGCLASS_CONTROL || c == ZYDIS_REGCLASS_DEBUG) return true;
  }
  return false;
}

/* Capstone's mnemonic without the prefixes it prints in front. */
static const char *cs_base_mnemonic(const char *m)
{
  static const char *const prefixes[] = { "lock ", "rep ", "repe ", "repne ", "repz ", "repnz ", "bnd ", "notrack ",
                                          "xacquire ", "xrelease " };
  for (bool again = true; again;) {
    again = false;
    for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++) {
      size_t n = strlen(prefixes[i]);
      if (strncmp(m, prefixes[i], n) == 0) {
        m += n;
        again = true;
      }
    }
  }
  return m;
}

static bool cs_intercepted(csh h, const cs_insn *ci)
{
  const char *m = cs_base_mnemonic(ci->mnemonic);
  static const char *const names[] = {
#define X(mn, fn) #mn,
    SYSINSN_TABLE(X)
#undef X
#define X(mn) #mn,
    VIRT_INSNS(X)
#undef X
  };
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    if (strcasecmp(m, names[i]) != 0) continue;
    if (strcmp(m, "mov") != 0) return true;
    const cs_x86 *x = &ci->detail->x86;
    for (unsigned k = 0; k < x->op_count; k++) {
      if (x->operands[k].type != X86_OP_REG) continue;
      const char *r = cs_reg_name(h, x->operands[k].reg);
      if (r && (strncmp(r, "cr", 2) == 0 || strncmp(r, "dr", 2) == 0)) return true;
    }
    return false;
  }
  return false;
}

/* ---- Known Capstone 4.0.2 bugs, excluded (docs/fuzzing.md, "Decoder
 * cross-check: known disagreements"). Each rule names the exact pattern. */

struct bytes_view {
  bool simd_prefix;      /* a 66, F2 or F3 legacy prefix */
  bool rep;              /* an F3 prefix */
  bool opsize;           /* a 66 prefix */
  bool lock;             /* an F0 prefix */
  bool addr_rex_w;       /* 64-bit mode: a 67 prefix and REX.W */
  bool rex_w;            /* 64-bit mode: REX.W right before the opcode */
  const uint8_t *op;     /* the opcode, after legacy prefixes and REX */
  size_t op_len;
};

static struct bytes_view view(const uint8_t *b, size_t n, int bits)
{
  struct bytes_view v = { false, false, false, false, false, false, b, n };
  bool a67 = false, rex_w = false;
  size_t i = 0;
  for (; i < n; i++) {
    uint8_t c = b[i];
    bool rex = bits == 64 && (c & 0xF0) == 0x40;
    bool legacy = c == 0x66 || c == 0xF2 || c == 0xF3 || c == 0xF0 || c == 0x67 || c == 0x2E || c == 0x36 ||
                  c == 0x3E || c == 0x26 || c == 0x64 || c == 0x65;
    if (!rex && !legacy) break;
    v.simd_prefix |= c == 0x66 || c == 0xF2 || c == 0xF3;
    v.rep |= c == 0xF3;
    v.opsize |= c == 0x66;
    v.lock |= c == 0xF0;
    a67 |= c == 0x67;
    rex_w = rex && (c & 8); /* a REX counts only right before the opcode */
  }
  v.addr_rex_w = bits == 64 && a67 && rex_w;
  v.rex_w = bits == 64 && rex_w;
  v.op = b + i;
  v.op_len = n - i;
  return v;
}

/* (1) MOV to/from a control or debug register that does not exist (CR1,
 * CR5-CR7, CR9-CR15, DR8-DR15): the instruction raises #UD (SDM Vol. 2B,
 * "MOV-Move to/from Control Registers", "MOV-Move to/from Debug
 * Registers"); Zydis rejects it, Capstone decodes it. */
static bool reserved_cr_dr(const cs_insn *ci, csh h, bool zok)
{
  if (zok || strcmp(cs_base_mnemonic(ci->mnemonic), "mov") != 0) return false;
  const cs_x86 *x = &ci->detail->x86;
  for (unsigned k = 0; k < x->op_count; k++) {
    if (x->operands[k].type != X86_OP_REG) continue;
    const char *r = cs_reg_name(h, x->operands[k].reg);
    if (!r || (r[0] != 'c' && r[0] != 'd') || r[1] != 'r') continue;
    int num = atoi(r + 2);
    bool exists = r[0] == 'c' ? (num == 0 || num == 2 || num == 3 || num == 4 || num == 8) : num <= 7;
    if (!exists) return true;
  }
  return false;
}

/* (2) Opcodes whose meaning the mandatory prefix (66, F2, F3) selects:
 * 0F C7 (VMPTRLD / VMCLEAR 66 / VMXON F3; RDRAND / SENDUIPI F3; RDSEED /
 * RDPID F3), 0F 78-79 (VMREAD/VMWRITE, NP; EXTRQ 66 / INSERTQ F2 on AMD),
 * 0F 38 80-82 (INVEPT, INVVPID, INVPCID: 66), 0F 01 (VMX, SVM, MONITOR,
 * XSETBV...: NP) and 0F AE (FXRSTOR, LDMXCSR, XRSTOR: NP; CLWB 66;
 * RDFSBASE, PTWRITE F3). Capstone 4.0.2 ignores the prefix in 16-bit mode, when
 * another prefix stands between it and 0F, and where the SDM's opcode
 * column says NP, so it reports the prefix-less instruction (or none);
 * Zydis follows the SDM's opcode tables. */
static bool prefix_selected_opcode(const struct bytes_view *v)
{
  if (v->op_len < 2 || v->op[0] != 0x0F) return false;
  uint8_t o = v->op[1];
  if (o == 0xC7 || o == 0x78 || o == 0x79 || o == 0x01 || o == 0xAE) return true;
  return o == 0x38 && v->op_len >= 3 && v->op[2] >= 0x80 && v->op[2] <= 0x82;
}

static bool mandatory_prefix_opcode(const struct bytes_view *v) { return v->simd_prefix && prefix_selected_opcode(v); }

/* (4) In 64-bit mode Capstone 4.0.2 takes an address-size prefix (67)
 * together with REX.W for an operand-size prefix (66) on the same opcodes:
 * 67 48 0F C7 /6 becomes VMCLEAR, 67 48 0F 38 81 INVVPID, 67 48 0F 78
 * EXTRQ. Neither prefix selects anything there (SDM Vol. 2A, "Instruction
 * Prefixes", "REX Prefixes"): Zydis decodes VMPTRLD, #UD, VMREAD. */
static bool addr_rex_w_as_opsize(const struct bytes_view *v) { return v->addr_rex_w && prefix_selected_opcode(v); }

/* (6) The operand size of INS/OUTS (6C-6F) under 66 or REX.W: REX.W wins
 * over 66 and cannot widen them past 32 bits, and legacy prefixes count in
 * any order (SDM Vol. 2A, "Instruction Prefixes", "REX Prefixes").
 * Capstone 4.0.2 gets it wrong in several orders: F3 67 48 6D and F3 66 48
 * 6D are REP INSD (Capstone: REP INSW), 66 F3 6F is REP OUTSW (Capstone:
 * REP OUTSD). */
static bool string_io_opsize(const struct bytes_view *v)
{
  bool string_io = v->op_len && v->op[0] >= 0x6C && v->op[0] <= 0x6F;
  return string_io && (v->opsize || v->rex_w);
}

/* (3) A LOCK prefix on an instruction that cannot be locked raises #UD
 * (SDM Vol. 2A, "LOCK-Assert LOCK# Signal Prefix"); none of the
 * intercepted instructions can be. Zydis rejects the bytes, Capstone
 * decodes the instruction as if the prefix were not there. */
static bool lock_on_unlockable(const struct bytes_view *v, bool zok) { return v->lock && !zok; }

/* (5) PAUSE (F3 90, SDM Vol. 2B, "PAUSE-Spin Loop Hint": the same in
 * every mode, and legacy prefixes come in any order): Capstone 4.0.2
 * reports NOP in 16-bit mode and when another prefix stands between F3
 * and 90. */
static bool pause_as_nop(const struct bytes_view *v, int bits)
{
  if (!v->rep || !v->op_len || v->op[0] != 0x90) return false;
  return bits == 16 || v->op[-1] != 0xF3;
}

/* (7) Instructions newer than Capstone 4.0.2, which rejects their bytes:
 * RDPRU (0F 01 FD, AMD APM Vol. 3, "RDPRU"). */
static bool newer_than_capstone(const ZydisDecodedInstruction *zi, bool zok, bool cok)
{
  return zok && !cok && zi->mnemonic == ZYDIS_MNEMONIC_RDPRU;
}

/* FUZZ_XCHECK_SURVEY=1 reports each disagreement and goes on, to survey
 * a corpus (docs/fuzzing.md); otherwise the first one aborts. */
static void fail(const char *why, const uint8_t *b, size_t n, int bits, const char *zm, unsigned zlen, const char *cm,
                 unsigned clen)
{
  fprintf(stderr, "decoders disagree (%s) in %d-bit mode on", why, bits);
  for (size_t i = 0; i < n; i++) fprintf(stderr, " %02x", b[i]);
  fprintf(stderr, "\n  Zydis:    %s (%u bytes)\n  Capstone: %s (%u bytes)\n", zm, zlen, cm, clen);
  static int survey = -1;
  if (survey < 0) survey = getenv("FUZZ_XCHECK_SURVEY") != NULL;
  if (!survey) abort();
}

static void check_mode(const uint8_t *b, size_t n, int bits)
{
  static const struct { ZydisMachineMode zm; ZydisStackWidth sw; cs_mode cm; } modes[] = {
    { ZYDIS_MACHINE_MODE_LEGACY_16, ZYDIS_STACK_WIDTH_16, CS_MODE_16 },
    { ZYDIS_MACHINE_MODE_LEGACY_32, ZYDIS_STACK_WIDTH_32, CS_MODE_32 },
    { ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64, CS_MODE_64 },
  };
  int mi = bits == 16 ? 0 : bits == 32 ? 1 : 2;
  ZydisDecoder dec;
  ZydisDecoderInit(&dec, modes[mi].zm, modes[mi].sw);
  ZydisDecodedInstruction zi;
  ZydisDecodedOperand op[ZYDIS_MAX_OPERAND_COUNT];
  bool zok = ZYAN_SUCCESS(ZydisDecoderDecodeFull(&dec, b, n, &zi, op));
  bool zint = zok && zydis_intercepted(&zi, op);

  static csh handles[3];
  static bool opened[3];
  if (!opened[mi]) {
    FUZZ_CHECK(cs_open(CS_ARCH_X86, modes[mi].cm, &handles[mi]) == CS_ERR_OK, "cs_open");
    cs_option(handles[mi], CS_OPT_DETAIL, CS_OPT_ON);
    opened[mi] = true;
  }
  cs_insn *ci = NULL;
  bool cok = cs_disasm(handles[mi], b, n, 0, 1, &ci) == 1;
  bool cint = cok && cs_intercepted(handles[mi], ci);

  struct bytes_view v = view(b, n, bits);
  bool known = (cok && reserved_cr_dr(ci, handles[mi], zok)) || mandatory_prefix_opcode(&v) ||
               lock_on_unlockable(&v, zok) || addr_rex_w_as_opsize(&v) || pause_as_nop(&v, bits) || string_io_opsize(&v) ||
               newer_than_capstone(&zi, zok, cok);
  if ((zint || cint) && !known) {
    const char *zm = zok ? ZydisMnemonicGetString(zi.mnemonic) : "(invalid)";
    const char *cm = cok ? ci->mnemonic : "(invalid)";
    unsigned zlen = zok ? zi.length : 0, clen = cok ? ci->size : 0;
    if (!zok || !cok) fail("one decoder rejects the bytes", b, n, bits, zm, zlen, cm, clen);
    else if (zlen != clen) fail("length", b, n, bits, zm, zlen, cm, clen);
    else if (strcasecmp(zm, cs_base_mnemonic(cm)) != 0) fail("mnemonic", b, n, bits, zm, zlen, cm, clen);
    else if (zint != cint) fail("operands", b, n, bits, zm, zlen, cm, clen);
  }
  if (ci) cs_free(ci, 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  size_t n = size < 15 ? size : 15; /* the longest x86 instruction */
  if (n == 0) return 0;
  check_mode(data, n, 16);
  check_mode(data, n, 32);
  check_mode(data, n, 64);
  return 0;
}
