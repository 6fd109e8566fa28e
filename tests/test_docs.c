/*
 * The documentation's links: every relative link in README.md and docs/
 * names a file that exists and, with an #anchor, a heading of that file
 * (scripts/check_readme.sh --links).  The README's examples themselves take
 * minutes; scripts/check_readme.sh without --links runs them.
 */
#include <stdlib.h>

#include "test.h"

LOCO_TEST(docs_links_resolve) {
    int st = system("sh scripts/check_readme.sh --links");
    CHECK(st == 0, "a link in README.md or docs/ names no file or heading (status %d)", st);
}
