"""Exercises the Playroom's Python binding (python/loco_playroom.py) with
numpy only: Gymnasium's reset/step convention, auto-reset on the step after
a done, a question answered through tokens, the scripted solver's success
through the vectorised API, determinism, and views.  Exit 0 on success."""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
import loco_playroom as lp  # noqa: E402

def check(cond, what):
    if not cond:
        print("FAIL:", what, file=sys.stderr)
        sys.exit(1)

# Random actions: shapes, dtypes, auto-reset (NEXT_STEP) and truncation.
envs = lp.PlayroomVecEnv(num_envs=4, max_steps=20, seed=3, pixels=True)
obs, info = envs.reset(seed=3)
check(obs["symbolic"].shape == (4, lp.OBS_BYTES) and obs["symbolic"].dtype == np.uint8, "symbolic shape")
check(obs["pixels"].shape == (4, 72, 96, 3), "pixel shape")
rng = np.random.default_rng(0)
done_before = np.zeros(4, bool)
for t in range(100):
    a = np.stack([rng.integers(0, lp.N_MOTOR, 4), rng.integers(0, len(envs.vocab), 4)], 1)
    obs, r, term, trunc, info = envs.step(a)
    steps = obs["symbolic"][:, 780].astype(int) + 256 * obs["symbolic"][:, 781]
    for i in range(4):
        if done_before[i]:   # the step after a done is the reset: step count 0, no reward, no flags
            check(steps[i] == 0 and r[i] == 0 and not term[i] and not trunc[i], "auto-reset on the next step")
        else:
            check(steps[i] >= 1, "a step counts")
    check(not np.any(term & trunc), "terminated and truncated together")
    check(np.all(steps <= 20), "truncation at max_steps")
    done_before = term | trunc
log = envs.log()
check(log["n"] > 0 and 0 <= log["score"] <= 1, "episode log")
check(envs.render(0).shape == (96, 128, 3) and envs.render(0, "solver").shape == (72, 96, 3), "render shapes")
check(np.array_equal(envs.render(0, "solver"), obs["pixels"][0]), "rendered view equals the observation")
envs.close()

# The scripted solver through the API, per family: it must mostly succeed.
envs = lp.PlayroomVecEnv(num_envs=16, max_steps=200, seed=11)
envs.reset(seed=11)
for t in range(1500):
    envs.step(envs.scripted_actions("solver"))
log = envs.log()
check(log["n"] >= 100 and 0.8 < log["score"] < 1.0, "scripted solver success %r" % (log,))
envs.close()

# A question answered in words: COLOUR, read from the symbolic grid.
env = lp.PlayroomEnv(family="colour", max_steps=100, seed=5)
obs, _ = env.reset(seed=5)
for t in range(40):   # let the setter ask
    obs, r, term, trunc, _ = env.step([0, 0])
    if "?" in env.vec.chat():
        break
chat = env.vec.chat()
check("what" in chat or "colour" in chat or "color" in chat, "the setter asked: %r" % chat)
cat = lp.FAMILIES.index("colour")
prompt = env.vec.prompt()
name = prompt[prompt.index("(") + 1:-1].split()[-1]
cats = ["duck", "car", "robot", "ball", "book", "cup", "block", "train", "plane", "teddy"]
colours = ["red", "orange", "yellow", "green", "blue", "purple", "pink", "white", "black", "brown"]
grid = obs["symbolic"][:768].reshape(12, 16, 4)
found = [(y, x) for y in range(12) for x in range(16) if grid[y, x, 2] == cats.index(name) + 1]
check(len(found) == 1, "one %s in the room" % name)
colour = colours[grid[found[0]][3] - 1]
for tok in env.vec.encode("it is " + colour):
    obs, r, term, trunc, _ = env.step([0, tok])
check(term and r == 1.0, "a right answer is rewarded: %r %r" % (colour, env.vec.chat()))
env.close()

# Determinism: the same seed and actions give the same observations.
def trace(seed):
    e = lp.PlayroomVecEnv(num_envs=2, max_steps=30, seed=seed)
    e.reset(seed=seed)
    g = np.random.default_rng(1)
    out = []
    for t in range(60):
        o = e.step(np.stack([g.integers(0, 7, 2), g.integers(0, 20, 2)], 1))[0]
        out.append(o["symbolic"])
    e.close()
    return np.stack(out)
check(np.array_equal(trace(7), trace(7)) and not np.array_equal(trace(7), trace(8)), "determinism")
