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
