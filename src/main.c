/* main.c - wiring only: configuration -> loop -> modules -> run -> drain.
 *
 * All long-lived state lives in struct app on main's stack; modules get pointers to what they
 * need. Shutdown on SIGTERM/SIGINT: stop accepting, let in-flight responses finish (up to the
 * drain timeout), close the store (its queued jobs finish), close the remaining handles, exit 0.
 */
#include "agent/builtin.h"
#include "agent/dictation.h"
#include "agent/model_agent.h"
#include "auth/hosted.h"
#include "auth/sessions.h"
#include "chatkit/attachments.h"
#include "chatkit/engine.h"
#include "chatkit/server.h"
#include "config.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/log.h"
#include "core/memtrim.h"
#include "http/router.h"
#include "http/server.h"
#include "model/model.h"
#include "net/http_client.h"
#include "ops/ops.h"
#include "store/coord.h"
#include "store/copy.h"
#include "tasks/relay.h"
#include "store/store.h"
#include "tasks/routes.h"
#include "ui/assets.h"
#include "ui/static.h"
#include "workflow/catalog.h"
#include "workflow/runtime.h"
#include "workflow/workflow.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <uv.h>

#define PURGE_INTERVAL_MS (10 * 60 * 1000)
#define MEMTRIM_MIN_FREE  ((size_t)1 << 20) /* less free than this is not worth the syscalls */
#define PURGE_GRACE_S     (24 * 3600)       /* expired sessions are kept a day for audit answers */

struct app {
    struct config cfg;
    struct logger log;
    uv_loop_t loop;
    struct workflow_catalog workflows;
    struct workflow_set wf_set; /* the loaded graphs; refilled on SIGHUP */
    struct wf_runtime runtime;
    uv_signal_t sighup;
    /* A SIGHUP reload reads the files on a worker thread (disk reads never run on the loop). */
    uv_work_t reload_work;
    struct workflow_set reload_set; /* the worker's result, swapped in on the loop */
    struct buf reload_errors;
    int reload_rc;
    bool reloading, reload_again;
    struct store *store;
    struct http_router router;
    struct http_server server;
    struct auth auth;
    struct ops ops;
    struct tasks_app tasks;
    struct builtin_agent agent;
    struct http_client *http_client;
    struct model_registry *models;
    struct model_agent model_agent;
    bool use_model_agent; /* --model names a real provider */
    struct hosted hosted;
    struct dictation dictation;
    bool hosted_mode; /* --sessions-upstream openai */
    struct ck_engine *engine;
    struct store_coord coord; /* PostgreSQL only: replicas' notices and thread locks */
    bool coord_started;
    struct tasks_relay relay;
    struct attachments attachments;
    struct chatkit chatkit;
    struct ui_static ui;
    uv_signal_t sigterm, sigint;
    uv_timer_t purge_timer;
    uv_timer_t trim_timer; /* memtrim while no turn runs (--memory-trim) */
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
    sc->cache_kib = (int)(app->cfg.store_cache_bytes / 1024);
    sc->busy_timeout_ms = 5000;
    sc->pool_size = (int)app->cfg.store_pool;
    sc->statement_timeout_ms = (int)app->cfg.statement_timeout_ms;
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
    uv_close((uv_handle_t *)&app->sighup, NULL);
    uv_close((uv_handle_t *)&app->purge_timer, NULL);
    uv_close((uv_handle_t *)&app->trim_timer, NULL);
}

static void on_drained(void *data)
{
    struct app *app = data;
    log_info(&app->log, "drained; closing the store");
    if (app->coord_started) {
        tasks_events_set_relay(&app->tasks.events, NULL, NULL);
        store_coord_close(&app->coord, NULL, NULL);
        app->coord_started = false;
    }
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
    uv_timer_stop(&app->trim_timer);
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

/* After a burst, the memory it freed goes back to the kernel, but only while no turn runs. */
static void trim_tick(uv_timer_t *t)
{
    struct app *app = t->data;
    if (!app->stopping && ck_engine_active(app->engine) == 0)
        memtrim_run(MEMTRIM_MIN_FREE);
}

/* Messages, approval cards and the answers to a workflow's client tools go to the workflow
 * runtime; the task widgets' own actions, the task agent's client tool answers and structured
 * input go to the task agent that made them. */
static const struct ck_responder *pick_responder(struct ck_turn *t, void *data)
{
    struct app *app = data;
    const struct ck_request *req = ck_turn_request(t);
    bool message = req->type == CK_THREADS_CREATE || req->type == CK_THREADS_ADD_USER_MESSAGE ||
                   req->type == CK_THREADS_RETRY_AFTER_ITEM;
    if (message || wf_runtime_owns_turn(t))
        return &app->runtime.responder;
    return &app->agent.responder;
}

/* The default workflow's model: --model, else OpenAI when a key is set, else the offline agent. */
static const char *default_model(const struct config *cfg)
{
    if (cfg->model)
        return cfg->model;
    return cfg->openai_api_key ? "openai:gpt-4.1" : "builtin:tasks";
}

/* Makes fresh the loaded set (the old set's references go; running turns keep the graphs they
 * hold) and refreshes the catalog sessions check. */
static void app_use_workflows(struct app *app, struct workflow_set *fresh, const char *what)
{
    workflow_set_free(&app->wf_set);
    app->wf_set = *fresh;
    workflow_set_catalog(&app->wf_set, &app->workflows);
    char ids[512];
    workflow_catalog_ids(&app->workflows, ids, sizeof ids);
    log_info(&app->log, "%s %zu workflow version(s): %s", what, app->wf_set.n, ids);
}

/* At start: any wrong file stops the program (the lines go to stderr). */
static int app_load_workflows(struct app *app)
{
    struct buf errors;
    buf_init(&errors, WF_ERRORS_MAX);
    struct workflow_set fresh;
    int rc = workflow_set_load(&fresh, app->cfg.workflows_dir, default_model(&app->cfg), &errors);
    if (rc)
        fprintf(stderr, "%s", errors.data ? errors.data : "");
    else
        app_use_workflows(app, &fresh, "loaded");
    buf_free(&errors);
    return rc;
}

/* Worker thread: only the files and the new set, nothing the loop owns. */
static void reload_work(uv_work_t *w)
{
    struct app *app = w->data;
    buf_init(&app->reload_errors, WF_ERRORS_MAX);
    app->reload_rc = workflow_set_load(&app->reload_set, app->cfg.workflows_dir,
                                       default_model(&app->cfg), &app->reload_errors);
}

static void start_reload(struct app *app);

/* Loop thread: a valid set replaces the loaded one; any wrong file keeps the old set. */
static void reload_done(uv_work_t *w, int status)
{
    struct app *app = w->data;
    app->reloading = false;
    if (status == 0 && app->reload_rc == 0 && !app->stopping)
        app_use_workflows(app, &app->reload_set, "reloaded");
    else if (status == 0 && app->reload_rc)
        log_error(&app->log, "workflow reload refused, keeping the loaded set:\n%s",
                  app->reload_errors.data ? app->reload_errors.data : "");
    else
        workflow_set_free(&app->reload_set);
    if (status == 0)
        buf_free(&app->reload_errors);
    if (app->reload_again && !app->stopping) {
        app->reload_again = false;
        start_reload(app);
    }
}

static void start_reload(struct app *app)
{
    if (app->reloading) {
        app->reload_again = true; /* files changed again while reading: read them once more */
        return;
    }
    app->reloading = true;
    app->reload_work.data = app;
    memset(&app->reload_set, 0, sizeof app->reload_set);
    if (uv_queue_work(&app->loop, &app->reload_work, reload_work, reload_done))
        app->reloading = false;
}

static void on_sighup(uv_signal_t *s, int signum)
{
    (void)signum;
    struct app *app = s->data;
    if (!app->stopping)
        start_reload(app);
}

static const char *env_get(const char *name)
{
    return getenv(name);
}

static void write_model_metrics(const void *data, struct buf *out)
{
    model_registry_write_metrics(data, out);
}

/* The providers (OpenAI from its key, compat ones from --providers) and the assistant's model.
 * Returns 0, or 2 after printing why the configuration cannot work. */
static int app_wire_models(struct app *app)
{
    char err[1024];
    struct model_registry_config mc = {.loop = &app->loop, .log = &app->log};
    mc.limits = app->cfg.model_limits;
    mc.limits.max_retries = (int)app->cfg.model_retries;
    mc.limits.max_event_bytes = 1024 * 1024;
    if (http_client_new(&app->loop, &app->log, &app->http_client)) {
        fprintf(stderr, "chatkitd: libcurl cannot start\n");
        return 1;
    }
    mc.http = app->http_client;
    app->models = model_registry_new(&mc);
    if (app->cfg.openai_api_key)
        model_registry_add(app->models, "openai", MODEL_API_RESPONSES, app->cfg.openai_base_url,
                           app->cfg.openai_api_key, NULL, NULL);
    if (app->cfg.providers_file &&
        model_registry_load_file(app->models, app->cfg.providers_file, env_get, err, sizeof err)) {
        fprintf(stderr, "chatkitd: --providers: %s\n", err);
        return 2;
    }
    const char *model = app->cfg.model;
    if (!model)
        model = app->cfg.openai_api_key ? "openai:gpt-4.1" : "builtin:tasks";
    app->use_model_agent = strcmp(model, "builtin:tasks") != 0;
    if (app->use_model_agent && model_ref_check(app->models, model, err, sizeof err)) {
        fprintf(stderr, "chatkitd: --model %s: %s\n", model, err);
        return 2;
    }
    if (app->cfg.transcribe_model &&
        model_ref_check(app->models, app->cfg.transcribe_model, err, sizeof err)) {
        fprintf(stderr, "chatkitd: --transcribe-model %s: %s\n", app->cfg.transcribe_model, err);
        return 2;
    }
    struct model_agent_params defaults = {.model_ref = model,
                                          .instructions = model_agent_tasks_instructions(),
                                          .tools_json = tasks_tools_schema_json(),
                                          .tool_choice = "auto",
                                          .history = true,
                                          .max_steps = (int)app->cfg.model_max_steps,
                                          .allow_request_model = true,
                                          .chain_responses = app->cfg.model_chain_responses};
    model_agent_init(&app->model_agent, app->models, &app->tasks, &app->log, app->cfg.data_dir,
                     &defaults);
    return 0;
}

static void app_free_models(struct app *app)
{
    http_client_free(app->http_client); /* its handles close on the next loop run */
    app->http_client = NULL;
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
        .hosted_sessions = app->hosted_mode,
        .shared_rate = strcmp(store_backend_name(app->store), "postgres") == 0,
    };
    http_router_init(&app->router);
    auth_init(&app->auth, &ac);
    ops_init(&app->ops, &app->server, &app->router, app->store);
    app->ops.extra_metrics = write_model_metrics;
    app->ops.extra_metrics_data = app->models;
    int rc = ops_register_routes(&app->ops, &app->router);
    if (!rc)
        rc = auth_register_routes(&app->auth, &app->router);
    if (!rc && app->hosted_mode) {
        struct hosted_config hc = {.auth = &app->auth,
                                   .http = app->http_client,
                                   .log = &app->log,
                                   .base_url = app->cfg.openai_base_url,
                                   .api_key = app->cfg.openai_api_key,
                                   .workflow_id = app->cfg.workflow_id,
                                   .timeout_ms = 30000};
        hosted_init(&app->hosted, &hc);
        rc = hosted_register_routes(&app->hosted, &app->router);
    }
    struct tasks_config tc = {
        .loop = &app->loop, .store = app->store, .auth = &app->auth, .log = &app->log};
    tasks_app_init(&app->tasks, &tc);
    if (!rc)
        rc = tasks_app_register_routes(&app->tasks, &app->router);
    builtin_agent_init(&app->agent, &app->tasks, &app->log);
    struct wf_runtime_config wc = {
        .set = &app->wf_set,
        .builtin = &app->agent,
        .models = &app->model_agent,
        .http = {.loop = &app->loop, .http = app->http_client, .log = &app->log, .env = env_get},
        .log = &app->log};
    wf_runtime_init(&app->runtime, &wc);
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
    /* Several replicas may share a PostgreSQL database: they coordinate through it. */
    if (!rc && strcmp(store_backend_name(app->store), "postgres") == 0) {
        rc = store_coord_start(&app->coord, &app->loop, app->cfg.database, &app->log,
                               tasks_relay_on_notice, &app->relay);
        app->coord_started = rc == 0;
        if (!rc)
            rc = tasks_relay_init(&app->relay, &app->tasks.events, &app->coord, &app->log);
    }
    struct ck_engine_config ec = {.store = app->store,
                                  .coord = app->coord_started ? &app->coord : NULL,
                                  .log = &app->log,
                                  .pick = pick_responder,
                                  .pick_data = app,
                                  .allow_cancel = true,
                                  .max_running = (size_t)app->cfg.max_running_turns,
                                  .max_writes = (size_t)app->cfg.max_turn_writes};
    app->engine = ck_engine_new(&ec);
    struct chatkit_config cc = {.store = app->store,
                                .log = &app->log,
                                .auth = &app->auth,
                                .engine = app->engine,
                                .attachments = &app->attachments,
                                .cors_origins = app->cfg.cors_origins,
                                .sync_action = builtin_agent_sync_action,
                                .sync_action_data = &app->agent};
    if (app->cfg.transcribe_model) {
        app->dictation = (struct dictation){
            .models = app->models, .model_ref = app->cfg.transcribe_model, .log = &app->log};
        cc.transcribe = dictation_transcribe;
        cc.transcribe_data = &app->dictation;
    }
    chatkit_init(&app->chatkit, &cc);
    if (!rc)
        rc = chatkit_register_routes(&app->chatkit, &app->router);
    if (!rc)
        rc = ui_static_register_routes(&app->ui, &app->router);
    return rc;
}

/* Hosted mode: OpenAI mints the sessions; its workflow ids are not ours to check. */
static int app_check_hosted(struct app *app, bool *hosted)
{
    char err[512];
    const char *up = app->cfg.sessions_upstream;
    *hosted = false;
    if (!up)
        return 0;
    if (strcmp(up, "openai") != 0) {
        fprintf(stderr, "chatkitd: --sessions-upstream: '%s' is not a known upstream (openai)\n",
                up);
        return 2;
    }
    if (hosted_check_config(app->cfg.openai_api_key, app->cfg.workflow_id, err, sizeof err)) {
        fprintf(stderr, "chatkitd: %s\n", err);
        return 2;
    }
    *hosted = true;
    return 0;
}

/* The web UI: the embedded site, or --ui-dir while developing. In hosted mode the page loads
 * OpenAI's ChatKit script instead of our element (and the CSP allows that one origin). */
static int app_ui_init(struct app *app, char *err, size_t errlen)
{
    struct ui_static_config uc = {.loop = &app->loop,
                                  .log = &app->log,
                                  .assets = ui_embedded_assets,
                                  .nassets = ui_embedded_count,
                                  .dir = app->cfg.ui_dir,
                                  .hosted = app->hosted_mode,
                                  .chatkit_script_url = app->cfg.chatkit_script_url};
    return ui_static_init(&app->ui, &uc, err, errlen);
}

static int app_serve(struct app *app)
{
    char err[512];
    int hrc = app_check_hosted(app, &app->hosted_mode);
    if (hrc)
        return hrc;
    if (app_load_workflows(app))
        return 2;
    if (!app->hosted_mode &&
        workflow_catalog_check(&app->workflows, app->cfg.workflow_id, NULL, err, sizeof err)) {
        char ids[512];
        workflow_catalog_ids(&app->workflows, ids, sizeof ids);
        fprintf(stderr, "chatkitd: --workflow-id / CHATKIT_WORKFLOW_ID: %s (known: %s)\n", err,
                ids);
        workflow_set_free(&app->wf_set);
        return 2;
    }
    uv_loop_init(&app->loop);
    int mrc = app_wire_models(app);
    if (mrc) {
        app_free_models(app);
        uv_run(&app->loop, UV_RUN_DEFAULT);
        model_registry_free(app->models);
        workflow_set_free(&app->wf_set);
        uv_loop_close(&app->loop);
        return mrc;
    }
    if (app_ui_init(app, err, sizeof err)) {
        fprintf(stderr, "chatkitd: %s\n", err);
        ui_static_free(&app->ui);
        app_free_models(app);
        uv_run(&app->loop, UV_RUN_DEFAULT);
        model_registry_free(app->models);
        workflow_set_free(&app->wf_set);
        uv_loop_close(&app->loop);
        return 2;
    }
    struct store_config sc;
    app_store_config(app, &sc);
    int rc = store_open(&app->loop, &sc, &app->store, err, sizeof err);
    if (rc) {
        fprintf(stderr, "chatkitd: cannot open the database: %s\n", err);
        workflow_set_free(&app->wf_set);
        app_free_models(app);
        uv_run(&app->loop, UV_RUN_DEFAULT);
        model_registry_free(app->models);
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
        uv_signal_init(&app->loop, &app->sighup);
        uv_timer_init(&app->loop, &app->purge_timer);
        uv_timer_init(&app->loop, &app->trim_timer);
        http_server_drain(&app->server, on_drained, app);
        uv_run(&app->loop, UV_RUN_DEFAULT);
        attachments_free(&app->attachments);
        tasks_app_free(&app->tasks);
        ck_engine_free(app->engine);
        auth_free(&app->auth);
        workflow_set_free(&app->wf_set);
        app_free_models(app);
        uv_run(&app->loop, UV_RUN_DEFAULT);
        model_registry_free(app->models);
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
    uv_signal_init(&app->loop, &app->sighup);
    app->sighup.data = app;
    uv_signal_start(&app->sighup, on_sighup, SIGHUP);
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
    uv_timer_init(&app->loop, &app->trim_timer);
    app->trim_timer.data = app;
    if (app->cfg.memory_trim_ms)
        uv_timer_start(&app->trim_timer, trim_tick, app->cfg.memory_trim_ms,
                       app->cfg.memory_trim_ms);
    attachments_start(&app->attachments);
    ops_start_lag_probe(&app->ops);
    uv_run(&app->loop, UV_RUN_DEFAULT);
    attachments_free(&app->attachments);
    tasks_app_free(&app->tasks);
    ck_engine_free(app->engine);
    auth_free(&app->auth);
    workflow_set_free(&app->wf_set);
    hosted_free(&app->hosted);
    app_free_models(app);
    ui_static_free(&app->ui);
    uv_walk(&app->loop, on_handles_closed, NULL);
    uv_run(&app->loop, UV_RUN_DEFAULT);
    model_registry_free(app->models);
    rc = uv_loop_close(&app->loop);
    if (rc)
        log_warn(&app->log, "loop closed with handles still open");
    return 0;
}

/* `chatkitd migrate --from sqlite:PATH --to postgres://...`: one line per table, then a
 * summary; URLs are shown redacted. */
static int app_copy(struct app *app)
{
    if (!app->cfg.migrate_from || !app->cfg.migrate_to) {
        fprintf(stderr, "chatkitd: migrate: --from and --to go together\n");
        return 2;
    }
    struct store_config from, to;
    app_store_config(app, &from);
    app_store_config(app, &to);
    from.url = app->cfg.migrate_from;
    to.url = app->cfg.migrate_to;
    struct store_copy_report rep;
    char err[512];
    int rc = store_copy(&from, &to, &rep, err, sizeof err);
    char *shown_from = store_redact_url(from.url), *shown_to = store_redact_url(to.url);
    for (size_t i = 0; i < rep.n; i++)
        printf("chatkitd: %-12s %lld rows in source, %lld copied, %lld in target\n",
               rep.tables[i].table, (long long)rep.tables[i].source,
               (long long)rep.tables[i].copied, (long long)rep.tables[i].target);
    if (rc)
        fprintf(stderr, "chatkitd: migrate: %s\n", err);
    else
        printf("chatkitd: copied %s to %s (counts verified)\n", shown_from, shown_to);
    free(shown_from);
    free(shown_to);
    return rc ? 1 : 0;
}

static int app_migrate(struct app *app)
{
    struct store_config sc;
    char err[512];
    int applied = 0;
    if (app->cfg.migrate_from || app->cfg.migrate_to)
        return app_copy(app);
    app_store_config(app, &sc);
    if (store_migrate(&sc, &applied, err, sizeof err)) {
        fprintf(stderr, "chatkitd: migrate: %s\n", err);
        return 1;
    }
    printf("chatkitd: database up to date (%d migration%s applied)\n", applied,
           applied == 1 ? "" : "s");
    return 0;
}

/* `chatkitd workflows check DIR`: 0 when every file loads, 1 with the problems on stderr. */
static int workflows_command(int argc, char **argv)
{
    if (argc != 4 || strcmp(argv[2], "check") != 0) {
        fprintf(stderr, "usage: chatkitd workflows check DIR\n");
        return 2;
    }
    struct buf errors;
    buf_init(&errors, WF_ERRORS_MAX);
    struct workflow_set set;
    int rc = workflow_set_load(&set, argv[3], "builtin:tasks", &errors);
    if (rc) {
        fprintf(stderr, "%s", errors.data ? errors.data : "");
        buf_free(&errors);
        return 1;
    }
    for (size_t i = 0; i < set.n; i++)
        printf("%s: %s version %s (%s): ok\n", set.items[i]->file, set.items[i]->id,
               set.items[i]->version, set.items[i]->name);
    workflow_set_free(&set);
    buf_free(&errors);
    return 0;
}

int main(int argc, char **argv)
{
    static struct app app; /* large (router, server buffers): keep it off the stack */
    char out[16384], err[1024] = "";
    signal(SIGPIPE, SIG_IGN);
    store_process_init();
    if (argc >= 2 && strcmp(argv[1], "workflows") == 0)
        return workflows_command(argc, argv);
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
