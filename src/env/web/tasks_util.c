/*
 * What the task generators share: core.randi/randf/sample/shuffle over the
 * page's own RNG, random strings as ui_utils.generateString makes them, and
 * word lists (loco's own, in the spirit of MiniWoB++'s name and word lists).
 */
#include <string.h>
#include "env/web/web.h"

int loco__randi(loco__page *p, int lo, int hi) {
    return lo + (int)(loco_rng_u64(&p->rng) % (uint64_t)(hi - lo + 1));
}
float loco__randf(loco__page *p) { return loco_rng_uniform(&p->rng); }

void loco__shuffle(loco__page *p, int *a, int n) {
    for (int i = n - 1; i > 0; i--) {
        int j = loco__randi(p, 0, i), t = a[i];
        a[i] = a[j]; a[j] = t;
    }
}

const char *loco__pick(loco__page *p, const char *const *list, int n) { return list[loco__randi(p, 0, n - 1)]; }

/* Letters and digits, lo..hi of them. */
void loco__rand_string(loco__page *p, char *out, int lo, int hi) {
    static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    int n = loco__randi(p, lo, hi);
    for (int k = 0; k < n; k++) out[k] = al[loco__randi(p, 0, (int)sizeof al - 2)];
    out[n] = 0;
}

const char *const loco__names[] = {
    "Abbey", "Aileen", "Alma", "Annis", "Bea", "Bettine", "Brandi", "Cami", "Carly", "Cathi",
    "Cecile", "Clio", "Cordi", "Dacia", "Darlene", "Dede", "Dorri", "Edith", "Elna", "Emmy",
    "Ethel", "Fanni", "Flor", "Gabi", "Gerti", "Glynis", "Hedy", "Ilka", "Inez", "Jackie",
    "Janel", "Joli", "Kaja", "Karel", "Kelli", "Konstanze", "Lacie", "Leia", "Lexi", "Livvy",
    "Lorie", "Lynde", "Mable", "Marja", "Mia", "Myrtle", "Nadia", "Nelli", "Noni", "Ofelia",
    "Pam", "Perla", "Rafa", "Renie", "Robyn", "Sada", "Selma", "Sher", "Tamra", "Tilda",
    "Ursa", "Vanya", "Velma", "Wren", "Xena", "Yetta", "Zora"};
const int loco__n_names = (int)(sizeof loco__names / sizeof *loco__names);

const char *const loco__words_list[] = {
    "able", "about", "acorn", "after", "again", "agent", "aisle", "alarm", "album", "alley",
    "amber", "angle", "apple", "arena", "argue", "arrow", "aside", "audio", "awake", "bacon",
    "badge", "baker", "basin", "beach", "berry", "blade", "blank", "bloom", "board", "brave",
    "brick", "brief", "brush", "cabin", "cable", "camel", "candy", "cargo", "cedar", "chalk",
    "charm", "chess", "chief", "cider", "civic", "clerk", "cliff", "cloud", "coach", "coral",
    "crane", "crisp", "crown", "daisy", "dance", "delta", "depth", "diary", "dough", "drift",
    "eagle", "earth", "elbow", "ember", "entry", "equal", "fable", "fancy", "ferry", "field",
    "flame", "flock", "flute", "focus", "forge", "frost", "fruit", "giant", "glide", "globe",
    "grape", "grove", "guide", "habit", "harbor", "hazel", "heart", "honey", "hotel", "ivory",
    "jelly", "jolly", "judge", "kayak", "kneel", "knife", "label", "lemon", "level", "lilac",
    "lunar", "magic", "maple", "march", "medal", "melon", "mercy", "metal", "mango", "noble",
    "north", "novel", "ocean", "olive", "onion", "orbit", "otter", "panel", "pearl", "pedal",
    "piano", "pilot", "plaza", "polar", "pride", "quest", "quiet", "radar", "raven", "relay",
    "ridge", "river", "robin", "royal", "salad", "scale", "scout", "shade", "shelf", "shore",
    "siren", "slate", "solar", "spice", "spoon", "stone", "storm", "sugar", "swift", "table",
    "tiger", "toast", "topic", "tower", "trail", "tulip", "ultra", "union", "urban", "valid",
    "vapor", "vivid", "wagon", "whale", "wheat", "wind", "yacht", "young", "zebra", "zesty"};
const int loco__n_words = (int)(sizeof loco__words_list / sizeof *loco__words_list);

/* The ends every task's predicate reaches: MiniWoB++'s core.endEpisode(1,
 * true) and core.endEpisode(-1, false). */
void loco__win(loco__page *p) { loco__end(p, 1.0f, 1, 1); }
void loco__lose(loco__page *p) { loco__end(p, -1.0f, 0, 0); }

int loco__submit(loco__page *p, int parent, const char *label, int pad_y, int pad_x) {
    int b = loco__button(p, parent, label);
    loco__set_id(p, b, "subbtn");
    loco__set_class(p, b, "secondary-action");
    p->n[b].pad[0] = p->n[b].pad[2] = (int16_t)pad_y;
    p->n[b].pad[1] = p->n[b].pad[3] = (int16_t)pad_x;
    return b;
}
