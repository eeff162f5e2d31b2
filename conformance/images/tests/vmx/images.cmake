# Guest-level VMX images: each is an L1 hypervisor that runs on Bochs
# (corei7_skylake_x) and on hvsim (--cpu skylake-x); their serial outputs
# are compared (conformance/images/oracle-tests.cmake).
hvsim_virt_image(vmx_basic intel tests/vmx/vmx_basic.c)
hvsim_virt_image(vmx_exits intel tests/vmx/vmx_exits.c)
hvsim_virt_image(vmx_ept intel tests/vmx/vmx_ept.c)
hvsim_virt_image(vmx_entry intel tests/vmx/vmx_entry.c)
hvsim_virt_image(vmx_cpuid_loop intel tests/vmx/vmx_cpuid_loop.c)
hvsim_virt_image(vmx_realmode intel tests/vmx/vmx_realmode.c)
hvsim_virt_image(vmx_shadow intel tests/vmx/vmx_shadow.c)
hvsim_virt_image(vmx_delivery intel tests/vmx/vmx_delivery.c)
hvsim_virt_image(vmx_crshadow intel tests/vmx/vmx_crshadow.c)
hvsim_virt_image(vmx_desc intel tests/vmx/vmx_desc.c)
hvsim_virt_image(vmx_intr intel tests/vmx/vmx_intr.c)
hvsim_virt_image(vmx_timer intel tests/vmx/vmx_timer.c)
hvsim_virt_image(vmx_mtf intel tests/vmx/vmx_mtf.c)
hvsim_virt_image(vmx_nmi intel tests/vmx/vmx_nmi.c)
hvsim_virt_image(vmx_ple intel tests/vmx/vmx_ple.c)
hvsim_virt_image(vmx_task intel tests/vmx/vmx_task.c)
hvsim_virt_image(vmx_nmi_exiting intel tests/vmx/vmx_nmi_exiting.c)
hvsim_virt_image(vmx_icebp intel tests/vmx/vmx_icebp.c)
hvsim_virt_image(vmx_mtf_dbg intel tests/vmx/vmx_mtf_dbg.c)
hvsim_virt_image(vmx_init intel tests/vmx/vmx_init.c)
# vmx_init built to send an SMI from the guest first: hvsim only (the run
# must stop there: SMM is not modelled), run by conformance/vmx's
# vmx_test_vmx_machine; not an oracle image.
set(_keep_images ${HVSIM_TEST_IMAGES})
hvsim_test_image(vmx_init_smi 64 tests/vmx/vmx_init_smi.c)
# vmx_dbgbp_recursion: a #DB whose own frame hits a data breakpoint on a
# fixed IST stack; hvsim must stop the endless recursion (run by
# conformance/vmx's vmx_test_vmx_machine); not an oracle image.
hvsim_test_image(vmx_dbgbp_recursion 64 tests/vmx/vmx_dbgbp_recursion.c)
set(HVSIM_TEST_IMAGES ${_keep_images} CACHE INTERNAL "")
hvsim_virt_image(vmx_dbgbp intel tests/vmx/vmx_dbgbp.c)
hvsim_virt_image(vmx_sti_movss intel tests/vmx/vmx_sti_movss.c)
