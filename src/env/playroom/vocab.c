/* The Playroom's vocabulary and the names of things (see vocab.h). */
#include <string.h>
#include "env/playroom/internal.h"
#include "env/playroom/vocab.h"

static const char *const words[PR_VOCAB_SIZE] = {
#define PR__TOK_WORD(name, word) word,
    PR_VOCAB(PR__TOK_WORD)
#undef PR__TOK_WORD
};

static const char *const categories[LOCO_PLAYROOM_N_CATEGORY] = {
    "duck", "car", "robot", "ball", "book", "cup", "block", "train", "plane", "teddy"};
static const char *const colours[LOCO_PLAYROOM_N_COLOUR] = {
    "red", "orange", "yellow", "green", "blue", "purple", "pink", "white", "black", "brown"};
static const char *const furniture[LOCO_PLAYROOM_N_FURNITURE] = {"shelf", "table", "bed", "box", "basket"};
static const char *const families[LOCO_PLAYROOM_N_FAMILY] = {
    "lift", "put", "go", "bring", "position", "colour", "count", "exists", "where"};

int loco_playroom_vocab_size(void) { return PR_VOCAB_SIZE; }

const char *loco_playroom_token_name(int t) { return t >= 0 && t < PR_VOCAB_SIZE ? words[t] : NULL; }

int loco_playroom_token_id(const char *word) {
    for (int t = 0; word && t < PR_VOCAB_SIZE; t++)
        if (!strcmp(words[t], word)) return t;
    return -1;
}

const char *loco_playroom_family_name(int f) { return f >= 0 && f < LOCO_PLAYROOM_N_FAMILY ? families[f] : NULL; }
const char *loco_playroom_category_name(int c) { return c >= 0 && c < LOCO_PLAYROOM_N_CATEGORY ? categories[c] : NULL; }
const char *loco_playroom_colour_name(int c) { return c >= 0 && c < LOCO_PLAYROOM_N_COLOUR ? colours[c] : NULL; }
const char *loco_playroom_furniture_name(int k) { return k >= 0 && k < LOCO_PLAYROOM_N_FURNITURE ? furniture[k] : NULL; }

int loco_playroom_family_parse(const char *name) {
    for (int f = 0; name && f < LOCO_PLAYROOM_N_FAMILY; f++)
        if (!strcmp(families[f], name)) return f;
    return -1;
}

/* The category words are laid out as four blocks of ten in category order:
 * singular, plural, synonym, synonym plural. */
int loco__pr_tok_category(int t, int *plural) {
    if (t < T_DUCK || t > T_BEARS) return -1;
    int k = t - T_DUCK;
    if (plural) *plural = (k / LOCO_PLAYROOM_N_CATEGORY) & 1;
    return k % LOCO_PLAYROOM_N_CATEGORY;
}
int loco__pr_tok_category_word(int cat, int plural, int synonym) {
    return T_DUCK + cat + LOCO_PLAYROOM_N_CATEGORY * ((plural ? 1 : 0) + (synonym ? 2 : 0));
}
int loco__pr_tok_colour(int t) { return t >= T_RED && t <= T_BROWN ? t - T_RED : -1; }
int loco__pr_tok_colour_word(int colour) { return T_RED + colour; }
int loco__pr_tok_furniture(int t) {
    if (t >= T_SHELF && t <= T_BASKET) return t - T_SHELF;
    if (t >= T_BOOKSHELF && t <= T_HAMPER) return t - T_BOOKSHELF;
    return -1;
}
int loco__pr_tok_furniture_word(int kind, int synonym) { return (synonym ? T_BOOKSHELF : T_SHELF) + kind; }
int loco__pr_tok_number(int t) { return t >= T_ZERO && t <= T_FIFTEEN ? t - T_ZERO : -1; }
int loco__pr_tok_number_word(int n) { return n >= 0 && n <= 15 ? T_ZERO + n : T_MANY; }

/* The held-out set (docs/playroom.md): five colour-category objects that the
 * TRAIN split never places in a room or names, and six family-category
 * prompts it never asks.  Each category and colour appears at most once, so
 * that every held-out combination is made of parts seen in training. */
static const uint8_t heldout_objects[][2] = {   /* colour, category */
    {0, 0},   /* red duck */
    {4, 1},   /* blue car */
    {3, 2},   /* green robot */
    {2, 3},   /* yellow ball */
    {5, 4},   /* purple book */
};
static const uint8_t heldout_prompts[][2] = {   /* family, category */
    {LOCO_PLAYROOM_LIFT, 5},      /* lift a cup */
    {LOCO_PLAYROOM_PUT, 6},       /* put a block somewhere */
    {LOCO_PLAYROOM_BRING, 7},     /* bring a train */
    {LOCO_PLAYROOM_COUNT, 8},     /* how many planes */
    {LOCO_PLAYROOM_WHERE, 9},     /* where is the teddy */
    {LOCO_PLAYROOM_COLOUR, 3},    /* what colour is the ball */
};

int loco_playroom_heldout_object(int colour, int cat) {
    for (size_t i = 0; i < sizeof heldout_objects / sizeof *heldout_objects; i++)
        if (heldout_objects[i][0] == colour && heldout_objects[i][1] == cat) return 1;
    return 0;
}

int loco_playroom_heldout_prompt(int family, int cat) {
    for (size_t i = 0; i < sizeof heldout_prompts / sizeof *heldout_prompts; i++)
        if (heldout_prompts[i][0] == family && heldout_prompts[i][1] == cat) return 1;
    return 0;
}
