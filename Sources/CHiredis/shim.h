// hiredis (libhiredis-dev). Declared without pkg-config: its .pc file carries a flag SwiftPM
// refuses. Only TroupeStore's Redis adapter imports this, `internal`ly.
#include <hiredis/hiredis.h>
