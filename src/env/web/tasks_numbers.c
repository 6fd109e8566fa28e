/*
 * Number tasks: odd or even, counting blocks, a radio-and-textbox sequence.
 * Two MiniWoB++ reward bugs are not copied here: odd-or-even pays a partly
 * right answer a positive partial reward, and form-sequence-2 accepts any
 * checked radio button, not only the asked one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "env/web/web.h"

/* ---------------------------------------------------------------- odd-or-even */
/* Three rows "Odd  n  Even" (n in -5..10); a click marks one button of a row
 * "selected".  ti[10+3k] Odd, ti[11+3k] Even, ti[12+3k] the number, ti[30+k]
 * the choice (0 none, 1 odd, 2 even). */
static void odd_or_even_gen(loco__page *p) {
    loco__set_utterance(p, "Mark the numbers below as odd or even and press submit when done.");
    int nums = loco__add(p, p->area, K_BOX, "DIV", NULL);
    loco__set_id(p, nums, "numbers");
    for (int k = 0; k < 3; k++) {
        int row = loco__add(p, nums, K_BOX, "DIV", NULL);
        loco__set_class(p, row, "row");
        p->n[row].margin[2] = 4;
        int o = loco__button(p, row, "Odd");
        loco__set_class(p, o, "odd");
        char s[16];
        int v = loco__randi(p, -5, 10);
        snprintf(s, sizeof s, "%d", v);
        int num = loco__add(p, row, K_BOX, "DIV", s);
        loco__set_class(p, num, "display-number");
        p->n[num].display = D_INLINE_BLOCK; p->n[num].w = 30; p->n[num].center = 1; p->n[num].font_px = 13;
        int e = loco__button(p, row, "Even");
        loco__set_class(p, e, "even");
        p->ti[10 + 3 * k] = o; p->ti[11 + 3 * k] = e; p->ti[12 + 3 * k] = v; p->ti[30 + k] = 0;
    }
    p->ti[1] = loco__submit(p, p->area, "Submit", 6, 25);
    p->n[p->ti[1]].margin[0] = (int16_t)loco__randi(p, 0, 20);
    p->n[p->ti[1]].margin[3] = (int16_t)loco__randi(p, 0, 25);
}
static void odd_or_even_event(loco__page *p, int ev, int i) {
    if (ev != EV_CLICK) return;
    for (int k = 0; k < 3; k++)
        for (int c = 0; c < 2; c++)
            if (loco__within(p, i, p->ti[10 + 3 * k + c])) {
                p->ti[30 + k] = c + 1;
                loco__set_class(p, p->ti[10 + 3 * k], c == 0 ? "odd selected" : "odd");
                loco__set_class(p, p->ti[11 + 3 * k], c == 1 ? "even selected" : "even");
                loco__set_bg(p, p->ti[10 + 3 * k], c == 0 ? 0x99CCFF : 0xEFEFEF);
                loco__set_bg(p, p->ti[11 + 3 * k], c == 1 ? 0x99CCFF : 0xEFEFEF);
                return;
            }
    if (!loco__within(p, i, p->ti[1])) return;
    int ok = 1;
    for (int k = 0; k < 3; k++) ok &= p->ti[30 + k] == ((p->ti[12 + 3 * k] % 2 != 0) ? 1 : 2);
    if (ok) loco__win(p); else loco__lose(p);
}
static void odd_or_even_plan(loco__demo *d, const loco_env_obs *o) {
    int odd = 0;
    for (int k = 0; k < o->n_elems; k++) {
        const loco_env_elem *e = &o->elems[k];
        if (!strcmp(e->classes, "odd")) odd = e->ref;
        if (!strcmp(e->classes, "display-number") && k + 1 < o->n_elems)
            loco__demo_click(d, atoi(e->text) % 2 != 0 ? odd : o->elems[k + 1].ref);
    }
    loco__demo_click(d, loco__obs_find_text(o, "BUTTON", "Submit"));
}
const loco__task loco__task_odd_or_even = {"odd-or-even", odd_or_even_gen, odd_or_even_event, odd_or_even_plan, NULL, 15000};

/* ---------------------------------------------------------------- visual-addition */
/* Two groups of 1-10 blocks with a "+" between; the answer is their total. */
static void visual_addition_gen(loco__page *p) {
    loco__set_utterance(p, "Type the total number of blocks into the textbox and press Submit.");
    int prob = loco__add(p, p->area, K_BOX, "DIV", NULL);
    loco__set_id(p, prob, "math-problem");
    int a = loco__randi(p, 1, 10), b = loco__randi(p, 1, 10);
    for (int g = 0; g < 2; g++) {
        int span = loco__add(p, prob, K_BOX, "SPAN", NULL);
        loco__set_id(p, span, g ? "visual-2" : "visual-1");
        p->n[span].display = D_INLINE_BLOCK; p->n[span].w = 68;
        for (int k = 0; k < (g ? b : a); k++) {
            int blk = loco__add(p, span, K_BOX, "SPAN", NULL);
            loco__set_class(p, blk, "addition-block");
            p->n[blk].display = D_INLINE_BLOCK; p->n[blk].w = p->n[blk].h = 10; p->n[blk].margin[1] = 3;
            p->n[blk].margin[2] = 3;
            loco__set_bg(p, blk, 0x3366CC);
        }
        if (!g) {
            int plus = loco__add(p, prob, K_BOX, "SPAN", "+");
            loco__set_id(p, plus, "visual-plus");
            p->n[plus].display = D_INLINE_BLOCK; p->n[plus].w = 12; p->n[plus].font_px = 16;
        }
    }
    snprintf(p->ts[0], LOCO_ENV_STR, "%d", a + b);
    p->ti[0] = loco__input(p, p->area, INPUT_TEXT, 60);
    loco__set_id(p, p->ti[0], "math-answer");
    loco__br(p, p->area);
    p->ti[1] = loco__submit(p, p->area, "Submit", 6, 25);
}
static void visual_addition_event(loco__page *p, int ev, int i) {
    if (ev != EV_CLICK || !loco__within(p, i, p->ti[1])) return;
    if (!strcmp(p->n[p->ti[0]].e.value, p->ts[0])) loco__win(p); else loco__lose(p);
}
static void visual_addition_plan(loco__demo *d, const loco_env_obs *o) {
    int n = 0;
    for (int k = 0; k < o->n_elems; k++) n += !strcmp(o->elems[k].classes, "addition-block");
    char s[16];
    snprintf(s, sizeof s, "%d", n);
    loco__demo_click(d, loco__obs_find_id(o, "math-answer"));
    loco__demo_type(d, s);
    loco__demo_click(d, loco__obs_find_text(o, "BUTTON", "Submit"));
}
const loco__task loco__task_visual_addition = {"visual-addition", visual_addition_gen, visual_addition_event,
    visual_addition_plan, NULL, 15000};

/* ---------------------------------------------------------------- form-sequence-2 */
/* Three radio buttons and three text boxes: check the asked radio and type
 * the number into the asked box, the others empty.  ti[10+k] radios,
 * ti[20+k] boxes, ti[2] radio asked, ti[3] box asked. */
static void form_sequence_2_gen(loco__page *p) {
    static const char *const pos[3] = {"1st", "2nd", "3rd"};
    int r = loco__randi(p, 0, 2), b = loco__randi(p, 0, 2), v = loco__randi(p, -10, 50);
    snprintf(p->ts[0], LOCO_ENV_STR, "%d", v);
    loco__set_utterance(p, "Check the %s radio button and enter the number \"%d\" into the %s textbox.", pos[r], v, pos[b]);
    char rs[16], bs[16];
    snprintf(rs, sizeof rs, "%d", r + 1);
    snprintf(bs, sizeof bs, "%d", b + 1);
    loco__set_field(p, "radio target", rs);
    loco__set_field(p, "textbox text", p->ts[0]);
    loco__set_field(p, "textbox target", bs);
    int radios = loco__add(p, p->area, K_BOX, "DIV", NULL);
    for (int k = 0; k < 3; k++) {
        char t[16];
        snprintf(t, sizeof t, "%d", k + 1);
        int c = loco__checkbox(p, radios, t, NULL);
        p->n[c].kind = K_RADIO; p->n[c].group = 0;
        loco__strcpy(p->n[c].e.tag, "INPUT_radio", sizeof p->n[c].e.tag);
        p->ti[10 + k] = c;
    }
    for (int k = 0; k < 3; k++) {
        char id[16];
        snprintf(id, sizeof id, "input-%d", k + 1);
        p->ti[20 + k] = loco__input(p, p->area, INPUT_TEXT, 40);
        loco__set_id(p, p->ti[20 + k], id);
        p->n[p->ti[20 + k]].margin[1] = 2;
    }
    p->ti[2] = r; p->ti[3] = b;
    loco__br(p, p->area);
    p->ti[1] = loco__submit(p, p->area, "Submit", 6, 25);
}
static void form_sequence_2_event(loco__page *p, int ev, int i) {
    if (ev != EV_CLICK || !loco__within(p, i, p->ti[1])) return;
    int ok = p->n[p->ti[10 + p->ti[2]]].checked;
    for (int k = 0; k < 3; k++) ok &= !strcmp(p->n[p->ti[20 + k]].e.value, k == p->ti[3] ? p->ts[0] : "");
    if (ok) loco__win(p); else loco__lose(p);
}
static void form_sequence_2_plan(loco__demo *d, const loco_env_obs *o) {
    loco__demo_click(d, loco__obs_find_tag(o, "INPUT_radio", atoi(loco__obs_field(o, "radio target")) - 1));
    loco__demo_click(d, loco__obs_find_tag(o, "INPUT_text", atoi(loco__obs_field(o, "textbox target")) - 1));
    loco__demo_type(d, loco__obs_field(o, "textbox text"));
    loco__demo_click(d, loco__obs_find_text(o, "BUTTON", "Submit"));
}
const loco__task loco__task_form_sequence_2 = {"form-sequence-2", form_sequence_2_gen, form_sequence_2_event,
    form_sequence_2_plan, NULL, 0};
