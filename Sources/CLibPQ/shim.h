// libpq (libpq-dev), PostgreSQL's own client library, for the PostgreSQL store. Only
// TroupeStore's connection layer imports this, `internal`ly.
#include <postgresql/libpq-fe.h>
