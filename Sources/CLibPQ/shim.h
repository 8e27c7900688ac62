#ifndef BARFILL_CLIBPQ_SHIM_H
#define BARFILL_CLIBPQ_SHIM_H
// Debian's libpq-dev puts the client headers under postgresql/.
#include <postgresql/libpq-fe.h>
#endif
