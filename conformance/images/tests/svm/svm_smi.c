/* svm_smi: an SMI under the SMI intercept (tests/svm/svm_signal.c). */
#include "tests/svm/svm_signal.c"
