/* The VMCB as hv uses it: APM Vol. 2, "Layout of VMCB" (control area,
 * then the state-save area at offset 400h). Each field's offset is in its
 * comment and checked at compile time. */
#ifndef HV_SVM_VMCB_H
#define HV_SVM_VMCB_H

#include <stddef.h>
#include <stdint.h>

struct vmcb_seg {
    uint16_t selector;
    uint16_t attrib;        /* compressed: descriptor bits 47:40 and 55:52 */
    uint32_t limit;
    uint64_t base;
};

struct vmcb {
    /* ---- control area ---- */
    uint16_t intercept_cr_read;     /* 000h */
    uint16_t intercept_cr_write;    /* 002h */
    uint16_t intercept_dr_read;     /* 004h */
    uint16_t intercept_dr_write;    /* 006h */
    uint32_t intercept_exceptions;  /* 008h */
    uint32_t intercept_misc1;       /* 00Ch */
    uint32_t intercept_misc2;       /* 010h */
    uint8_t reserved_014[0x03c - 0x014];
    uint16_t pause_filter_threshold; /* 03Ch */
    uint16_t pause_filter_count;    /* 03Eh */
    uint64_t iopm_base_pa;          /* 040h */
    uint64_t msrpm_base_pa;         /* 048h */
    uint64_t tsc_offset;            /* 050h */
    uint32_t guest_asid;            /* 058h */
    uint8_t tlb_control;            /* 05Ch */
    uint8_t reserved_05d[3];
    uint64_t v_intr;                /* 060h */
    uint64_t interrupt_shadow;      /* 068h */
    uint64_t exitcode;              /* 070h */
    uint64_t exitinfo1;             /* 078h */
    uint64_t exitinfo2;             /* 080h */
    uint64_t exitintinfo;           /* 088h */
    uint64_t np_enable;             /* 090h */
    uint64_t avic_apic_bar;         /* 098h */
    uint64_t ghcb_pa;               /* 0A0h */
    uint64_t eventinj;              /* 0A8h */
    uint64_t n_cr3;                 /* 0B0h */
    uint64_t lbr_virt_enable;       /* 0B8h */
    uint64_t vmcb_clean;            /* 0C0h */
    uint64_t nrip;                  /* 0C8h */
    uint8_t insn_bytes_fetched;     /* 0D0h */
    uint8_t insn_bytes[15];         /* 0D1h */
    uint8_t reserved_0e0[0x400 - 0x0e0];
    /* ---- state-save area ---- */
    struct vmcb_seg es, cs, ss, ds, fs, gs;   /* 400h .. 450h */
    struct vmcb_seg gdtr, ldtr, idtr, tr;     /* 460h .. 490h */
    uint8_t reserved_4a0[0x4cb - 0x4a0];
    uint8_t cpl;                    /* 4CBh */
    uint32_t reserved_4cc;
    uint64_t efer;                  /* 4D0h */
    uint8_t reserved_4d8[0x548 - 0x4d8];
    uint64_t cr4;                   /* 548h */
    uint64_t cr3;                   /* 550h */
    uint64_t cr0;                   /* 558h */
    uint64_t dr7;                   /* 560h */
    uint64_t dr6;                   /* 568h */
    uint64_t rflags;                /* 570h */
    uint64_t rip;                   /* 578h */
    uint8_t reserved_580[0x5d8 - 0x580];
    uint64_t rsp;                   /* 5D8h */
    uint8_t reserved_5e0[0x5f8 - 0x5e0];
    uint64_t rax;                   /* 5F8h */
    uint64_t star;                  /* 600h */
    uint64_t lstar;                 /* 608h */
    uint64_t cstar;                 /* 610h */
    uint64_t sfmask;                /* 618h */
    uint64_t kernel_gs_base;        /* 620h */
    uint64_t sysenter_cs;           /* 628h */
    uint64_t sysenter_esp;          /* 630h */
    uint64_t sysenter_eip;          /* 638h */
    uint64_t cr2;                   /* 640h */
    uint8_t reserved_648[0x668 - 0x648];
    uint64_t g_pat;                 /* 668h */
    uint64_t dbgctl;                /* 670h */
    uint8_t reserved_678[0x1000 - 0x678];
};

#define VMCB_AT(field, off) _Static_assert(offsetof(struct vmcb, field) == (off), #field " offset")
VMCB_AT(intercept_exceptions, 0x008);
VMCB_AT(intercept_misc2, 0x010);
VMCB_AT(iopm_base_pa, 0x040);
VMCB_AT(guest_asid, 0x058);
VMCB_AT(tlb_control, 0x05c);
VMCB_AT(exitcode, 0x070);
VMCB_AT(np_enable, 0x090);
VMCB_AT(eventinj, 0x0a8);
VMCB_AT(n_cr3, 0x0b0);
VMCB_AT(vmcb_clean, 0x0c0);
VMCB_AT(nrip, 0x0c8);
VMCB_AT(insn_bytes, 0x0d1);
VMCB_AT(es, 0x400);
VMCB_AT(cs, 0x410);
VMCB_AT(gdtr, 0x460);
VMCB_AT(tr, 0x490);
VMCB_AT(cpl, 0x4cb);
VMCB_AT(efer, 0x4d0);
VMCB_AT(cr4, 0x548);
VMCB_AT(rip, 0x578);
VMCB_AT(rsp, 0x5d8);
VMCB_AT(rax, 0x5f8);
VMCB_AT(kernel_gs_base, 0x620);
VMCB_AT(cr2, 0x640);
VMCB_AT(g_pat, 0x668);
_Static_assert(sizeof(struct vmcb) == 4096, "VMCB is one page");

/* Intercept bits (APM Vol. 2, "Layout of VMCB", vectors at 00Ch and 010h). */
#define SVM_MISC1_CPUID     (1u << 18)
#define SVM_MISC1_HLT       (1u << 24)
#define SVM_MISC1_INVLPG    (1u << 25)
#define SVM_MISC1_INVLPGA   (1u << 26)
#define SVM_MISC1_IOIO      (1u << 27)
#define SVM_MISC1_MSR       (1u << 28)
#define SVM_MISC1_SHUTDOWN  (1u << 31)
#define SVM_MISC2_VMRUN     (1u << 0)
#define SVM_MISC2_VMMCALL   (1u << 1)
#define SVM_MISC2_VMLOAD    (1u << 2)
#define SVM_MISC2_VMSAVE    (1u << 3)
#define SVM_MISC2_STGI      (1u << 4)
#define SVM_MISC2_CLGI      (1u << 5)
#define SVM_MISC2_SKINIT    (1u << 6)

/* EVENTINJ and EXITINTINFO (APM Vol. 2, "Event Injection"). */
#define SVM_EVT_VALID       (1ull << 31)
#define SVM_EVT_HAS_ERROR   (1ull << 11)
#define SVM_EVT_TYPE_EXCEPTION (3ull << 8)

/* TLB_CONTROL (APM Vol. 2, "TLB Flush"). */
#define SVM_TLB_NOTHING     0
#define SVM_TLB_FLUSH_ALL   1

#endif
