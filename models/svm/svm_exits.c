/* Intercept decisions and exit information (see svm_exits.h). */
#include "models/svm/svm_exits.h"

#include <string.h>

bool svm_ctl_intercepts(const struct svm_vmcb_control *c, enum svm_intercept i)
{
  uint32_t w;
  memcpy(&w, (const uint8_t *)c + 4 * svm_intercepts[i].word, sizeof w);
  return (w >> svm_intercepts[i].bit) & 1u;
}

/* "MSR Intercepts": three 2 KiB vectors of two bits per MSR — 0000_0000h-
 * 0000_1FFFh at byte 0, C000_0000h-C000_1FFFh at byte 800h, C001_0000h-
 * C001_1FFFh at byte 1000h; the read bit is the lower of the two. */
bool svm_msrpm_bit(uint32_t msr, uint32_t *bit)
{
  static const struct { uint32_t first; uint32_t byte; } ranges[] = {
    {0x00000000u, 0x000}, {0xC0000000u, 0x800}, {0xC0010000u, 0x1000},
  };
  for (unsigned i = 0; i < sizeof ranges / sizeof ranges[0]; i++) {
    if (msr - ranges[i].first >= 0x2000u) continue;
    *bit = ranges[i].byte * 8 + (msr - ranges[i].first) * 2;
    return true;
  }
  return false;
}

bool svm_msr_intercepted(const struct svm_vmcb_control *c, const struct svm_machine *m, uint32_t msr, bool write)
{
  if (!svm_ctl_intercepts(c, SVM_INTERCEPT_MSR_PROT)) return false;
  uint32_t bit;
  if (!svm_msrpm_bit(msr, &bit)) return true;   /* outside the map: always */
  bit += write ? 1 : 0;
  uint8_t byte;
  uint64_t base = c->msrpm_base_pa & ~0xFFFull;  /* bits 11:0 are ignored */
  if (!m->read(m->ctx, base + bit / 8, &byte, 1)) return true;
  return (byte >> (bit % 8)) & 1u;
}

/* "I/O Intercepts": one bit per port in a 12 KiB map; a multi-byte access
 * exits when the bit of any port it touches is set (the map's last bytes
 * cover accesses that start near port FFFFh). */
bool svm_io_intercepted(const struct svm_vmcb_control *c, const struct svm_machine *m, uint16_t port, unsigned size)
{
  if (!svm_ctl_intercepts(c, SVM_INTERCEPT_IOIO_PROT)) return false;
  uint64_t base = c->iopm_base_pa & ~0xFFFull;
  for (unsigned i = 0; i < size; i++) {
    uint32_t p = (uint32_t)port + i;
    uint8_t byte;
    if (!m->read(m->ctx, base + p / 8, &byte, 1)) return true;
    if ((byte >> (p % 8)) & 1u) return true;
  }
  return false;
}

uint64_t svm_ioio_exitinfo1(const struct svm_features *f, const struct svm_ioio *io)
{
  uint64_t v = (uint64_t)io->port << SVM_IOIO_PORT_SHIFT;
  if (io->in) v |= SVM_IOIO_TYPE_IN;
  if (io->string) v |= SVM_IOIO_STR;
  if (io->rep) v |= SVM_IOIO_REP;
  v |= io->size == 1 ? SVM_IOIO_SZ8 : io->size == 2 ? SVM_IOIO_SZ16 : SVM_IOIO_SZ32;
  v |= io->addr_bits == 16 ? SVM_IOIO_A16 : io->addr_bits == 32 ? SVM_IOIO_A32 : SVM_IOIO_A64;
  /* The effective segment is one of the decode assists. */
  if (io->string && svm_has(f, SVM_FEAT_DECODE_ASSISTS)) v |= (uint64_t)(io->seg & 7u) << SVM_IOIO_SEG_SHIFT;
  return v;
}

uint64_t svm_cr_exitinfo1(const struct svm_features *f, bool is_mov, unsigned gpr)
{
  if (!svm_has(f, SVM_FEAT_DECODE_ASSISTS)) return 0;
  return is_mov ? (SVM_CR_EXITINFO1_MOV | (gpr & 0xFu)) : 0;
}

uint64_t svm_dr_exitinfo1(const struct svm_features *f, unsigned gpr)
{
  return svm_has(f, SVM_FEAT_DECODE_ASSISTS) ? (gpr & 0xFu) : 0;
}

uint64_t svm_decode_assist_value(const struct svm_features *f, uint64_t value)
{
  return svm_has(f, SVM_FEAT_DECODE_ASSISTS) ? value : 0;
}

/* "Decode Assists": #NPF and intercepted #PF of data accesses only. */
bool svm_exit_has_insn_bytes(const struct svm_features *f, uint64_t exitcode, uint64_t exitinfo1)
{
  if (!svm_has(f, SVM_FEAT_DECODE_ASSISTS)) return false;
  if (exitcode != (uint64_t)SVM_EXIT_NPF && exitcode != (uint64_t)SVM_EXIT_EXCP_PF) return false;
  return !(exitinfo1 & SVM_PF_ERROR_ID);
}

void svm_fetch_insn_bytes(struct svm_exit *e, svm_fetch_byte_fn fetch, void *ctx, uint64_t la, bool long64)
{
  e->insn_len = 0;
  for (unsigned i = 0; i < sizeof e->insn_bytes; i++) {
    uint64_t a = la + i;
    if (!long64) a &= 0xFFFFFFFFull;
    if (!fetch(ctx, a, &e->insn_bytes[i])) return;
    e->insn_len = (uint8_t)(i + 1);
  }
}

/* "Exception Intercepts": EXITINFO1 holds the error code of exceptions that
 * push one; for #PF, EXITINFO2 holds the faulting address, and CR2 is not
 * written. NRIP is saved only for #BP/#OF/#BR raised by INT3/INTO/BOUND,
 * which the caller marks. */
struct svm_exit svm_exception_exit(uint8_t vector, bool has_error, uint32_t error, uint64_t cr2)
{
  struct svm_exit e = {.code = (uint64_t)SVM_EXIT_EXCP_DE + (vector & 31u)};
  if (has_error) e.info1 = error;
  if (vector == 14) e.info2 = cr2;
  return e;
}

struct svm_exit svm_task_switch_exit(uint16_t tss_selector, enum svm_task_switch_source source, bool has_error,
                                     uint32_t error, bool rf)
{
  struct svm_exit e = {.code = (uint64_t)SVM_EXIT_TASK_SWITCH, .info1 = tss_selector};
  if (source == SVM_TS_IRET) e.info2 |= SVM_TS_EXITINFO2_IRET;
  if (source == SVM_TS_JMP) e.info2 |= SVM_TS_EXITINFO2_JMP;
  if (has_error) e.info2 |= SVM_TS_EXITINFO2_HAS_ERROR | error;
  if (rf) e.info2 |= SVM_TS_EXITINFO2_RF;
  return e;
}

uint64_t svm_event_encode(uint8_t vector, enum svm_event_type type, bool has_error, uint32_t error)
{
  uint64_t v = vector | ((uint64_t)type << 8) | SVM_EVENT_V;
  if (has_error) v |= SVM_EVENT_EV | ((uint64_t)error << 32);
  return v;
}

void svm_pause_filter_load(struct svm_pause_filter *p, const struct svm_vmcb_control *c)
{
  *p = (struct svm_pause_filter){.count = c->pause_filter_count};
}

bool svm_pause_exits(const struct svm_features *f, const struct svm_vmcb_control *c, struct svm_pause_filter *p,
                     uint64_t now)
{
  if (!svm_ctl_intercepts(c, SVM_INTERCEPT_PAUSE)) return false;
  if (!svm_has(f, SVM_FEAT_PAUSE_FILTER)) return true;
  /* "Pause Intercept Filtering": with the threshold, a PAUSE that comes
   * more than PAUSE_FILTER_THRESHOLD cycles after the previous one resets
   * the count to its initial value before it is checked. */
  bool long_gap = p->seen && now - p->last > c->pause_filter_threshold;
  if (svm_has(f, SVM_FEAT_PAUSE_FILTER_THRESHOLD) && c->pause_filter_threshold != 0 && long_gap)
    p->count = c->pause_filter_count;
  p->seen = true;
  p->last = now;
  if (p->count == 0) return true;
  p->count--;
  return false;
}

enum svm_intr_action svm_physical_interrupt(bool gif, bool in_guest, const struct svm_vmcb_control *c, bool guest_if,
                                            bool host_if)
{
  if (!gif) return SVM_INTR_HELD;
  if (!in_guest) return guest_if ? SVM_INTR_DELIVER : SVM_INTR_HELD;
  bool unmasked = (c->vintr & SVM_VINTR_V_INTR_MASKING) ? host_if : guest_if;
  if (!unmasked) return SVM_INTR_HELD;
  if (svm_ctl_intercepts(c, SVM_INTERCEPT_INTR)) return SVM_INTR_VMEXIT;
  return guest_if ? SVM_INTR_DELIVER : SVM_INTR_HELD;
}

enum svm_intr_action svm_nmi(bool gif, bool in_guest, const struct svm_vmcb_control *c, bool nmi_blocking)
{
  if (!gif || nmi_blocking) return SVM_INTR_HELD;
  if (in_guest && svm_ctl_intercepts(c, SVM_INTERCEPT_NMI)) return SVM_INTR_VMEXIT;
  return SVM_INTR_DELIVER;
}

enum svm_intr_action svm_signal(bool gif, bool in_guest, const struct svm_vmcb_control *c, enum svm_signal s)
{
  if (!gif) return SVM_INTR_HELD;
  enum svm_intercept icpt = s == SVM_SIGNAL_SMI ? SVM_INTERCEPT_SMI : SVM_INTERCEPT_INIT;
  if (in_guest && svm_ctl_intercepts(c, icpt)) return SVM_INTR_VMEXIT;
  return SVM_INTR_DELIVER;
}

struct svm_exit svm_signal_exit(enum svm_signal s)
{
  return (struct svm_exit){.code = (uint64_t)(s == SVM_SIGNAL_SMI ? SVM_EXIT_SMI : SVM_EXIT_INIT)};
}

bool svm_virtual_interrupt_pending(bool gif, const struct svm_vmcb_control *c)
{
  if (!gif || !(c->vintr & SVM_VINTR_V_IRQ)) return false;
  if (c->vintr & SVM_VINTR_V_IGN_TPR) return true;
  return SVM_VINTR_V_INTR_PRIO(c->vintr) > (SVM_VINTR_V_TPR(c->vintr) & 0xFu);
}
