/* A decoder for the few instructions whose exits carry no decode
 * information on every processor (SVM without NRIP save or decode assists:
 * APM Vol. 2, "Next sRIP", "Decode Assists"): MOV to/from CR, CLTS, INVLPG,
 * and the lengths of CPUID, RDMSR, WRMSR, HLT, VMMCALL. 64-bit mode only.
 * SDM Vol. 2A, "Instruction Format", "ModR/M and SIB Bytes"; "REX Prefixes". */
#include "hv/core/hv.h"

struct cursor {
    const uint8_t *b;
    unsigned n, len;
};

static bool next(struct cursor *c, uint8_t *out)
{
    if (c->n >= c->len)
        return false;
    *out = c->b[c->n++];
    return true;
}

/* The memory operand of a ModR/M byte (mod != 3): its effective address and
 * length. 64-bit addressing: SDM Vol. 2A, "Addressing-Mode Encoding of
 * ModR/M and SIB Bytes" and "RIP-Relative Addressing". */
static bool mem_operand(struct hv_vcpu *v, struct cursor *c, uint8_t modrm, uint8_t rex,
                        uint64_t *addr, bool *rip_relative)
{
    unsigned mod = modrm >> 6, rm = modrm & 7;
    uint64_t ea = 0;
    int32_t disp = 0;
    *rip_relative = false;
    if (rm == 4) {
        uint8_t sib;
        if (!next(c, &sib))
            return false;
        unsigned scale = sib >> 6, index = ((sib >> 3) & 7) | (rex & 2 ? 8 : 0);
        unsigned base = (sib & 7) | (rex & 1 ? 8 : 0);
        if (index != 4)
            ea += hv_gpr(v, index) << scale;
        if ((sib & 7) == 5 && mod == 0)
            mod = 2 | 0x10;   /* disp32, no base */
        else
            ea += hv_gpr(v, base);
    } else if (rm == 5 && mod == 0) {
        *rip_relative = true;
        mod = 2 | 0x10;
    } else {
        ea += hv_gpr(v, rm | (rex & 1 ? 8 : 0));
    }
    if ((mod & 3) == 1) {
        uint8_t d;
        if (!next(c, &d))
            return false;
        disp = (int8_t)d;
    } else if ((mod & 3) == 2) {
        uint32_t d = 0;
        for (int i = 0; i < 4; i++) {
            uint8_t byte;
            if (!next(c, &byte))
                return false;
            d |= (uint32_t)byte << (8 * i);
        }
        disp = (int32_t)d;
    }
    *addr = ea + (uint64_t)(int64_t)disp;
    return true;
}

bool hv_decode(struct hv_vcpu *v, struct hv_insn *in)
{
    uint8_t bytes[15];
    unsigned avail = 15;
    /* The instruction may end before a page boundary that is not mapped. */
    while (avail && !hv_read_gva(v, v->rip, bytes, avail))
        avail = avail > 1 ? avail - 1 : 0;
    if (!avail)
        return false;
    struct cursor c = {bytes, 0, avail};
    uint8_t b, rex = 0;
    bool fs_gs = false, addr32 = false;
    for (;;) {
        if (!next(&c, &b))
            return false;
        addr32 |= b == 0x67;
        if (b == 0x64 || b == 0x65)
            fs_gs = true;
        else if (!(b == 0x66 || b == 0x67 || b == 0xf0 || b == 0xf2 || b == 0xf3 || b == 0x2e ||
                   b == 0x36 || b == 0x3e || b == 0x26))
            break;
        rex = 0;   /* a REX prefix counts only immediately before the opcode */
    }
    if ((b & 0xf0) == 0x40) {
        rex = b;
        if (!next(&c, &b))
            return false;
    }
    in->kind = INSN_OTHER;
    in->addr_known = false;
    if (b == 0xf4) {                         /* HLT */
        in->len = c.n;
        return true;
    }
    if (b != 0x0f || !next(&c, &b))
        return false;
    uint8_t modrm;
    switch (b) {
    case 0xa2:                               /* CPUID */
    case 0x30:                               /* WRMSR */
    case 0x32:                               /* RDMSR */
        in->len = c.n;
        return true;
    case 0x06:                               /* CLTS */
        in->kind = INSN_CLTS;
        in->len = c.n;
        return true;
    case 0x20:                               /* MOV r64, CRn */
    case 0x22:                               /* MOV CRn, r64 */
        if (!next(&c, &modrm))
            return false;
        /* The ModR/M mod field is ignored: always a register operand. */
        in->kind = b == 0x22 ? INSN_MOV_TO_CR : INSN_MOV_FROM_CR;
        in->cr = ((modrm >> 3) & 7) | (rex & 4 ? 8 : 0);
        in->gpr = (modrm & 7) | (rex & 1 ? 8 : 0);
        in->len = c.n;
        return true;
    case 0x01:
        if (!next(&c, &modrm))
            return false;
        if (modrm == 0xd9 || modrm == 0xc1) { /* VMMCALL, VMCALL */
            in->len = c.n;
            return true;
        }
        if ((modrm >> 6) != 3 && ((modrm >> 3) & 7) == 7) {   /* INVLPG m */
            bool rip_rel;
            if (!mem_operand(v, &c, modrm, rex, &in->addr, &rip_rel))
                return false;
            in->len = c.n;
            if (rip_rel)
                in->addr += v->rip + in->len;
            /* 67H selects 32-bit addressing in 64-bit mode: the effective
             * address is computed in 32 bits (SDM Vol. 1, "Operand Size and
             * Address Size in 64-Bit Mode"). */
            if (addr32)
                in->addr = (uint32_t)in->addr;
            in->kind = INSN_INVLPG;
            in->addr_known = !fs_gs;
            return true;
        }
        return false;
    }
    return false;
}
