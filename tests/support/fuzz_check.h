/* fuzz_check.h - CHECK(cond) for libFuzzer drivers: a broken invariant prints where and aborts,
 * which libFuzzer reports as a crash with the input that caused it. */
#ifndef CHATKITD_TESTS_FUZZ_CHECK_H
#define CHATKITD_TESTS_FUZZ_CHECK_H

#include <stdio.h>
#include <stdlib.h>

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);               \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

#endif
