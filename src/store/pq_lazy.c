#include "store/pq_lazy.h"

#include "core/dynlib.h"

#include <libpq-fe.h>
#include <pthread.h>
#include <stdio.h>

/* The functions chatkitd calls that return a value: return type, name, parameters, arguments. */
#define PQ_FUNCTIONS(X)                                                                            \
    X(char *, PQcmdTuples, (PGresult * res), (res))                                                \
    X(PostgresPollingStatusType, PQconnectPoll, (PGconn * conn), (conn))                           \
    X(PGconn *, PQconnectStartParams,                                                              \
      (const char *const *keywords, const char *const *values, int expand_dbname),                 \
      (keywords, values, expand_dbname))                                                           \
    X(PGconn *, PQconnectdb, (const char *conninfo), (conninfo))                                   \
    X(PGconn *, PQconnectdbParams,                                                                 \
      (const char *const *keywords, const char *const *values, int expand_dbname),                 \
      (keywords, values, expand_dbname))                                                           \
    X(int, PQconsumeInput, (PGconn * conn), (conn))                                                \
    X(char *, PQerrorMessage, (const PGconn *conn), (conn))                                        \
    X(PGresult *, PQexec, (PGconn * conn, const char *query), (conn, query))                       \
    X(PGresult *, PQexecPrepared,                                                                  \
      (PGconn * conn, const char *stmtName, int nParams, const char *const *paramValues,           \
       const int *paramLengths, const int *paramFormats, int resultFormat),                        \
      (conn, stmtName, nParams, paramValues, paramLengths, paramFormats, resultFormat))            \
    X(int, PQflush, (PGconn * conn), (conn))                                                       \
    X(PGresult *, PQgetResult, (PGconn * conn), (conn))                                            \
    X(int, PQgetisnull, (const PGresult *res, int tup_num, int field_num),                         \
      (res, tup_num, field_num))                                                                   \
    X(int, PQgetlength, (const PGresult *res, int tup_num, int field_num),                         \
      (res, tup_num, field_num))                                                                   \
    X(char *, PQgetvalue, (const PGresult *res, int tup_num, int field_num),                       \
      (res, tup_num, field_num))                                                                   \
    X(int, PQisBusy, (PGconn * conn), (conn))                                                      \
    X(PGnotify *, PQnotifies, (PGconn * conn), (conn))                                             \
    X(int, PQntuples, (const PGresult *res), (res))                                                \
    X(PGresult *, PQprepare,                                                                       \
      (PGconn * conn, const char *stmtName, const char *query, int nParams,                        \
       const Oid *paramTypes),                                                                     \
      (conn, stmtName, query, nParams, paramTypes))                                                \
    X(char *, PQresultErrorField, (const PGresult *res, int fieldcode), (res, fieldcode))          \
    X(char *, PQresultErrorMessage, (const PGresult *res), (res))                                  \
    X(ExecStatusType, PQresultStatus, (const PGresult *res), (res))                                \
    X(int, PQsendQuery, (PGconn * conn, const char *query), (conn, query))                         \
    X(int, PQsendQueryParams,                                                                      \
      (PGconn * conn, const char *command, int nParams, const Oid *paramTypes,                     \
       const char *const *paramValues, const int *paramLengths, const int *paramFormats,           \
       int resultFormat),                                                                          \
      (conn, command, nParams, paramTypes, paramValues, paramLengths, paramFormats, resultFormat)) \
    X(PQnoticeProcessor, PQsetNoticeProcessor, (PGconn * conn, PQnoticeProcessor proc, void *arg), \
      (conn, proc, arg))                                                                           \
    X(int, PQsetnonblocking, (PGconn * conn, int arg), (conn, arg))                                \
    X(int, PQsocket, (const PGconn *conn), (conn))                                                 \
    X(ConnStatusType, PQstatus, (const PGconn *conn), (conn))                                      \
    X(PGTransactionStatusType, PQtransactionStatus, (const PGconn *conn), (conn))

/* And the ones that return nothing (a trampoline of its own shape). */
#define PQ_PROCEDURES(X)                                                                           \
    X(PQclear, (PGresult * res), (res))                                                            \
    X(PQfinish, (PGconn * conn), (conn))                                                           \
    X(PQfreemem, (void *ptr), (ptr))

#define FUNCTION_SLOT(ret, name, params, args)   ret(*name) params;
#define PROCEDURE_SLOT(name, params, args)       void(*name) params;
#define FUNCTION_SYMBOL(ret, name, params, args) {#name, (void **)&pq.name},
#define PROCEDURE_SYMBOL(name, params, args)     {#name, (void **)&pq.name},
#define FUNCTION_TRAMPOLINE(ret, name, params, args)                                               \
    ret name params                                                                                \
    {                                                                                              \
        return pq.name args;                                                                       \
    }
#define PROCEDURE_TRAMPOLINE(name, params, args)                                                   \
    void name params                                                                               \
    {                                                                                              \
        if (pq.name) /* nothing was loaded, so nothing to free */                                  \
            pq.name args;                                                                          \
    }

static struct {
    PQ_FUNCTIONS(FUNCTION_SLOT)
    PQ_PROCEDURES(PROCEDURE_SLOT)
} pq;

static pthread_once_t pq_once = PTHREAD_ONCE_INIT;
static int pq_status;
static char pq_error[256];

static void pq_load_once(void)
{
    static const char *const sonames[] = {"libpq.so.5", NULL};
    const struct dynlib_symbol syms[] = {PQ_FUNCTIONS(FUNCTION_SYMBOL)
                                             PQ_PROCEDURES(PROCEDURE_SYMBOL)};
    pq_status = dynlib_open(sonames, syms, sizeof syms / sizeof syms[0], pq_error, sizeof pq_error);
}

int pq_lazy_load(char *err, size_t errlen)
{
    pthread_once(&pq_once, pq_load_once);
    if (pq_status)
        snprintf(err, errlen, "PostgreSQL client library: %s", pq_error);
    return pq_status;
}

PQ_FUNCTIONS(FUNCTION_TRAMPOLINE)
PQ_PROCEDURES(PROCEDURE_TRAMPOLINE)
