/* ramp_pq.c — libpq loaded at run time; see include/ramp_pq.h. */
#include "ramp_pq.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* libpq's values that ramp reads (libpq-fe.h): ConnStatusType CONNECTION_OK, ExecStatusType PGRES_COMMAND_OK and
 * PGRES_TUPLES_OK, and the PG_DIAG_SQLSTATE field code. */
enum { CONNECTION_OK = 0, PGRES_COMMAND_OK = 1, PGRES_TUPLES_OK = 2, PG_DIAG_SQLSTATE = 'C' };
/* PGTransactionStatusType: PQTRANS_IDLE, PQTRANS_ACTIVE, PQTRANS_INTRANS, PQTRANS_INERROR, PQTRANS_UNKNOWN. */
enum { PQTRANS_IDLE = 0, PQTRANS_ACTIVE = 1, PQTRANS_INTRANS = 2, PQTRANS_INERROR = 3, PQTRANS_UNKNOWN = 4 };

static struct {
    void *(*connectdb)(const char *);
    int (*status)(const void *);
    char *(*error_message)(const void *);
    void (*finish)(void *);
    void *(*exec_params)(void *, const char *, int, const unsigned int *, const char *const *, const int *,
                         const int *, int);
    int (*result_status)(const void *);
    char *(*result_error_message)(const void *);
    char *(*result_error_field)(const void *, int);
    int (*ntuples)(const void *);
    int (*nfields)(const void *);
    int (*getisnull)(const void *, int, int);
    char *(*getvalue)(const void *, int, int);
    void (*clear)(void *);
    char *(*cmd_tuples)(void *);
    void *(*exec)(void *, const char *);
    int (*transaction_status)(const void *);
    int (*socket)(const void *);
    int (*consume_input)(void *);
    void *(*notifies)(void *);
    void (*freemem)(void *);
    int (*backend_pid)(const void *);
    void *(*prepare)(void *, const char *, const char *, int, const unsigned int *);
    void *(*exec_prepared)(void *, const char *, int, const char *const *, const int *, const int *, int);
} pq;

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static const char *load_path;
static char load_path_buffer[1024];
static int loaded;
static char load_error[2048];

static void load(void) {
    const char *path = load_path;
#if defined(__APPLE__)
    if (path == NULL) path = "libpq.5.dylib";
#else
    if (path == NULL) path = "libpq.so.5";
#endif
    void *library = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (library == NULL) {
        const char *why = dlerror();
        snprintf(load_error, sizeof load_error, "cannot load %s (%s)", path, why ? why : "unknown error");
        return;
    }
    struct {
        const char *name;
        void **slot;
    } symbols[] = {
        {"PQconnectdb", (void **)&pq.connectdb},
        {"PQstatus", (void **)&pq.status},
        {"PQerrorMessage", (void **)&pq.error_message},
        {"PQfinish", (void **)&pq.finish},
        {"PQexecParams", (void **)&pq.exec_params},
        {"PQresultStatus", (void **)&pq.result_status},
        {"PQresultErrorMessage", (void **)&pq.result_error_message},
        {"PQresultErrorField", (void **)&pq.result_error_field},
        {"PQntuples", (void **)&pq.ntuples},
        {"PQnfields", (void **)&pq.nfields},
        {"PQgetisnull", (void **)&pq.getisnull},
        {"PQgetvalue", (void **)&pq.getvalue},
        {"PQclear", (void **)&pq.clear},
        {"PQcmdTuples", (void **)&pq.cmd_tuples},
        {"PQexec", (void **)&pq.exec},
        {"PQtransactionStatus", (void **)&pq.transaction_status},
        {"PQsocket", (void **)&pq.socket},
        {"PQconsumeInput", (void **)&pq.consume_input},
        {"PQnotifies", (void **)&pq.notifies},
        {"PQfreemem", (void **)&pq.freemem},
        {"PQbackendPID", (void **)&pq.backend_pid},
        {"PQprepare", (void **)&pq.prepare},
        {"PQexecPrepared", (void **)&pq.exec_prepared},
    };
    for (size_t i = 0; i < sizeof symbols / sizeof symbols[0]; i++) {
        void *address = dlsym(library, symbols[i].name);
        if (address == NULL) {
            snprintf(load_error, sizeof load_error, "%s has no %s", path, symbols[i].name);
            return;
        }
        memcpy(symbols[i].slot, &address, sizeof address);
    }
    loaded = 1;
}

int ramp_pq_load(const char *path, char *error, size_t error_size) {
    static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    pthread_mutex_lock(&lock);
    if (load_path == NULL && path != NULL) {
        snprintf(load_path_buffer, sizeof load_path_buffer, "%s", path);
        load_path = load_path_buffer;
    }
    pthread_mutex_unlock(&lock);
    pthread_once(&load_once, load);
    if (!loaded && error != NULL && error_size > 0) snprintf(error, error_size, "%s", load_error);
    return loaded;
}

ramp_pq_conn *ramp_pq_connect(const char *conninfo) { return (ramp_pq_conn *)pq.connectdb(conninfo); }
int ramp_pq_connected(const ramp_pq_conn *conn) { return conn != NULL && pq.status(conn) == CONNECTION_OK; }
const char *ramp_pq_error(const ramp_pq_conn *conn) { return conn ? pq.error_message(conn) : "out of memory"; }
void ramp_pq_finish(ramp_pq_conn *conn) {
    if (conn != NULL) pq.finish(conn);
}

ramp_pq_result *ramp_pq_exec(ramp_pq_conn *conn, const char *command, int count, const unsigned int *types,
                             const char *const *values) {
    return (ramp_pq_result *)pq.exec_params(conn, command, count, types, values, NULL, NULL, 0);
}
int ramp_pq_ok(const ramp_pq_result *result) {
    if (result == NULL) return 0;
    int status = pq.result_status(result);
    return status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK;
}
const char *ramp_pq_result_error(const ramp_pq_result *result) {
    return result ? pq.result_error_message(result) : "no result (out of memory, or the connection was lost)";
}
const char *ramp_pq_sqlstate(const ramp_pq_result *result) {
    const char *code = result ? pq.result_error_field(result, PG_DIAG_SQLSTATE) : NULL;
    return code ? code : "";
}
int ramp_pq_rows(const ramp_pq_result *result) { return result ? pq.ntuples(result) : 0; }
int ramp_pq_columns(const ramp_pq_result *result) { return result ? pq.nfields(result) : 0; }
int ramp_pq_is_null(const ramp_pq_result *result, int row, int column) { return pq.getisnull(result, row, column); }
const char *ramp_pq_value(const ramp_pq_result *result, int row, int column) {
    return pq.getvalue(result, row, column);
}
void ramp_pq_clear(ramp_pq_result *result) {
    if (result != NULL) pq.clear(result);
}

long ramp_pq_changes(const ramp_pq_result *result) {
    if (result == NULL) return 0;
    const char *text = pq.cmd_tuples((void *)result);
    if (text == NULL || *text == 0) return 0;
    return strtol(text, NULL, 10);
}
ramp_pq_result *ramp_pq_exec_script(ramp_pq_conn *conn, const char *script) {
    return (ramp_pq_result *)pq.exec(conn, script);
}
int ramp_pq_in_transaction(const ramp_pq_conn *conn) {
    switch (pq.transaction_status(conn)) {
    case PQTRANS_IDLE: return 0;
    case PQTRANS_ACTIVE:
    case PQTRANS_INTRANS:
    case PQTRANS_INERROR: return 1;
    default: return -1;
    }
}
int ramp_pq_socket(const ramp_pq_conn *conn) { return pq.socket(conn); }
int ramp_pq_consume_input(ramp_pq_conn *conn) { return pq.consume_input(conn); }
int ramp_pq_take_notifications(ramp_pq_conn *conn) {
    int count = 0;
    void *notify;
    while ((notify = pq.notifies(conn)) != NULL) {
        pq.freemem(notify);
        count++;
    }
    return count;
}
int ramp_pq_backend_pid(const ramp_pq_conn *conn) { return pq.backend_pid(conn); }
ramp_pq_result *ramp_pq_prepare(ramp_pq_conn *conn, const char *name, const char *command, int count,
                                const unsigned int *types) {
    return (ramp_pq_result *)pq.prepare(conn, name, command, count, types);
}
ramp_pq_result *ramp_pq_exec_prepared(ramp_pq_conn *conn, const char *name, int count, const char *const *values) {
    return (ramp_pq_result *)pq.exec_prepared(conn, name, count, values, NULL, NULL, 0);
}
