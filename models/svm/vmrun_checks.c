/* The VMRUN consistency checks of vmrun_checks.def. Each fail_<ID> returns
 * true when the VMCB breaks that rule and then writes a message that names
 * the fields (by their vmcb_fields.def names) and their values. */
#include "models/svm/vmrun_checks.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "models/svm/svm_catalog.h"
#include "sim/cpu_state.h"

typedef bool check_fn(const struct svm_vmcb *v, const struct svm_features *f, char *msg, size_t n);

static bool fail_msg(char *msg, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static bool fail_msg(char *msg, size_t n, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, n, fmt, ap);
  va_end(ap);
  return true;
}

#define X "0x%llx"
#define U(v) ((unsigned long long)(v))

/* Long mode as VMRUN will establish it: EFER.LMA follows EFER.LME && CR0.PG
 * (Bochs recomputes it the same way; the VMCB's LMA bit is not trusted). */
static bool guest_long_mode(const struct svm_vmcb *v)
{
  return (v->save.efer & EFER_LME) && (v->save.cr0 & CR0_PG);
}

static bool guest_64bit_mode(const struct svm_vmcb *v)
{
  return guest_long_mode(v) && (v->save.cs.attrib & SVM_ATTR_L);
}

static bool fail_EFER_SVME_CLEAR(const struct svm_vmcb *v, const struct svm_features *f, char *m, size_t n)
{
  if (v->save.efer & EFER_SVME) return false;
  return fail_msg(m, n, "efer = " X ": EFER.SVME (bit 12) is 0", U(v->save.efer));
}

static bool fail_CR0_CD_CLEAR_NW_SET(const struct svm_vmcb *v, const struct svm_features *f, char *m, size_t n)
{
  if (!(v->save.cr0 & CR0_NW) || (v->save.cr0 & CR0_CD)) return false;
  return fail_msg(m, n, "cr0 = " X ": CR0.NW (bit 29) is 1 while CR0.CD (bit 30) is 0", U(v->save.cr0));
}

static bool fail_CR0_UPPER_NONZERO(const struct svm_vmcb *v, const struct svm_features *f, char *m, size_t n)
{
  if (!(v->save.cr0 >> 32)) return false;
  return fail_msg(m, n, "cr0 = " X ": bits 63:32 = " X " are not zero", U(v->save.cr0), U(v->save.cr0 >> 32));
}

/* In long mode CR3 holds a physical address whose bits at and above
 * MAXPHYADDR are MBZ; legacy-mode CR3 has no MBZ bits VMRUN can see (KVM
 * and QEMU check only the long-mode case too). */
static bool fail_CR3_MBZ(const struct svm_vmcb *v, const struct svm_features *f, char *m, size_t n)
{
  if (!guest_long_mode(v)) return false;
  uint64_t bad = v->save.cr3 & svm_pa_mbz_mask(f);
  if (!bad) return false;
  return fail_msg(m, n, "cr3 = " X ": bits " X " at or above MAXPHYADDR (%u) are set in long mode (efer = " X ", cr0 = " X ")",
                  U(v->save.cr3), U(bad), f->maxphyaddr, U(v->save.efer), U(v->save.cr0));
}

static bool fail_CR4_MBZ(const struct svm_vmcb *v, const struct svm_features *f, char *m, size_t n)
{
  uint64_t bad = v->save.cr4 & ~f->cr4_valid;
  if (!bad) return false;
  return fail_msg(m, n, "cr4 = " X ": bits " X " are not implemented by CPU model %s (valid " X ")",
                  U(v->save.cr4), U(bad), f->name, U(f->cr4_valid));
}

static bool fail_DR6_UPPER_NONZERO(const struct svm_vmcb *v, const struct svm_features *f, char *m, size_t n)
{
  if (!(v->save.dr6 >> 32)) return false;
  return fail_msg(m, n, "dr6 = " X ": bits 63:32 are not zero", U(v->save.dr6));
}

static bool fail_DR7_UPPER_NONZERO(const struct svm_vmcb *v, const struct svm_features *f, char *m, size_t n)
{
  if (!(v->save.dr7 >> 32)) return false;
  return fail_msg(m, n, "dr7 = " X ": bits 63:32 are not zero", U(v->save.dr7));
}

static bool fail_EFER_MBZ(const struct svm_vmcb *v, const struct svm_features *f, char *m, size_t n)
{
  uint64_t bad = v->save.efer & ~(f->efer_valid | EFER_LME | EFER_LMA);
  if (!bad) return false;
  return fail_msg(m, n, "efer = " X ": bits " X " are not implemented by CPU model %s (valid " X ")",
                  U(v->save.efer), U(bad), f->name, U(f->efer_valid));
}

static bool fail_EFER_LONG_MODE_UNSUPPORTED(const struct svm_vmcb *v, const struct svm_features *f, char *m, size_t n)
{
  if (f->long_mode || !(v->save.efer & (EFER_LME | EFER_LMA))) return false;
  return fail_msg(m, n, "efer = " X ": LME (bit 8) or LMA (bit 10) set, CPU model %s has no long mode",
                  U(v->save.efer), f->name);
}

static bool fail_LONG_MODE_WITHOUT_PAE(const struct svm_vmcb *v, const struct svm_features *f, char *m, size_t n)
{
  if (!guest_long_mode(v) || (v->save.cr4 & CR4_PAE)) return false;
  return fail_msg(m, n, "efer = " X " (LME=1), cr0 = " X " (PG=1), cr4 = " X " (PAE=0)",
                  U(v->save.efer), U(v->save.cr0), U(v->save.cr4));
}

static bool fail_LONG_MODE_WITHOUT_PE(const struct svm_vmcb *v, const struct svm_features *f, char *m, size_t n)
{
  if (!guest_long_mode(v) || (v->save.cr0 & CR0_PE)) return false;
  return fail_msg(m, n, "efer = " X " (LME=1), cr0 = " X " (PG=1, PE=0)", U(v->save.efer), U(v->save.cr0));
}

static bool fail_LONG_MODE_CS_L_AND_D(const struct svm_vmcb *v, const struct svm_features *f, char *m, size_t n)
{
  const unsigned both = SVM_ATTR_L | SVM_ATTR_DB;
  if (!guest_long_mode(v) || !(v->save.cr4 & CR4_PAE) || (v->save.cs.attrib & both) != both) return false;
  return fail_msg(m, n, "efer = " X " (LME=1), cr0 = " X " (PG=1), cr4 = " X " (PAE=1), cs.attrib = " X " (L=1, D=1)",
                  U(v->save.efer), U(v->save.cr0), U(v->save.cr4), U(v->save.cs.attrib));
}

static bool fail_INTERCEPT_VMRUN_CLEAR(const struct svm_vmcb *v, const struct svm_features *f, char *m, size_t n)
{
  if (svm_intercept_is_set(v, SVM_INTERCEPT_VMRUN)) return false;
  return fail_msg(m, n, "intercept_vec2 = " X ": the VMRUN intercept (bit 0) is 0", U(v->control.intercept_vec2));
}

/* "Extends to a physical address >= the maximum supported physical address":
 * the last byte of the map, base[63:12] + size - 1, must stay below
 * 2^MAXPHYADDR - 1 (QEMU computes the same bound). */
static bool map_beyond(const struct svm_features *f, uint64_t base_pa, uint64_t size, uint64_t *last)
{
  uint64_t base = base_pa & ~0xFFFull;
  *last = base + size - 1;
  if (f->maxphyaddr >= 64) return *last < base;  /* wrapped */
  uint64_t max_pa = (1ull << f->maxphyaddr) - 1;
  return base > max_pa || *last >= max_pa;
}

static bool fail_MSRPM_BEYOND_MAXPHYADDR(const struct svm_vmcb *v, const struct svm_features *f, char *m, size_t n)
{
  uint64_t last;
  if (!map_beyond(f, v->control.msrpm_base_pa, SVM_MSRPM_SIZE, &last)) return false;
  return fail_msg(m, n, "msrpm_base_pa = " X ": the map's last byte " X " is not below 2^%u - 1",
                  U(v->control.msrpm_base_pa), U(last), f->maxphyaddr);
}

static bool fail_IOPM_BEYOND_MAXPHYADDR(const struct svm_vmcb *v, const struct svm_features *f, char *m, size_t n)
{
  uint64_t last;
  if (!map_beyond(f, v->control.iopm_base_pa, SVM_IOPM_SIZE, &last)) return false;
  return fail_msg(m, n, "iopm_base_pa = " X ": the map's last byte " X " is not below 2^%u - 1",
                  U(v->control.iopm_base_pa), U(last), f->maxphyaddr);
}

static bool fail_EVENTINJ_TYPE_RESERVED(const struct svm_vmcb *v, const struct svm_features *f, char *m, size_t n)
{
  uint64_t e = v->control.eventinj;
  if (!(e & SVM_EVENT_V)) return false;
  unsigned type = SVM_EVENT_TYPE(e);
  if (type == SVM_EVENT_INTR || type == SVM_EVENT_NMI || type == SVM_EVENT_EXCEPTION || type == SVM_EVENT_SOFT_INT)
    return false;
  return fail_msg(m, n, "eventinj = " X ": TYPE %u is reserved", U(e), type);
}

static bool fail_EVENTINJ_EXCEPTION_VECTOR(const struct svm_vmcb *v, const struct svm_features *f, char *m, size_t n)
{
  uint64_t e = v->control.eventinj;
  if (!(e & SVM_EVENT_V) || SVM_EVENT_TYPE(e) != SVM_EVENT_EXCEPTION) return false;
  unsigned vec = SVM_EVENT_VECTOR(e);
  if (vec != 2 && vec <= 31) return false;
  return fail_msg(m, n, "eventinj = " X ": exception (TYPE 3) with vector %u", U(e), vec);
}

static bool fail_EVENTINJ_EXCEPTION_64BIT(const struct svm_vmcb *v, const struct svm_features *f, char *m, size_t n)
{
  uint64_t e = v->control.eventinj;
  if (!(e & SVM_EVENT_V) || SVM_EVENT_TYPE(e) != SVM_EVENT_EXCEPTION) return false;
  unsigned vec = SVM_EVENT_VECTOR(e);
  if ((vec != 4 && vec != 5) || !guest_64bit_mode(v)) return false;
  return fail_msg(m, n, "eventinj = " X ": exception vector %u (%s) into a 64-bit guest (efer = " X ", cr0 = " X ", cs.attrib = " X ")",
                  U(e), vec, vec == 4 ? "#OF" : "#BR", U(v->save.efer), U(v->save.cr0), U(v->save.cs.attrib));
}

static bool fail_ASID_ZERO(const struct svm_vmcb *v, const struct svm_features *f, char *m, size_t n)
{
  if (v->control.guest_asid != 0) return false;
  return fail_msg(m, n, "guest_asid = 0x0: ASID 0 belongs to the host");
}

/* NP_ENABLE means nothing on a CPU without nested paging (Bochs ignores the
 * bit there; KVM dropped its non-architectural check), so these two apply
 * only when the model has NP. */
static bool np_active(const struct svm_vmcb *v, const struct svm_features *f)
{
  return svm_has(f, SVM_FEAT_NP) && (v->control.np_control & SVM_NP_ENABLE);
}

static bool fail_NP_NCR3_MBZ(const struct svm_vmcb *v, const struct svm_features *f, char *m, size_t n)
{
  if (!np_active(v, f)) return false;
  uint64_t bad = v->control.ncr3 & svm_pa_mbz_mask(f);
  if (!bad) return false;
  return fail_msg(m, n, "ncr3 = " X ": bits " X " at or above MAXPHYADDR (%u) are set (np_control = " X ")",
                  U(v->control.ncr3), U(bad), f->maxphyaddr, U(v->control.np_control));
}

/* PAT memory types: 0 UC, 1 WC, 4 WT, 5 WP, 6 WB, 7 UC-; 2, 3 and 8-255
 * are reserved (AMD APM Vol. 2, "PAT Register"). */
static bool fail_NP_GPAT_INVALID(const struct svm_vmcb *v, const struct svm_features *f, char *m, size_t n)
{
  if (!np_active(v, f)) return false;
  for (unsigned i = 0; i < 8; i++) {
    unsigned type = (unsigned)(v->save.g_pat >> (8 * i)) & 0xFFu;
    if (type == 2 || type == 3 || type > 7)
      return fail_msg(m, n, "g_pat = " X ": PA%u holds reserved memory type 0x%x (np_control = " X ")",
                      U(v->save.g_pat), i, type, U(v->control.np_control));
  }
  return false;
}

static const struct svm_check_info infos[SVM_CHECK_END] = {
#define SVM_VMRUN_CHECK(id, citation, predicate) [SVM_VMRUN_##id] = {"SVM_VMRUN_" #id, citation, predicate},
#include "models/svm/vmrun_checks.def"
#undef SVM_VMRUN_CHECK
};

static check_fn *const checks[SVM_CHECK_END] = {
#define SVM_VMRUN_CHECK(id, citation, predicate) [SVM_VMRUN_##id] = fail_##id,
#include "models/svm/vmrun_checks.def"
#undef SVM_VMRUN_CHECK
};

const struct svm_check_info *svm_check_info(enum svm_check_id id)
{
  if (id <= SVM_CHECK_NONE || id >= SVM_CHECK_END) return NULL;
  return &infos[id];
}

enum svm_check_id svm_check_by_name(const char *name)
{
  for (int id = SVM_CHECK_NONE + 1; id < SVM_CHECK_END; id++)
    if (strcmp(infos[id].id, name) == 0) return (enum svm_check_id)id;
  return SVM_CHECK_NONE;
}

enum svm_check_id svm_vmrun_check_first(const struct svm_vmcb *v, const struct svm_features *f,
                                        struct svm_check_failure *out)
{
  char scratch[sizeof out->message];
  for (int id = SVM_CHECK_NONE + 1; id < SVM_CHECK_END; id++) {
    char *msg = out ? out->message : scratch;
    if (!checks[id](v, f, msg, sizeof scratch)) continue;
    if (out) out->id = (enum svm_check_id)id;
    return (enum svm_check_id)id;
  }
  if (out) {
    out->id = SVM_CHECK_NONE;
    out->message[0] = '\0';
  }
  return SVM_CHECK_NONE;
}

unsigned svm_vmrun_check_all(const struct svm_vmcb *v, const struct svm_features *f,
                             struct svm_check_failure out[SVM_CHECK_COUNT])
{
  unsigned count = 0;
  for (int id = SVM_CHECK_NONE + 1; id < SVM_CHECK_END; id++) {
    if (!checks[id](v, f, out[count].message, sizeof out[count].message)) continue;
    out[count++].id = (enum svm_check_id)id;
  }
  return count;
}

enum svm_check_id svm_vmrun_consistency(struct svm_vmcb *v, const struct svm_features *f,
                                        struct svm_check_failure *out)
{
  enum svm_check_id id = svm_vmrun_check_first(v, f, out);
  if (id != SVM_CHECK_NONE) v->control.exitcode = (uint64_t)(int64_t)SVM_EXIT_INVALID;
  return id;
}
