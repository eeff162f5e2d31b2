# The SVM extension of the machine (sim/virt.h).
target_sources(hvsim_sim PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/svm_ext.c)
