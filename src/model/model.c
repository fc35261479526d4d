#include "model/registry.h"

#include "core/err.h"
#include "core/json_read.h"
#include "core/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROVIDERS_FILE_MAX (1 << 20)

struct model_registry *model_registry_new(const struct model_registry_config *cfg)
{
    struct model_registry *reg = xcalloc(1, sizeof *reg);
    reg->cfg = *cfg;
    return reg;
}

static char **strv_copy(const char *const *v)
{
    size_t n = 0;
    while (v && v[n])
        n++;
    char **out = xcalloc(n + 1, sizeof *out);
    for (size_t i = 0; i < n; i++)
        out[i] = xstrdup(v[i]);
    return out;
}

void model_headers_free(char **v)
{
    for (size_t i = 0; v && v[i]; i++)
        free(v[i]);
    free(v);
}

static void provider_clear(struct model_provider *p)
{
    free(p->name);
    free(p->base_url);
    free(p->api_key);
    model_headers_free(p->headers);
    model_headers_free(p->models);
    model_headers_free(p->text_only_models);
    memset(p, 0, sizeof *p);
}

void model_registry_free(struct model_registry *reg)
{
    if (!reg)
        return;
    for (int i = 0; i < reg->n; i++)
        provider_clear(&reg->providers[i]);
    free(reg);
}

static bool name_ok(const char *s)
{
    if (!s || !s[0] || strlen(s) > 64)
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '_' || *s == '-' || *s == '.'))
            return false;
    return true;
}

int model_registry_add(struct model_registry *reg, const char *name, enum model_api api,
                       const char *base_url, const char *api_key, const char *const *headers,
                       const char *const *models)
{
    if (!name_ok(name) || !base_url ||
        (strncmp(base_url, "http://", 7) && strncmp(base_url, "https://", 8)))
        return ERR_INVALID;
    struct model_provider *p = NULL;
    for (int i = 0; i < reg->n; i++)
        if (strcmp(reg->providers[i].name, name) == 0)
            p = &reg->providers[i];
    if (!p) {
        if (reg->n == MODEL_PROVIDERS_MAX)
            return ERR_TOO_BIG;
        p = &reg->providers[reg->n++];
    }
    provider_clear(p);
    p->name = xstrdup(name);
    p->api = api;
    size_t blen = strlen(base_url);
    while (blen && base_url[blen - 1] == '/')
        blen--;
    p->base_url = xstrndup(base_url, blen);
    p->api_key = api_key && api_key[0] ? xstrdup(api_key) : NULL;
    p->headers = strv_copy(headers);
    p->models = strv_copy(models);
    return 0;
}

static struct model_provider *find_provider(const struct model_registry *reg, const char *name,
                                            size_t len)
{
    for (int i = 0; i < reg->n; i++) {
        const struct model_provider *p = &reg->providers[i];
        if (strlen(p->name) == len && memcmp(p->name, name, len) == 0)
            return (struct model_provider *)p;
    }
    return NULL;
}

bool model_provider_accepts_images(const struct model_provider *prov, const char *model)
{
    for (char **m = prov->text_only_models; m && *m; m++)
        if (strcmp(*m, "*") == 0 || strcmp(*m, model) == 0)
            return false;
    return true;
}

/* "openai:MODEL" -> provider "openai"; "compat:NAME/MODEL" or "compat:NAME" -> provider NAME. */
int model_registry_resolve(struct model_registry *reg, const char *ref,
                           struct model_provider **prov, char *model, size_t modellen, char *why,
                           size_t whylen)
{
    const char *pname, *mname = "";
    size_t plen;
    if (strncmp(ref, "openai:", 7) == 0) {
        pname = "openai";
        plen = 6;
        mname = ref + 7;
    } else if (strncmp(ref, "compat:", 7) == 0) {
        pname = ref + 7;
        const char *slash = strchr(pname, '/');
        plen = slash ? (size_t)(slash - pname) : strlen(pname);
        mname = slash ? slash + 1 : "";
    } else {
        snprintf(why, whylen, "model '%s' is not openai:MODEL or compat:PROVIDER/MODEL", ref);
        return ERR_NOT_FOUND;
    }
    struct model_provider *p = find_provider(reg, pname, plen);
    if (!p || (strncmp(ref, "compat:", 7) == 0 && p->api != MODEL_API_CHAT)) {
        snprintf(why, whylen, "model provider '%.*s' is not configured", (int)plen, pname);
        return ERR_NOT_FOUND;
    }
    if (!mname[0])
        mname = p->models[0] ? p->models[0] : "";
    if (!mname[0] || strlen(mname) >= modellen) {
        snprintf(why, whylen, "model reference '%s' names no model", ref);
        return ERR_NOT_FOUND;
    }
    bool allowed = p->models[0] == NULL;
    for (size_t i = 0; p->models[i] && !allowed; i++)
        allowed = strcmp(p->models[i], mname) == 0;
    if (!allowed) {
        snprintf(why, whylen, "model '%s' is not among provider '%s''s models", mname, p->name);
        return ERR_NOT_FOUND;
    }
    snprintf(model, modellen, "%s", mname);
    *prov = p;
    return 0;
}

int model_ref_check(const struct model_registry *reg, const char *ref, char *why, size_t whylen)
{
    struct model_provider *p;
    char model[256];
    return model_registry_resolve((struct model_registry *)reg, ref, &p, model, sizeof model, why,
                                  whylen);
}

char **model_provider_headers(const struct model_provider *prov, const char *content_type,
                              const char *accept)
{
    size_t n = 0;
    while (prov->headers[n])
        n++;
    char **h = xcalloc(n + 4, sizeof *h);
    size_t k = 0;
    struct buf b;
    if (prov->api_key) {
        buf_init(&b, 64 * 1024);
        buf_appendf(&b, "Authorization: Bearer %s", prov->api_key);
        h[k++] = buf_detach(&b, NULL);
    }
    if (content_type) {
        buf_init(&b, 1024);
        buf_appendf(&b, "Content-Type: %s", content_type);
        h[k++] = buf_detach(&b, NULL);
    }
    if (accept) {
        buf_init(&b, 1024);
        buf_appendf(&b, "Accept: %s", accept);
        h[k++] = buf_detach(&b, NULL);
    }
    for (size_t i = 0; i < n; i++)
        h[k++] = xstrdup(prov->headers[i]);
    return h;
}

/* ---- the providers file ---- */

static int read_file(const char *path, struct buf *out, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: cannot be read", path);
        return ERR_IO;
    }
    char chunk[4096];
    size_t n;
    int rc = 0;
    while (!rc && (n = fread(chunk, 1, sizeof chunk, f)) > 0)
        rc = buf_append(out, chunk, n);
    fclose(f);
    if (rc)
        snprintf(err, errlen, "%s: larger than %d bytes", path, PROVIDERS_FILE_MAX);
    return rc;
}

/* Header values: "$NAME" reads the environment variable NAME, anything else is literal. */
static int load_headers(const cJSON *obj, const char *(*getenv_fn)(const char *), char ***out,
                        const char *where, char *err, size_t errlen)
{
    size_t n = (size_t)cJSON_GetArraySize(obj);
    char **h = xcalloc(n + 1, sizeof *h);
    size_t k = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, obj)
    {
        const char *v = cJSON_IsString(it) ? it->valuestring : NULL;
        if (v && v[0] == '$')
            v = getenv_fn(v + 1);
        if (!v || !v[0] || strpbrk(v, "\r\n") || strpbrk(it->string, "\r\n: ")) {
            snprintf(err, errlen, "%s: header '%s' has no value (or its variable is unset)", where,
                     it->string);
            model_headers_free(h);
            return ERR_INVALID;
        }
        struct buf b;
        buf_init(&b, 64 * 1024);
        buf_appendf(&b, "%s: %s", it->string, v);
        h[k++] = buf_detach(&b, NULL);
    }
    *out = h;
    return 0;
}

static char **load_models(const cJSON *arr)
{
    size_t n = (size_t)cJSON_GetArraySize(arr);
    char **m = xcalloc(n + 1, sizeof *m);
    size_t k = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, arr)
    {
        if (cJSON_IsString(it) && it->valuestring[0])
            m[k++] = xstrdup(it->valuestring);
    }
    return m;
}

static int load_provider(struct model_registry *reg, const cJSON *p,
                         const char *(*getenv_fn)(const char *), const char *path, char *err,
                         size_t errlen)
{
    char where[512];
    snprintf(where, sizeof where, "%s: provider '%s'", path, p->string);
    const char *base = NULL, *key_env = NULL, *api = "chat";
    const cJSON *headers = NULL, *models = NULL, *text_only = NULL;
    if (!cJSON_IsObject(p) || json_get_str(p, "base_url", &base) != 0 ||
        json_get_str(p, "api_key_env", &key_env) < 0 || json_get_str(p, "api", &api) < 0 ||
        json_get_obj(p, "headers", &headers) < 0 || json_get_arr(p, "models", &models) < 0 ||
        json_get_arr(p, "text_only_models", &text_only) < 0) {
        snprintf(err, errlen,
                 "%s: needs a string base_url; api_key_env and api are strings, headers an "
                 "object, models and text_only_models arrays",
                 where);
        return ERR_INVALID;
    }
    enum model_api which = strcmp(api, "responses") == 0 ? MODEL_API_RESPONSES : MODEL_API_CHAT;
    if (strcmp(api, "chat") && strcmp(api, "responses")) {
        snprintf(err, errlen, "%s: api must be \"chat\" or \"responses\"", where);
        return ERR_INVALID;
    }
    const char *key = key_env ? getenv_fn(key_env) : NULL;
    if (key_env && (!key || !key[0])) {
        snprintf(err, errlen, "%s: api_key_env names %s, which is not set", where, key_env);
        return ERR_INVALID;
    }
    char **h = NULL, **m = load_models(models);
    int rc = load_headers(headers, getenv_fn, &h, where, err, errlen);
    if (!rc) {
        rc = model_registry_add(reg, p->string, which, base, key, (const char *const *)h,
                                (const char *const *)m);
        if (!rc && text_only)
            find_provider(reg, p->string, strlen(p->string))->text_only_models =
                load_models(text_only);
        if (rc)
            snprintf(err, errlen, "%s: %s", where,
                     rc == ERR_TOO_BIG ? "too many providers"
                                       : "the name must be letters, digits, _ - . and base_url "
                                         "an http:// or https:// URL");
    }
    model_headers_free(h);
    model_headers_free(m);
    return rc;
}

int model_registry_load_file(struct model_registry *reg, const char *path,
                             const char *(*getenv_fn)(const char *), char *err, size_t errlen)
{
    struct buf text;
    buf_init(&text, PROVIDERS_FILE_MAX);
    int rc = read_file(path, &text, err, errlen);
    cJSON *doc = rc ? NULL : json_parse(text.data ? text.data : "", text.len, 32, NULL);
    buf_free(&text);
    if (rc)
        return rc;
    const cJSON *providers = NULL, *p;
    if (json_get_obj(doc, "providers", &providers) != 0) {
        snprintf(err, errlen, "%s: must be a JSON object with a \"providers\" object", path);
        cJSON_Delete(doc);
        return ERR_INVALID;
    }
    cJSON_ArrayForEach(p, providers)
    {
        if ((rc = load_provider(reg, p, getenv_fn, path, err, errlen)) != 0)
            break;
    }
    cJSON_Delete(doc);
    return rc;
}

void model_registry_write_metrics(const struct model_registry *reg, struct buf *out)
{
    static const struct {
        const char *name, *help;
        size_t off;
    } counters[] = {
        {"chatkitd_model_calls_total", "Model calls started",
         offsetof(struct model_stats, calls_total)},
        {"chatkitd_model_failures_total", "Model calls that failed",
         offsetof(struct model_stats, failed_total)},
        {"chatkitd_model_retries_total", "Model call attempts repeated after 429/5xx/connect",
         offsetof(struct model_stats, retries_total)},
        {"chatkitd_model_input_tokens_total", "Input tokens used",
         offsetof(struct model_stats, input_tokens)},
        {"chatkitd_model_output_tokens_total", "Output tokens used",
         offsetof(struct model_stats, output_tokens)},
        {"chatkitd_model_reasoning_tokens_total", "Reasoning tokens used",
         offsetof(struct model_stats, reasoning_tokens)},
        {"chatkitd_model_cached_tokens_total", "Cached input tokens",
         offsetof(struct model_stats, cached_tokens)},
    };
    for (size_t c = 0; c < sizeof counters / sizeof counters[0]; c++) {
        buf_appendf(out, "# HELP %s %s.\n# TYPE %s counter\n", counters[c].name, counters[c].help,
                    counters[c].name);
        for (int i = 0; i < reg->n; i++) {
            const uint64_t *v =
                (const uint64_t *)((const char *)&reg->providers[i].stats + counters[c].off);
            buf_appendf(out, "%s{provider=\"%s\"} %llu\n", counters[c].name, reg->providers[i].name,
                        (unsigned long long)*v);
        }
    }
}
