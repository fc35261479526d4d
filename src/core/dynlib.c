#include "core/dynlib.h"

#include "core/err.h"

#include <dlfcn.h>
#include <stdio.h>

int dynlib_open(const char *const *sonames, const struct dynlib_symbol *syms, size_t n, char *err,
                size_t errlen)
{
    void *lib = NULL;
    const char *why = "no library name given";
    for (const char *const *s = sonames; *s && !lib; s++) {
        lib = dlopen(*s, RTLD_NOW | RTLD_LOCAL);
        if (!lib)
            why = dlerror();
    }
    if (!lib) {
        snprintf(err, errlen, "cannot load %s: %s", sonames[0] ? sonames[0] : "?",
                 why ? why : "unknown error");
        return ERR_UNAVAILABLE;
    }
    for (size_t i = 0; i < n; i++) {
        void *addr = dlsym(lib, syms[i].name);
        if (!addr) {
            snprintf(err, errlen, "%s has no symbol %s", sonames[0], syms[i].name);
            return ERR_UNAVAILABLE;
        }
        *syms[i].slot = addr;
    }
    return 0;
}
