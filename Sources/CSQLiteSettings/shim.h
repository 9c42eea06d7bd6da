#ifndef LINKGATE_CSQLITESETTINGS_SHIM_H
#define LINKGATE_CSQLITESETTINGS_SHIM_H

// Connection settings of the SQLite that sqlite-nio bundles (its symbols carry the
// prefix sqlite_nio_), for Sources/Grants/Store/SQLiteHandle.swift. sqlite3_db_config
// is variadic, which Swift cannot call; this header declares it as sqlite-nio's own
// header does (the symbol comes from sqlite-nio's VaporCSQLite, linked with SQLiteKit)
// and wraps the one call the store makes.

struct sqlite3;
int sqlite_nio_sqlite3_db_config(struct sqlite3 *, int op, ...);

// SQLITE_DBCONFIG_ENABLE_QPSG in sqlite3.h.
#define LINKGATE_SQLITE_DBCONFIG_ENABLE_QPSG 1007

// Turns on the query planner stability guarantee of the connection `db` (an
// sqlite3 *): a statement's plan never depends on the values bound to it, so a kept
// statement is never prepared again because a value changed (docs/grants.md,
// "Transactions"). Returns 1 when the setting is on.
static inline int linkgate_sqlite_enable_qpsg(void *db) {
    int enabled = 0;
    int status = sqlite_nio_sqlite3_db_config((struct sqlite3 *)db, LINKGATE_SQLITE_DBCONFIG_ENABLE_QPSG, 1, &enabled);
    return status == 0 && enabled == 1;
}

#endif
