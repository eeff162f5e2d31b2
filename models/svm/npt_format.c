/* NPT = the host paging format under nCR3 (see npt_format.h). */
#include "models/svm/npt_format.h"

#include "sim/mmu/x86_format.h"

bool npt_host_mode(uint64_t host_cr4, uint64_t host_efer, unsigned features,
                   enum mmu_x86_mode *mode)
{
  /* The host runs with paging on whenever nested paging is used. */
  return x86_mode_of(CR0_PG, host_cr4, host_efer, features, mode);
}
