/* The vendor-neutral core of hv: the vCPU, the backend interface (one
 * operations table, filled by vmx/ and svm/), and the core's exit handlers,
 * which the backends call after decoding their vendor's exit information.
 * Only platform.h and freestanding headers are included. */
#ifndef HV_CORE_HV_H
#define HV_CORE_HV_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hv/hypercall.h"
#include "hv/platform.h"

enum hv_mem_mode { HV_MEM_SLAT, HV_MEM_SHADOW };

/* Guest-physical memory layout set up by hv for its guest. */
#define HV_GUEST_RAM_SIZE  (4ull << 20)
#define HV_GUEST_PML4      0x1000ull     /* the boot page tables hv builds */
#define HV_GUEST_PDPT      0x2000ull
#define HV_GUEST_PD        0x3000ull
#define HV_GUEST_LOAD      0x100000ull   /* where the guest image is copied */

/* Architectural bits the core uses (SDM Vol. 3A, "Control Registers"). */
#define CR0_PE  (1ull << 0)
#define CR0_MP  (1ull << 1)
#define CR0_EM  (1ull << 2)
#define CR0_TS  (1ull << 3)
#define CR0_ET  (1ull << 4)
#define CR0_NE  (1ull << 5)
#define CR0_WP  (1ull << 16)
#define CR0_AM  (1ull << 18)
#define CR0_NW  (1ull << 29)
#define CR0_CD  (1ull << 30)
#define CR0_PG  (1ull << 31)
#define CR4_DE  (1ull << 3)
#define CR4_PSE (1ull << 4)
#define CR4_PAE (1ull << 5)
#define CR4_MCE (1ull << 6)
#define CR4_PGE (1ull << 7)
#define CR4_PCE (1ull << 8)
#define CR4_OSFXSR (1ull << 9)
#define CR4_OSXMMEXCPT (1ull << 10)
#define CR4_VMXE (1ull << 13)
#define EFER_SCE (1ull << 0)
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)
#define EFER_NXE (1ull << 11)
#define EFER_SVME (1ull << 12)
#define RFLAGS_FIXED (1ull << 1)
#define PAT_POWER_ON 0x0007040600070406ull   /* SDM Vol. 3A, "IA32_PAT MSR" */

/* Exception vectors (SDM Vol. 3A, "Exception and Interrupt Reference"). */
#define VEC_UD 6
#define VEC_GP 13
#define VEC_PF 14

/* #PF error code bits (SDM Vol. 3A, "Page-Fault Error Code"). */
#define PFEC_P  (1u << 0)
#define PFEC_W  (1u << 1)
#define PFEC_U  (1u << 2)
#define PFEC_I  (1u << 4)

struct hv_vcpu;

/* The backend interface: one X-macro list, one struct of function pointers.
 * OP(return type, name, parameters) */
#define HV_BACKEND_OPS(OP)                                                        \
    OP(bool, probe, (void))                      /* CPUID says this vendor */   \
    OP(bool, setup, (struct hv_vcpu *v))         /* VMCS/VMCB from the vCPU */  \
    OP(void, run, (struct hv_vcpu *v))           /* enter, handle one exit */   \
    OP(void, inject, (struct hv_vcpu *v, int vector, bool has_error, uint32_t error)) \
    OP(void, set_cr, (struct hv_vcpu *v, int cr)) /* push v->cr0/cr4 (and shadow CR3) */ \
    OP(uint64_t, guest_cr3, (struct hv_vcpu *v)) /* the guest's CR3 (SLAT mode) */ \
    OP(void, sync_guest, (struct hv_vcpu *v))  /* v->rflags, RSP for a dump */ \
    OP(void, flush_tlb, (struct hv_vcpu *v))     /* after shadow tables change */ \
    OP(void, dump, (struct hv_vcpu *v))          /* vendor state for a stop */

struct hv_backend {
    const char *name;
    const char *slat_name;                       /* its SLAT: "EPT with VPID" ... */
    const char *hypercall_insn;
    uint32_t hypercall_feature;                  /* HV_FEAT_VMCALL / VMMCALL */
#define HV_OP_MEMBER(ret, name, params) ret (*name) params;
    HV_BACKEND_OPS(HV_OP_MEMBER)
#undef HV_OP_MEMBER
};

extern const struct hv_backend hv_vmx_backend;
extern const struct hv_backend hv_svm_backend;

/* The guest's emulated COM1 (a 16550 seen through its registers). */
struct hv_com1 {
    char line[160];
    unsigned len;
    uint8_t ier, lcr, mcr, scr, dll, dlm;
};

/* set_cr: which register changed (CR numbers, or this for IA32_EFER). */
#define HV_REG_EFER 0x80

#define HV_SHADOW_POOL_PAGES 256

/* One guest CPUID answer as hv computed it (cpuid.c). */
#define HV_CPUID_ANSWERS 16
struct hv_cpuid_answer {
    uint32_t leaf, sub;
    uint32_t r[4];               /* EAX, EBX, ECX, EDX */
    bool valid;
};

struct hv_vcpu {
    const struct hv_backend *be;
    enum hv_mem_mode mode;
    struct plat_gprs g;          /* r[4] (RSP): by the backend when needed */
    uint64_t rip;                /* synced by the backend at each exit */
    uint64_t rflags;             /* at set-up; then be->sync_guest */
    uint64_t cr0, cr4, efer;     /* the values the guest sees */
    uint64_t cr3;                /* the guest's CR3 in shadow mode */
    uint64_t pat;                /* emulated IA32_PAT */
    uint64_t pending_cr2;        /* CR2 for an injected #PF */
    bool cr2_dirty;              /* pending_cr2 not yet loaded (VMX) */
    uint64_t ram_hpa, ram_size;  /* guest-physical 0 is host-physical ram_hpa */
    unsigned maxphyaddr;         /* the guest's physical-address width (vcpu.c) */
    struct hv_com1 com1;
    char guest_cmdline[HC_CMDLINE_MAX];  /* key=value words for the guest */
    /* shadow paging (shadow.c) */
    uint64_t shadow_pool[HV_SHADOW_POOL_PAGES];
    unsigned shadow_used;
    uint64_t shadow_root;
    /* statistics */
    uint64_t exits, hypercalls, shadow_fills, shadow_flushes, pf_injected, gp_injected;
    bool done;
    uint64_t exit_status;
    struct hv_cpuid_answer cpuid_answers[HV_CPUID_ANSWERS];
};

/* What a handler wants the backend to do with the guest's RIP. */
enum hv_next { HV_ADVANCE, HV_STAY };

/* ---- console (console.c) ---- */
void hv_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void hv_vprintf(const char *fmt, va_list ap);
__attribute__((noreturn)) void hv_stop(struct hv_vcpu *v, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void hv_guest_line(const char *text, size_t len);

/* ---- guest memory (gmem.c) ---- */
void *hv_gpa_ptr(struct hv_vcpu *v, uint64_t gpa, uint64_t len);
#define HV_ACC_W (1u << 0)
#define HV_ACC_U (1u << 1)
#define HV_ACC_F (1u << 2)
struct hv_walk {
    uint64_t gpa;            /* the translation */
    uint64_t leaf_pa;        /* guest-physical address of the leaf entry */
    bool writable, user, nx, dirty;
    uint32_t pf_error;       /* when the walk faults */
};
/* Walks the guest's 4-level tables (SDM Vol. 3A, "4-Level Paging and
 * 5-Level Paging"; "Access Rights"). Returns 0 on success, 1 when the guest
 * would take a #PF (w->pf_error set), -1 when a table is outside guest RAM.
 * set_ad: set accessed (and, for writes, dirty) flags as the processor does
 * ("Accessed and Dirty Flags"). */
int hv_guest_walk(struct hv_vcpu *v, uint64_t cr3, uint64_t gva, unsigned access, bool set_ad,
                  struct hv_walk *w);
/* Copies guest-virtual memory for hv's own use (no A/D updates). */
bool hv_read_gva(struct hv_vcpu *v, uint64_t gva, void *buf, size_t len);
bool hv_write_gva(struct hv_vcpu *v, uint64_t gva, const void *buf, size_t len);
uint64_t hv_current_cr3(struct hv_vcpu *v);

/* ---- exit handlers of the core (cpuid.c, msr.c, io.c, hypercall.c, cr.c, shadow.c) ---- */
void hv_handle_cpuid(struct hv_vcpu *v);
enum hv_next hv_handle_rdmsr(struct hv_vcpu *v);
enum hv_next hv_handle_wrmsr(struct hv_vcpu *v);
enum hv_next hv_handle_io(struct hv_vcpu *v, uint16_t port, unsigned size, bool in);
void hv_handle_hypercall(struct hv_vcpu *v);
void hv_handle_hlt(struct hv_vcpu *v);
enum hv_next hv_handle_mov_to_cr(struct hv_vcpu *v, int cr, int gpr);
void hv_handle_mov_from_cr(struct hv_vcpu *v, int cr, int gpr);
void hv_handle_clts(struct hv_vcpu *v);
enum hv_next hv_handle_lmsw(struct hv_vcpu *v, uint16_t msw);
enum hv_next hv_write_cr(struct hv_vcpu *v, int cr, uint64_t val);
void hv_handle_invlpg(struct hv_vcpu *v, uint64_t gva);
void hv_handle_page_fault(struct hv_vcpu *v, uint64_t gva, uint32_t error);

/* MSR pass-through list for the backends' bitmaps (msr.c). */
bool hv_msr_passthrough(uint32_t msr);
void hv_msr_for_each_passthrough(void (*fn)(uint32_t msr, void *ctx), void *ctx);

/* ---- exceptions ---- */
void hv_inject_gp(struct hv_vcpu *v);
void hv_inject_pf(struct hv_vcpu *v, uint64_t gva, uint32_t error);

/* ---- shadow paging (shadow.c) ---- */
/* ---- SLAT tables (slat.c): root of the gpa -> hpa map, 0 without memory ---- */
uint64_t hv_slat_build(struct hv_vcpu *v, uint64_t nonleaf_bits, uint64_t leaf_bits);

bool hv_shadow_init(struct hv_vcpu *v);
void hv_shadow_flush(struct hv_vcpu *v);
void hv_shadow_invlpg(struct hv_vcpu *v, uint64_t gva);

/* ---- guest registers ---- */
/* RSP (n = 4) is there once the backend loaded it: VMX exit handlers that
 * name it do (vmx.c, load_rsp); SVM's is synced at every exit. */
static inline uint64_t hv_gpr(struct hv_vcpu *v, int n) { return v->g.r[n & 15]; }
static inline void hv_set_gpr(struct hv_vcpu *v, int n, uint64_t val) { v->g.r[n & 15] = val; }
const char *hv_gpr_name(int n);

/* ---- core dump of guest state for hv_stop (dump.c) ---- */
void hv_dump_guest(struct hv_vcpu *v);
void hv_print_stats(struct hv_vcpu *v);
const char *hv_hypercall_name(uint64_t nr);

/* ---- instruction decoding for exits without decode information (decode.c) ---- */
struct hv_insn {
    unsigned len;
    enum { INSN_OTHER, INSN_MOV_TO_CR, INSN_MOV_FROM_CR, INSN_CLTS, INSN_INVLPG } kind;
    int cr, gpr;
    uint64_t addr;       /* INVLPG's linear address */
    bool addr_known;     /* false with an FS/GS override (invalidate everything) */
};
/* Decodes the guest instruction at RIP. false: unreadable or not supported. */
bool hv_decode(struct hv_vcpu *v, struct hv_insn *in);

/* ---- the vCPU's initial state and run loop (vcpu.c) ---- */
bool hv_vcpu_init(struct hv_vcpu *v, const struct hv_backend *be, enum hv_mem_mode mode,
                  const void *image, size_t image_len);

/* Small freestanding helpers. */
void *hv_memset(void *d, int c, size_t n);
void *hv_memcpy(void *d, const void *s, size_t n);

#endif
