/* fuzz_hv_exits: hv's VM-exit handlers (hv/vmx/vmx.c, hv/svm/svm.c and the
 * core's handlers in hv/core/) as ordinary host code, through the hosted
 * build (conformance/hv/hosted): hv boots on a modelled CPU (VMX: skylake-x,
 * nehalem; SVM: epyc-qemu, ryzen, zen2) in SLAT or shadow mode, and the
 * input hands it a sequence of exits, with guest registers, guest memory
 * and guest code bytes between them. Properties (docs/fuzzing.md):
 *  - determinism: the whole scenario runs twice and logs the same results,
 *    registers, VMCS/VMCB and guest memory;
 *  - a handler that resumes the guest leaves a VMCS/VMCB that passes every
 *    VM-entry check (SDM Vol. 3C, "Checks on VMX Controls and Host-State
 *    Area", "Checking and Loading Guest State") or VMRUN check (APM Vol. 2,
 *    "Canonicalization and Consistency Checks");
 *  - after an instruction exit hv either advanced RIP by exactly the
 *    instruction's length and injected nothing, or injected an exception
 *    with RIP unchanged (a fault); after a fault-like exit RIP is unchanged;
 *  - an event re-injected from the IDT-vectoring information of a software
 *    interrupt or exception carries the exit's instruction length (SDM Vol.
 *    3C, "Information for VM Exits During Event Delivery");
 *  - shadow paging: a #PF exit is injected back exactly when the guest's
 *    own tables deny the access, with the processor's error code and CR2
 *    (SDM Vol. 3A, "Access Rights", "Page-Fault Error Code"), and otherwise
 *    fills a shadow leaf with the guest's page and rights, writable only
 *    once the guest's entry is dirty, setting the guest's A/D flags
 *    ("Accessed and Dirty Flags"); after INVLPG
 *    the shadow no longer maps its linear address (SDM Vol. 2A, "INVLPG—
 *    Invalidate TLB Entries");
 *  - a stop says why ("hv: STOP: <reason>" ... "FAIL") with exit status 3;
 *  - hv writes no host memory it never allocated (host-physical page 0).
 * An exit whose fields the input marks raw may be one no processor could
 * produce: then only determinism, the clean stop and the memory property
 * hold. Input format: the comment above LLVMFuzzerTestOneInput. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <Zydis/Zydis.h>

#include "conformance/hv/hosted/hv_hosted.h"
#include "fuzz/fuzz_input.h"
#include "models/svm/features.h"
#include "models/svm/vmcb.h"
#include "models/vmx/vmcs.h"

#define MAX_EXITS 48
#define RAM HV_GUEST_RAM_SIZE

static const char *const cpus[] = {"skylake-x", "nehalem", "epyc-qemu", "ryzen", "zen2"};
#define CPU_COUNT (sizeof(cpus) / sizeof(cpus[0]))

/* ---- the exit catalogues ---- */
/* VMX basic exit reasons and whether each is an instruction's (SDM Vol. 3C,
 * "Instructions That Cause VM Exits Unconditionally" / "Conditionally"),
 * from the VMX model's catalogue. */
static const struct {
  uint16_t reason;
  const char *section;
} vmx_reasons[] = {
#define VMX_EXIT(n, name, modelled, section) {n, section},
#include "models/vmx/exit_reasons.def"
#undef VMX_EXIT
};
#define VMX_REASONS (sizeof(vmx_reasons) / sizeof(vmx_reasons[0]))
/* The reasons during whose delivery an exit can occur (hv's table column:
 * hv/vmx/vmx_exits.def). */
static bool vmx_delivery(uint64_t r)
{
  return r == 0 || r == 9 || r == 44 || r == 48 || r == 49 || r == 62;
}
static bool vmx_insn(uint64_t r)
{
  for (unsigned i = 0; i < VMX_REASONS; i++)
    if (vmx_reasons[i].reason == r) return !strncmp(vmx_reasons[i].section, "Instructions That Cause", 23);
  return false;
}

/* SVM exit codes from the SVM model's catalogue (AMD APM Vol. 2, "SVM
 * Intercept Exit Codes"). */
static const uint64_t svm_codes[] = {
#define SVM_EXIT(name, value, avail) (uint64_t)(int64_t)(value),
#include "models/svm/exit_codes.def"
#undef SVM_EXIT
};
#define SVM_CODES (sizeof(svm_codes) / sizeof(svm_codes[0]))
/* Instruction intercepts: CR and DR accesses, descriptor-table accesses,
 * RDTSC ... XSETBV except the events among them (task switch, FERR
 * freeze, shutdown) and the interrupts 60H-64H (APM Vol. 2, "Instruction
 * Intercepts"). The exception intercepts 40H-5FH are faults. */
static bool svm_insn(uint64_t c)
{
  if (c <= 0x3f) return true;
  if (c >= 0x65 && c <= 0x8f) return c != 0x7d && c != 0x7e && c != 0x7f;
  return false;
}

/* ---- guest memory as the processor sees it ---- */
static uint8_t *gpa_ptr(struct hv_vcpu *v, uint64_t gpa, uint64_t len)
{
  if (gpa >= RAM || len > RAM - gpa) return NULL;
  return (uint8_t *)hvh_phys(v->ram_hpa) + gpa;
}

static bool is_vmx;

static struct svm_vmcb *vmcb(void) { return hvh_vmcb(); }

static uint64_t guest_cr3(struct hv_vcpu *v)
{
  /* Before the first VMRUN the hosted machine has no VMCB: hv's set-up
   * gave the guest v->cr3. */
  if (v->mode == HV_MEM_SHADOW || (!is_vmx && !vmcb())) return v->cr3;
  return is_vmx ? hvh_vmcs(VMCS_GUEST_CR3) : vmcb()->save.cr3;
}

/* The guest's 4-level translation of one byte (SDM Vol. 3A, "4-Level Paging
 * and 5-Level Paging"): present bits and page sizes only. */
static uint8_t *gva_byte(struct hv_vcpu *v, uint64_t gva)
{
  uint64_t table = guest_cr3(v) & 0x000ffffffffff000ull;
  for (int level = 4; level >= 1; level--) {
    uint8_t *p = gpa_ptr(v, table + ((gva >> (12 + 9 * (level - 1))) & 511) * 8, 8);
    if (!p) return NULL;
    uint64_t e;
    memcpy(&e, p, 8);
    if (!(e & 1)) return NULL;
    if (level == 1 || (level <= 3 && (e & 0x80))) {
      uint64_t size = 1ull << (12 + 9 * (level - 1));
      uint64_t pa = (e & 0x000ffffffffff000ull & ~(size - 1)) | (gva & (size - 1));
      return gpa_ptr(v, pa, 1);
    }
    table = e & 0x000ffffffffff000ull;
  }
  return NULL;
}

static unsigned read_code(struct hv_vcpu *v, uint64_t rip, uint8_t *buf)
{
  unsigned n = 0;
  for (; n < 15; n++) {
    uint8_t *b = gva_byte(v, rip + n);
    if (!b) break;
    buf[n] = *b;
  }
  return n;
}

static void write_code(struct hv_vcpu *v, uint64_t rip, const uint8_t *bytes, unsigned n)
{
  for (unsigned i = 0; i < n; i++) {
    uint8_t *b = gva_byte(v, rip + i);
    if (b) *b = bytes[i];
  }
}

/* ---- the guest's state between exits ---- */
struct guest {
  uint64_t rip, rsp, rflags, gpr[16];
};

static uint64_t cur_rip(void) { return is_vmx ? hvh_vmcs(VMCS_GUEST_RIP) : vmcb()->save.rip; }

/* The event pending for the next entry: VM-entry interruption information
 * (VMX) or EVENTINJ (SVM), 0 when none. */
static uint64_t pending_event(void)
{
  uint64_t e = is_vmx ? hvh_vmcs(VMCS_VM_ENTRY_INTR_INFO) : vmcb()->control.eventinj;
  return e >> 31 & 1 ? e : 0;
}

/* RFLAGS as the processor saves it in 64-bit mode: bit 1 set, reserved
 * bits and VM clear (SDM Vol. 3A, "EFLAGS Register"). */
static uint64_t legal_rflags(uint64_t r) { return (r & 0x3d7fd5ull) | 2; }
static uint64_t canonical(uint64_t a) { return (uint64_t)((int64_t)(a << 16) >> 16); }

/* Exceptions that push an error code (SDM Vol. 3A, "Exception and Interrupt
 * Reference"). */
static bool has_error(unsigned vec)
{
  return vec == 8 || (vec >= 10 && vec <= 14) || vec == 17 || vec == 21;
}

/* An event being delivered when the exit happened, as hardware reports it
 * in the IDT-vectoring information / EXITINTINFO layout (vector 7:0, type
 * 10:8, error code valid 11, valid 31): a real event type with a vector
 * that type allows. */
static uint32_t legal_event(uint32_t raw, bool vmx, uint64_t *rflags)
{
  if (!(raw >> 31)) return 0;
  /* Types (VMX: "Format of the IDT-Vectoring Information Field"; SVM:
   * "Event Injection"): 0 external interrupt, 2 NMI, 3 hardware exception,
   * 4 software interrupt; VMX also 5 privileged software exception and
   * 6 software exception. Others become the nearest real one. */
  unsigned vec = raw & 0xff, type = raw >> 8 & 7;
  if (type == 1) type = 0;
  if (type == 7 || (!vmx && type > 4)) type = vmx ? 6 : 4;
  switch (type) {
  case 0: vec |= 0x20; *rflags |= 1u << 9; break;   /* an interrupt needs IF = 1 */
  case 2: vec = 2; break;
  case 3: vec &= 31; if (vec == 2) vec = 14; break;
  case 4: break;
  case 5: vec = 1; break;                            /* ICEBP: #DB */
  case 6: vec = 3 + (vec & 1); break;                /* INT3, INTO */
  }
  bool err = type == 3 && has_error(vec);
  return vec | type << 8 | (err ? 1u << 11 : 0) | 1u << 31;
}

/* ---- SVM: the instruction at RIP and what it says about the exit ---- */
struct decoded {
  bool ok;
  unsigned len;
  ZydisDecodedInstruction zi;
  ZydisDecodedOperand op[ZYDIS_MAX_OPERAND_COUNT];
};

static void decode_at(struct hv_vcpu *v, uint64_t rip, struct decoded *d)
{
  static ZydisDecoder dec;
  static bool init;
  if (!init) {
    ZydisDecoderInit(&dec, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
    init = true;
  }
  uint8_t buf[15];
  unsigned n = read_code(v, rip, buf);
  d->ok = n && ZYAN_SUCCESS(ZydisDecoderDecodeFull(&dec, buf, n, &d->zi, d->op));
  d->len = d->ok ? d->zi.length : 0;
}

static int cr_of(ZydisRegister r)
{
  return r >= ZYDIS_REGISTER_CR0 && r <= ZYDIS_REGISTER_CR15 ? (int)(r - ZYDIS_REGISTER_CR0) : -1;
}

/* Could the instruction cause #VMEXIT `code`? (APM Vol. 2, "Instruction
 * Intercepts", "Control-Register Intercepts"; a CR0 write intercept also
 * catches CLTS and LMSW.) */
static bool svm_matches(uint64_t code, const struct decoded *d)
{
  if (!d->ok) return false;
  ZydisMnemonic m = d->zi.mnemonic;
  if (code <= 0x0f) return m == ZYDIS_MNEMONIC_MOV && cr_of(d->op[1].reg.value) == (int)code;
  if (code >= 0x10 && code <= 0x1f) {
    if (code == 0x10 && (m == ZYDIS_MNEMONIC_CLTS || m == ZYDIS_MNEMONIC_LMSW)) return true;
    return m == ZYDIS_MNEMONIC_MOV && cr_of(d->op[0].reg.value) == (int)(code - 0x10);
  }
  switch (code) {
  case 0x72: return m == ZYDIS_MNEMONIC_CPUID;
  case 0x78: return m == ZYDIS_MNEMONIC_HLT;
  case 0x79: return m == ZYDIS_MNEMONIC_INVLPG;
  case 0x7a: return m == ZYDIS_MNEMONIC_INVLPGA;
  case 0x7b: return m == ZYDIS_MNEMONIC_IN || m == ZYDIS_MNEMONIC_OUT || m == ZYDIS_MNEMONIC_INSB ||
                    m == ZYDIS_MNEMONIC_INSW || m == ZYDIS_MNEMONIC_INSD || m == ZYDIS_MNEMONIC_OUTSB ||
                    m == ZYDIS_MNEMONIC_OUTSW || m == ZYDIS_MNEMONIC_OUTSD;
  case 0x7c: return m == ZYDIS_MNEMONIC_RDMSR || m == ZYDIS_MNEMONIC_WRMSR;
  case 0x80: return m == ZYDIS_MNEMONIC_VMRUN;
  case 0x81: return m == ZYDIS_MNEMONIC_VMMCALL;
  case 0x82: return m == ZYDIS_MNEMONIC_VMLOAD;
  case 0x83: return m == ZYDIS_MNEMONIC_VMSAVE;
  case 0x84: return m == ZYDIS_MNEMONIC_STGI;
  case 0x85: return m == ZYDIS_MNEMONIC_CLGI;
  case 0x86: return m == ZYDIS_MNEMONIC_SKINIT;
  }
  return false;
}

/* The linear address INVLPG m names (SDM Vol. 2A, "INVLPG—Invalidate TLB
 * Entries"), from the guest's registers (Zydis applies the address size);
 * false when it is not an INVLPG or names FS/GS, whose bases the exit does
 * not carry. */
static bool invlpg_address(const struct decoded *d, const struct guest *g, uint64_t rip, uint64_t *addr)
{
  if (!d->ok || d->zi.mnemonic != ZYDIS_MNEMONIC_INVLPG) return false;
  const ZydisDecodedOperand *m = &d->op[0];
  if (m->type != ZYDIS_OPERAND_TYPE_MEMORY || m->mem.segment == ZYDIS_REGISTER_FS ||
      m->mem.segment == ZYDIS_REGISTER_GS)
    return false;
  static ZydisRegisterContext ctx;
  for (int i = 0; i < 16; i++) {
    ctx.values[ZYDIS_REGISTER_RAX + i] = g->gpr[i];
    ctx.values[ZYDIS_REGISTER_EAX + i] = (uint32_t)g->gpr[i];
  }
  ctx.values[ZYDIS_REGISTER_RIP] = rip;
  ctx.values[ZYDIS_REGISTER_EIP] = (uint32_t)rip;
  return ZYAN_SUCCESS(ZydisCalcAbsoluteAddressEx(&d->zi, m, rip, &ctx, addr));
}

/* EXITINFO1 of an IOIO intercept for the decoded IN/OUT/INS/OUTS (APM
 * Vol. 2, "IOIO Intercepts"): type (1 = IN), string, REP, operand size
 * (bits 4-6), address size (bits 7-9), port (31:16). */
static uint64_t svm_ioio_info(const struct decoded *d, const struct guest *g)
{
  ZydisMnemonic m = d->zi.mnemonic;
  bool in = m == ZYDIS_MNEMONIC_IN || m == ZYDIS_MNEMONIC_INSB || m == ZYDIS_MNEMONIC_INSW ||
            m == ZYDIS_MNEMONIC_INSD;
  bool str = m != ZYDIS_MNEMONIC_IN && m != ZYDIS_MNEMONIC_OUT;
  unsigned size = d->zi.operand_width;
  uint16_t port = (uint16_t)g->gpr[2];
  if (!str) {
    const ZydisDecodedOperand *data = &d->op[in ? 0 : 1], *p = &d->op[in ? 1 : 0];
    size = data->size;
    if (p->type == ZYDIS_OPERAND_TYPE_IMMEDIATE) port = (uint16_t)p->imm.value.u;
  }
  uint64_t info = (in ? 1u : 0) | (str ? 1u << 2 : 0) |
                  (d->zi.attributes & ZYDIS_ATTRIB_HAS_REP ? 1u << 3 : 0);
  info |= size == 8 ? 1u << 4 : size == 16 ? 1u << 5 : 1u << 6;
  info |= d->zi.address_width == 16 ? 1u << 7 : d->zi.address_width == 32 ? 1u << 8 : 1u << 9;
  return info | (uint64_t)port << 16;
}

/* Canonical encodings hv's guest would use for an exit, placed at RIP when
 * the input asks: v selects the GPR / port form. */
static unsigned canonical_insn(bool vmx, uint64_t reason, uint8_t var, uint8_t out[15])
{
  unsigned gpr = var & 15;
  uint8_t rex = 0x40 | (gpr >> 3);
  if (vmx) {
    switch (reason) {
    case 10: memcpy(out, "\x0f\xa2", 2); return 2;
    case 12: out[0] = 0xf4; return 1;
    case 18: memcpy(out, "\x0f\x01\xc1", 3); return 3;
    case 31: memcpy(out, "\x0f\x32", 2); return 2;
    case 32: memcpy(out, "\x0f\x30", 2); return 2;
    case 30: out[0] = var & 1 ? 0xec : 0xee; return 1;
    }
    return 0;
  }
  uint64_t c = reason;
  if (c == 0 || c == 3 || c == 4 || c == 0x10 || c == 0x13 || c == 0x14) {
    out[0] = rex;
    out[1] = 0x0f;
    out[2] = c >= 0x10 ? 0x22 : 0x20;
    out[3] = (uint8_t)(0xc0 | (c & 7) << 3 | (gpr & 7));
    return 4;
  }
  static const struct {
    uint8_t code, len;
    const char *bytes;
  } fixed[] = {
      {0x72, 2, "\x0f\xa2"},     {0x78, 1, "\xf4"},         {0x79, 3, "\x0f\x01\x38"},
      {0x7a, 3, "\x0f\x01\xdf"}, {0x80, 3, "\x0f\x01\xd8"}, {0x81, 3, "\x0f\x01\xd9"},
      {0x82, 3, "\x0f\x01\xda"}, {0x83, 3, "\x0f\x01\xdb"}, {0x84, 3, "\x0f\x01\xdc"},
      {0x85, 3, "\x0f\x01\xdd"}, {0x86, 3, "\x0f\x01\xde"},
  };
  for (unsigned i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
    if (fixed[i].code == c) {
      memcpy(out, fixed[i].bytes, fixed[i].len);
      return fixed[i].len;
    }
  if (c == 0x7c) {
    memcpy(out, var & 1 ? "\x0f\x30" : "\x0f\x32", 2);
    return 2;
  }
  if (c == 0x7b) {   /* IN AL, DX / OUT DX, AL / IN AL, imm8 / OUT imm8, AL */
    static const uint8_t op[] = {0xec, 0xee, 0xe4, 0xe6};
    out[0] = op[var & 3];
    out[1] = (uint8_t)(0xf8 + (var >> 4));
    return var & 2 ? 2 : 1;
  }
  return 0;
}

/* ---- one run of the scenario ---- */
struct run {
  struct fuzz_log log;
  uint8_t ram[RAM];   /* guest RAM at the end (a copy and a memcmp are the
                         cheapest comparison of 4 MiB) */
  char why[512];   /* the last stop message, for a failed comparison */
};

static void log_state(struct run *r, struct hv_vcpu *v)
{
  struct fuzz_log *l = &r->log;
  flog(l, v->rip);
  for (int i = 0; i < 16; i++) flog(l, v->g.r[i]);
  flog(l, v->cr0), flog(l, v->cr3), flog(l, v->cr4), flog(l, v->efer), flog(l, v->pat);
  flog(l, v->pending_cr2), flog(l, v->exits), flog(l, v->hypercalls), flog(l, v->shadow_fills);
  flog(l, v->shadow_flushes), flog(l, v->pf_injected), flog(l, v->gp_injected);
  flog(l, v->done), flog(l, v->exit_status), flog(l, hvh_state_digest());
  const char *con = hvh_console();
  flog(l, fuzz_hash(con, strlen(con)));
}


/* The guest's own translation of an access (SDM Vol. 3A, "4-Level Paging
 * and 5-Level Paging", "Access Rights", "Accessed and Dirty Flags"). */
struct gwalk {
  uint64_t gpa;
  bool rw, us, nx, dirty, accessed;   /* rights of the whole walk; leaf D; A everywhere */
};

/* The guest's verdict on an access: 0 allowed (*w filled), 1 a #PF with
 * error code *pf ("Page-Fault Error Code"), -1 a table outside guest RAM.
 * Reserved bits are not checked, as hv does not check them (docs/hv.md). */
static int guest_access(struct hv_vcpu *v, uint64_t gva, uint32_t access, uint32_t *pf, struct gwalk *w)
{
  bool write = access & 2, user = access & 4, nxe = v->efer >> 11 & 1, fetch = access & 16;
  uint32_t err = (write ? 2u : 0) | (user ? 4u : 0) | (fetch && nxe ? 16u : 0);
  uint64_t table = v->cr3 & 0x000ffffffffff000ull, e = 0, size = 4096;
  *w = (struct gwalk){0, true, true, false, false, true};
  for (int level = 4; level >= 1; level--) {
    uint8_t *p = gpa_ptr(v, table + ((gva >> (12 + 9 * (level - 1))) & 511) * 8, 8);
    if (!p) return -1;
    memcpy(&e, p, 8);
    if (!(e & 1)) {
      *pf = err;
      return 1;
    }
    w->rw = w->rw && (e & 2);
    w->us = w->us && (e & 4);
    w->nx = w->nx || (nxe && e >> 63);
    w->accessed = w->accessed && (e & 0x20);
    if (level <= 3 && (e & 0x80)) {
      size = 1ull << (12 + 9 * (level - 1));
      break;
    }
    table = e & 0x000ffffffffff000ull;
  }
  bool wp = v->cr0 >> 16 & 1;
  if ((user && !w->us) || (write && !w->rw && (user || wp)) || (fetch && w->nx)) {
    *pf = err | 1;
    return 1;
  }
  w->dirty = e & 0x40;
  w->gpa = (e & 0x000ffffffffff000ull & ~(size - 1)) | (gva & (size - 1));
  return 0;
}

/* hv's shadow leaf for gva (4 KiB leaves, hv/core/shadow.c), 0 when none. */
static uint64_t shadow_leaf(struct hv_vcpu *v, uint64_t gva)
{
  uint64_t table = v->shadow_root, e = 0;
  for (int level = 4; level >= 1; level--) {
    const uint64_t *t = hvh_phys(table);
    if (!t) return 0;
    e = t[(gva >> (12 + 9 * (level - 1))) & 511];
    if (!(e & 1)) return 0;
    table = e & 0x000ffffffffff000ull;
  }
  return e;
}
static bool shadow_maps(struct hv_vcpu *v, uint64_t gva) { return shadow_leaf(v, gva) != 0; }

static void check_page0_untouched(void)
{
  static uint8_t fill[4096];
  if (!fill[0]) memset(fill, HVH_PAGE0_FILL, sizeof(fill));
  FUZZ_CHECK(!memcmp(hvh_phys(0), fill, sizeof(fill)),
             "hv wrote host-physical page 0, which it never allocated\n%s", hvh_console());
}

/* The property of a stop: the reason, the dump, FAIL, exit status 3. */
static void check_stop(int rc)
{
  const char *con = hvh_console();
  const char *stop = strstr(con, "hv: STOP: ");
  FUZZ_CHECK(rc == 1 + 3, "hv stopped with status %d, not 3\n%s", rc - 1, con);
  FUZZ_CHECK(stop && stop[10] && stop[10] != '\n', "a stop without a reason\n%s", con);
  size_t n = strlen(con);
  FUZZ_CHECK(n >= 5 && !strcmp(con + n - 5, "FAIL\n"), "a stop that does not end with FAIL\n%s", con);
}

static void run_scenario(const uint8_t *data, size_t size, struct run *r)
{
  struct fuzz_in in = {data, size};
  memset(r, 0, sizeof(*r));
  uint8_t cfg = fin_u8(&in);
  /* FUZZ_HV_VENDOR=vmx or svm: a campaign on one vendor's models only. */
  static int vendor = -1;
  if (vendor < 0) {
    const char *env = getenv("FUZZ_HV_VENDOR");
    vendor = env && !strcmp(env, "vmx") ? 1 : env && !strcmp(env, "svm") ? 2 : 0;
  }
  if (vendor == 1) cfg = (cfg & ~7) | (cfg & 7) % 2;
  if (vendor == 2) cfg = (cfg & ~7) | (2 + (cfg & 7) % 3);
  const char *cpu = cpus[(cfg & 7) % CPU_COUNT];
  enum hv_mem_mode mode = cfg & 8 ? HV_MEM_SHADOW : HV_MEM_SLAT;
  static const uint8_t image[] = {0x0f, 0xa2, 0x0f, 0x01, 0xd9, 0xf4};
  struct hv_vcpu *v = hvh_boot_cpu(cpu, mode, image, sizeof(image));
  FUZZ_CHECK(v != NULL, "hv does not boot on %s\n%s", cpu, hvh_console());
  is_vmx = (cfg & 7) % CPU_COUNT < 2;
  check_page0_untouched();

  struct guest g = {HV_GUEST_LOAD, HV_GUEST_LOAD, 2, {0}};
  unsigned exits = 0;
  while (fin_more(&in) && exits < MAX_EXITS) {
    uint8_t tag = fin_u8(&in);
    switch (tag % 8) {
    case 0: {   /* a qword of guest RAM */
      uint64_t gpa = fin_u32(&in) % (RAM - 7), val = fin_u64(&in);
      memcpy(gpa_ptr(v, gpa, 8), &val, 8);
      continue;
    }
    case 1: {   /* code bytes at the guest's RIP */
      uint8_t bytes[15], n = fin_u8(&in) % 16;
      for (unsigned i = 0; i < n; i++) bytes[i] = fin_u8(&in);
      write_code(v, g.rip, bytes, n);
      continue;
    }
    case 2: {   /* a guest register (4: RSP) */
      unsigned reg = fin_u8(&in) & 15;
      uint64_t val = fin_u64(&in);
      g.gpr[reg] = val;
      if (reg == 4) g.rsp = val;
      continue;
    }
    case 3:     /* RIP and RFLAGS */
      g.rip = canonical(fin_u64(&in));
      g.rflags = legal_rflags(fin_u32(&in));
      continue;
    }
    /* An exit. Header: reason selector, flags (bit 0 raw, bit 1 place the
     * canonical instruction, bit 2 NRIP save), a variant byte. */
    exits++;
    uint8_t sel = fin_u8(&in), flags = fin_u8(&in), var = fin_u8(&in);
    bool raw = flags & 1;
    struct hvh_exit e;
    memset(&e, 0, sizeof(e));
    if (is_vmx)
      e.reason = sel < 0xf0 ? vmx_reasons[sel % VMX_REASONS].reason : fin_u32(&in);
    else
      e.reason = sel < 0xf0 ? svm_codes[sel % SVM_CODES] : fin_u64(&in);
    e.qual = fin_u64(&in);
    if (is_vmx) {
      e.insn_len = 1 + fin_u8(&in) % 15;
      e.intr_info = fin_u32(&in);
      e.intr_error = fin_u32(&in);
      e.idt_info = fin_u32(&in);
      e.idt_error = fin_u32(&in);
    } else {
      e.info2 = fin_u64(&in);
      e.exitintinfo = fin_u64(&in);
    }
    uint8_t code[15];
    unsigned code_len = flags & 2 ? canonical_insn(is_vmx, e.reason, var, code) : 0;
    if (code_len) {
      write_code(v, g.rip, code, code_len);
      if (is_vmx) e.insn_len = code_len;
    }
    /* What hardware guarantees, unless the input asks for raw fields. */
    uint64_t basic = is_vmx ? e.reason & 0xffff : e.reason;
    bool insn = is_vmx ? !(e.reason >> 31) && vmx_insn(basic) : svm_insn(basic);
    int64_t len = -1;   /* the instruction's length when known */
    uint64_t invlpg_at = 0;   /* an INVLPG's linear address when known */
    bool invlpg_known = false;
    if (is_vmx) {
      len = e.insn_len;
      if (!raw) {
        e.reason &= 0x8000ffffu;
        e.idt_info = vmx_delivery(basic) ? legal_event(e.idt_info, true, &g.rflags) : 0;
        e.idt_error &= e.idt_info >> 11 & 1 ? 0xffff : 0;
        if (basic == 0) e.qual = canonical(e.qual);   /* a #PF's linear address */
        if (basic == 14) {   /* INVLPG: the qualification is the linear address */
          invlpg_known = true;
          invlpg_at = e.qual;
        }
        if (basic == 0) {   /* an exception exit: a valid exception */
          uint64_t fl = 0;
          e.intr_info = legal_event(e.intr_info | 1u << 31 | 3u << 8, true, &fl);
          if ((e.intr_info >> 8 & 7) == 0) e.intr_info = 14 | 3u << 8 | 1u << 11 | 1u << 31;
          e.intr_error &= e.intr_info >> 11 & 1 ? 0xffff : 0;
        }
      }
    } else if (!raw) {
      const struct svm_features *f = svm_features_by_name(cpu);
      uint32_t ev = legal_event((uint32_t)e.exitintinfo, false, &g.rflags);
      e.exitintinfo = ev | (ev >> 11 & 1 ? e.exitintinfo & 0xffffffff00000000ull : 0);   /* EV: error code */
      if (insn) e.exitintinfo = 0;   /* an instruction is not an event's delivery */
      if (basic == 0x4e) e.info2 = canonical(e.info2);   /* a #PF's linear address */
      struct decoded d;
      decode_at(v, g.rip, &d);
      if (insn && svm_matches(basic, &d)) {
        len = d.len;
        if (basic == 0x7c) e.qual = d.zi.mnemonic == ZYDIS_MNEMONIC_WRMSR;
        if (basic == 0x7b) {
          e.qual = svm_ioio_info(&d, &g);
          e.info2 = g.rip + d.len;
        }
        if (basic == 0x79) {
          invlpg_known = invlpg_address(&d, &g, g.rip + d.len, &invlpg_at);
          if (invlpg_known && svm_has(f, SVM_FEAT_DECODE_ASSISTS)) e.qual = invlpg_at;   /* "Decode Assists" */
        }
        bool mov_cr = basic <= 0x1f && d.zi.mnemonic == ZYDIS_MNEMONIC_MOV;
        if (basic <= 0x1f && svm_has(f, SVM_FEAT_DECODE_ASSISTS))
          e.qual = mov_cr ? 1ull << 63 | (uint64_t)(d.op[basic >= 0x10 ? 1 : 0].reg.value - ZYDIS_REGISTER_RAX) : 0;
        if ((flags & 4) && svm_has(f, SVM_FEAT_NRIP_SAVE)) e.nrip = g.rip + d.len;
      }
    }
    e.rip = g.rip;
    e.rsp = g.rsp;
    e.rflags = g.rflags;
    memcpy(e.gpr, g.gpr, sizeof(e.gpr));
    e.gpr[4] = g.rsp;

    uint64_t fills_before = v->shadow_fills;
    int rc = hvh_run(v, &e);
    flog(&r->log, rc);
    log_state(r, v);
    check_page0_untouched();
    if (rc) {
      check_stop(rc);
      const char *stop = strstr(hvh_console(), "hv: STOP: ");
      snprintf(r->why, sizeof(r->why), "%.*s", (int)strcspn(stop, "\n"), stop);
      break;
    }
    if (!raw) {
      char msg[400];
      FUZZ_CHECK(hvh_entry_ok(msg, sizeof(msg)),
                 "after exit 0x%llx (qualification 0x%llx) on %s, %s mode, the next entry fails: %s",
                 (unsigned long long)e.reason, (unsigned long long)e.qual, cpu,
                 mode == HV_MEM_SHADOW ? "shadow" : "slat", msg);
      uint64_t rip = cur_rip(), ev = pending_event();
      bool redelivered = is_vmx ? e.idt_info >> 31 : e.exitintinfo >> 31 & 1;
      bool injected = ev && !redelivered;
      if (insn && len >= 0) {
        uint64_t want = injected ? e.rip : e.rip + (uint64_t)len;
        FUZZ_CHECK(rip == want,
                   "instruction exit 0x%llx at RIP 0x%llx (length %lld) on %s resumed at 0x%llx, "
                   "not 0x%llx (event 0x%llx)",
                   (unsigned long long)e.reason, (unsigned long long)e.rip, (long long)len, cpu,
                   (unsigned long long)rip, (unsigned long long)want, (unsigned long long)ev);
      }
      bool pf_exit = is_vmx ? basic == 0 && (e.intr_info & 0xff) == 14 : basic == 0x4e;
      uint64_t gva = is_vmx ? e.qual : e.info2;
      uint32_t want_err;
      uint32_t pf_access = (uint32_t)(is_vmx ? e.intr_error : e.qual);
      struct gwalk gw;
      int verdict = pf_exit && mode == HV_MEM_SHADOW ? guest_access(v, gva, pf_access, &want_err, &gw) : -1;
      /* A fill (not a pool overflow, which starts over): the shadow leaf
       * maps the guest's page with the walk's rights, writable only once
       * the guest's entry is dirty, and the guest's flags are set. */
      if (verdict == 0 && v->shadow_fills > fills_before) {
        uint64_t leaf = shadow_leaf(v, gva);
        bool write = pf_access & 2;
        FUZZ_CHECK((leaf & 0x000ffffffffff000ull) == v->ram_hpa + (gw.gpa & ~0xfffull) &&
                       !!(leaf & 4) == gw.us && !!(leaf >> 63) == gw.nx &&
                       !!(leaf & 2) == (gw.rw && gw.dirty) && gw.accessed && (!write || gw.dirty),
                   "shadow fill of 0x%llx (access 0x%x): leaf 0x%llx; the guest maps guest-physical 0x%llx "
                   "rw %d us %d nx %d, dirty %d, accessed %d",
                   (unsigned long long)gva, pf_access, (unsigned long long)leaf, (unsigned long long)gw.gpa,
                   gw.rw, gw.us, gw.nx, gw.dirty, gw.accessed);
      }
      if (verdict == 0)
        FUZZ_CHECK(!injected, "#PF exit at 0x%llx (error code 0x%x) that the guest's tables allow injected 0x%llx",
                   (unsigned long long)gva, (unsigned)(is_vmx ? e.intr_error : e.qual), (unsigned long long)ev);
      if (verdict == 1) {
        uint64_t got_err = is_vmx ? hvh_vmcs(VMCS_VM_ENTRY_EXCEPTION_ERROR_CODE) : ev >> 32;
        uint64_t cr2 = is_vmx ? v->pending_cr2 : vmcb()->save.cr2;
        FUZZ_CHECK((ev & 0xfff) == (14 | 3u << 8 | 1u << 11) && got_err == want_err && cr2 == gva,
                   "#PF exit at 0x%llx that the guest's tables deny (error code 0x%x): injected 0x%llx, "
                   "error code 0x%llx, CR2 0x%llx",
                   (unsigned long long)gva, want_err, (unsigned long long)ev, (unsigned long long)got_err,
                   (unsigned long long)cr2);
      }
      if (invlpg_known && mode == HV_MEM_SHADOW)
        FUZZ_CHECK(!shadow_maps(v, invlpg_at), "after INVLPG of 0x%llx the shadow tables still map it",
                   (unsigned long long)invlpg_at);
      if (!insn)
        FUZZ_CHECK(rip == e.rip, "exit 0x%llx (an event, not an instruction) moved RIP from 0x%llx to 0x%llx",
                   (unsigned long long)e.reason, (unsigned long long)e.rip, (unsigned long long)rip);
      unsigned type = (unsigned)(ev >> 8 & 7);
      if (is_vmx && redelivered && (type == 4 || type == 5 || type == 6))
        FUZZ_CHECK(hvh_vmcs(VMCS_VM_ENTRY_INSTRUCTION_LEN) == e.insn_len,
                   "software event 0x%llx re-injected with VM-entry instruction length %llu, "
                   "the exit's is %u",
                   (unsigned long long)ev, (unsigned long long)hvh_vmcs(VMCS_VM_ENTRY_INSTRUCTION_LEN),
                   e.insn_len);
    }
    if (v->done) break;
    /* The guest continues where hv resumes it, with the registers hv left. */
    g.rip = cur_rip();
    g.rsp = is_vmx ? hvh_vmcs(VMCS_GUEST_RSP) : vmcb()->save.rsp;
    g.rflags = is_vmx ? hvh_vmcs(VMCS_GUEST_RFLAGS) : vmcb()->save.rflags;
    memcpy(g.gpr, v->g.r, sizeof(g.gpr));
    g.gpr[4] = g.rsp;
  }
  memcpy(r->ram, gpa_ptr(v, 0, RAM), RAM);
}

/* Input: a configuration byte (bits 2:0 the CPU model, index into `cpus`
 * modulo its size; bit 3 shadow paging), then records, each a tag byte
 * (modulo 8) and operands:
 *   0  guest RAM qword: 4-byte guest-physical address (modulo RAM), 8-byte value
 *   1  code at the guest's RIP: a count (modulo 16) and that many bytes
 *   2  guest register for the next exit: a byte (low 4 bits: the register,
 *      4 = RSP) and an 8-byte value
 *   3  RIP (8 bytes, made canonical) and RFLAGS (4 bytes, made legal)
 *   4-7 an exit: a reason selector (below F0H: an entry of the model's
 *      catalogue; else a raw 4-byte VMX reason / 8-byte EXITCODE follows),
 *      flags (bit 0 raw fields, bit 1 place the canonical instruction,
 *      bit 2 NRIP save where the model has it), a variant byte, the 8-byte
 *      qualification / EXITINFO1; VMX: instruction length (1 + byte modulo
 *      15), interruption information, its error code, IDT-vectoring
 *      information, its error code (4 bytes each); SVM: EXITINFO2 and
 *      EXITINTINFO (8 bytes each).
 * Between exits the guest keeps the registers, RIP and RFLAGS hv resumed
 * it with. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static struct run a, b;
  run_scenario(data, size, &a);
  run_scenario(data, size, &b);
  FUZZ_CHECK(a.log.n == b.log.n && !memcmp(a.log.v, b.log.v, a.log.n * sizeof(a.log.v[0])),
             "two runs of the same input differ (%u vs %u results; stops: '%s' / '%s')", a.log.n,
             b.log.n, a.why, b.why);
  FUZZ_CHECK(!memcmp(a.ram, b.ram, RAM), "two runs of the same input leave different guest RAM");
  return 0;
}
