/* The VMCB (Virtual Machine Control Block) of AMD SVM as a packed struct.
 *
 * Layout from AMD APM Vol. 2, appendix "Layout of VMCB" (tables "VMCB Layout,
 * Control Area" and "VMCB Layout, State Save Area"). Every field carries its
 * byte offset from the start of the VMCB in a comment; vmcb_fields.def lists
 * the same offsets once more as data, and vmcb_layout.c asserts every field's
 * offsetof() against that list at compile time, so the struct and the table
 * used by dumps and messages cannot drift apart. Reserved areas are explicit
 * byte arrays named by their offset. */
#ifndef HVSIM_MODELS_SVM_VMCB_H
#define HVSIM_MODELS_SVM_VMCB_H

#include <stddef.h>
#include <stdint.h>

#define SVM_VMCB_SIZE 4096u
#define SVM_CONTROL_AREA_SIZE 0x400u

/* A segment register in the VMCB: attributes are the descriptor's bits
 * 47:40 in attrib[7:0] and bits 55:52 in attrib[11:8] (APM Vol. 2, "Segment
 * State in the VMCB"); base and limit are fully expanded. */
struct __attribute__((packed)) svm_vmcb_seg {
  uint16_t selector; /* +0 */
  uint16_t attrib;   /* +2 */
  uint32_t limit;    /* +4 */
  uint64_t base;     /* +8 */
};

/* attrib bits (APM Vol. 2, "Segment State in the VMCB"). */
#define SVM_ATTR_TYPE(a) ((a) & 0xFu)
#define SVM_ATTR_S   (1u << 4)
#define SVM_ATTR_DPL(a) (((a) >> 5) & 3u)
#define SVM_ATTR_P   (1u << 7)
#define SVM_ATTR_AVL (1u << 8)
#define SVM_ATTR_L   (1u << 9)
#define SVM_ATTR_DB  (1u << 10)
#define SVM_ATTR_G   (1u << 11)

struct __attribute__((packed)) svm_vmcb_control {
  uint16_t cr_read_intercepts;      /* 0x000 bits 15:0 of the CR intercept word */
  uint16_t cr_write_intercepts;     /* 0x002 */
  uint16_t dr_read_intercepts;      /* 0x004 */
  uint16_t dr_write_intercepts;     /* 0x006 */
  uint32_t exception_intercepts;    /* 0x008 one bit per vector 0-31 */
  uint32_t intercept_vec1;          /* 0x00C INTR ... SHUTDOWN */
  uint32_t intercept_vec2;          /* 0x010 VMRUN ... CR write traps */
  uint32_t intercept_vec3;          /* 0x014 INVLPGB ... TLBSYNC */
  uint8_t  reserved_018[0x24];      /* 0x018-0x03B */
  uint16_t pause_filter_threshold;  /* 0x03C */
  uint16_t pause_filter_count;      /* 0x03E */
  uint64_t iopm_base_pa;            /* 0x040 bits 11:0 ignored */
  uint64_t msrpm_base_pa;           /* 0x048 bits 11:0 ignored */
  uint64_t tsc_offset;              /* 0x050 */
  uint32_t guest_asid;              /* 0x058 */
  uint8_t  tlb_control;             /* 0x05C */
  uint8_t  reserved_05d[3];         /* 0x05D-0x05F */
  uint64_t vintr;                   /* 0x060 V_TPR, V_IRQ, VGIF, V_INTR_PRIO, ... */
  uint64_t interrupt_shadow;        /* 0x068 bit 0 shadow, bit 1 GUEST_INTERRUPT_MASK */
  uint64_t exitcode;                /* 0x070 */
  uint64_t exitinfo1;               /* 0x078 */
  uint64_t exitinfo2;               /* 0x080 */
  uint64_t exitintinfo;             /* 0x088 */
  uint64_t np_control;              /* 0x090 bit 0 NP_ENABLE, 1 SEV, 2 SEV-ES, 3 GMET */
  uint64_t avic_apic_bar;           /* 0x098 */
  uint64_t ghcb_pa;                 /* 0x0A0 */
  uint64_t eventinj;                /* 0x0A8 */
  uint64_t ncr3;                    /* 0x0B0 */
  uint64_t virt_ext;                /* 0x0B8 bit 0 LBR virt, bit 1 virtual VMSAVE/VMLOAD */
  uint32_t vmcb_clean;              /* 0x0C0 */
  uint32_t reserved_0c4;            /* 0x0C4 */
  uint64_t nrip;                    /* 0x0C8 */
  uint8_t  insn_len;                /* 0x0D0 number of bytes fetched */
  uint8_t  insn_bytes[15];          /* 0x0D1-0x0DF */
  uint64_t avic_backing_page;       /* 0x0E0 */
  uint8_t  reserved_0e8[8];         /* 0x0E8 */
  uint64_t avic_logical_table;      /* 0x0F0 */
  uint64_t avic_physical_table;     /* 0x0F8 */
  uint8_t  reserved_100[8];         /* 0x100 */
  uint64_t vmsa_pa;                 /* 0x108 SEV-ES save area */
  uint8_t  reserved_110[0x2D0];     /* 0x110-0x3DF */
  uint8_t  reserved_host[0x20];     /* 0x3E0-0x3FF reserved for host software */
};

struct __attribute__((packed)) svm_vmcb_save {
  struct svm_vmcb_seg es;           /* 0x400 */
  struct svm_vmcb_seg cs;           /* 0x410 */
  struct svm_vmcb_seg ss;           /* 0x420 */
  struct svm_vmcb_seg ds;           /* 0x430 */
  struct svm_vmcb_seg fs;           /* 0x440 */
  struct svm_vmcb_seg gs;           /* 0x450 */
  struct svm_vmcb_seg gdtr;         /* 0x460 only base and limit used */
  struct svm_vmcb_seg ldtr;         /* 0x470 */
  struct svm_vmcb_seg idtr;         /* 0x480 only base and limit used */
  struct svm_vmcb_seg tr;           /* 0x490 */
  uint8_t  reserved_4a0[0x2A];      /* 0x4A0-0x4C9 */
  uint8_t  vmpl;                    /* 0x4CA SEV-SNP */
  uint8_t  cpl;                     /* 0x4CB */
  uint32_t reserved_4cc;            /* 0x4CC */
  uint64_t efer;                    /* 0x4D0 */
  uint8_t  reserved_4d8[0x70];      /* 0x4D8-0x547 */
  uint64_t cr4;                     /* 0x548 */
  uint64_t cr3;                     /* 0x550 */
  uint64_t cr0;                     /* 0x558 */
  uint64_t dr7;                     /* 0x560 */
  uint64_t dr6;                     /* 0x568 */
  uint64_t rflags;                  /* 0x570 */
  uint64_t rip;                     /* 0x578 */
  uint8_t  reserved_580[0x58];      /* 0x580-0x5D7 */
  uint64_t rsp;                     /* 0x5D8 */
  uint64_t s_cet;                   /* 0x5E0 */
  uint64_t ssp;                     /* 0x5E8 */
  uint64_t isst_addr;               /* 0x5F0 */
  uint64_t rax;                     /* 0x5F8 */
  uint64_t star;                    /* 0x600 */
  uint64_t lstar;                   /* 0x608 */
  uint64_t cstar;                   /* 0x610 */
  uint64_t sfmask;                  /* 0x618 */
  uint64_t kernel_gs_base;          /* 0x620 */
  uint64_t sysenter_cs;             /* 0x628 */
  uint64_t sysenter_esp;            /* 0x630 */
  uint64_t sysenter_eip;            /* 0x638 */
  uint64_t cr2;                     /* 0x640 */
  uint8_t  reserved_648[0x20];      /* 0x648-0x667 */
  uint64_t g_pat;                   /* 0x668 */
  uint64_t dbgctl;                  /* 0x670 */
  uint64_t br_from;                 /* 0x678 */
  uint64_t br_to;                   /* 0x680 */
  uint64_t last_excp_from;          /* 0x688 */
  uint64_t last_excp_to;            /* 0x690 */
  uint8_t  reserved_698[0x48];      /* 0x698-0x6DF */
  uint64_t spec_ctrl;               /* 0x6E0 */
  uint8_t  reserved_6e8[0x918];     /* 0x6E8-0xFFF */
};

struct __attribute__((packed)) svm_vmcb {
  struct svm_vmcb_control control;  /* 0x000 */
  struct svm_vmcb_save save;        /* 0x400 */
};

_Static_assert(sizeof(struct svm_vmcb_seg) == 16, "VMCB segment is 16 bytes");
_Static_assert(sizeof(struct svm_vmcb_control) == SVM_CONTROL_AREA_SIZE, "control area is 1 KiB");
_Static_assert(sizeof(struct svm_vmcb) == SVM_VMCB_SIZE, "VMCB is 4 KiB");
/* The bytes that hold fields: the rest of the page is reserved, and the
 * instructions move only these. */
#define SVM_VMCB_USED_BYTES 0x6E8u
_Static_assert(__builtin_offsetof(struct svm_vmcb, save.reserved_6e8) == SVM_VMCB_USED_BYTES, "VMCB fields end at 0x6E8");

/* Bits of the control-area words, APM Vol. 2 "Layout of VMCB". */
#define SVM_VINTR_V_TPR(v)          ((v) & 0xFFu)
#define SVM_VINTR_V_IRQ             (1ull << 8)
#define SVM_VINTR_VGIF              (1ull << 9)
#define SVM_VINTR_V_INTR_PRIO(v)    (((v) >> 16) & 0xFu)
#define SVM_VINTR_V_IGN_TPR         (1ull << 20)
#define SVM_VINTR_V_INTR_MASKING    (1ull << 24)
#define SVM_VINTR_VGIF_ENABLE       (1ull << 25)
#define SVM_VINTR_AVIC_ENABLE       (1ull << 31)
#define SVM_VINTR_V_INTR_VECTOR(v)  (((v) >> 32) & 0xFFu)

#define SVM_NP_ENABLE               (1ull << 0)
#define SVM_VIRT_EXT_LBR            (1ull << 0)
#define SVM_VIRT_EXT_VMSAVE_VMLOAD  (1ull << 1)

/* EVENTINJ / EXITINTINFO (APM Vol. 2, "Event Injection"). */
#define SVM_EVENT_VECTOR(e)   ((unsigned)((e) & 0xFFu))
#define SVM_EVENT_TYPE(e)     ((unsigned)(((e) >> 8) & 7u))
#define SVM_EVENT_EV          (1ull << 11)
#define SVM_EVENT_V           (1ull << 31)
#define SVM_EVENT_ERRORCODE(e) ((uint32_t)((e) >> 32))
enum svm_event_type {
  SVM_EVENT_INTR = 0, SVM_EVENT_NMI = 2, SVM_EVENT_EXCEPTION = 3, SVM_EVENT_SOFT_INT = 4,
};

/* TLB_CONTROL encodings (APM Vol. 2, "TLB Flush"). */
enum svm_tlb_control {
  SVM_TLB_CONTROL_DO_NOTHING = 0,
  SVM_TLB_CONTROL_FLUSH_ALL = 1,
  SVM_TLB_CONTROL_FLUSH_ASID = 3,
  SVM_TLB_CONTROL_FLUSH_ASID_NONGLOBAL = 7,
};

/* Sizes of the permission maps (APM Vol. 2, "I/O Intercepts" / "MSR
 * Intercepts"): the IOPM is 12 KiB, the MSRPM 8 KiB. */
#define SVM_IOPM_SIZE  0x3000u
#define SVM_MSRPM_SIZE 0x2000u

/* The field catalogue (vmcb_fields.def) expanded into an enum and a table. */
enum svm_vmcb_field_id {
#define SVM_VMCB_FIELD(id, name, member, offset, size) SVM_FIELD_##id,
#include "models/svm/vmcb_fields.def"
#undef SVM_VMCB_FIELD
  SVM_FIELD_COUNT
};

struct svm_vmcb_field {
  const char *name;   /* the name used in dumps and messages */
  uint16_t offset;    /* byte offset in the VMCB */
  uint8_t size;       /* bytes: 1, 2, 4 or 8 */
};

extern const struct svm_vmcb_field svm_vmcb_fields[SVM_FIELD_COUNT];

/* Field lookup by dump name; NULL when unknown. */
const struct svm_vmcb_field *svm_vmcb_field_by_name(const char *name);
/* Reads/writes a field of a VMCB image (little-endian, as in memory). */
uint64_t svm_vmcb_field_read(const struct svm_vmcb *v, const struct svm_vmcb_field *f);
void svm_vmcb_field_write(struct svm_vmcb *v, const struct svm_vmcb_field *f, uint64_t value);

#endif
