# CTest registration of the oracle tests (label `oracle`): every test image
# runs on QEMU and Bochs (Intel model; some also on the AMD model) and must
# reach its expected outcome, and QEMU's and Bochs's serial outputs must agree
# except for the declared lines. When the simulator exists (target `hvsim`),
# each image also runs on hvsim and is compared with both (label `hvsim`).
# Included from conformance/images/CMakeLists.txt.

set(_oracles ${PROJECT_SOURCE_DIR}/conformance/oracles)
set(_run ${_oracles}/run-image.sh)
set(_compare ${_oracles}/compare.sh)
set(_declared ${_oracles}/declared-differences.txt)
set(_oracle_out ${CMAKE_CURRENT_BINARY_DIR}/oracle-out)

find_program(HVSIM_QEMU NAMES qemu-system-x86_64)
find_program(HVSIM_BOCHS NAMES bochs)
if(NOT HVSIM_QEMU OR NOT HVSIM_BOCHS)
  message(WARNING "Oracle tests need qemu-system-x86_64 and bochs "
    "(apt-get install qemu-system-x86 bochs bochsbios vgabios); they are not registered.")
  return()
endif()

# Images run on Bochs's AMD model too (vendor-dependent paths: CPUID, paging,
# exceptions).
set(_amd_images boot paging paging32 taskgate exceptions insns syscall interrupts nmi icebp dbgbp acheck fpexc)
# Images QEMU 7.2 TCG cannot run: it hangs or loses control at checks the SDM
# requires (see each image's header comment). Bochs Intel is compared with
# Bochs AMD for them instead.
set(_no_qemu_images crchecks)
# SVM images Bochs 2.7 cannot run: it shuts the machine down at a guest
# triple fault under the SHUTDOWN intercept (see the image's header
# comment). hvsim is compared with QEMU alone for them.
set(_no_bochs_amd_images svm_shutdown)
# SVM images QEMU 7.2 TCG cannot run: it takes an INIT whatever GIF says
# and keeps it pending after #VMEXIT(INIT), so the host is reset (see the
# image's header comment). hvsim is compared with Bochs alone for them.
set(_no_qemu_svm_images svm_init)

# _oracle_run(IMAGE ENGINE [ENV...]): a run that must reach the image's
# expected outcome; it is the setup fixture of the comparisons.
function(_oracle_run img engine)
  string(REPLACE "-" "_" _e ${engine})
  set(_t oracle_${img}_${_e}_passes)
  add_test(NAME ${_t}
    COMMAND ${CMAKE_COMMAND} -E env ${ARGN}
            ${_run} ${engine} ${HVSIM_TEST_IMAGE_DIR}/${img} ${_oracle_out}/${engine}/${img})
  set_tests_properties(${_t} PROPERTIES TIMEOUT 90 FIXTURES_SETUP oracle_${img}_${_e})
  if(engine STREQUAL hvsim)
    set_tests_properties(${_t} PROPERTIES LABELS "oracle;hvsim")
  else()
    set_tests_properties(${_t} PROPERTIES LABELS "oracle")
  endif()
endfunction()

function(_oracle_compare img a b)
  string(REPLACE "-" "_" _a ${a})
  string(REPLACE "-" "_" _b ${b})
  set(_t oracle_${img}_${_a}_matches_${_b})
  add_test(NAME ${_t}
    COMMAND ${_compare} ${_oracle_out}/${a}/${img}/serial.txt
            ${_oracle_out}/${b}/${img}/serial.txt ${_declared})
  set_tests_properties(${_t} PROPERTIES TIMEOUT 30
    FIXTURES_REQUIRED "oracle_${img}_${_a};oracle_${img}_${_b}")
  if(a STREQUAL hvsim)
    set_tests_properties(${_t} PROPERTIES LABELS "oracle;hvsim")
  else()
    set_tests_properties(${_t} PROPERTIES LABELS "oracle")
  endif()
endfunction()

foreach(img ${HVSIM_TEST_IMAGES})
  _oracle_run(${img} bochs-intel)
  if(img IN_LIST _no_qemu_images)
    _oracle_run(${img} bochs-amd)
    _oracle_compare(${img} bochs-amd bochs-intel)
  else()
    _oracle_run(${img} qemu)
    _oracle_compare(${img} qemu bochs-intel)
    if(img IN_LIST _amd_images)
      _oracle_run(${img} bochs-amd)
    endif()
  endif()
  if(TARGET hvsim)
    _oracle_run(${img} hvsim HVSIM=$<TARGET_FILE:hvsim>)
    _oracle_compare(${img} hvsim bochs-intel)
    if(NOT img IN_LIST _no_qemu_images)
      _oracle_compare(${img} hvsim qemu)
    endif()
  endif()
endforeach()

# Guest-level VMX and SVM images (hvsim_virt_image): each engine with the
# extension runs them, and their outputs must agree.
foreach(img ${HVSIM_VIRT_IMAGES_intel})
  _oracle_run(${img} bochs-intel)
  if(TARGET hvsim)
    _oracle_run(${img} hvsim HVSIM=$<TARGET_FILE:hvsim> "HVSIM_ARGS=--mem 64M --cpu skylake-x")
    _oracle_compare(${img} hvsim bochs-intel)
  endif()
endforeach()
foreach(img ${HVSIM_VIRT_IMAGES_amd})
  set(_bochs TRUE)
  if(img IN_LIST _no_bochs_amd_images)
    set(_bochs FALSE)
  endif()
  set(_qemu TRUE)
  if(img IN_LIST _no_qemu_svm_images)
    set(_qemu FALSE)
  endif()
  if(_qemu)
    _oracle_run(${img} qemu "HVSIM_QEMU_CPU=EPYC,+svm,+npt")
  endif()
  if(_bochs)
    _oracle_run(${img} bochs-amd)
  endif()
  if(_bochs AND _qemu)
    _oracle_compare(${img} qemu bochs-amd)
  endif()
  if(TARGET hvsim)
    _oracle_run(${img} hvsim HVSIM=$<TARGET_FILE:hvsim> "HVSIM_ARGS=--mem 64M --cpu zen")
    if(_bochs)
      _oracle_compare(${img} hvsim bochs-amd)
    endif()
    if(_qemu)
      _oracle_compare(${img} hvsim qemu)
    endif()
  endif()
endforeach()

# The runner's own checks: a wrong image name is a clear error, not a pass;
# compare.sh notices a difference and honours declared lines.
add_test(NAME oracle_runner_missing_image_fails
  COMMAND ${_run} qemu ${HVSIM_TEST_IMAGE_DIR}/no-such-image ${_oracle_out}/qemu/no-such-image)
set_tests_properties(oracle_runner_missing_image_fails PROPERTIES LABELS "oracle" WILL_FAIL TRUE)
add_test(NAME oracle_compare_difference_detected
  COMMAND ${_compare} ${_oracles}/selftest/a.txt ${_oracles}/selftest/b-different.txt
          ${_oracles}/selftest/declared.txt)
set_tests_properties(oracle_compare_difference_detected PROPERTIES LABELS "oracle" WILL_FAIL TRUE)
add_test(NAME oracle_compare_declared_difference_ignored
  COMMAND ${_compare} ${_oracles}/selftest/a.txt ${_oracles}/selftest/b-declared.txt
          ${_oracles}/selftest/declared.txt)
set_tests_properties(oracle_compare_declared_difference_ignored PROPERTIES LABELS "oracle")

# The nmi image also runs on hvsim --cpu zen (the SVM extension's NMI
# rules outside a guest: IRET ends blocking by NMI there too) and must
# match Bochs ryzen.
if(TARGET hvsim)
  add_test(NAME oracle_nmi_hvsim_zen_passes
    COMMAND ${CMAKE_COMMAND} -E env HVSIM=$<TARGET_FILE:hvsim> "HVSIM_ARGS=--mem 64M --cpu zen"
            ${_run} hvsim ${HVSIM_TEST_IMAGE_DIR}/nmi ${_oracle_out}/hvsim-zen/nmi)
  set_tests_properties(oracle_nmi_hvsim_zen_passes PROPERTIES TIMEOUT 90 LABELS "oracle;hvsim"
    FIXTURES_SETUP oracle_nmi_hvsim_zen)
  add_test(NAME oracle_nmi_hvsim_zen_matches_bochs_amd
    COMMAND ${_compare} ${_oracle_out}/hvsim-zen/nmi/serial.txt ${_oracle_out}/bochs-amd/nmi/serial.txt ${_declared})
  set_tests_properties(oracle_nmi_hvsim_zen_matches_bochs_amd PROPERTIES TIMEOUT 30 LABELS "oracle;hvsim"
    FIXTURES_REQUIRED "oracle_nmi_hvsim_zen;oracle_nmi_bochs_amd")
endif()
