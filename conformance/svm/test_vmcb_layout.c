/* Tests of the VMCB layout and the intercept / exit-code catalogues against
 * AMD APM Vol. 2, appendix "Layout of VMCB" and "SVM Intercept Exit Codes". */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "models/svm/svm_catalog.h"
#include "models/svm/vmcb.h"

static void svm_vmcb_fields_inside_page_and_disjoint(void **state)
{
  uint8_t owner[SVM_VMCB_SIZE];
  memset(owner, 0xFF, sizeof owner);
  for (unsigned i = 0; i < SVM_FIELD_COUNT; i++) {
    const struct svm_vmcb_field *f = &svm_vmcb_fields[i];
    assert_true(f->size == 1 || f->size == 2 || f->size == 4 || f->size == 8);
    assert_true(f->offset + f->size <= SVM_VMCB_SIZE);
    for (unsigned b = f->offset; b < f->offset + f->size; b++) {
      assert_int_equal(owner[b], 0xFF); /* no two fields share a byte */
      owner[b] = (uint8_t)i;
    }
  }
}

static void svm_vmcb_field_names_unique_and_found(void **state)
{
  for (unsigned i = 0; i < SVM_FIELD_COUNT; i++) {
    assert_ptr_equal(svm_vmcb_field_by_name(svm_vmcb_fields[i].name), &svm_vmcb_fields[i]);
  }
  assert_null(svm_vmcb_field_by_name("no_such_field"));
  assert_null(svm_vmcb_field_by_name(""));
}

/* The table and the struct agree: writing through the table lands in the
 * struct member of the same name (spot checks across both areas). */
static void svm_vmcb_field_write_reaches_struct_member(void **state)
{
  static struct svm_vmcb v;
  memset(&v, 0, sizeof v);
  svm_vmcb_field_write(&v, svm_vmcb_field_by_name("guest_asid"), 0x11223344);
  svm_vmcb_field_write(&v, svm_vmcb_field_by_name("efer"), 0x1d01);
  svm_vmcb_field_write(&v, svm_vmcb_field_by_name("cs.attrib"), 0x029b);
  svm_vmcb_field_write(&v, svm_vmcb_field_by_name("tlb_control"), 0x3);
  svm_vmcb_field_write(&v, svm_vmcb_field_by_name("spec_ctrl"), 0xabcdef);
  assert_int_equal(v.control.guest_asid, 0x11223344);
  assert_int_equal(v.save.efer, 0x1d01);
  assert_int_equal(v.save.cs.attrib, 0x029b);
  assert_int_equal(v.control.tlb_control, 3);
  assert_int_equal(v.save.spec_ctrl, 0xabcdef);
  /* Little-endian bytes at the APM offsets. */
  const uint8_t *raw = (const uint8_t *)&v;
  assert_int_equal(raw[0x058], 0x44);
  assert_int_equal(raw[0x05B], 0x11);
  assert_int_equal(raw[0x4D0], 0x01);
  assert_int_equal(raw[0x4D1], 0x1d);
  assert_int_equal(raw[0x412], 0x9b);
  assert_int_equal(svm_vmcb_field_read(&v, svm_vmcb_field_by_name("guest_asid")), 0x11223344);
  /* A 1-byte field does not spill into its neighbour. */
  svm_vmcb_field_write(&v, svm_vmcb_field_by_name("tlb_control"), 0x1FF);
  assert_int_equal(v.control.tlb_control, 0xFF);
  assert_int_equal(v.control.reserved_05d[0], 0);
}

static void svm_intercept_bits_at_apm_positions(void **state)
{
  static struct svm_vmcb v;
  memset(&v, 0, sizeof v);
  svm_intercept_set(&v, SVM_INTERCEPT_VMRUN, true);
  assert_int_equal(v.control.intercept_vec2, 1u);
  svm_intercept_set(&v, SVM_INTERCEPT_CR8_WRITE, true);
  assert_int_equal(v.control.cr_write_intercepts, 1u << 8);
  assert_int_equal(v.control.cr_read_intercepts, 0);
  svm_intercept_set(&v, SVM_INTERCEPT_DR7_READ, true);
  assert_int_equal(v.control.dr_read_intercepts, 1u << 7);
  svm_intercept_set(&v, SVM_INTERCEPT_EXCP_PF, true);
  assert_int_equal(v.control.exception_intercepts, 1u << 14);
  svm_intercept_set(&v, SVM_INTERCEPT_HLT, true);
  svm_intercept_set(&v, SVM_INTERCEPT_IOIO_PROT, true);
  svm_intercept_set(&v, SVM_INTERCEPT_MSR_PROT, true);
  assert_int_equal(v.control.intercept_vec1, (1u << 24) | (1u << 27) | (1u << 28));
  svm_intercept_set(&v, SVM_INTERCEPT_INVPCID, true);
  assert_int_equal(v.control.intercept_vec3, 1u << 2);
  assert_true(svm_intercept_is_set(&v, SVM_INTERCEPT_HLT));
  svm_intercept_set(&v, SVM_INTERCEPT_HLT, false);
  assert_false(svm_intercept_is_set(&v, SVM_INTERCEPT_HLT));
  assert_true(svm_intercept_is_set(&v, SVM_INTERCEPT_IOIO_PROT));
}

static void svm_intercepts_unique_bits(void **state)
{
  for (unsigned i = 0; i < SVM_INTERCEPT_COUNT; i++)
    for (unsigned j = i + 1; j < SVM_INTERCEPT_COUNT; j++)
      assert_false(svm_intercepts[i].word == svm_intercepts[j].word &&
                   svm_intercepts[i].bit == svm_intercepts[j].bit);
}

/* The exit code of CR/DR/exception intercepts follows from the bit: reads of
 * CRn give n, writes 0x10+n, DRn 0x20+n / 0x30+n, exception n 0x40+n. */
static void svm_intercepts_exitcodes_follow_bit(void **state)
{
  for (unsigned i = 0; i < SVM_INTERCEPT_COUNT; i++) {
    const struct svm_intercept_info *in = &svm_intercepts[i];
    if (in->word == 0) assert_int_equal(in->exitcode, in->bit < 16 ? in->bit : 0x10 + in->bit - 16);
    if (in->word == 1) assert_int_equal(in->exitcode, in->bit < 16 ? 0x20 + in->bit : 0x30 + in->bit - 16);
    if (in->word == 2) assert_int_equal(in->exitcode, 0x40 + in->bit);
    if (in->word == 3) assert_int_equal(in->exitcode, 0x60 + in->bit);
    if (in->word == 4) assert_int_equal(in->exitcode, 0x80 + in->bit);
    if (in->word == 5) assert_int_equal(in->exitcode, 0xA0 + in->bit);
  }
}

static void svm_exitcodes_unique_and_named(void **state)
{
  for (unsigned i = 0; i < SVM_EXIT_COUNT; i++)
    for (unsigned j = i + 1; j < SVM_EXIT_COUNT; j++)
      assert_true(svm_exit_infos[i].code != svm_exit_infos[j].code);
  assert_string_equal(svm_exit_name((uint64_t)-1), "INVALID");
  assert_string_equal(svm_exit_name(0x81), "VMMCALL");
  assert_string_equal(svm_exit_name(0x400), "NPF");
  assert_string_equal(svm_exit_name(0x7b), "IOIO");
  assert_null(svm_exit_name(0x3ff));
  assert_int_equal(SVM_EXIT_INVALID, -1);
  assert_int_equal(SVM_EXIT_EXCP_PF, 0x4e);
  assert_int_equal(SVM_EXIT_MSR, 0x7c);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(svm_vmcb_fields_inside_page_and_disjoint),
    cmocka_unit_test(svm_vmcb_field_names_unique_and_found),
    cmocka_unit_test(svm_vmcb_field_write_reaches_struct_member),
    cmocka_unit_test(svm_intercept_bits_at_apm_positions),
    cmocka_unit_test(svm_intercepts_unique_bits),
    cmocka_unit_test(svm_intercepts_exitcodes_follow_bit),
    cmocka_unit_test(svm_exitcodes_unique_and_named),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
