/* `loco tokenizer convert`: GPT-2's vocab.json and merges.txt to one
 * Hugging Face tokenizer.json (with tokenizer_config.json beside it). */
#include <stdio.h>
#include "cli/args.h"
#include "cli/common.h"

int loco_cli_tokenizer_convert(int argc, char **argv) {
    const char *vocab = NULL, *merges = NULL, *out = NULL;
    const arg_spec specs[] = {
        {"vocab", ARG_STR, &vocab, 0, 0, "GPT-2's vocab.json"},
        {"merges", ARG_STR, &merges, 0, 0, "GPT-2's merges.txt"},
        {"out", ARG_STR, &out, 0, 0, "tokenizer.json to write (tokenizer_config.json goes beside it)"},
    };
    char err[512], msg[512];
    int r = args_parse(specs, 3, argc, argv,
                       "usage: loco tokenizer convert --vocab vocab.json --merges merges.txt --out tokenizer.json\n\n"
                       "Writes GPT-2's vocabulary and merges as one Hugging Face tokenizer.json.", err, sizeof err);
    if (r == 1) return 0;
    if (r < 0) { fprintf(stderr, "loco tokenizer convert: %s\n", err); return 2; }
    if (!vocab || !merges || !out) {
        fprintf(stderr, "loco tokenizer convert: --vocab, --merges and --out are required\n");
        return 2;
    }
    loco_tokenizer *t;
    if (loco_tokenizer_load_gpt2(&t, vocab, merges, msg, sizeof msg)) {
        fprintf(stderr, "loco tokenizer convert: %s\n", msg);
        return 1;
    }
    int e = loco_tokenizer_save(t, out, msg, sizeof msg);
    if (e) fprintf(stderr, "loco tokenizer convert: %s\n", msg);
    else printf("loco tokenizer convert: vocabulary %d, %d merges; wrote %s\n", loco_tokenizer_vocab_size(t),
                loco_tokenizer_num_merges(t), out);
    loco_tokenizer_free(t);
    return e ? 1 : 0;
}
