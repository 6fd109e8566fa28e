#ifndef LOCO_CLI_COMMON_H
#define LOCO_CLI_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include "loco/tokenizer.h"

/* Loads a tokenizer from "tokenizer.json" (Hugging Face format, loco's own)
 * or "vocab.json,merges.txt" (GPT-2's pair).  Returns a loco_err with the
 * reason naming the file. */
int loco_cli_load_tokenizer(loco_tokenizer **t, const char *spec, char *msg, size_t msglen);

/* Splits a comma-separated list in place; returns the number of items, or
 * -1 if there are more than max. */
int loco_cli_split_list(char *list, const char **items, int max);

/* Reads a whole stream; returns a malloc'd buffer (length in *n) or NULL on
 * a read error or when out of memory. */
uint8_t *loco_cli_read_all(FILE *f, size_t *n);

#endif
