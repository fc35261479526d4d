/* Unit tests of memtrim: freed memory goes back only when there is enough of it. */
#include "core/memtrim.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define BLOCKS 4096

static void test_trims_after_a_burst(void **state)
{
    (void)state;
    /* Nothing like 64 MiB is free at the start of a test process. */
    assert_false(memtrim_run((size_t)64 << 20));
    /* 4 MiB in small blocks (below the mmap threshold: they come from the heap), touched, then
     * freed below a block still in use, which keeps free() itself from shrinking the heap: the
     * free memory sits in the middle, as it does in a server after a burst. */
    char **blocks = calloc(BLOCKS, sizeof *blocks);
    assert_non_null(blocks);
    for (int i = 0; i < BLOCKS; i++) {
        blocks[i] = malloc(1000);
        assert_non_null(blocks[i]);
        memset(blocks[i], 1, 1000);
    }
    char *pin = malloc(1000);
    assert_non_null(pin);
    for (int i = 0; i < BLOCKS; i++)
        free(blocks[i]);
    free(blocks);
    assert_true(memtrim_run((size_t)1 << 20));
    free(pin);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_trims_after_a_burst),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
