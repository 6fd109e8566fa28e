/* `loco playroom ...`: the Playroom's commands (docs/playroom.md). */
#ifndef LOCO_CLI_PLAYROOM_CMD_H
#define LOCO_CLI_PLAYROOM_CMD_H

int loco_cmd_playroom(int argc, char **argv);
/* `loco playroom render`: an HTML replay of one episode (playroom_render.c). */
int loco_cmd_playroom_render(int argc, char **argv);
/* `loco playroom serve`: a person plays a seat in a browser (playroom_serve.c). */
int loco_cmd_playroom_serve(int argc, char **argv);
/* The page it serves (playroom_page.c). */
extern const char *loco__playroom_page;

#endif
