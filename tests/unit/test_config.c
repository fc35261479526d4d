/* Unit tests of configuration: defaults, precedence (flags > env > file > defaults), .env,
 * the seed's variable names, and errors that name the setting. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

static char dir[] = "/tmp/chatkitd-config-XXXXXX";
static char old_cwd[4096];

static const char *env_names[] = {"CHATKITD_LISTEN",       "CHATKITD_MAX_BODY_BYTES",
                                  "CHATKITD_CONFIG",       "CHATKIT_WORKFLOW_ID",
                                  "CHATKITD_WORKFLOW_ID",  "OPENAI_API_KEY",
                                  "CHATKITD_SESSION_RATE", "CHATKITD_IDLE_TIMEOUT"};

static int setup(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof env_names / sizeof env_names[0]; i++)
        unsetenv(env_names[i]);
    if (!getcwd(old_cwd, sizeof old_cwd))
        return -1;
    memcpy(dir, "/tmp/chatkitd-config-XXXXXX", sizeof dir);
    if (!mkdtemp(dir) || chdir(dir) != 0)
        return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink(".env");
    unlink("c.conf");
    if (chdir(old_cwd) != 0)
        return -1;
    rmdir(dir);
    for (size_t i = 0; i < sizeof env_names / sizeof env_names[0]; i++)
        unsetenv(env_names[i]);
    return 0;
}

static int load(struct config *cfg, char *err, int argc, const char **argv)
{
    char out[16384];
    return config_load(cfg, argc, (char **)argv, out, sizeof out, err, 512);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_defaults(void **state)
{
    (void)state;
    struct config cfg;
    char err[512];
    const char *argv[] = {"chatkitd", "serve"};
    assert_int_equal(load(&cfg, err, 2, argv), 0);
    assert_int_equal(cfg.command, CONFIG_CMD_SERVE);
    assert_string_equal(cfg.listen_host, "127.0.0.1");
    assert_int_equal(cfg.listen_port, 8000);
    assert_string_equal(cfg.data_dir, "./data");
    assert_string_equal(cfg.database, "sqlite:./data/chatkitd.db");
    assert_string_equal(cfg.workflow_id, "wf_tasks");
    assert_int_equal(cfg.limits.max_header_bytes, 16384);
    assert_int_equal(cfg.limits.max_body_bytes, 1048576);
    assert_int_equal(cfg.limits.max_connections, 10000);
    assert_int_equal(cfg.limits.header_timeout_ms, 10000);
    assert_int_equal(cfg.limits.idle_timeout_ms, 60000);
    assert_int_equal(cfg.limits.sse_queue_bytes, 1048576);
    assert_int_equal(cfg.limits.drain_timeout_ms, 10000);
    assert_int_equal(cfg.session_rate, 120);
    assert_int_equal(cfg.session_ttl_s, 600);
    assert_null(cfg.api_key);
    assert_null(cfg.openai_api_key);
    assert_true(cfg.access_log);
    config_free(&cfg);
}

static void test_precedence(void **state)
{
    (void)state;
    struct config cfg;
    char err[512];
    write_file("c.conf", "# comment\nmax-body-bytes = 2MiB\nsession-rate = 5\n"
                         "idle-timeout = \"30s\"\n");
    setenv("CHATKITD_SESSION_RATE", "7", 1);
    setenv("CHATKITD_IDLE_TIMEOUT", "45s", 1);
    const char *argv[] = {"chatkitd", "serve", "--config", "c.conf", "--idle-timeout=5s"};
    assert_int_equal(load(&cfg, err, 5, argv), 0);
    assert_int_equal(cfg.limits.max_body_bytes, 2 * 1048576); /* file over default */
    assert_int_equal(cfg.session_rate, 7);                    /* env over file */
    assert_int_equal(cfg.limits.idle_timeout_ms, 5000);       /* flag over env */
    assert_string_equal(cfg.config_file, "c.conf");
    config_free(&cfg);
}

static void test_dotenv_and_seed_names(void **state)
{
    (void)state;
    struct config cfg;
    char err[512];
    write_file(".env", "# seed app .env\nexport OPENAI_API_KEY=sk-test-0123456789abcdef\n"
                       "CHATKIT_WORKFLOW_ID='wf_custom'\nCHATKITD_SESSION_RATE=9\n");
    setenv("CHATKITD_SESSION_RATE", "11", 1); /* the real environment beats .env */
    const char *argv[] = {"chatkitd", "serve"};
    assert_int_equal(load(&cfg, err, 2, argv), 0);
    assert_string_equal(cfg.openai_api_key, "sk-test-0123456789abcdef");
    assert_string_equal(cfg.workflow_id, "wf_custom");
    assert_int_equal(cfg.session_rate, 11);
    config_free(&cfg);
    setenv("CHATKITD_WORKFLOW_ID", "wf_twin", 1); /* our twin beats the seed's name */
    assert_int_equal(load(&cfg, err, 2, argv), 0);
    assert_string_equal(cfg.workflow_id, "wf_twin");
    config_free(&cfg);
}

static void test_errors_name_the_setting(void **state)
{
    (void)state;
    struct config cfg;
    char err[512];
    const char *a1[] = {"chatkitd", "serve", "--max-body-bytes", "12XB"};
    assert_int_equal(load(&cfg, err, 4, a1), CONFIG_EXIT_USAGE);
    assert_non_null(strstr(err, "--max-body-bytes"));
    assert_non_null(strstr(err, "12XB"));
    config_free(&cfg);
    setenv("CHATKITD_LISTEN", "nope", 1);
    const char *a2[] = {"chatkitd", "serve"};
    assert_int_equal(load(&cfg, err, 2, a2), CONFIG_EXIT_USAGE);
    assert_non_null(strstr(err, "CHATKITD_LISTEN"));
    config_free(&cfg);
    unsetenv("CHATKITD_LISTEN");
    write_file("c.conf", "listen = 127.0.0.1:1\nbogus = 3\n");
    const char *a3[] = {"chatkitd", "serve", "--config=c.conf"};
    assert_int_equal(load(&cfg, err, 3, a3), CONFIG_EXIT_USAGE);
    assert_non_null(strstr(err, "c.conf:2"));
    assert_non_null(strstr(err, "bogus"));
    config_free(&cfg);
    const char *a4[] = {"chatkitd", "serve", "--nope", "1"};
    assert_int_equal(load(&cfg, err, 4, a4), CONFIG_EXIT_USAGE);
    assert_non_null(strstr(err, "--nope"));
    config_free(&cfg);
    const char *a5[] = {"chatkitd", "serve", "--api-key", "short"};
    assert_int_equal(load(&cfg, err, 4, a5), CONFIG_EXIT_USAGE);
    assert_non_null(strstr(err, "--api-key"));
    config_free(&cfg);
    const char *a6[] = {"chatkitd", "frobnicate"};
    assert_int_equal(load(&cfg, err, 2, a6), CONFIG_EXIT_USAGE);
    config_free(&cfg);
    const char *a7[] = {"chatkitd", "serve", "--listen"};
    assert_int_equal(load(&cfg, err, 3, a7), CONFIG_EXIT_USAGE);
    assert_non_null(strstr(err, "missing value"));
    config_free(&cfg);
}

static void test_attachment_settings(void **state)
{
    (void)state;
    struct config cfg;
    char err[512];
    const char *a1[] = {"chatkitd", "serve"};
    assert_int_equal(load(&cfg, err, 2, a1), 0);
    assert_int_equal(cfg.attachment_max_bytes, 10 * 1048576);
    assert_string_equal(cfg.attachment_types, "image/png,image/jpeg,image/gif,image/webp,"
                                              "application/pdf,text/plain,text/csv,"
                                              "application/json");
    assert_int_equal(cfg.attachment_ttl_s, 86400);
    config_free(&cfg);
    const char *a2[] = {"chatkitd",
                        "serve",
                        "--attachment-max-bytes",
                        "5MiB",
                        "--attachment-types",
                        "image/*,Text/Plain,*/*",
                        "--attachment-ttl",
                        "1s"};
    assert_int_equal(load(&cfg, err, 8, a2), 0);
    assert_int_equal(cfg.attachment_max_bytes, 5 * 1048576);
    assert_string_equal(cfg.attachment_types, "image/*,Text/Plain,*/*");
    assert_int_equal(cfg.attachment_ttl_s, 1);
    config_free(&cfg);
    static const char *const bad[] = {"",         "image",       "image/",     "/png", "*/png",
                                      "a/b,,c/d", "text/pl ain", "image/png,", "im*/x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *a3[] = {"chatkitd", "serve", "--attachment-types", bad[i]};
        assert_int_equal(load(&cfg, err, 4, a3), CONFIG_EXIT_USAGE);
        assert_non_null(strstr(err, "--attachment-types"));
        config_free(&cfg);
    }
    const char *a4[] = {"chatkitd", "serve", "--attachment-ttl", "500ms"};
    assert_int_equal(load(&cfg, err, 4, a4), CONFIG_EXIT_USAGE);
    config_free(&cfg);
}

static void test_help_and_version(void **state)
{
    (void)state;
    struct config cfg;
    char out[16384], err[512];
    const char *a1[] = {"chatkitd", "--version"};
    assert_int_equal(config_load(&cfg, 2, (char **)a1, out, sizeof out, err, sizeof err),
                     CONFIG_DONE);
    assert_non_null(strstr(out, "chatkitd "));
    config_free(&cfg);
    const char *a2[] = {"chatkitd", "serve", "--help"};
    assert_int_equal(config_load(&cfg, 3, (char **)a2, out, sizeof out, err, sizeof err),
                     CONFIG_DONE);
    assert_non_null(strstr(out, "--max-connections"));
    assert_non_null(strstr(out, "CHATKITD_MAX_CONNECTIONS"));
    config_free(&cfg);
    const char *a3[] = {"chatkitd", "migrate", "--help"};
    assert_int_equal(config_load(&cfg, 3, (char **)a3, out, sizeof out, err, sizeof err),
                     CONFIG_DONE);
    assert_non_null(strstr(out, "--database"));
    assert_null(strstr(out, "--max-connections"));
    config_free(&cfg);
}

static void test_listen_forms(void **state)
{
    (void)state;
    char host[64];
    int port;
    assert_int_equal(config_parse_listen("127.0.0.1:0", host, sizeof host, &port), 0);
    assert_string_equal(host, "127.0.0.1");
    assert_int_equal(port, 0);
    assert_int_equal(config_parse_listen("[::1]:8080", host, sizeof host, &port), 0);
    assert_string_equal(host, "::1");
    assert_int_equal(port, 8080);
    assert_int_not_equal(config_parse_listen("localhost", host, sizeof host, &port), 0);
    assert_int_not_equal(config_parse_listen(":80", host, sizeof host, &port), 0);
    assert_int_not_equal(config_parse_listen("h:65536", host, sizeof host, &port), 0);
    assert_int_not_equal(config_parse_listen("[::1]8080", host, sizeof host, &port), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
        cmocka_unit_test_setup_teardown(test_precedence, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dotenv_and_seed_names, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors_name_the_setting, setup, teardown),
        cmocka_unit_test_setup_teardown(test_attachment_settings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_help_and_version, setup, teardown),
        cmocka_unit_test_setup_teardown(test_listen_forms, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
