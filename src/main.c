/* main.c - wiring only: configuration -> loop -> modules -> run -> drain.
 *
 * All long-lived state lives in struct app on main's stack; modules get pointers to what they
 * need. Shutdown on SIGTERM/SIGINT: stop accepting, let in-flight responses finish (up to the
 * drain timeout), close the store (its queued jobs finish), close the remaining handles, exit 0.
 */
#include "agent/builtin.h"
#include "auth/sessions.h"
#include "chatkit/attachments.h"
#include "chatkit/engine.h"
#include "chatkit/server.h"
#include "config.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/log.h"
#include "http/router.h"
#include "http/server.h"
#include "ops/ops.h"
#include "store/store.h"
#include "tasks/routes.h"
#include "ui/assets.h"
#include "ui/static.h"
#include "workflow/catalog.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <uv.h>

#define PURGE_INTERVAL_MS (10 * 60 * 1000)
#define PURGE_GRACE_S     (24 * 3600) /* expired sessions are kept a day for audit answers */

struct app {
    struct config cfg;
    struct logger log;
    uv_loop_t loop;
    struct workflow_catalog workflows;
    struct store *store;
    struct http_router router;
    struct http_server server;
    struct auth auth;
    struct ops ops;
    struct tasks_app tasks;
    struct builtin_agent agent;
    struct ck_engine *engine;
    struct attachments attachments;
    struct chatkit chatkit;
    struct ui_static ui;
    uv_signal_t sigterm, sigint;
    uv_timer_t purge_timer;
    struct store_job purge_job;
    bool purge_running;
    bool stopping;
};

/* mkdir -p for the data directory. */
static int make_dirs(const char *path)
{
    char tmp[4096];
    size_t len = strlen(path);
    if (len == 0 || len >= sizeof tmp)
        return ERR_INVALID;
    memcpy(tmp, path, len + 1);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(tmp, 0750) != 0 && errno != EEXIST)
            return -errno;
        *p = '/';
    }
    if (mkdir(tmp, 0750) != 0 && errno != EEXIST)
        return -errno;
    return 0;
}

static void app_store_config(const struct app *app, struct store_config *sc)
{
    memset(sc, 0, sizeof *sc);
    sc->url = app->cfg.database;
    sc->readers = (int)app->cfg.store_readers;
    sc->busy_timeout_ms = 5000;
    sc->log = &app->log;
}

static void on_handles_closed(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

static void on_server_closed(void *data)
{
    struct app *app = data;
    log_info(&app->log, "stopped");
}

static void on_store_closed(void *data)
{
    struct app *app = data;
    app->store = NULL;
    http_server_close(&app->server, on_server_closed, app);
    uv_close((uv_handle_t *)&app->sigterm, NULL);
    uv_close((uv_handle_t *)&app->sigint, NULL);
    uv_close((uv_handle_t *)&app->purge_timer, NULL);
}

static void on_drained(void *data)
{
    struct app *app = data;
    log_info(&app->log, "drained; closing the store");
    attachments_close(&app->attachments); /* requests cut off by the drain timeout stop here */
    store_close(app->store, on_store_closed, app);
}

static void on_signal(uv_signal_t *s, int signum)
{
    struct app *app = s->data;
    if (app->stopping) {
        log_warn(&app->log, "second signal: exiting now");
        exit(0);
    }
    app->stopping = true;
    uv_timer_stop(&app->purge_timer);
    log_info(&app->log, "received %s: draining (up to %llu ms)",
             signum == SIGTERM ? "SIGTERM" : "SIGINT",
             (unsigned long long)app->cfg.limits.drain_timeout_ms);
    tasks_app_close(&app->tasks); /* live feeds never end on their own; drain would wait */
    http_server_drain(&app->server, on_drained, app);
}

static void purge_done(struct store_job *job)
{
    struct app *app = job->data;
    app->purge_running = false;
    if (job->status)
        log_warn(&app->log, "session purge failed: %s", job->error);
    else if (job->affected)
        log_info(&app->log, "purged %lld expired session(s)", (long long)job->affected);
    store_job_clear(job);
}

/* Expired sessions are deleted a day after expiry so the table follows live sessions. */
static void purge_tick(uv_timer_t *t)
{
    struct app *app = t->data;
    if (app->purge_running || app->stopping)
        return;
    store_job_init(&app->purge_job, STORE_SESSION_PURGE, purge_done, app);
    app->purge_job.purge_before_s = clock_wall_us() / 1000000 - PURGE_GRACE_S;
    if (store_submit(app->store, &app->purge_job) == 0)
        app->purge_running = true;
}

/* Every turn is answered by the built-in task agent until workflows choose per session. */
static const struct ck_responder *pick_responder(struct ck_turn *t, void *data)
{
    (void)t;
    struct app *app = data;
    return &app->agent.responder;
}

static int app_wire_routes(struct app *app)
{
    struct auth_config ac = {
        .store = app->store,
        .log = &app->log,
        .workflows = &app->workflows,
        .default_workflow = app->cfg.workflow_id,
        .trust_user_header = app->cfg.trust_user_header,
        .secure_cookies = app->cfg.public_url && strncmp(app->cfg.public_url, "https://", 8) == 0,
        .admin_key = app->cfg.api_key,
        .browser_ttl_s = app->cfg.session_ttl_s,
        .browser_rate = (int)app->cfg.session_rate,
    };
    http_router_init(&app->router);
    auth_init(&app->auth, &ac);
    ops_init(&app->ops, &app->server, &app->router, app->store);
    int rc = ops_register_routes(&app->ops, &app->router);
    if (!rc)
        rc = auth_register_routes(&app->auth, &app->router);
    struct tasks_config tc = {
        .loop = &app->loop, .store = app->store, .auth = &app->auth, .log = &app->log};
    tasks_app_init(&app->tasks, &tc);
    if (!rc)
        rc = tasks_app_register_routes(&app->tasks, &app->router);
    builtin_agent_init(&app->agent, &app->tasks, &app->log);
    struct attachments_config atc = {.loop = &app->loop,
                                     .store = app->store,
                                     .auth = &app->auth,
                                     .log = &app->log,
                                     .data_dir = app->cfg.data_dir,
                                     .max_bytes = app->cfg.attachment_max_bytes,
                                     .types = app->cfg.attachment_types,
                                     .ttl_s = app->cfg.attachment_ttl_s};
    attachments_init(&app->attachments, &atc);
    if (!rc)
        rc = attachments_register_routes(&app->attachments, &app->router);
    struct ck_engine_config ec = {.store = app->store,
                                  .log = &app->log,
                                  .pick = pick_responder,
                                  .pick_data = app,
                                  .allow_cancel = true};
    app->engine = ck_engine_new(&ec);
    struct chatkit_config cc = {.store = app->store,
                                .log = &app->log,
                                .auth = &app->auth,
                                .engine = app->engine,
                                .attachments = &app->attachments,
                                .cors_origins = app->cfg.cors_origins,
                                .sync_action = builtin_agent_sync_action,
                                .sync_action_data = &app->agent};
    chatkit_init(&app->chatkit, &cc);
    if (!rc)
        rc = chatkit_register_routes(&app->chatkit, &app->router);
    if (!rc)
        rc = ui_static_register_routes(&app->ui, &app->router);
    return rc;
}

/* The web UI: the embedded site, or --ui-dir while developing. Hosted sessions (the page loads
 * OpenAI's ChatKit script) are not offered by this server yet, so hosted is false. */
static int app_ui_init(struct app *app, char *err, size_t errlen)
{
    struct ui_static_config uc = {.loop = &app->loop,
                                  .log = &app->log,
                                  .assets = ui_embedded_assets,
                                  .nassets = ui_embedded_count,
                                  .dir = app->cfg.ui_dir,
                                  .hosted = false,
                                  .chatkit_script_url = app->cfg.chatkit_script_url};
    return ui_static_init(&app->ui, &uc, err, errlen);
}

static int app_serve(struct app *app)
{
    char err[512];
    workflow_catalog_init(&app->workflows);
    if (workflow_catalog_check(&app->workflows, app->cfg.workflow_id, NULL, err, sizeof err)) {
        char ids[512];
        workflow_catalog_ids(&app->workflows, ids, sizeof ids);
        fprintf(stderr, "chatkitd: --workflow-id / CHATKIT_WORKFLOW_ID: %s (known: %s)\n", err,
                ids);
        return 2;
    }
    uv_loop_init(&app->loop);
    if (app_ui_init(app, err, sizeof err)) {
        fprintf(stderr, "chatkitd: %s\n", err);
        ui_static_free(&app->ui);
        uv_loop_close(&app->loop);
        return 2;
    }
    struct store_config sc;
    app_store_config(app, &sc);
    int rc = store_open(&app->loop, &sc, &app->store, err, sizeof err);
    if (rc) {
        fprintf(stderr, "chatkitd: cannot open the database: %s\n", err);
        ui_static_free(&app->ui);
        uv_loop_close(&app->loop);
        return 1;
    }
    rc = http_server_init(&app->server, &app->loop, &app->cfg.limits, &app->router, &app->log,
                          app->cfg.access_log);
    if (!rc)
        rc = app_wire_routes(app);
    int port = 0;
    if (!rc) {
        http_server_fit_fd_limit(&app->server);
        rc = http_server_listen(&app->server, app->cfg.listen_host, app->cfg.listen_port, &port);
        if (rc)
            fprintf(stderr, "chatkitd: --listen %s:%d: %s\n", app->cfg.listen_host,
                    app->cfg.listen_port, err_str(rc));
    }
    if (rc) {
        app->stopping = true;
        uv_signal_init(&app->loop, &app->sigterm);
        uv_signal_init(&app->loop, &app->sigint);
        uv_timer_init(&app->loop, &app->purge_timer);
        http_server_drain(&app->server, on_drained, app);
        uv_run(&app->loop, UV_RUN_DEFAULT);
        attachments_free(&app->attachments);
        tasks_app_free(&app->tasks);
        ck_engine_free(app->engine);
        auth_free(&app->auth);
        ui_static_free(&app->ui);
        uv_loop_close(&app->loop);
        return 1;
    }
    /* Signal handlers go in before readiness is announced: a supervisor may send SIGTERM as soon
     * as it reads the line below, and that must drain, not kill. */
    uv_signal_init(&app->loop, &app->sigterm);
    uv_signal_init(&app->loop, &app->sigint);
    app->sigterm.data = app->sigint.data = app;
    uv_signal_start(&app->sigterm, on_signal, SIGTERM);
    uv_signal_start(&app->sigint, on_signal, SIGINT);
    bool v6 = strchr(app->cfg.listen_host, ':') != NULL;
    printf("chatkitd listening on http://%s%s%s:%d\n", v6 ? "[" : "", app->cfg.listen_host,
           v6 ? "]" : "", port);
    fflush(stdout);
    log_info(&app->log, "chatkitd %s serving on port %d; store %s at %s; default workflow %s",
             CHATKITD_VERSION, port, store_backend_name(app->store), store_location(app->store),
             app->cfg.workflow_id);
    uv_timer_init(&app->loop, &app->purge_timer);
    app->purge_timer.data = app;
    uv_timer_start(&app->purge_timer, purge_tick, PURGE_INTERVAL_MS, PURGE_INTERVAL_MS);
    attachments_start(&app->attachments);
    uv_run(&app->loop, UV_RUN_DEFAULT);
    attachments_free(&app->attachments);
    tasks_app_free(&app->tasks);
    ck_engine_free(app->engine);
    auth_free(&app->auth);
    ui_static_free(&app->ui);
    uv_walk(&app->loop, on_handles_closed, NULL);
    uv_run(&app->loop, UV_RUN_DEFAULT);
    rc = uv_loop_close(&app->loop);
    if (rc)
        log_warn(&app->log, "loop closed with handles still open");
    return 0;
}

static int app_migrate(struct app *app)
{
    struct store_config sc;
    char err[512];
    int applied = 0;
    app_store_config(app, &sc);
    if (store_migrate(&sc, &applied, err, sizeof err)) {
        fprintf(stderr, "chatkitd: migrate: %s\n", err);
        return 1;
    }
    printf("chatkitd: database up to date (%d migration%s applied)\n", applied,
           applied == 1 ? "" : "s");
    return 0;
}

int main(int argc, char **argv)
{
    static struct app app; /* large (router, server buffers): keep it off the stack */
    char out[16384], err[1024] = "";
    signal(SIGPIPE, SIG_IGN);
    int rc = config_load(&app.cfg, argc, argv, out, sizeof out, err, sizeof err);
    if (rc == CONFIG_DONE) {
        fputs(out, stdout);
        config_free(&app.cfg);
        return 0;
    }
    if (rc) {
        if (out[0])
            fputs(out, stderr);
        fprintf(stderr, "chatkitd: %s\n", err);
        config_free(&app.cfg);
        return 2;
    }
    log_init(&app.log, stderr, app.cfg.log_level, app.cfg.log_format);
    rc = make_dirs(app.cfg.data_dir);
    if (rc) {
        fprintf(stderr, "chatkitd: --data-dir %s: cannot create it: %s\n", app.cfg.data_dir,
                err_str(rc));
        config_free(&app.cfg);
        return 1;
    }
    if (app.cfg.command == CONFIG_CMD_SERVE &&
        (rc = attachments_prepare_dirs(app.cfg.data_dir, err, sizeof err)) != 0) {
        fprintf(stderr, "chatkitd: --data-dir %s: %s\n", app.cfg.data_dir, err);
        config_free(&app.cfg);
        return 1;
    }
    rc = app.cfg.command == CONFIG_CMD_MIGRATE ? app_migrate(&app) : app_serve(&app);
    config_free(&app.cfg);
    return rc;
}
