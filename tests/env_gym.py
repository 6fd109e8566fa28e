"""Checks python/loco_env.py against the C library: layout, reset/step, the
demonstrator winning through the binding, auto-reset, pixels, errors."""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
import loco_env  # noqa: E402

names = loco_env.tasks()
assert len(names) >= 50 and "click-test" in names, names
assert loco_env.key_names()[74] == "C-a"

env = loco_env.WebEnv("enter-text", pixels=True)
obs, info = env.reset(seed=4)
assert obs["utterance"].startswith("Enter \"") and obs["fields"][0][0] == "target", obs["utterance"]
assert obs["screenshot"].shape == (210, 160, 3) and obs["screenshot"].dtype == np.uint8
assert any(e["tag"] == "INPUT_text" for e in obs["dom_elements"])
first = obs["utterance"]
obs2, _ = env.reset(seed=4)
assert obs2["utterance"] == first, "the same seed gave another instance"
done, steps = False, 0
while not done and steps < 100:
    obs, r, te, tr, info = env.step(env.demo_action(seed=1))
    done, steps = te or tr, steps + 1
assert te and info["success"] and 0.9 < r <= 1.0, (te, tr, r, info)
# an invalid action is refused with an error code
env.reset(seed=5)
_, r, te, tr, info = env.step({"action_type": loco_env.CLICK_COORDS, "coords": (51, 0)})
assert info["error"] != 0 and r == 0 and not te and not tr
env.close()

vec = loco_env.WebVecEnv(["click-test", "focus-text"] * 2, seed=3, reward="raw", threads=2)
obs, _ = vec.reset(seed=10)
assert obs["n_elems"].min() > 0 and int(obs["seed"][0]) == 10 and int(obs["seed"][3]) == 13
rng = np.random.default_rng(0)
ended = 0
for t in range(300):
    a = np.zeros((4, 6), dtype=np.int32)
    a[:, 0] = loco_env.CLICK_COORDS
    a[:, 1] = rng.integers(0, 51, 4)
    a[:, 2] = rng.integers(0, 51, 4)
    obs, rew, term, trunc, info = vec.step(a)
    assert not info["errors"].any()
    assert np.all(rew[term] == 1.0), rew   # these two tasks have no wrong answer
    ended += int(term.sum() + trunc.sum())
log = vec.log()
assert ended > 0 and log["n"] == ended and log["success"] > 0, (ended, log)
vec.close()
print("env_gym: ok")
