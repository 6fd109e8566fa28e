"""The Playroom from Python, through ctypes, with Gymnasium's calling convention.

    import loco_playroom
    envs = loco_playroom.PlayroomVecEnv(num_envs=8, seed=1)
    obs, info = envs.reset(seed=1)
    obs, rewards, terminations, truncations, info = envs.step(actions)   # actions: (N, 2) int32

Observations and actions live in numpy arrays that the C library writes into
directly (caller-owned buffers); an env that finished on the previous step
resets on the next one (Gymnasium's NEXT_STEP auto-reset).  Needs numpy only.
The library is libloco_playroom.so, found through $LOCO_PLAYROOM_LIB or in
build/ next to this directory.  docs/playroom.md describes the observation
layout, the actions and the prompt families.
"""
import ctypes
import os

import numpy as np

OBS_BYTES = 856
VIEW_H, VIEW_W = 72, 96
MAP_H, MAP_W = 96, 128
N_MOTOR = 7
N_FAMILY = 9
SETTER, SOLVER, NOBODY = 0, 1, 2
SPLITS = {"all": 0, "train": 1, "test": 2}
FAMILIES = ["lift", "put", "go", "bring", "position", "colour", "count", "exists", "where"]
MOTOR = ["noop", "forward", "backward", "turn_left", "turn_right", "grab", "release"]


class _Config(ctypes.Structure):
    _fields_ = [("n_envs", ctypes.c_int), ("agent", ctypes.c_int), ("max_steps", ctypes.c_int),
                ("split", ctypes.c_int), ("family", ctypes.c_int), ("threads", ctypes.c_int),
                ("seed", ctypes.c_uint64)]


class _Buffers(ctypes.Structure):
    _fields_ = [("obs", ctypes.c_void_p), ("pixels", ctypes.c_void_p), ("actions", ctypes.c_void_p),
                ("rewards", ctypes.c_void_p), ("terminals", ctypes.c_void_p), ("truncations", ctypes.c_void_p)]


class _Log(ctypes.Structure):
    _fields_ = [("episode_return", ctypes.c_float), ("episode_length", ctypes.c_float),
                ("score", ctypes.c_float), ("perf", ctypes.c_float),
                ("family_success", ctypes.c_float * N_FAMILY), ("family_n", ctypes.c_float * N_FAMILY),
                ("n", ctypes.c_float)]


def load_library(path=None):
    """Loads libloco_playroom.so and declares the functions used here."""
    if path is None:
        path = os.environ.get("LOCO_PLAYROOM_LIB")
    if path is None:
        here = os.path.dirname(os.path.abspath(__file__))
        path = os.path.join(here, "..", "build", "libloco_playroom.so")
    lib = ctypes.CDLL(path)
    p, i, u64 = ctypes.c_void_p, ctypes.c_int, ctypes.c_uint64
    lib.loco_playroom_vec_create.argtypes = [ctypes.POINTER(p), ctypes.POINTER(_Config), ctypes.POINTER(_Buffers),
                                             ctypes.c_char_p, ctypes.c_size_t]
    lib.loco_playroom_vec_create.restype = i
    lib.loco_playroom_vec_free.argtypes = [p]
    lib.loco_playroom_vec_reset.argtypes = [p, u64]
    lib.loco_playroom_vec_step.argtypes = [p]
    lib.loco_playroom_vec_log_take.argtypes = [p, ctypes.POINTER(_Log)]
    lib.loco_playroom_vec_env.argtypes = [p, i]
    lib.loco_playroom_vec_env.restype = p
    lib.loco_playroom_env_render_rgb.argtypes = [p, i, p]
    lib.loco_playroom_env_chat.argtypes = [p, ctypes.c_char_p, ctypes.c_size_t]
    lib.loco_playroom_env_prompt.argtypes = [p]
    lib.loco_playroom_env_prompt.restype = p
    lib.loco_playroom_prompt_text.argtypes = [p, ctypes.c_char_p, ctypes.c_size_t]
    lib.loco_playroom_env_scripted.argtypes = [p, i, p]
    lib.loco_playroom_vocab_size.restype = i
    lib.loco_playroom_token_name.argtypes = [i]
    lib.loco_playroom_token_name.restype = ctypes.c_char_p
    return lib


class PlayroomVecEnv:
    """N Playroom envs; the caller plays one seat ("solver" or "setter"), a
    scripted person plays the other.  Gymnasium's VectorEnv calling
    convention: reset(seed) -> (obs, info); step(actions) -> (obs, rewards,
    terminations, truncations, info).  obs is a dict of "symbolic" (N, 856)
    uint8 and, with pixels=True, "pixels" (N, 72, 96, 3) uint8."""

    def __init__(self, num_envs=1, agent="solver", max_steps=128, split="train", family=None, threads=1,
                 seed=0, pixels=False, library=None):
        self.lib = library or load_library()
        self.num_envs = num_envs
        self.vocab = [self.lib.loco_playroom_token_name(t).decode() for t in range(self.lib.loco_playroom_vocab_size())]
        self.token = {w: t for t, w in enumerate(self.vocab)}
        self.symbolic = np.zeros((num_envs, OBS_BYTES), np.uint8)
        self.pixels = np.zeros((num_envs, VIEW_H, VIEW_W, 3), np.uint8) if pixels else None
        self.actions = np.zeros((num_envs, 2), np.int32)
        self.rewards = np.zeros(num_envs, np.float32)
        self.terminals = np.zeros(num_envs, np.uint8)
        self.truncations = np.zeros(num_envs, np.uint8)
        fam = -1 if family is None else FAMILIES.index(family)
        seat = {"setter": SETTER, "solver": SOLVER, None: NOBODY}[agent]
        self._cfg = _Config(num_envs, seat, max_steps, SPLITS[split], fam, threads, seed)
        addr = lambda a: None if a is None else a.ctypes.data
        self._buf = _Buffers(addr(self.symbolic), addr(self.pixels), addr(self.actions), addr(self.rewards),
                             addr(self.terminals), addr(self.truncations))
        self._handle = ctypes.c_void_p()
        msg = ctypes.create_string_buffer(256)
        err = self.lib.loco_playroom_vec_create(ctypes.byref(self._handle), ctypes.byref(self._cfg),
                                                ctypes.byref(self._buf), msg, 256)
        if err:
            raise ValueError(msg.value.decode())
        self._seed = seed

    def _obs(self):
        obs = {"symbolic": self.symbolic.copy()}
        if self.pixels is not None:
            obs["pixels"] = self.pixels.copy()
        return obs

    def reset(self, seed=None, options=None):
        if seed is not None:
            self._seed = seed
        self.lib.loco_playroom_vec_reset(self._handle, self._seed)
        return self._obs(), {}

    def step(self, actions):
        self.actions[...] = np.asarray(actions, np.int32).reshape(self.num_envs, 2)
        self.lib.loco_playroom_vec_step(self._handle)
        return (self._obs(), self.rewards.copy(), self.terminals.astype(bool), self.truncations.astype(bool), {})

    def scripted_actions(self, seat="solver"):
        """What the scripted person would do in each env's `seat` now (N, 2)."""
        out = np.zeros((self.num_envs, 2), np.int32)
        for i in range(self.num_envs):
            env = self.lib.loco_playroom_vec_env(self._handle, i)
            self.lib.loco_playroom_env_scripted(env, {"setter": SETTER, "solver": SOLVER}[seat],
                                                out[i].ctypes.data)
        return out

    def render(self, env=0, seat=None):
        """RGB of env's whole room (seat None) or a seat's egocentric view."""
        h, w, s = (MAP_H, MAP_W, NOBODY) if seat is None else (VIEW_H, VIEW_W, {"setter": 0, "solver": 1}[seat])
        rgb = np.zeros((h, w, 3), np.uint8)
        self.lib.loco_playroom_env_render_rgb(self.lib.loco_playroom_vec_env(self._handle, env), s, rgb.ctypes.data)
        return rgb

    def chat(self, env=0):
        buf = ctypes.create_string_buffer(8192)
        self.lib.loco_playroom_env_chat(self.lib.loco_playroom_vec_env(self._handle, env), buf, 8192)
        return buf.value.decode()

    def prompt(self, env=0):
        buf = ctypes.create_string_buffer(256)
        e = self.lib.loco_playroom_vec_env(self._handle, env)
        self.lib.loco_playroom_prompt_text(self.lib.loco_playroom_env_prompt(e), buf, 256)
        return buf.value.decode()

    def encode(self, text):
        """Words to tokens, end-of-message last."""
        return [self.token[w] for w in text.split()] + [self.token["<eom>"]]

    def log(self):
        """Episodes finished since the last call: means, and success per family."""
        out = _Log()
        self.lib.loco_playroom_vec_log_take(self._handle, ctypes.byref(out))
        fam = {FAMILIES[f]: (out.family_success[f], int(out.family_n[f])) for f in range(N_FAMILY) if out.family_n[f]}
        return {"episode_return": out.episode_return, "episode_length": out.episode_length, "score": out.score,
                "perf": out.perf, "n": int(out.n), "families": fam}

    def close(self):
        if self._handle:
            self.lib.loco_playroom_vec_free(self._handle)
            self._handle = ctypes.c_void_p()

    def __del__(self):
        self.close()


class PlayroomEnv:
    """One env with Gymnasium's Env convention: reset(seed) -> (obs, info),
    step(action) -> (obs, reward, terminated, truncated, info).  Like
    gymnasium.Env, call reset() after an episode ends."""

    def __init__(self, **kwargs):
        self.vec = PlayroomVecEnv(num_envs=1, **kwargs)
        self._episode = 0
        self._seed = kwargs.get("seed", 0)

    def reset(self, seed=None, options=None):
        if seed is not None:
            self._seed, self._episode = seed, 0
        obs, info = self.vec.reset(seed=(self._seed * 1000003 + self._episode) & (2**64 - 1))
        self._episode += 1
        return {k: v[0] for k, v in obs.items()}, info

    def step(self, action):
        obs, r, term, trunc, info = self.vec.step(np.asarray(action, np.int32).reshape(1, 2))
        return {k: v[0] for k, v in obs.items()}, float(r[0]), bool(term[0]), bool(trunc[0]), info

    def render(self, seat=None):
        return self.vec.render(0, seat)

    def close(self):
        self.vec.close()
