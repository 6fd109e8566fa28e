/* `loco playroom ...`: the Playroom's commands (docs/playroom.md). */
#ifndef LOCO_CLI_PLAYROOM_CMD_H
#define LOCO_CLI_PLAYROOM_CMD_H

#include <stddef.h>
#include "loco/playroom.h"

int loco_cmd_playroom(int argc, char **argv);
/* `loco playroom render`: an HTML replay of one episode (playroom_render.c). */
int loco_cmd_playroom_render(int argc, char **argv);
/* `loco playroom serve`: a person plays a seat in a browser (playroom_serve.c). */
int loco_cmd_playroom_serve(int argc, char **argv);
/* Writes ep as an animated GIF at path (playroom_gif.c); -1 with a reason. */
int loco__playroom_gif(loco_playroom_env *e, const loco_playroom_episode *ep, const char *path, char *msg,
                       size_t msglen);
/* Parses --split and --family ("any" is -1); prints a one-line error and
 * returns 2, or returns 0 (playroom_cmd.c). */
int loco__playroom_choice(const char *split_s, const char *family_s, int *split, int *family);
/* Base64 of n bytes into out (4 * ceil(n / 3) characters, no NUL); returns
 * that count (playroom_render.c). */
size_t loco__playroom_base64(const uint8_t *d, size_t n, char *out);
/* The page it serves (playroom_page.c). */
extern const char *loco__playroom_page;

#endif
