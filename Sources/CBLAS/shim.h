// The CBLAS interface of the system BLAS (OpenBLAS when libopenblas-dev is installed, else the
// reference BLAS). Only TroupeRetrieval's scorer and embedder import this, `internal`ly.
#include <cblas.h>
