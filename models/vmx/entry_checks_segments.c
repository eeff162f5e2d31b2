/* VM-entry checks on guest segment registers (SDM Vol. 3C, "Checks on
 * Guest Segment Registers"). Access rights use the VMCS layout: type 3:0,
 * S 4, DPL 6:5, P 7, reserved 11:8, AVL 12, L 13, D/B 14, G 15, unusable 16,
 * reserved 31:17. Failures give exit reason 33. */
#include "models/vmx/entry_checks_impl.h"

#define AR_TYPE(a)    ((unsigned)((a) & 0xF))
#define AR_S          BIT64(4)
#define AR_DPL(a)     ((unsigned)(((a) >> 5) & 3))
#define AR_P          BIT64(7)
#define AR_L          BIT64(13)
#define AR_DB         BIT64(14)
#define AR_G          BIT64(15)
#define AR_UNUSABLE   BIT64(16)
#define AR_RESERVED   (0xF00ull | 0xFFFE0000ull)

struct seg {
  const char *name;
  uint64_t sel, base, limit, ar;
};

static struct seg seg_of(struct ec *c, const char *name, enum vmcs_field sel, enum vmcs_field base,
                         enum vmcs_field limit, enum vmcs_field ar)
{
  return (struct seg){ name, ec_get(c, sel), ec_get(c, base), ec_get(c, limit), ec_get(c, ar) };
}
#define SEG(c, n) seg_of(c, #n, VMCSI_GUEST_##n##_SELECTOR, VMCSI_GUEST_##n##_BASE, VMCSI_GUEST_##n##_LIMIT, \
                         VMCSI_GUEST_##n##_AR_BYTES)

static bool usable(const struct seg *s) { return !(s->ar & AR_UNUSABLE); }

/* G must be 0 if any of limit bits 11:0 is 0, and 1 if any of 31:20 is 1. */
static bool g_ok(const struct seg *s)
{
  if ((s->limit & 0xFFF) != 0xFFF && (s->ar & AR_G)) return false;
  if ((s->limit & 0xFFF00000ull) && !(s->ar & AR_G)) return false;
  return true;
}

static void check_v86(struct ec *c, const struct seg *s)
{
  CHECK(GUEST_V86_BASE, s->base == (s->sel << 4), "GUEST_%s_BASE = %#llx, selector %#llx: base must be %#llx",
        s->name, (ull)s->base, (ull)s->sel, (ull)(s->sel << 4));
  CHECK(GUEST_V86_LIMIT, s->limit == 0xFFFF, "GUEST_%s_LIMIT = %#llx, must be 0xffff", s->name, (ull)s->limit);
  CHECK(GUEST_V86_AR, s->ar == 0xF3, "GUEST_%s_AR_BYTES = %#llx, must be 0xf3", s->name, (ull)s->ar);
}

/* Checks common to CS and usable SS, DS, ES, FS, GS outside v8086 mode. */
static void check_code_data_common(struct ec *c, const struct seg *s)
{
  CHECK(GUEST_SEG_S, s->ar & AR_S, "GUEST_%s_AR_BYTES = %#llx: S must be 1", s->name, (ull)s->ar);
  CHECK(GUEST_SEG_P, s->ar & AR_P, "GUEST_%s_AR_BYTES = %#llx: P must be 1", s->name, (ull)s->ar);
  CHECK(GUEST_SEG_AR_RESERVED, (s->ar & AR_RESERVED) == 0, "GUEST_%s_AR_BYTES = %#llx sets reserved bits %#llx",
        s->name, (ull)s->ar, (ull)(s->ar & AR_RESERVED));
  CHECK(GUEST_SEG_G_LIMIT, g_ok(s), "GUEST_%s_LIMIT = %#llx inconsistent with G = %d in GUEST_%s_AR_BYTES = %#llx",
        s->name, (ull)s->limit, !!(s->ar & AR_G), s->name, (ull)s->ar);
}

static void check_protected(struct ec *c, const struct seg *cs, const struct seg *ss, const struct seg *data[4])
{
  unsigned cs_type = AR_TYPE(cs->ar);
  bool pe = F(GUEST_CR0) & CR0_BIT_PE;
  CHECK(GUEST_CS_TYPE, cs_type == 9 || cs_type == 11 || cs_type == 13 || cs_type == 15 || (c->ug && cs_type == 3),
        "GUEST_CS_AR_BYTES = %#llx: type %u not allowed for CS", (ull)cs->ar, cs_type);
  check_code_data_common(c, cs);
  if (cs_type == 3)
    CHECK(GUEST_CS_DPL, AR_DPL(cs->ar) == 0, "GUEST_CS_AR_BYTES = %#llx: type 3 needs DPL 0", (ull)cs->ar);
  if (cs_type == 9 || cs_type == 11)
    CHECK(GUEST_CS_DPL, AR_DPL(cs->ar) == AR_DPL(ss->ar),
          "GUEST_CS_AR_BYTES = %#llx: nonconforming CS DPL %u != SS DPL %u (GUEST_SS_AR_BYTES = %#llx)", (ull)cs->ar,
          AR_DPL(cs->ar), AR_DPL(ss->ar), (ull)ss->ar);
  if (cs_type == 13 || cs_type == 15)
    CHECK(GUEST_CS_DPL, AR_DPL(cs->ar) <= AR_DPL(ss->ar),
          "GUEST_CS_AR_BYTES = %#llx: conforming CS DPL %u > SS DPL %u", (ull)cs->ar, AR_DPL(cs->ar), AR_DPL(ss->ar));
  if (c->ia32e_guest && (cs->ar & AR_L))
    CHECK(GUEST_CS_L_D, !(cs->ar & AR_DB), "GUEST_CS_AR_BYTES = %#llx sets both L and D/B", (ull)cs->ar);

  if (!c->ug)
    CHECK(GUEST_SS_DPL_RPL, AR_DPL(ss->ar) == (ss->sel & 3),
          "GUEST_SS_AR_BYTES = %#llx: DPL %u != GUEST_SS_SELECTOR = %#llx RPL %llu", (ull)ss->ar, AR_DPL(ss->ar),
          (ull)ss->sel, (ull)(ss->sel & 3));
  if (cs_type == 3 || !pe)
    CHECK(GUEST_SS_DPL_ZERO, AR_DPL(ss->ar) == 0, "GUEST_SS_AR_BYTES = %#llx: DPL must be 0 (CS type %u, CR0.PE %d)",
          (ull)ss->ar, cs_type, pe);
  if (usable(ss)) {
    CHECK(GUEST_SS_TYPE, AR_TYPE(ss->ar) == 3 || AR_TYPE(ss->ar) == 7, "GUEST_SS_AR_BYTES = %#llx: type %u not 3 or 7",
          (ull)ss->ar, AR_TYPE(ss->ar));
    check_code_data_common(c, ss);
  }
  for (int i = 0; i < 4; i++) {
    const struct seg *s = data[i];
    if (!usable(s)) continue;
    unsigned t = AR_TYPE(s->ar);
    CHECK(GUEST_DATA_SEG_TYPE, (t & 1) && (!(t & 8) || (t & 2)),
          "GUEST_%s_AR_BYTES = %#llx: type %u must be accessed, and readable if code", s->name, (ull)s->ar, t);
    if (!c->ug && t <= 11)
      CHECK(GUEST_DATA_DPL_RPL, AR_DPL(s->ar) >= (s->sel & 3),
            "GUEST_%s_AR_BYTES = %#llx: DPL %u < GUEST_%s_SELECTOR = %#llx RPL %llu", s->name, (ull)s->ar,
            AR_DPL(s->ar), s->name, (ull)s->sel, (ull)(s->sel & 3));
    check_code_data_common(c, s);
  }
}

static void check_tr_ldtr(struct ec *c, const struct seg *tr, const struct seg *ldtr)
{
  unsigned t = AR_TYPE(tr->ar);
  CHECK(GUEST_TR_TYPE, t == 11 || (t == 3 && !c->ia32e_guest),
        "GUEST_TR_AR_BYTES = %#llx: type %u (IA-32e mode guest = %d)", (ull)tr->ar, t, c->ia32e_guest);
  CHECK(GUEST_TR_S, !(tr->ar & AR_S), "GUEST_TR_AR_BYTES = %#llx: S must be 0", (ull)tr->ar);
  CHECK(GUEST_TR_P, tr->ar & AR_P, "GUEST_TR_AR_BYTES = %#llx: P must be 1", (ull)tr->ar);
  CHECK(GUEST_TR_AR_RESERVED, (tr->ar & AR_RESERVED) == 0, "GUEST_TR_AR_BYTES = %#llx sets reserved bits %#llx",
        (ull)tr->ar, (ull)(tr->ar & AR_RESERVED));
  CHECK(GUEST_TR_G_LIMIT, g_ok(tr), "GUEST_TR_LIMIT = %#llx inconsistent with G = %d", (ull)tr->limit,
        !!(tr->ar & AR_G));
  CHECK(GUEST_TR_UNUSABLE, usable(tr), "GUEST_TR_AR_BYTES = %#llx marks TR unusable", (ull)tr->ar);
  if (!usable(ldtr)) return;
  CHECK(GUEST_LDTR_TYPE, AR_TYPE(ldtr->ar) == 2, "GUEST_LDTR_AR_BYTES = %#llx: type %u, must be 2", (ull)ldtr->ar,
        AR_TYPE(ldtr->ar));
  CHECK(GUEST_LDTR_S, !(ldtr->ar & AR_S), "GUEST_LDTR_AR_BYTES = %#llx: S must be 0", (ull)ldtr->ar);
  CHECK(GUEST_LDTR_P, ldtr->ar & AR_P, "GUEST_LDTR_AR_BYTES = %#llx: P must be 1", (ull)ldtr->ar);
  CHECK(GUEST_LDTR_AR_RESERVED, (ldtr->ar & AR_RESERVED) == 0, "GUEST_LDTR_AR_BYTES = %#llx sets reserved bits %#llx",
        (ull)ldtr->ar, (ull)(ldtr->ar & AR_RESERVED));
  CHECK(GUEST_LDTR_G_LIMIT, g_ok(ldtr), "GUEST_LDTR_LIMIT = %#llx inconsistent with G = %d", (ull)ldtr->limit,
        !!(ldtr->ar & AR_G));
}

void ec_check_guest_segments(struct ec *c)
{
  struct seg cs = SEG(c, CS), ss = SEG(c, SS), ds = SEG(c, DS), es = SEG(c, ES), fs = SEG(c, FS), gs = SEG(c, GS);
  struct seg tr = SEG(c, TR), ldtr = SEG(c, LDTR);
  const struct seg *data[4] = { &ds, &es, &fs, &gs };

  /* Selector fields */
  CHECK(GUEST_TR_TI, !(tr.sel & 4), "GUEST_TR_SELECTOR = %#llx has TI = 1", (ull)tr.sel);
  if (usable(&ldtr))
    CHECK(GUEST_LDTR_TI, !(ldtr.sel & 4), "GUEST_LDTR_SELECTOR = %#llx has TI = 1", (ull)ldtr.sel);
  if (!c->v86 && !c->ug)
    CHECK(GUEST_SS_RPL_CS_RPL, (ss.sel & 3) == (cs.sel & 3),
          "GUEST_SS_SELECTOR = %#llx RPL %llu != GUEST_CS_SELECTOR = %#llx RPL %llu", (ull)ss.sel, (ull)(ss.sel & 3),
          (ull)cs.sel, (ull)(cs.sel & 3));

  /* Base addresses */
  CHECK(GUEST_BASE_CANONICAL, ec_canonical(c, tr.base), "GUEST_TR_BASE = %#llx is not canonical", (ull)tr.base);
  CHECK(GUEST_BASE_CANONICAL, ec_canonical(c, fs.base), "GUEST_FS_BASE = %#llx is not canonical", (ull)fs.base);
  CHECK(GUEST_BASE_CANONICAL, ec_canonical(c, gs.base), "GUEST_GS_BASE = %#llx is not canonical", (ull)gs.base);
  if (usable(&ldtr))
    CHECK(GUEST_LDTR_BASE_CANONICAL, ec_canonical(c, ldtr.base), "GUEST_LDTR_BASE = %#llx is not canonical",
          (ull)ldtr.base);
  CHECK(GUEST_CS_BASE_HIGH, (cs.base >> 32) == 0, "GUEST_CS_BASE = %#llx sets bits 63:32", (ull)cs.base);
  const struct seg *hi[3] = { &ss, &ds, &es };
  for (int i = 0; i < 3; i++)
    if (usable(hi[i]))
      CHECK(GUEST_SEG_BASE_HIGH, (hi[i]->base >> 32) == 0, "GUEST_%s_BASE = %#llx sets bits 63:32", hi[i]->name,
            (ull)hi[i]->base);

  if (c->v86) {
    const struct seg *all[6] = { &cs, &ss, &ds, &es, &fs, &gs };
    for (int i = 0; i < 6; i++) check_v86(c, all[i]);
  } else {
    check_protected(c, &cs, &ss, data);
  }
  check_tr_ldtr(c, &tr, &ldtr);
}
