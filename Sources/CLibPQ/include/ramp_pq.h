/*
 * ramp_pq.h — ramp's thin boundary to libpq, PostgreSQL's C client library.
 *
 * libpq is loaded at run time (dlopen of libpq.so.5, or libpq.5.dylib on macOS) the first time a PostgreSQL
 * store is named, so that building ramp and using a SQLite store never need it. Only the calls ramp makes are
 * here, with libpq's own meanings (https://www.postgresql.org/docs/current/libpq.html); connections and results
 * are opaque pointers. Every parameter and every value travels as text.
 */
#ifndef RAMP_PQ_H
#define RAMP_PQ_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ramp_pq_conn ramp_pq_conn;     /* a PGconn */
typedef struct ramp_pq_result ramp_pq_result; /* a PGresult */

/* Loads libpq once per process (later calls return the first outcome). `path` names the library to load, or
 * NULL for the platform's libpq.so.5 / libpq.5.dylib. Returns 1 when every call below is available; else 0, with
 * why in `error` (always NUL-terminated). Safe to call from several threads. */
int ramp_pq_load(const char *path, char *error, size_t error_size);

/* PQconnectdb: a connection from a connection string or postgres:// URI (libpq also reads PG* variables and
 * ~/.pgpass). Never NULL once loaded, except when out of memory; check ramp_pq_connected. */
ramp_pq_conn *ramp_pq_connect(const char *conninfo);
/* 1 when the connection is up (PQstatus is CONNECTION_OK). */
int ramp_pq_connected(const ramp_pq_conn *conn);
/* PQerrorMessage: the last error on the connection (owned by it). */
const char *ramp_pq_error(const ramp_pq_conn *conn);
/* PQfinish. */
void ramp_pq_finish(ramp_pq_conn *conn);

/* PQexecParams with `count` text parameters (a NULL entry is SQL NULL) and text results. `types` gives each
 * parameter's type OID (0: the server infers it), or is NULL for all inferred. */
ramp_pq_result *ramp_pq_exec(ramp_pq_conn *conn, const char *command, int count, const unsigned int *types,
                             const char *const *values);
/* 1 when the command succeeded (PGRES_COMMAND_OK or PGRES_TUPLES_OK). */
int ramp_pq_ok(const ramp_pq_result *result);
/* PQresultErrorMessage, and the SQLSTATE code (PG_DIAG_SQLSTATE; "" when none). */
const char *ramp_pq_result_error(const ramp_pq_result *result);
const char *ramp_pq_sqlstate(const ramp_pq_result *result);
/* PQntuples, PQnfields, PQgetisnull, PQgetvalue. */
int ramp_pq_rows(const ramp_pq_result *result);
int ramp_pq_columns(const ramp_pq_result *result);
int ramp_pq_is_null(const ramp_pq_result *result, int row, int column);
const char *ramp_pq_value(const ramp_pq_result *result, int row, int column);
/* PQclear (NULL is fine). */
void ramp_pq_clear(ramp_pq_result *result);
/* PQcmdTuples as a number: the rows an INSERT, UPDATE or DELETE changed (0 for other commands). */
long ramp_pq_changes(const ramp_pq_result *result);
/* PQprepare: a named statement of `count` parameters of the given type OIDs (NULL: all inferred). */
ramp_pq_result *ramp_pq_prepare(ramp_pq_conn *conn, const char *name, const char *command, int count,
                                const unsigned int *types);
/* PQexecPrepared with `count` text parameters (a NULL entry is SQL NULL) and text results. */
ramp_pq_result *ramp_pq_exec_prepared(ramp_pq_conn *conn, const char *name, int count, const char *const *values);
/* PQexec: one or more statements with no parameters (migrations). */
ramp_pq_result *ramp_pq_exec_script(ramp_pq_conn *conn, const char *script);
/* PQtransactionStatus: 1 inside a transaction block (idle, active or failed), 0 outside, -1 when the connection is
 * bad or unknown. */
int ramp_pq_in_transaction(const ramp_pq_conn *conn);

/* Notifications (LISTEN): PQsocket, PQconsumeInput (1 on success), and the number of notifications waiting,
 * taken and freed (PQnotifies until NULL, PQfreemem). */
int ramp_pq_socket(const ramp_pq_conn *conn);
int ramp_pq_consume_input(ramp_pq_conn *conn);
int ramp_pq_take_notifications(ramp_pq_conn *conn);
/* PQbackendPID: the server process of this connection. */
int ramp_pq_backend_pid(const ramp_pq_conn *conn);

#ifdef __cplusplus
}
#endif

#endif /* RAMP_PQ_H */
