#ifndef LOCO_CLI_COMMON_H
#define LOCO_CLI_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include "loco/loco.h"
#include "loco/tokenizer.h"

/* Loads a tokenizer from "tokenizer.json" (Hugging Face format, loco's own)
 * or "vocab.json,merges.txt" (GPT-2's pair).  Returns a loco_err with the
 * reason naming the file. */
int loco_cli_load_tokenizer(loco_tokenizer **t, const char *spec, char *msg, size_t msglen);

/* The configuration and the parameters of a starting model (--init): a
 * loco checkpoint, or a Hugging Face GPT-2 folder (config.json and
 * model.safetensors).  Return a loco_err with the reason in msg. */
int loco_cli_init_config(const char *path, loco_gpt_config *cfg, char *msg, size_t msglen);
int loco_cli_init_load(const char *path, loco_gpt **m, int B, int T, char *msg, size_t msglen);

/* The tokenizer.json text a checkpoint embeds: of spec (a tokenizer file)
 * if given, else of checkpoint ckpt's tokenizer (NULL: none).  *json is
 * malloc'd, or NULL for a byte-level run.  Returns a loco_err with the
 * reason in msg. */
int loco_cli_tokenizer_json(const char *ckpt, const char *spec, char **json, char *msg, size_t msglen);

/* The tokenizer of a model: spec if given (--tokenizer), else the one
 * checkpoint ckpt embeds or records, else the one a DiPaCo directory dir
 * records (recorded), looked for beside it.  *t is NULL for none (bytes).
 * Returns a loco_err with the reason in msg. */
int loco_cli_model_tokenizer(loco_tokenizer **t, const char *spec, const char *ckpt, const char *recorded,
                             const char *dir, char *msg, size_t msglen);

/* `loco tokenizer convert` (src/cli/tokenizer_convert.c). */
int loco_cli_tokenizer_convert(int argc, char **argv);

/* Splits a comma-separated list in place; returns the number of items, or
 * -1 if there are more than max. */
int loco_cli_split_list(char *list, const char **items, int max);

/* Reads a whole stream; returns a malloc'd buffer (length in *n) or NULL on
 * a read error or when out of memory. */
uint8_t *loco_cli_read_all(FILE *f, size_t *n);

/* The library says what went wrong; the command says which flag to turn.
 * For LOCO_ENONFINITE this appends to msg the learning rate to lower: the
 * outer one when the outer step failed, the inner one when a step of the
 * inner optimizer did (and the outer one too for a worker of a distributed
 * run, whose starting point the outer steps moved). Other errors are left
 * as they are. */
void loco_cli_hint(int err, char *msg, size_t msglen);

/* Prints a network engine's event line on stderr (a loco_net_log_fn). */
void loco_cli_net_log(void *ctx, const char *line);

#endif
