"""`loco playroom serve` in headless Chromium, driven through chromedriver's
WebDriver REST API (standard library only).  A person in the setter's seat
reads the prompt on the page and types the instruction; the scripted solver
must carry it out and the episode must be recorded and replay bit for bit.
A person in the solver's seat sees the setter's question arrive in the chat,
types an answer, and that episode is recorded too.

usage: playroom_serve.py LOCO_BIN SCRATCH_DIR   (exit 0 on success, 3 if
chromium or chromedriver is missing)"""
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

loco, scratch = sys.argv[1], sys.argv[2]
chrome = shutil.which("chromium")
driver = shutil.which("chromedriver")
if not chrome or not driver:
    print("chromium or chromedriver missing (apt-get install chromium chromium-driver)")
    sys.exit(3)

def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port

def fail(what):
    print("FAIL:", what, file=sys.stderr)
    sys.exit(1)

def wd(method, path, body=None):
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (dport, path), method=method,
                                 data=None if body is None else json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.loads(r.read() or b"{}").get("value")

def element(sid, css):
    v = wd("POST", "/session/%s/element" % sid, {"using": "css selector", "value": css})
    return list(v.values())[0]

def text(sid, css):
    return wd("GET", "/session/%s/element/%s/text" % (sid, element(sid, css)))

def wait_for(what, fn, seconds=60):
    end = time.time() + seconds
    while time.time() < end:
        v = fn()
        if v:
            return v
        time.sleep(0.2)
    fail("timed out waiting for " + what)

def play(seat, family, answer):
    port, out = free_port(), os.path.join(scratch, seat + ".bin")
    server = subprocess.Popen([loco, "playroom", "serve", "--port", str(port), "--seat", seat, "--family", family,
                               "--seed", "3", "--episodes", "1", "--out", out], stdout=subprocess.PIPE)
    try:
        wait_for("the server", lambda: server.stdout.readline().startswith(b"serving"), 20)
        caps = {"capabilities": {"alwaysMatch": {"browserName": "chrome", "goog:chromeOptions": {
            "binary": chrome, "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                                       "--disable-component-update", "--disable-sync", "--no-first-run",
                                       "--user-data-dir=" + os.path.join(scratch, "profile-" + seat)]}}}}
        sid = wd("POST", "/session", caps)["sessionId"]
        try:
            wd("POST", "/session/%s/url" % sid, {"url": "http://127.0.0.1:%d/" % port})
            words = answer(sid)
            wd("POST", "/session/%s/element/%s/value" % (sid, element(sid, "#say")), {"text": words + "\n"})
            status = wait_for("the episode to end",
                              lambda: (lambda t: t if "success" in t or "over" in t else None)(text(sid, "#status")))
        finally:
            wd("DELETE", "/session/%s" % sid)
        if server.wait(timeout=30) != 0:
            fail("serve exited with %d" % server.returncode)
    finally:
        if server.poll() is None:
            server.kill()
    r = subprocess.run([loco, "playroom", "replay", "--in", out], capture_output=True, text=True)
    if r.returncode != 0 or "1 episodes replayed bit for bit" not in r.stdout:
        fail("the recorded episode does not replay: " + r.stdout + r.stderr)
    return status

dport = free_port()
chromedriver = subprocess.Popen([driver, "--port=%d" % dport], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
try:
    def driver_ready():
        if chromedriver.poll() is not None:
            fail("chromedriver exited")
        try:
            return wd("GET", "/status")["ready"]
        except OSError:
            return False
    wait_for("chromedriver", driver_ready, 20)

    # The setter's seat: read the prompt, say it; the scripted solver lifts the object.
    def instruct(sid):
        prompt = wait_for("the prompt", lambda: text(sid, "#prompt"))
        thing = prompt[prompt.index("lift(") + 5:prompt.index(")")]
        return "please pick up the " + thing
    status = play("setter", "lift", instruct)
    if "success" not in status:
        fail("the scripted solver did not lift what the person asked for: " + status)

    # The solver's seat: the setter's question arrives in the chat; answer it.
    def reply(sid):
        wait_for("the setter's question", lambda: "?" in text(sid, "#chat"))
        return "it is red"
    play("solver", "colour", reply)
finally:
    chromedriver.kill()
