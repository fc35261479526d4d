/* registry.h - what the model modules (model.c, call.c, transcribe.c) share about the registry.
 * Not for other modules: they use model.h and provider.h.
 */
#ifndef CHATKITD_MODEL_REGISTRY_H
#define CHATKITD_MODEL_REGISTRY_H

#include "model/model.h"

struct model_provider {
    char *name; /* owned; "openai", "local", ... */
    enum model_api api;
    char *base_url;          /* owned; without a trailing slash */
    char *api_key;           /* owned; NULL = none (never logged) */
    char **headers;          /* owned, NULL-terminated "Name: value" strings */
    char **models;           /* owned, NULL-terminated; empty = any */
    char **text_only_models; /* owned, NULL-terminated or NULL; "*" = every model: these do not
                              * accept images, which reach them as a short text note */
    struct model_stats stats;
};

struct model_registry {
    struct model_registry_config cfg;
    struct model_provider providers[MODEL_PROVIDERS_MAX];
    int n;
};

/* Resolves ref into its provider and model name (written to model, modellen bytes); 0 or
 * ERR_NOT_FOUND with why. */
int model_registry_resolve(struct model_registry *reg, const char *ref,
                           struct model_provider **prov, char *model, size_t modellen, char *why,
                           size_t whylen);
/* The request headers for prov (authorization, content type, extra headers, accept), as a
 * NULL-terminated array in out (owned by the caller: free each and the array). */
char **model_provider_headers(const struct model_provider *prov, const char *content_type,
                              const char *accept);
void model_headers_free(char **headers);
/* Whether model (a name on prov) may be sent images (input_image parts). */
bool model_provider_accepts_images(const struct model_provider *prov, const char *model);

#endif
