/* The loco command: dispatches to a subcommand. */
#include <stdio.h>
#include <string.h>
#include "cli/agent_cmd.h"
#include "cli/cli.h"
#include "cli/env_cmd.h"
#include "cli/net_cmd.h"
#include "cli/playroom_cmd.h"

static void usage(FILE *f) {
    fprintf(f,
            "usage: loco <command> [flags]\n\n"
            "commands:\n"
            "  train        train a GPT on token shards or bytes (default: an embedded addition corpus)\n"
            "  eval         validation loss, perplexity and bits per byte of a checkpoint\n"
            "  sample       generate text from a checkpoint\n"
            "  export       a checkpoint as GGUF (llama.cpp) or a Hugging Face GPT-2 folder\n"
            "  tokenizer    train|encode|decode|convert: byte-level BPE\n"
            "  data         prepare: corpus files to train/validation token shards\n"
            "  route        fit|assign: the DiPaCo document router (docs/routing.md)\n"
            "  plot         SVG plots of metrics logs (loss, perplexity, bytes, ...)\n"
            "  coordinator  hold the global model of a DiLoCo or DiPaCo run over the network (docs/distributed.md)\n"
            "  env          list|run|demos|render|bench|serve: MiniWoB++-style web tasks in C, and the real ones in\n"
            "               Chromium (docs/env.md, docs/browser.md)\n"
            "  playroom     list|run|record|replay|render|bench|serve: a room where a setter and a solver talk and act\n"
            "  worker       join a coordinator and train the tasks it sends\n"
            "  keygen       a CURVE key pair for a coordinator or a worker (docs/distributed.md, \"Security\")\n"
            "  agent        train|eval|act: the CC-Net agent on the web tasks (docs/agent.md, docs/browser.md)\n\n"
            "Run 'loco <command> --help' for the flags of a command.\n");
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "train")) return loco_cmd_train(argc - 2, argv + 2);
    if (!strcmp(argv[1], "eval")) return loco_cmd_eval(argc - 2, argv + 2);
    if (!strcmp(argv[1], "sample")) return loco_cmd_sample(argc - 2, argv + 2);
    if (!strcmp(argv[1], "export")) return loco_cmd_export(argc - 2, argv + 2);
    if (!strcmp(argv[1], "tokenizer")) return loco_cmd_tokenizer(argc - 2, argv + 2);
    if (!strcmp(argv[1], "data")) return loco_cmd_data(argc - 2, argv + 2);
    if (!strcmp(argv[1], "route")) return loco_cmd_route(argc - 2, argv + 2);
    if (!strcmp(argv[1], "plot")) return loco_cmd_plot(argc - 2, argv + 2);
    if (!strcmp(argv[1], "coordinator")) return loco_cmd_coordinator(argc - 2, argv + 2);
    if (!strcmp(argv[1], "worker")) return loco_cmd_worker(argc - 2, argv + 2);
    if (!strcmp(argv[1], "keygen")) return loco_cmd_keygen(argc - 2, argv + 2);
    if (!strcmp(argv[1], "agent")) return loco_cmd_agent(argc - 2, argv + 2);
    if (!strcmp(argv[1], "env")) return loco_cmd_env(argc - 2, argv + 2);
    if (!strcmp(argv[1], "playroom")) return loco_cmd_playroom(argc - 2, argv + 2);
    fprintf(stderr, "loco: unknown command '%s' (see loco --help)\n", argv[1]);
    return 2;
}
