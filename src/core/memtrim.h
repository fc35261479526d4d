/* memtrim.h - give freed heap memory back to the kernel once a burst is over.
 *
 * glibc keeps what was freed in its arenas for reuse, so without this a server's RSS stays at
 * the peak of its busiest moment for good (after 1,000 concurrent turns: ~10 MiB against ~5.5
 * idle). main calls memtrim_run from a timer while no turn is in progress, so the page faults
 * of reusing the memory later never land on a busy loop.
 */
#ifndef CHATKITD_CORE_MEMTRIM_H
#define CHATKITD_CORE_MEMTRIM_H

#include <stdbool.h>
#include <stddef.h>

/* Returns free pages of every malloc arena to the kernel when more than min_free bytes are
 * free in them. True when it trimmed. */
bool memtrim_run(size_t min_free);

#endif
