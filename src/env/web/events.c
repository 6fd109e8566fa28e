/*
 * Events: what the mouse and keyboard do to a page.
 *
 * A coordinate action first moves the pointer (hover), then presses and
 * releases buttons as Selenium's W3C actions do for MiniWoB++: a click is
 * down + up on the same spot, and the click event goes to the deepest
 * element holding both the down and the up target (so a press on one button
 * and a release on another clicks their common ancestor, as in Chromium).
 * A press focuses the nearest focusable element (or blurs), places the caret
 * in a text field and may start a drag; typing edits the focused field with
 * a caret and a selection; Ctrl+A/C/X/V use the page's clipboard; Tab moves
 * the focus in document order; the wheel scrolls the nearest scroll
 * container by 50 px (MiniWoB++'s scroll action).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "env/web/web.h"

static const char *const keys[LOCO_ENV_NUM_KEYS] = {
    "<Enter>", "<PageUp>", "<PageDown>", "<Backspace>", "<Delete>", "<Tab>", "<Space>",
    "<ArrowUp>", "<ArrowRight>", "<ArrowDown>", "<ArrowLeft>",
    "[", "]", "-", "=", ";", "\"", "\\", ",", ".", "/", "`",
    "1", "2", "3", "4", "5", "6", "7", "8", "9", "0",
    "<Numpad0>", "<Numpad1>", "<Numpad2>", "<Numpad3>", "<Numpad4>",
    "<Numpad5>", "<Numpad6>", "<Numpad7>", "<Numpad8>", "<Numpad9>",
    "<NumpadAdd>", "<NumpadMultiply>", "<NumpadSubtract>", "<NumpadDivide>", "<NumpadDecimal>",
    "<NumpadEnter>",
    "a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "n", "o", "p", "q", "r",
    "s", "t", "u", "v", "w", "x", "y", "z",
    "C-a", "C-c", "C-x", "C-v",
    "A", "B", "C", "D", "E", "F", "G", "H", "I", "J", "K", "L", "M", "N", "O", "P", "Q", "R",
    "S", "T", "U", "V", "W", "X", "Y", "Z"};

enum { KEY_ENTER = 0, KEY_PGUP, KEY_PGDN, KEY_BKSP, KEY_DEL, KEY_TAB, KEY_SPACE, KEY_UP, KEY_RIGHT,
       KEY_DOWN, KEY_LEFT, KEY_NUMPAD_ENTER = 47, KEY_CA = 74, KEY_CC, KEY_CX, KEY_CV };

const char *loco_env_key_name(int key) {
    return key >= 0 && key < LOCO_ENV_NUM_KEYS ? keys[key] : NULL;
}

int loco_env_key_find(const char *name) {
    for (int k = 0; k < LOCO_ENV_NUM_KEYS; k++)
        if (!strcmp(keys[k], name)) return k;
    return -1;
}

/* The character a key types, or 0 for a key that types none. */
int loco__key_char(int key) {
    if (key == KEY_SPACE) return ' ';
    if (key >= 11 && key <= 31) return keys[key][0];
    if (key >= 32 && key <= 41) return '0' + key - 32;
    if (key >= 42 && key <= 46) return "+*-/."[key - 42];
    if (key >= 48 && key <= 73) return 'a' + key - 48;
    if (key >= 78 && key <= 103) return 'A' + key - 78;
    return 0;
}

float loco_env_bin_x(int bx) { return ((float)bx + 0.5f) * (float)LOCO_ENV_W / LOCO_ENV_BINS; }
float loco_env_bin_y(int by) { return ((float)by + 0.5f) * (float)LOCO_ENV_H / LOCO_ENV_BINS; }
int loco_env_x_bin(float x) {
    int b = (int)floorf(x * LOCO_ENV_BINS / LOCO_ENV_W);
    return b < 0 ? 0 : b >= LOCO_ENV_BINS ? LOCO_ENV_BINS - 1 : b;
}
int loco_env_y_bin(float y) {
    int b = (int)floorf(y * LOCO_ENV_BINS / LOCO_ENV_H);
    return b < 0 ? 0 : b >= LOCO_ENV_BINS ? LOCO_ENV_BINS - 1 : b;
}

static void emit(loco__page *p, int ev, int node) {
    const loco__task *t = loco__tasks[p->task];
    if (t->event && !p->done) t->event(p, ev, node);
}

static int editable(const loco__page *p, int i) {
    return i >= 0 && (p->n[i].kind == K_INPUT || p->n[i].kind == K_TEXTAREA);
}
static int focusable(const loco__page *p, int i) {
    int k = p->n[i].kind;
    return k == K_INPUT || k == K_TEXTAREA || k == K_BUTTON || k == K_CHECK || k == K_RADIO ||
           k == K_SELECT || k == K_LINK;
}

void loco__focus(loco__page *p, int i) {
    if (p->focus == i) return;
    p->focus = i;
    if (i >= 0) emit(p, EV_FOCUS, i);
}

/* The caret index in field i nearest to page x (single line) or (x, y). */
static int caret_at(loco__page *p, int i, float x, float y) {
    loco__node *n = &p->n[i];
    const char *s = n->e.value;
    int len = (int)strlen(s), start = 0, end = len;
    float left = n->e.left + n->border + n->pad[3];
    if (n->kind == K_TEXTAREA) {
        int starts[16];
        float cw = n->e.width - 2 * n->border - n->pad[1] - n->pad[3];
        int lines = loco__wrap(s, n->font_px, n->bold, cw, starts, 16);
        int line = (int)((y - n->e.top - n->border - n->pad[0] + n->scroll_y) / loco__line_height(n->font_px));
        if (line < 0) line = 0;
        if (line >= lines) line = lines - 1;
        start = starts[line];
        end = line + 1 < lines ? starts[line + 1] : len;
    }
    float w = 0;
    for (int k = start; k < end; k++) {
        float cw = loco__text_width(s + k, 1, n->font_px, n->bold);
        if (left + w + cw / 2 > x) return k;
        w += cw;
    }
    return end;
}

static void set_checked(loco__page *p, int i, int on) {
    loco__node *n = &p->n[i];
    n->checked = (uint8_t)on;
    loco__strcpy(n->e.value, on ? "true" : "false", LOCO_ENV_STR);
}

/* Default actions of a click, before the task hears it. */
static void click(loco__page *p, int t) {
    int box = -1;
    for (int i = t; i >= 0; i = p->n[i].parent) {
        int k = p->n[i].kind;
        if (k == K_CHECK || k == K_RADIO) { box = i; break; }
        if (k == K_LABEL) {
            for (int c = p->n[i].first; c >= 0; c = p->n[c].next)
                if (p->n[c].kind == K_CHECK || p->n[c].kind == K_RADIO) { box = c; break; }
            break;
        }
    }
    if (box >= 0) {
        loco__node *b = &p->n[box];
        if (b->kind == K_CHECK) set_checked(p, box, !b->checked);
        else {
            for (int j = 0; j < p->n_nodes; j++)
                if (p->n[j].kind == K_RADIO && p->n[j].group == b->group) set_checked(p, j, 0);
            set_checked(p, box, 1);
        }
        p->n[box].e.flags |= LOCO_ENV_TAMPERED;
        emit(p, EV_CHANGE, box);
    }
    /* a drop-down: a click on the select opens or closes it, one on an option chooses */
    if (p->n[t].kind == K_OPTION) {
        int s = p->n[t].parent;
        loco__set_value(p, s, p->n[t].e.text);
        p->open_select = -1;
        p->dirty = 1;
        emit(p, EV_CHANGE, s);
    } else if (p->n[t].kind == K_SELECT) {
        p->open_select = p->open_select == t ? -1 : t;
        p->dirty = 1;
    } else if (p->open_select >= 0) {
        p->open_select = -1;
        p->dirty = 1;
    }
    emit(p, EV_CLICK, t);
}

static int common_ancestor(const loco__page *p, int a, int b) {
    for (int i = a; i >= 0; i = p->n[i].parent)
        if (loco__within(p, b, i)) return i;
    return p->root;
}

static void mouse_move(loco__page *p, float x, float y) {
    if (p->down && p->drag_node >= 0) {
        loco__node *d = &p->n[p->drag_node];
        d->x += x - p->mx; d->y += y - p->my;
        p->dirty = 1;
    } else if (p->down && editable(p, p->down_node) && p->down_node == p->focus) {
        loco__node *n = &p->n[p->focus];   /* drag-select inside a field */
        int c = caret_at(p, p->focus, x, y), a = n->caret;
        n->sel_a = (int16_t)(c < a ? c : a); n->sel_b = (int16_t)(c < a ? a : c);
    }
    p->mx = x; p->my = y;
    int h = loco__hit(p, x, y);
    if (h != p->hover) { p->hover = h; emit(p, EV_HOVER, h); }
}

static void mouse_down(loco__page *p) {
    int t = loco__hit(p, p->mx, p->my);
    p->down = 1; p->down_node = t; p->target = t;
    p->n[t].e.flags |= LOCO_ENV_TAMPERED;
    emit(p, EV_DOWN, t);
    int f = -1;
    for (int i = t; i >= 0; i = p->n[i].parent)
        if (focusable(p, i)) { f = i; break; }
    loco__focus(p, f);
    if (editable(p, f) && f == t) {
        loco__node *n = &p->n[f];
        n->caret = n->sel_a = n->sel_b = (int16_t)caret_at(p, f, p->mx, p->my);
    }
    for (int i = t; i >= 0; i = p->n[i].parent)
        if (p->n[i].draggable) { p->drag_node = i; break; }
}

static void mouse_up(loco__page *p) {
    if (!p->down) return;
    int t = loco__hit(p, p->mx, p->my);
    p->down = 0; p->target = t;
    if (p->drag_node >= 0) {
        int d = p->drag_node;
        p->drag_node = -1;
        emit(p, EV_DROP, d);
    }
    click(p, common_ancestor(p, p->down_node, t));
    p->down_node = -1;
}

/* Scrolls the nearest scroll container at or above node t by dy pixels. */
static void scroll_from(loco__page *p, int t, float dy) {
    for (int i = t; i >= 0; i = p->n[i].parent)
        if (p->n[i].scroll) {
            loco__node *n = &p->n[i];
            n->scroll_y += dy;
            if (n->scroll_y < 0) n->scroll_y = 0;
            p->dirty = 1;
            loco__layout(p);   /* clamps scroll_y to the content */
            emit(p, EV_SCROLL, i);
            return;
        }
}
static void scroll(loco__page *p, float dy) { scroll_from(p, loco__hit(p, p->mx, p->my), dy); }

/* Chromium's date and time inputs are segmented: digits fill the month,
 * day and year (or hour, minute) in turn, a segment advances when it is full
 * or when its first digit cannot start a two-digit value (month 2-9, day
 * 4-9, hour 2-9, minute 6-9), a separator advances a started segment, and
 * 'a'/'p' set AM/PM.  The value is "yyyy-mm-dd" or 24-hour "hh:mm" once
 * every segment is set, else "".  Backspace clears the field. */
static void segment_input(loco__page *p, int i, char c) {
    loco__node *n = &p->n[i];
    int date = n->input_type == INPUT_DATE;
    static const int start[2][3] = {{0, 2, 4}, {0, 2, 4}}, width[2][3] = {{2, 2, 4}, {2, 2, 1}};
    static const char lim[2][3] = {{'1', '3', '9'}, {'1', '5', '9'}};
    if (!n->raw[0]) memset(n->raw, '-', 9);
    int s = n->seg;
    if (c >= '0' && c <= '9' && s < 3 && (date || s < 2)) {
        char *seg = n->raw + start[!date][s];
        int w = width[!date][s];
        if (n->cnt == 0) { memset(seg, '0', (size_t)w); seg[w - 1] = c; }
        else { memmove(seg, seg + 1, (size_t)w - 1); seg[w - 1] = c; }
        n->cnt++;
        if (n->cnt >= w || (n->cnt == 1 && w == 2 && c > lim[!date][s])) { n->seg++; n->cnt = 0; }
    } else if (!date && s == 2 && (c == 'a' || c == 'A' || c == 'p' || c == 'P')) {
        n->raw[4] = (c == 'a' || c == 'A') ? 'A' : 'P';
        n->seg = 3;
    } else if ((c == '/' || c == ':' || c == ' ' || c == '-') && n->cnt > 0 && s < 2) {
        n->seg++; n->cnt = 0;
    } else return;
    char v[16] = "";
    if (date && !memchr(n->raw, '-', 8)) {
        int mo = (n->raw[0] - '0') * 10 + n->raw[1] - '0', dy = (n->raw[2] - '0') * 10 + n->raw[3] - '0';
        if (mo >= 1 && mo <= 12 && dy >= 1 && dy <= 31 && memcmp(n->raw + 4, "0000", 4))
            snprintf(v, sizeof v, "%.4s-%.2s-%.2s", n->raw + 4, n->raw, n->raw + 2);
    } else if (!date && !memchr(n->raw, '-', 5)) {
        int h = (n->raw[0] - '0') * 10 + n->raw[1] - '0', m = (n->raw[2] - '0') * 10 + n->raw[3] - '0';
        if (h >= 1 && h <= 12 && m <= 59) snprintf(v, sizeof v, "%02d:%02d", h % 12 + (n->raw[4] == 'P' ? 12 : 0), m);
    }
    loco__strcpy(n->e.value, v, LOCO_ENV_STR);
    n->e.flags |= LOCO_ENV_TAMPERED;
    emit(p, EV_INPUT, i);
}

static int segmented(const loco__page *p, int i) {
    return p->n[i].kind == K_INPUT && (p->n[i].input_type == INPUT_DATE || p->n[i].input_type == INPUT_TIME);
}

/* Replaces field i's selection with s (typing, paste). */
static void insert(loco__page *p, int i, const char *s, int n) {
    loco__node *f = &p->n[i];
    if (segmented(p, i)) {
        for (int k = 0; k < n; k++) segment_input(p, i, s[k]);
        return;
    }
    char *v = f->e.value;
    int len = (int)strlen(v), a = f->sel_a, b = f->sel_b;
    if (a == b) a = b = f->caret;
    if (a > len) a = len;
    if (b > len) b = len;
    if (len - (b - a) + n > LOCO_ENV_STR - 1) n = LOCO_ENV_STR - 1 - (len - (b - a));
    if (n < 0) n = 0;
    memmove(v + a + n, v + b, (size_t)(len - b + 1));
    memcpy(v + a, s, (size_t)n);
    f->caret = f->sel_a = f->sel_b = (int16_t)(a + n);
    f->e.flags |= LOCO_ENV_TAMPERED;
    if (f->kind == K_TEXTAREA) p->dirty = 1;
    emit(p, EV_INPUT, i);
}

static void erase(loco__page *p, int i, int dir) {
    loco__node *f = &p->n[i];
    int len = (int)strlen(f->e.value);
    if (f->sel_a == f->sel_b) {
        int c = f->caret;
        if (dir < 0 && c > 0) { f->sel_a = (int16_t)(c - 1); f->sel_b = (int16_t)c; }
        else if (dir > 0 && c < len) { f->sel_a = (int16_t)c; f->sel_b = (int16_t)(c + 1); }
        else return;
    }
    insert(p, i, "", 0);
}

static void tab(loco__page *p) {
    if (p->dirty) loco__layout(p);
    int at = -1;
    for (int k = 0; k < p->n_order; k++)
        if (p->order[k] == p->focus) at = k;
    for (int k = at + 1; k < p->n_order; k++)
        if (focusable(p, p->order[k]) && p->n[p->order[k]].kind != K_OPTION) {
            int i = p->order[k];
            loco__focus(p, i);
            if (editable(p, i)) {   /* tabbing into a field selects its text */
                p->n[i].sel_a = 0;
                p->n[i].sel_b = p->n[i].caret = (int16_t)strlen(p->n[i].e.value);
            }
            return;
        }
    loco__focus(p, -1);
}

static void key(loco__page *p, int k) {
    int f = p->focus;
    if (f >= 0) p->target = f;
    loco__node *n = f >= 0 ? &p->n[f] : NULL;
    if (k == KEY_TAB) { tab(p); return; }
    if (k == KEY_PGUP || k == KEY_PGDN) {   /* the container of the focus, else of the hovered element */
        scroll_from(p, f >= 0 ? f : p->hover, k == KEY_PGUP ? -40.0f : 40.0f);
        return;
    }
    if (!n) return;
    int len = (int)strlen(n->e.value);
    if (editable(p, f)) {
        int c = loco__key_char(k);
        if (c) { char ch = (char)c; insert(p, f, &ch, 1); return; }
        if (segmented(p, f) && (k == KEY_BKSP || k == KEY_DEL)) {
            memset(n->raw, 0, sizeof n->raw);
            n->seg = n->cnt = 0;
            loco__strcpy(n->e.value, "", LOCO_ENV_STR);
            emit(p, EV_INPUT, f);
            return;
        }
        switch (k) {
        case KEY_BKSP: erase(p, f, -1); return;
        case KEY_DEL: erase(p, f, +1); return;
        case KEY_LEFT: n->caret = (int16_t)(n->sel_a != n->sel_b ? n->sel_a : n->caret > 0 ? n->caret - 1 : 0);
                       n->sel_a = n->sel_b = n->caret; return;
        case KEY_RIGHT: n->caret = (int16_t)(n->sel_a != n->sel_b ? n->sel_b : n->caret < len ? n->caret + 1 : len);
                        n->sel_a = n->sel_b = n->caret; return;
        case KEY_CA: n->sel_a = 0; n->sel_b = n->caret = (int16_t)len; return;
        case KEY_CC: case KEY_CX:
            if (n->sel_a != n->sel_b) {
                char tmp[LOCO_ENV_STR];
                int m = n->sel_b - n->sel_a;
                memcpy(tmp, n->e.value + n->sel_a, (size_t)m); tmp[m] = 0;
                loco__strcpy(p->clipboard, tmp, LOCO_ENV_STR);
                if (k == KEY_CX) insert(p, f, "", 0);
            }
            return;
        case KEY_CV: insert(p, f, p->clipboard, (int)strlen(p->clipboard)); return;
        case KEY_ENTER: case KEY_NUMPAD_ENTER:
            if (n->kind == K_TEXTAREA) insert(p, f, "\n", 1);
            else emit(p, EV_ENTER, f);
            return;
        }
        return;
    }
    if (n->kind == K_SELECT && (k == KEY_UP || k == KEY_DOWN)) {
        int at = -1, cnt = 0, opts[64];
        for (int c = n->first; c >= 0 && cnt < 64; c = p->n[c].next) {
            if (!strcmp(p->n[c].e.text, n->e.value)) at = cnt;
            opts[cnt++] = c;
        }
        int to = at + (k == KEY_DOWN ? 1 : -1);
        if (cnt && to >= 0 && to < cnt) { loco__set_value(p, f, p->n[opts[to]].e.text); emit(p, EV_CHANGE, f); }
        return;
    }
    if (k == KEY_ENTER || k == KEY_NUMPAD_ENTER || k == KEY_SPACE) {
        if (n->kind == K_BUTTON || n->kind == K_LINK || (k == KEY_SPACE && (n->kind == K_CHECK || n->kind == K_RADIO)))
            click(p, f);
    }
    emit(p, EV_KEY + k, f);
}

static void type_text(loco__page *p, const char *s) {
    if (p->focus < 0) return;
    p->target = p->focus;
    if (editable(p, p->focus)) insert(p, p->focus, s, (int)strlen(s));
}

int loco_env_action_check(const loco_env_action *a, const loco_env_obs *obs) {
    if (a->type < 0 || a->type >= LOCO_ENV_NUM_ACTION_TYPES) return LOCO_EINVAL;
    switch (a->type) {
    case LOCO_ENV_MOVE_COORDS: case LOCO_ENV_CLICK_COORDS: case LOCO_ENV_DBLCLICK_COORDS:
    case LOCO_ENV_MOUSEDOWN_COORDS: case LOCO_ENV_MOUSEUP_COORDS:
    case LOCO_ENV_SCROLL_UP_COORDS: case LOCO_ENV_SCROLL_DOWN_COORDS:
        if (a->x < 0 || a->x >= LOCO_ENV_BINS || a->y < 0 || a->y >= LOCO_ENV_BINS) return LOCO_ERANGE;
        break;
    case LOCO_ENV_PRESS_KEY:
        if (a->key < 0 || a->key >= LOCO_ENV_NUM_KEYS) return LOCO_ERANGE;
        break;
    case LOCO_ENV_FOCUS_ELEMENT_AND_TYPE_FIELD:
        if (a->field < 0 || a->field >= LOCO_ENV_MAX_FIELDS) return LOCO_ERANGE;
        __attribute__((fallthrough));   /* and the ref */
    case LOCO_ENV_CLICK_ELEMENT:
        if (a->ref == 0 || a->ref > 1000000 || a->ref < -1000000) return LOCO_ERANGE;
        if (obs) {
            int found = 0;
            for (int k = 0; k < obs->n_elems && !found; k++) found = obs->elems[k].ref == a->ref;
            if (!found) return LOCO_ERANGE;
        }
        break;
    case LOCO_ENV_TYPE_FIELD:
        if (a->field < 0 || a->field >= LOCO_ENV_MAX_FIELDS) return LOCO_ERANGE;
        break;
    }
    return LOCO_OK;
}

static int find_ref(loco__page *p, int ref) {
    for (int k = 0; k < p->n_order; k++)
        if (p->n[p->order[k]].e.ref == ref) return p->order[k];
    return -1;
}

/* Runs one action; returns LOCO_OK or an error (then nothing happened). */
int loco__apply(loco__page *p, const loco_env_action *a) {
    int err = loco_env_action_check(a, NULL);
    if (err) return err;
    if (p->dirty) loco__layout(p);
    float x = loco_env_bin_x(a->x), y = loco_env_bin_y(a->y);
    int el = -1;
    if (a->type == LOCO_ENV_CLICK_ELEMENT || a->type == LOCO_ENV_FOCUS_ELEMENT_AND_TYPE_FIELD) {
        el = find_ref(p, a->ref);
        if (el < 0 || p->n[el].e.width <= 0 || p->n[el].e.height <= 0) return LOCO_ERANGE;
        float x0, y0, x1, y1;   /* Selenium clicks the centre of the visible part */
        loco__clip_box(p, el, &x0, &y0, &x1, &y1);
        if (x1 <= x0 || y1 <= y0) return LOCO_ERANGE;
        x = (x0 + x1) / 2; y = (y0 + y1) / 2;
    }
    switch (a->type) {
    case LOCO_ENV_NONE: break;
    case LOCO_ENV_MOVE_COORDS: mouse_move(p, x, y); break;
    case LOCO_ENV_CLICK_COORDS: case LOCO_ENV_CLICK_ELEMENT:
        mouse_move(p, x, y); mouse_down(p); mouse_up(p); break;
    case LOCO_ENV_DBLCLICK_COORDS:
        mouse_move(p, x, y); mouse_down(p); mouse_up(p); mouse_down(p); mouse_up(p);
        if (!p->done) {
            int t = loco__hit(p, x, y);
            if (editable(p, t) && t == p->focus) {   /* select the word under the pointer */
                loco__node *n = &p->n[t];
                int c = caret_at(p, t, x, y), a0 = c, b0 = c, len = (int)strlen(n->e.value);
                while (a0 > 0 && n->e.value[a0 - 1] != ' ') a0--;
                while (b0 < len && n->e.value[b0] != ' ') b0++;
                n->sel_a = (int16_t)a0; n->sel_b = n->caret = (int16_t)b0;
            }
            emit(p, EV_DBLCLICK, t);
        }
        break;
    case LOCO_ENV_MOUSEDOWN_COORDS: mouse_move(p, x, y); if (!p->down) mouse_down(p); break;
    case LOCO_ENV_MOUSEUP_COORDS: mouse_move(p, x, y); mouse_up(p); break;
    case LOCO_ENV_SCROLL_UP_COORDS: mouse_move(p, x, y); scroll(p, -50.0f); break;
    case LOCO_ENV_SCROLL_DOWN_COORDS: mouse_move(p, x, y); scroll(p, 50.0f); break;
    case LOCO_ENV_PRESS_KEY: key(p, a->key); break;
    case LOCO_ENV_TYPE_FIELD:
        type_text(p, a->field < p->n_fields ? p->fval[a->field] : ""); break;
    case LOCO_ENV_FOCUS_ELEMENT_AND_TYPE_FIELD:
        mouse_move(p, x, y); mouse_down(p); mouse_up(p);
        if (!p->done) type_text(p, a->field < p->n_fields ? p->fval[a->field] : "");
        break;
    }
    return LOCO_OK;
}
