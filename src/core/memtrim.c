#include "core/memtrim.h"

#include <malloc.h>

bool memtrim_run(size_t min_free)
{
    struct mallinfo2 mi = mallinfo2();
    if (mi.fordblks <= min_free)
        return false;
    malloc_trim(0);
    return true;
}
