"""loco's web tasks (MiniWoB++-style) from Python, through ctypes, with Gymnasium's calling convention.

    import loco_env
    env = loco_env.WebEnv("click-checkboxes")
    obs, info = env.reset(seed=3)
    obs, reward, terminated, truncated, info = env.step(
        {"action_type": loco_env.CLICK_COORDS, "coords": (25, 20)})

    envs = loco_env.WebVecEnv(["click-test", "enter-text"] * 4, seed=1)
    obs, info = envs.reset()
    obs, rewards, terminations, truncations, info = envs.step(actions)   # (N, 6) int32

The C library writes observations straight into numpy arrays (caller-owned
buffers); an env that ended on the previous step resets on the next one
(Gymnasium's NEXT_STEP auto-reset).  Needs numpy only.  The library is
libloco_env.so, found through $LOCO_ENV_LIB or in build/ beside this
directory.  docs/env.md describes the observation, the actions and the tasks.
"""
import ctypes
import os

import numpy as np

W, H, BINS, NUM_KEYS, MAX_FIELDS, MAX_ELEMS, STR = 160, 210, 51, 104, 20, 128, 64
(NONE, MOVE_COORDS, CLICK_COORDS, DBLCLICK_COORDS, MOUSEDOWN_COORDS, MOUSEUP_COORDS, SCROLL_UP_COORDS,
 SCROLL_DOWN_COORDS, PRESS_KEY, TYPE_FIELD, CLICK_ELEMENT, FOCUS_ELEMENT_AND_TYPE_FIELD) = range(12)
REWARDS = {"discounted": 0, "raw": 1, "binary": 2}
FLAGS = ("focused", "tampered", "targeted", "is_leaf")

# The C structs as numpy dtypes (align=True gives C's layout; checked
# against loco_env_layout() when the library loads).
ELEM = np.dtype([("ref", "<i4"), ("parent", "<i4"), ("tag", "S16"), ("id", "S24"), ("classes", "S40"),
                 ("text", f"S{STR}"), ("value", f"S{STR}"), ("left", "<f4"), ("top", "<f4"),
                 ("width", "<f4"), ("height", "<f4"), ("fg", "u1", 4), ("bg", "u1", 4), ("flags", "<u4")],
                align=True)
ACTION = np.dtype([("type", "<i4"), ("x", "<i4"), ("y", "<i4"), ("key", "<i4"), ("field", "<i4"), ("ref", "<i4")],
                  align=True)
OBS = np.dtype([("utterance", "S256"), ("n_fields", "<i4"), ("field_key", f"S{STR}", MAX_FIELDS),
                ("field_value", f"S{STR}", MAX_FIELDS), ("n_elems", "<i4"), ("elems", ELEM, MAX_ELEMS),
                ("prev_action", ACTION), ("task", "<i4"), ("step", "<i4"), ("time_ms", "<f4"),
                ("cursor_x", "<f4"), ("cursor_y", "<f4"), ("seed", "<u8")], align=True)


class _Config(ctypes.Structure):
    _fields_ = [("num_envs", ctypes.c_int), ("task", ctypes.c_int), ("task_ids", ctypes.c_void_p),
                ("seed", ctypes.c_uint64), ("threads", ctypes.c_int), ("pixels", ctypes.c_int),
                ("reward", ctypes.c_int), ("step_ms", ctypes.c_float), ("max_steps", ctypes.c_int)]


class _Buffers(ctypes.Structure):
    _fields_ = [(n, ctypes.c_void_p) for n in
                ("obs", "pixels", "actions", "rewards", "terminated", "truncated", "success", "errors")]


class _Log(ctypes.Structure):
    _fields_ = [(n, ctypes.c_float) for n in ("episode_return", "episode_length", "success", "timeout", "n")]


_lib = None


def load_library(path=None):
    """Loads libloco_env.so once and checks that the dtypes match the C structs."""
    global _lib
    if _lib is not None:
        return _lib
    if path is None:
        path = os.environ.get("LOCO_ENV_LIB")
    if path is None:
        path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "build", "libloco_env.so")
    lib = ctypes.CDLL(path)
    p, i = ctypes.c_void_p, ctypes.c_int
    lib.loco_env_create.argtypes = [ctypes.POINTER(p), ctypes.POINTER(_Config), ctypes.POINTER(_Buffers),
                                    ctypes.c_char_p, ctypes.c_size_t]
    lib.loco_env_create.restype = i
    lib.loco_env_free.argtypes = [p]
    lib.loco_env_reset.argtypes = [p, p]
    lib.loco_env_reset_one.argtypes = [p, i, ctypes.c_uint64]
    lib.loco_env_step.argtypes = [p]
    lib.loco_env_step.restype = i
    lib.loco_env_log_take.argtypes = [p, ctypes.POINTER(_Log)]
    lib.loco_env_task_count.restype = i
    lib.loco_env_task_name.argtypes = [i]
    lib.loco_env_task_name.restype = ctypes.c_char_p
    lib.loco_env_task_find.argtypes = [ctypes.c_char_p]
    lib.loco_env_task_find.restype = i
    lib.loco_env_key_name.argtypes = [i]
    lib.loco_env_key_name.restype = ctypes.c_char_p
    lib.loco_env_strerror = lib.loco_strerror
    lib.loco_strerror.argtypes = [i]
    lib.loco_strerror.restype = ctypes.c_char_p
    lib.loco_env_demo_create.argtypes = [ctypes.POINTER(p), i]
    lib.loco_env_demo_create.restype = i
    lib.loco_env_demo_free.argtypes = [p]
    lib.loco_env_demo_reset.argtypes = [p, i, ctypes.c_uint64]
    lib.loco_env_demo_act.argtypes = [p, i, p, p]
    lib.loco_env_layout.argtypes = [p]
    layout = (ctypes.c_size_t * 5)()
    lib.loco_env_layout(ctypes.cast(layout, p))
    want = (OBS.itemsize, ELEM.itemsize, ACTION.itemsize, OBS.fields["elems"][1], OBS.fields["seed"][1])
    if tuple(layout) != want:
        raise RuntimeError(f"libloco_env.so's struct layout {tuple(layout)} differs from loco_env.py's {want}")
    _lib = lib
    return lib


def tasks():
    """Every task name, in index order."""
    lib = load_library()
    return [lib.loco_env_task_name(t).decode() for t in range(lib.loco_env_task_count())]


def key_names():
    """MiniWoB++'s 104 keys, in index order."""
    lib = load_library()
    return [lib.loco_env_key_name(k).decode() for k in range(NUM_KEYS)]


def _ptr(a):
    return a.ctypes.data_as(ctypes.c_void_p) if a is not None else None


def observation(o, pixels=None):
    """One env's observation as MiniWoB++'s Python dict: utterance, fields, dom_elements, screenshot."""
    n = int(o["n_elems"])
    dom = []
    for e in o["elems"][:n]:
        dom.append({"ref": int(e["ref"]), "parent": int(e["parent"]), "tag": e["tag"].decode(),
                    "id": e["id"].decode(), "classes": e["classes"].decode(), "text": e["text"].decode(),
                    "value": e["value"].decode(), "left": float(e["left"]), "top": float(e["top"]),
                    "width": float(e["width"]), "height": float(e["height"]),
                    "fg_color": e["fg"] / 255.0, "bg_color": e["bg"] / 255.0,
                    "flags": np.array([(int(e["flags"]) >> b) & 1 for b in range(4)], dtype=np.int8)})
    nf = int(o["n_fields"])
    out = {"utterance": o["utterance"].decode(),
           "fields": tuple((o["field_key"][k].decode(), o["field_value"][k].decode()) for k in range(nf)),
           "dom_elements": tuple(dom)}
    if pixels is not None:
        out["screenshot"] = pixels
    return out


class WebVecEnv:
    """N environments (one task each) stepping together in C; arrays are views of the C buffers."""

    def __init__(self, tasks, seed=0, pixels=False, reward="discounted", threads=1, step_ms=100.0, lib=None):
        self.lib = load_library(lib)
        names = [tasks] if isinstance(tasks, str) else list(tasks)
        ids = np.array([self.lib.loco_env_task_find(t.encode()) for t in names], dtype=np.int32)
        bad = [t for t, i in zip(names, ids) if i < 0]
        if bad:
            raise ValueError(f"unknown task(s): {bad}")
        n = self.num_envs = len(names)
        self.task_names = names
        self.obs = np.zeros(n, dtype=OBS)
        self.pixels = np.zeros((n, H, W, 3), dtype=np.uint8) if pixels else None
        self.actions = np.zeros(n, dtype=ACTION)
        self.rewards = np.zeros(n, dtype=np.float32)
        self.terminated = np.zeros(n, dtype=np.uint8)
        self.truncated = np.zeros(n, dtype=np.uint8)
        self.success = np.zeros(n, dtype=np.uint8)
        self.errors = np.zeros(n, dtype=np.int32)
        self._ids = ids
        self._buf = _Buffers(_ptr(self.obs), _ptr(self.pixels), _ptr(self.actions), _ptr(self.rewards),
                             _ptr(self.terminated), _ptr(self.truncated), _ptr(self.success), _ptr(self.errors))
        cfg = _Config(n, 0, _ptr(ids), seed, threads, 1 if pixels else 0, REWARDS[reward], step_ms, 0)
        self._env = ctypes.c_void_p()
        msg = ctypes.create_string_buffer(256)
        err = self.lib.loco_env_create(ctypes.byref(self._env), ctypes.byref(cfg), ctypes.byref(self._buf), msg, 256)
        if err:
            raise RuntimeError(msg.value.decode())

    def reset(self, seed=None, options=None):
        """Resets every env: seed None draws instances from the base seed; an int gives env i seed + i."""
        if seed is None:
            self.lib.loco_env_reset(self._env, None)
        else:
            seeds = np.arange(self.num_envs, dtype=np.uint64) + np.uint64(seed)
            self.lib.loco_env_reset(self._env, _ptr(seeds))
        return self.obs, {}

    def step(self, actions):
        """actions: (N, 6) int32 [type, x, y, key, field, ref] or a structured ACTION array."""
        a = np.asarray(actions)
        if a.dtype == ACTION:
            self.actions[:] = a
        else:
            a = a.astype(np.int32).reshape(self.num_envs, 6)
            for k, name in enumerate(ACTION.names):
                self.actions[name] = a[:, k]
        self.lib.loco_env_step(self._env)
        info = {"success": self.success.astype(bool), "errors": self.errors.copy()}
        return self.obs, self.rewards, self.terminated.astype(bool), self.truncated.astype(bool), info

    def log(self):
        """Means over the episodes finished since the last call: return, length, success, timeout, n."""
        lg = _Log()
        self.lib.loco_env_log_take(self._env, ctypes.byref(lg))
        n = lg.n
        return {"episode_return": lg.episode_return / n if n else 0.0,
                "episode_length": lg.episode_length / n if n else 0.0,
                "success": lg.success / n if n else 0.0, "timeout": lg.timeout / n if n else 0.0, "n": n}

    def close(self):
        if self._env:
            self.lib.loco_env_free(self._env)
            self._env = ctypes.c_void_p()

    def __del__(self):
        self.close()


class WebEnv:
    """One environment with Gymnasium's calling convention and MiniWoB++'s observation dict."""

    def __init__(self, task, pixels=False, reward="discounted", step_ms=100.0, lib=None):
        self.vec = WebVecEnv([task], pixels=pixels, reward=reward, step_ms=step_ms, lib=lib)
        self.task = task
        self._demo = None

    def _obs(self):
        return observation(self.vec.obs[0], self.vec.pixels[0].copy() if self.vec.pixels is not None else None)

    def reset(self, seed=None, options=None):
        """seed: the instance; None draws the next one from the env's own stream."""
        if seed is None:
            self.vec.lib.loco_env_reset(self.vec._env, None)
        else:
            self.vec.lib.loco_env_reset_one(self.vec._env, 0, int(seed))
        return self._obs(), {"seed": int(self.vec.obs[0]["seed"])}

    def step(self, action):
        """action: a dict as MiniWoB++'s (action_type, coords, key, field, ref) or 6 ints."""
        if isinstance(action, dict):
            x, y = action.get("coords", (0, 0))
            row = [action["action_type"], x, y, action.get("key", 0), action.get("field", 0), action.get("ref", 0)]
        else:
            row = list(action)
        _, r, te, tr, info = self.vec.step(np.array([row], dtype=np.int32))
        info = {"success": bool(info["success"][0]), "error": int(info["errors"][0])}
        return self._obs(), float(r[0]), bool(te[0]), bool(tr[0]), info

    def demo_action(self, seed=0):
        """The scripted demonstrator's next action for the current observation (6 ints)."""
        lib = self.vec.lib
        if self._demo is None:
            self._demo = ctypes.c_void_p()
            if lib.loco_env_demo_create(ctypes.byref(self._demo), 1):
                raise MemoryError("demonstrator")
            lib.loco_env_demo_reset(self._demo, 0, seed)
        a = np.zeros(1, dtype=ACTION)
        lib.loco_env_demo_act(self._demo, 0, _ptr(self.vec.obs), _ptr(a))
        return [int(a[0][n]) for n in ACTION.names]

    def close(self):
        if self._demo is not None:
            self.vec.lib.loco_env_demo_free(self._demo)
            self._demo = None
        self.vec.close()
