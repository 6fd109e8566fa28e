/* A small implementation of the MiniWoB++ page protocol (core.js) for tests:
   the WOB_* globals, core.startEpisode/startEpisodeReal/endEpisode, the 10 s
   episode clock, core.getUtterance, core.getDOMInfo with MiniWoB++'s field
   names and ref rules, core.elementClick, core.setDataMode and a seeded
   Math.seedrandom.  Written for loco's tests; not MiniWoB++'s code. */
var WOB_REWARD_GLOBAL = 0, WOB_RAW_REWARD_GLOBAL = 0, WOB_REWARD_REASON = null;
var WOB_DONE_GLOBAL = false, WOB_EPISODE_ID = 0, WOB_TASK_READY = true;
var core = {EPISODE_MAX_TIME: 10000, dataMode: 'train', taskFields: null, nextRef: 1, nextTextRef: -1};

/* Math.seedrandom(seed): a deterministic generator (the seed's text hashed, then mulberry32). */
Math.seedrandom = function (seed) {
  var s = String(seed), h = 1779033703 ^ s.length;
  for (var i = 0; i < s.length; i++) { h = Math.imul(h ^ s.charCodeAt(i), 3432918353); h = h << 13 | h >>> 19; }
  var a = h >>> 0;
  Math.random = function () {
    a = (a + 0x6D2B79F5) | 0;
    var t = Math.imul(a ^ a >>> 15, 1 | a);
    t = (t + Math.imul(t ^ t >>> 7, 61 | t)) ^ t;
    return ((t ^ t >>> 14) >>> 0) / 4294967296;
  };
};
core.randi = function (lo, hi) { return Math.floor(Math.random() * (hi - lo)) + lo; };
core.sample = function (a) { return a[core.randi(0, a.length)]; };
core.setDataMode = function (m) { core.dataMode = m; };

core.cover = function (show) { document.getElementById('sync-task-cover').style.display = show ? 'block' : 'none'; };
core.startEpisode = function () {
  var c = document.createElement('div');
  c.id = 'sync-task-cover'; c.textContent = 'START';
  c.addEventListener('click', function () { core.startEpisodeReal(); });
  document.getElementById('wrap').appendChild(c);
};
core.startEpisodeReal = function () {
  core.nextRef = 1; core.nextTextRef = -1; core.taskFields = null;
  genProblem();
  WOB_REWARD_GLOBAL = 0; WOB_RAW_REWARD_GLOBAL = 0; WOB_REWARD_REASON = null; WOB_DONE_GLOBAL = false;
  WOB_EPISODE_ID++;
  core.cover(false);
  core.t0 = Date.now();
  clearTimeout(core.timer);
  core.timer = setTimeout(function () { core.endEpisode(-1, false, 'timed out'); }, core.EPISODE_MAX_TIME);
};
core.endEpisode = function (reward, timeProportional, reason) {
  if (WOB_DONE_GLOBAL) return;
  var raw = reward;
  if (reward > 0 && timeProportional) reward = reward * Math.max(0, 1 - (Date.now() - core.t0) / core.EPISODE_MAX_TIME);
  WOB_DONE_GLOBAL = true; WOB_REWARD_GLOBAL = reward; WOB_RAW_REWARD_GLOBAL = raw;
  WOB_REWARD_REASON = reason === undefined ? null : reason;
  clearTimeout(core.timer);
  core.cover(true);
};
/* The instruction; with task fields, {utterance, fields} as FlightWoB's pages answer. */
core.getUtterance = function () {
  var u = document.getElementById('query').textContent.replace(/\s+/g, ' ').trim();
  return core.taskFields ? {utterance: u, fields: core.taskFields} : u;
};

core.getDOMInfo = function () {
  function rec(el) {
    if (el.id === 'reward-display' || el.id === 'sync-task-cover' || el.id === 'click-canvas' || el.id === 'query') return;
    var r = el.getBoundingClientRect();
    if (r.width == 0 || r.height == 0) return;
    var a = {tag: el.tagName, left: r.left, top: r.top, width: r.width, height: r.height, children: [],
             id: el.id, classes: el.className};
    if (el.dataset.wob_ref !== undefined && el.dataset.wob_eps === 'e' + WOB_EPISODE_ID) a.ref = +el.dataset.wob_ref;
    else { el.dataset.wob_ref = a.ref = core.nextRef++; el.dataset.wob_eps = 'e' + WOB_EPISODE_ID; }
    var cs = getComputedStyle(el);
    a.bgColor = cs.backgroundColor; a.fgColor = cs.color;
    if (document.activeElement === el) a.focused = true;
    if (el instanceof HTMLInputElement) {
      a.tag += '_' + el.type;
      a.value = (el.type === 'checkbox' || el.type === 'radio') ? el.checked : el.value;
    } else if (el instanceof HTMLTextAreaElement) a.value = el.value;
    var kids = [], textOnly = true;
    el.childNodes.forEach(function (c) {
      if (c instanceof Text) { if (!/^\s*$/.test(c.data)) kids.push(c); }
      else if (c instanceof Element) { kids.push(c); textOnly = false; }
    });
    if (textOnly) a.text = kids.map(function (c) { return c.data.trim(); }).join(' ');
    else kids.forEach(function (c) {
      if (c instanceof Text) {
        var rg = document.createRange(); rg.selectNodeContents(c);
        var b = rg.getBoundingClientRect();
        if (b.width > 0 && b.height > 0)
          a.children.push({tag: 't', left: b.left, top: b.top, width: b.width, height: b.height,
                           ref: core.nextTextRef--, children: [], text: c.data.trim()});
      } else { var d = rec(c); if (d !== undefined) a.children.push(d); }
    });
    return a;
  }
  core.nextTextRef = -1;
  return rec(document.body);
};
core.elementClick = function (ref) {
  var all = document.querySelectorAll('[data-wob_ref]');
  for (var i = 0; i < all.length; i++)
    if (+all[i].dataset.wob_ref === ref && all[i].dataset.wob_eps === 'e' + WOB_EPISODE_ID) { all[i].click(); all[i].focus(); return true; }
  return false;
};
