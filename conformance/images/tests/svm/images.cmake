# Guest-level SVM tests (AMD APM Vol. 2, "Secure Virtual Machine"): each
# image is an L1 hypervisor; it runs on Bochs ryzen, QEMU TCG
# (-cpu EPYC,+svm,+npt) and hvsim --cpu zen, and the serial outputs are
# compared (conformance/images/oracle-tests.cmake).
hvsim_virt_image(svm_basic amd tests/svm/svm_basic.c)
hvsim_virt_image(svm_npt amd tests/svm/svm_npt.c)
hvsim_virt_image(svm_exc amd tests/svm/svm_exc.c)
hvsim_virt_image(svm_msrio amd tests/svm/svm_msrio.c)
hvsim_virt_image(svm_misc amd tests/svm/svm_misc.c)
hvsim_virt_image(svm_desc amd tests/svm/svm_desc.c)
hvsim_virt_image(svm_shutdown amd tests/svm/svm_shutdown.c)
hvsim_virt_image(svm_intr amd tests/svm/svm_intr.c)
hvsim_virt_image(svm_decode amd tests/svm/svm_decode.c)
hvsim_virt_image(svm_task amd tests/svm/svm_task.c)
hvsim_virt_image(svm_flags amd tests/svm/svm_flags.c)
hvsim_virt_image(svm_nmi amd tests/svm/svm_nmi.c)
hvsim_virt_image(svm_icebp amd tests/svm/svm_icebp.c)
hvsim_virt_image(svm_strio amd tests/svm/svm_strio.c)
hvsim_virt_image(svm_pausefilt amd tests/svm/svm_pausefilt.c)
hvsim_virt_image(svm_smi amd tests/svm/svm_smi.c)
hvsim_virt_image(svm_init amd tests/svm/svm_init.c)

# svm_decode also runs on hvsim --cpu zen2, which has decode assists and
# RDPRU (no oracle offers them): the image checks the values those
# features give on its own and must pass.
if(TARGET hvsim)
  add_test(NAME oracle_svm_decode_hvsim_zen2_passes
    COMMAND ${CMAKE_COMMAND} -E env HVSIM=$<TARGET_FILE:hvsim> "HVSIM_ARGS=--mem 64M --cpu zen2"
            ${PROJECT_SOURCE_DIR}/conformance/oracles/run-image.sh hvsim ${_out}/svm_decode
            ${_out}/oracle-out/hvsim-zen2/svm_decode)
  set_tests_properties(oracle_svm_decode_hvsim_zen2_passes PROPERTIES TIMEOUT 90 LABELS "oracle;hvsim;svm")
endif()

# svm_pausefilt also runs on hvsim --cpu zen2, the one engine with the
# PAUSE filter threshold (Fn8000_000A EDX bit 12; neither oracle offers
# it): the image checks the threshold's effect on its own and must pass.
if(TARGET hvsim)
  add_test(NAME oracle_svm_pausefilt_hvsim_zen2_passes
    COMMAND ${CMAKE_COMMAND} -E env HVSIM=$<TARGET_FILE:hvsim> "HVSIM_ARGS=--mem 64M --cpu zen2"
            ${PROJECT_SOURCE_DIR}/conformance/oracles/run-image.sh hvsim ${_out}/svm_pausefilt
            ${_out}/oracle-out/hvsim-zen2/svm_pausefilt)
  set_tests_properties(oracle_svm_pausefilt_hvsim_zen2_passes PROPERTIES TIMEOUT 90 LABELS "oracle;hvsim;svm")
endif()
hvsim_virt_image(svm_dbgbp amd tests/svm/svm_dbgbp.c)
hvsim_virt_image(svm_sti_movss amd tests/svm/svm_sti_movss.c)
