/* A tiny agent configuration and a random batch that exercises every path
 * of the network (absent strings and elements, resets mid-sequence, every
 * action type, a step left out of the loss); shared by the agent tests. */
#ifndef LOCO_TESTS_AGENT_FIXTURE_H
#define LOCO_TESTS_AGENT_FIXTURE_H
#include "loco/agent.h"

typedef struct {
    loco_agent_batch b;
    uint8_t *frames, *first, *valid;
    int32_t *words, *nwords, *n_dom, *n_fields;
    float *geom;
    loco_agent_action *prev, *target;
} agent_fixture;

/* frame 20x16 -> a 2x1 grid; every size small and distinct. */
void agent_fixture_config(loco_agent_config *c, int obs);
/* Fills a batch of B x T steps for configuration c from seed. */
void agent_fixture_batch(agent_fixture *f, const loco_agent_config *c, int B, int T, uint64_t seed);
void agent_fixture_free(agent_fixture *f);
/* Writes model m and batch f for tests/ref_agent.py; returns 0, or -1 on an I/O error. */
int agent_fixture_write(const char *path, loco_agent *m, const agent_fixture *f);
#endif
