/* `loco train --tokenizer`: the tokenizer named for a run is loaded and
 * checked against the data before anything is trained or written.  It used
 * to be recorded unread, so a missing path, a directory, or a tokenizer of
 * another vocabulary than the shards' was found only by `loco sample`, after
 * the run. */
#include <stdio.h>
#include "cli/common.h"
#include "cli/train_dist.h"
#include "loco/tokenizer.h"

int train_check_tokenizer(const char *spec, const char *resume, int vocab, char *msg, size_t msglen) {
    loco_tokenizer *t = NULL;
    char why[512];
    if (loco_cli_model_tokenizer(&t, spec, spec ? NULL : resume, NULL, NULL, why, sizeof why) != LOCO_OK) {
        snprintf(msg, msglen, "--tokenizer: %s", why);
        return 1;
    }
    if (!t) return 0;   /* bytes */
    const int tv = loco_tokenizer_vocab_size(t);
    loco_tokenizer_free(t);
    if (tv != vocab) {
        snprintf(msg, msglen, "--tokenizer %.300s has %d tokens but the data's vocabulary is %d: shards are made "
                 "with the tokenizer that reads them (loco data prepare --tokenizer)", spec ? spec : resume, tv, vocab);
        return 2;
    }
    return 0;
}
