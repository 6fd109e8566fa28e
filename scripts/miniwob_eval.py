#!/usr/bin/env python3
"""Evaluates a loco policy on the real MiniWoB++ Python package.

The package (Farama-Foundation/miniwob-plusplus, with Gymnasium and Selenium)
runs the task pages in Chromium; `loco agent act` chooses the actions.  Each
observation goes to loco as one JSON line in the package's own form, each
action comes back as one humphreys22 dictionary (docs/browser.md).

    PYTHONPATH=/path/to/miniwob-plusplus:/path/to/gymnasium \\
    python3 scripts/miniwob_eval.py --task click-test --episodes 100 \\
        --loco ./build/loco -- --policy oracle --task click-test

Everything after "--" is passed to `loco agent act` (--checkpoint F, or
--policy oracle --task T).  Prints one line per episode and the success rate
(MiniWoB++'s binary reward: success when the raw reward is 1).
"""
import argparse
import base64
import io
import json
import subprocess
import sys


def obs_to_json(obs, step, screenshot):
    """One observation dict of the package as a JSON line for loco."""
    line = {
        "utterance": obs["utterance"],
        "fields": [[k, v] for k, v in obs["fields"]],
        "dom_elements": list(obs["dom_elements"]),
        "step": step,
    }
    if screenshot:
        from PIL import Image  # Debian: python3-pil
        buf = io.BytesIO()
        Image.fromarray(obs["screenshot"]).save(buf, format="PNG")
        line["screenshot"] = base64.b64encode(buf.getvalue()).decode("ascii")
    # numpy arrays (left, top, ..., bg_color, flags) and scalars become lists and numbers
    return json.dumps(line, default=lambda o: o.tolist())


def main():
    argv = sys.argv[1:]
    act_args = argv[argv.index("--") + 1:] if "--" in argv else []
    argv = argv[:argv.index("--")] if "--" in argv else argv
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--task", required=True, help="MiniWoB++ task name, e.g. click-test")
    ap.add_argument("--episodes", type=int, default=100)
    ap.add_argument("--seed", type=int, default=0, help="first reset seed")
    ap.add_argument("--max-steps", type=int, default=200)
    ap.add_argument("--screenshot", action="store_true", help="send screenshots (agents that see pixels)")
    ap.add_argument("--loco", default="./build/loco")
    a = ap.parse_args(argv)

    import gymnasium
    import numpy as np
    import miniwob  # noqa: F401  (registers the miniwob/* environments)

    gymnasium.register_envs(miniwob)
    env = gymnasium.make(f"miniwob/{a.task}-v1", action_space_config="humphreys22")
    loco = subprocess.Popen([a.loco, "agent", "act", *act_args], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True, bufsize=1)
    wins = 0
    try:
        for k in range(a.episodes):
            obs, info = env.reset(seed=a.seed + k, options={"record_screenshots": a.screenshot})
            raw, steps = 0.0, 0
            for steps in range(1, a.max_steps + 1):
                loco.stdin.write(obs_to_json(obs, steps - 1, a.screenshot) + "\n")
                loco.stdin.flush()
                act = json.loads(loco.stdout.readline())
                if "error" in act:
                    sys.exit(f"loco agent act: {act['error']}")
                if not isinstance(act["action_type"], int):
                    sys.exit(f"an element action ({act['action_type']}) is not in the humphreys22 space")
                action = {"action_type": act["action_type"], "coords": np.array(act["coords"]),
                          "key": act["key"], "field": min(act["field"], 19)}
                obs, reward, terminated, truncated, info = env.step(action)
                if terminated or truncated:
                    raw = float(info.get("raw_reward", reward))
                    break
            wins += raw == 1.0
            print(f"episode {k}: seed {a.seed + k}, raw reward {raw:.3f}, {steps} steps", flush=True)
    finally:
        loco.stdin.close()
        loco.wait()
        env.close()
    print(f"{a.task}: {wins}/{a.episodes} successes ({100.0 * wins / a.episodes:.1f}%)")


if __name__ == "__main__":
    main()
