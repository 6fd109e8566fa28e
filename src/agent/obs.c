/*
 * Observations of the web-task environment as the agent's inputs: batch
 * buffers, the word vocabulary, the encoding of one observation, and the
 * mapping between the environment's actions and the agent's.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "loco/agent_env.h"

/* ---------------------------------------------------------------- buffers */

int loco_agent_batch_buf_alloc(loco_agent_batch_buf *bb, const loco_agent_config *c, int B, int T) {
    memset(bb, 0, sizeof *bb);
    const size_t n = (size_t)B * T, NS = loco_agent_num_strings(c), S = c->max_words;
    const size_t fr = (c->obs & LOCO_OBS_PIXELS) ? (size_t)c->frame_h * c->frame_w * 3 : 0;
    /* one block, every array 8-byte aligned */
    size_t sz[10] = {n * fr, n * NS * S * 4, n * NS * 4, n * c->max_dom * c->geom_dim * 4, n * 4, n * 4, n, n,
                     n * sizeof(loco_agent_action), n * sizeof(loco_agent_action)};
    size_t total = 0;
    for (int i = 0; i < 10; i++) total += (sz[i] + 7) & ~(size_t)7;
    char *p = calloc(total ? total : 1, 1);
    if (!p) return LOCO_ENOMEM;
    bb->block = p;
    void *ptr[10];
    for (int i = 0; i < 10; i++) { ptr[i] = p; p += (sz[i] + 7) & ~(size_t)7; }
    bb->B = B;
    bb->T = T;
    bb->frames = fr ? ptr[0] : NULL;
    bb->words = ptr[1];
    bb->nwords = ptr[2];
    bb->geom = ptr[3];
    bb->n_dom = ptr[4];
    bb->n_fields = ptr[5];
    bb->first = ptr[6];
    bb->valid = ptr[7];
    bb->prev = ptr[8];
    bb->target = ptr[9];
    bb->view = (loco_agent_batch){B, T, bb->frames, bb->words, bb->nwords, bb->geom, bb->n_dom, bb->n_fields,
                                  bb->first, bb->prev, bb->target, bb->valid};
    return LOCO_OK;
}

void loco_agent_batch_buf_free(loco_agent_batch_buf *bb) {
    if (bb) free(bb->block);
    if (bb) memset(bb, 0, sizeof *bb);
}

void loco_agent_batch_buf_copy_step(loco_agent_batch_buf *dst, int i, const loco_agent_batch_buf *src, int j,
                                    const loco_agent_config *c) {
    const size_t NS = loco_agent_num_strings(c), S = c->max_words, G = (size_t)c->max_dom * c->geom_dim;
    if (dst->frames && src->frames) {
        size_t fr = (size_t)c->frame_h * c->frame_w * 3;
        memcpy(dst->frames + i * fr, src->frames + j * fr, fr);
    }
    memcpy(dst->words + i * NS * S, src->words + j * NS * S, NS * S * 4);
    memcpy(dst->nwords + i * NS, src->nwords + j * NS, NS * 4);
    memcpy(dst->geom + i * G, src->geom + j * G, G * 4);
    dst->n_dom[i] = src->n_dom[j];
    dst->n_fields[i] = src->n_fields[j];
    dst->first[i] = src->first[j];
    dst->valid[i] = src->valid[j];
    dst->prev[i] = src->prev[j];
    dst->target[i] = src->target[j];
}

/* ------------------------------------------------------------- vocabulary */

/* The built-in words (id = 1 + index; id 0 starts every string): the
 * instructions' verbs and nouns, element tags, flags' words, digits.  Words
 * past vocab_words - 1 are hashed like any other. */
static const char *const VOCAB[] = {
    "click", "the", "button", "on", "select", "and", "submit", "enter", "into", "text", "field", "type",
    "press", "focus", "textbox", "input", "link", "tab", "then", "to", "in", "of", "a", "an", "all", "both",
    "fields", "password", "username", "login", "dialog", "box", "close", "labeled", "widget", "words",
    "similar", "switch", "between", "tabs", "find", "lower", "case", "letters", "upper", "nd", "st", "rd",
    "th", "textboxes", "options", "option", "checkbox", "checkboxes", "radio", "ok", "cancel", "yes", "no",
    "x", "div", "span", "label", "t", "body", "form", "p", "h1", "h2", "h3", "ul", "li", "table", "tr", "td",
    "input_text", "input_password", "input_checkbox", "input_radio", "input_button", "input_submit",
    "textarea", "true", "false", "one", "two", "three", "four", "five", "six", "seven", "eight",
    "nine", "ten", "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "#", "\"", ".", ",", ":", "?", "!",
    "-", "'", "(", ")", "/", "+", "=", "first", "second", "third", "last", "next", "previous", "menu",
    "item", "list", "date", "time", "name", "email", "search", "popup", "window", "target", "value", "key",
    "wrap", "area", "query", "sync", "task", "cover", "subtabs", "panel", "title", "content", "header",
    "footer", "nav", "icon", "image", "img", "ol", "small", "strong", "b", "i", "em", "hr", "br",
};
#define N_VOCAB ((int)(sizeof VOCAB / sizeof VOCAB[0]))

int loco_agent_word_id(const loco_agent_config *c, const char *tok, size_t len) {
    int nv = N_VOCAB < c->vocab_words - 1 ? N_VOCAB : c->vocab_words - 1;
    for (int i = 0; i < nv; i++)
        if (strlen(VOCAB[i]) == len && !strncasecmp(VOCAB[i], tok, len)) return 1 + i;
    if (c->hash_buckets <= 0) return 0;
    uint64_t h = 0xCBF29CE484222325ull;
    for (size_t k = 0; k < len; k++) { h ^= (uint8_t)tok[k]; h *= 0x100000001B3ull; }
    return c->vocab_words + (int)(h % (uint64_t)c->hash_buckets);
}

/* Appends the words of s (runs of letters and digits; any other printable
 * character is a word of its own; spaces separate) to ids[*n] up to S. */
static void add_words(const loco_agent_config *c, const char *s, size_t maxlen, int32_t *ids, int *n) {
    size_t i = 0;
    while (i < maxlen && s[i] && *n < c->max_words) {
        unsigned char ch = (unsigned char)s[i];
        if (isspace(ch) || ch < 32) { i++; continue; }
        size_t j = i + 1;
        if (isalnum(ch) || ch == '_')
            while (j < maxlen && s[j] && (isalnum((unsigned char)s[j]) || s[j] == '_')) j++;
        ids[(*n)++] = loco_agent_word_id(c, s + i, j - i);
        i = j;
    }
}

/* ---------------------------------------------------------------- encoding */

int loco_agent_env_check(const loco_agent_config *c, char *msg, size_t msglen) {
    int err = loco_agent_config_check(c, msg, msglen);
    if (err) return err;
    if (c->x_bins != LOCO_ENV_BINS || c->y_bins != LOCO_ENV_BINS || c->n_keys != LOCO_ENV_NUM_KEYS ||
        c->geom_dim != 8 || c->max_fields > LOCO_ENV_MAX_FIELDS ||
        ((c->obs & LOCO_OBS_PIXELS) && (c->frame_h != LOCO_ENV_H || c->frame_w != LOCO_ENV_W))) {
        if (msg && msglen)
            snprintf(msg, msglen, "the environment needs %d x and y bins, %d keys, geom_dim 8, at most %d fields "
                     "and %dx%d frames", LOCO_ENV_BINS, LOCO_ENV_NUM_KEYS, LOCO_ENV_MAX_FIELDS, LOCO_ENV_H, LOCO_ENV_W);
        return LOCO_ECONFIG;
    }
    return LOCO_OK;
}

void loco_agent_encode_obs(const loco_agent_config *c, const loco_env_obs *obs, const uint8_t *frame,
                           loco_agent_batch_buf *bb, int i) {
    const int NS = loco_agent_num_strings(c), S = c->max_words, F = c->max_fields;
    const int dom = (c->obs & LOCO_OBS_DOM) != 0, ND = dom ? c->max_dom : 0;
    int32_t *w = bb->words + (size_t)i * NS * S, *nw = bb->nwords + (size_t)i * NS;
    memset(w, 0, (size_t)NS * S * 4);
    memset(nw, 0, (size_t)NS * 4);
    int n = 1;                                           /* word 0 starts every string */
    add_words(c, obs->utterance, sizeof obs->utterance, w, &n);
    nw[0] = n;
    int nf = obs->n_fields < F ? obs->n_fields : F;
    for (int f = 0; f < nf; f++) {
        int32_t *ws = w + (size_t)(1 + f) * S;
        n = 1;
        add_words(c, obs->field_key[f], LOCO_ENV_STR, ws, &n);
        add_words(c, obs->field_value[f], LOCO_ENV_STR, ws, &n);
        nw[1 + f] = n;
    }
    int ne = 0;
    float *g = bb->geom + (size_t)i * c->max_dom * c->geom_dim;
    memset(g, 0, (size_t)c->max_dom * c->geom_dim * 4);
    if (dom) {
        ne = obs->n_elems < ND ? obs->n_elems : ND;
        for (int e = 0; e < ne; e++) {
            const loco_env_elem *el = &obs->elems[e];
            int32_t *ws = w + (size_t)(1 + F + e) * S;
            n = 1;
            add_words(c, el->tag, sizeof el->tag, ws, &n);
            add_words(c, el->text, sizeof el->text, ws, &n);
            add_words(c, el->value, sizeof el->value, ws, &n);
            add_words(c, el->id, sizeof el->id, ws, &n);
            nw[1 + F + e] = n;
            float *ge = g + (size_t)e * c->geom_dim;
            ge[0] = el->left / LOCO_ENV_W;
            ge[1] = el->top / LOCO_ENV_H;
            ge[2] = el->width / LOCO_ENV_W;
            ge[3] = el->height / LOCO_ENV_H;
            ge[4] = (el->flags & LOCO_ENV_FOCUSED) != 0;
            ge[5] = (el->flags & LOCO_ENV_TAMPERED) != 0;
            ge[6] = (el->flags & LOCO_ENV_TARGETED) != 0;
            ge[7] = (el->flags & LOCO_ENV_LEAF) != 0;
        }
    }
    bb->n_dom[i] = ne;
    bb->n_fields[i] = nf;
    if (obs->step == 0 || loco_agent_action_from_env(&obs->prev_action, nf, &bb->prev[i]) != 0)
        bb->prev[i] = (loco_agent_action){-1, -1, -1, -1, -1};
    if (bb->frames && frame)
        memcpy(bb->frames + (size_t)i * c->frame_h * c->frame_w * 3, frame, (size_t)c->frame_h * c->frame_w * 3);
}

/* ---------------------------------------------------------------- actions */

int loco_agent_action_from_env(const loco_env_action *a, int n_fields, loco_agent_action *out) {
    *out = (loco_agent_action){-1, -1, -1, -1, -1};
    if (a->type < 0 || a->type >= LOCO_ENV_NUM_CCNET_TYPES) return -1;
    out->type = a->type;
    if (loco_act_uses_xy(a->type)) {
        if (a->x < 0 || a->x >= LOCO_ENV_BINS || a->y < 0 || a->y >= LOCO_ENV_BINS) return -1;
        out->x = a->x;
        out->y = a->y;
    }
    if (loco_act_uses_key(a->type)) {
        if (a->key < 0 || a->key >= LOCO_ENV_NUM_KEYS) return -1;
        out->key = a->key;
    }
    if (loco_act_uses_field(a->type)) {
        if (a->field < 0 || a->field >= n_fields) return -1;
        out->field = a->field;
    }
    return 0;
}

void loco_agent_action_to_env(const loco_agent_action *a, loco_env_action *out) {
    *out = (loco_env_action){a->type < 0 ? LOCO_ENV_NONE : a->type, a->x < 0 ? 0 : a->x, a->y < 0 ? 0 : a->y,
                             a->key < 0 ? 0 : a->key, a->field < 0 ? 0 : a->field, 0};
}
