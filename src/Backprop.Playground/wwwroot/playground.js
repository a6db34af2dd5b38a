// The Backprop playground's page. Every number drawn here comes from the engine over the WebSocket;
// this script only asks, draws and keeps the page's state in its URL.
'use strict';

const $ = id => document.getElementById(id);
const SVG = 'http://www.w3.org/2000/svg';
const NAMES = ['w1', 'b1', 'w2', 'b2', 'w3', 'w4', 'b3'];

// ---------- the connection: one request, one reply ----------
const socket = new WebSocket(`ws://${location.host}/ws`);
const waiting = new Map();
let nextId = 1;
const opened = new Promise((resolve, reject) => {
  socket.addEventListener('open', resolve);
  socket.addEventListener('error', () => reject(new Error('no connection to backprop serve')));
});
socket.addEventListener('message', event => {
  const reply = JSON.parse(event.data);
  const w = waiting.get(reply.id);
  if (!w) { return; }
  waiting.delete(reply.id);
  if (reply.error) { w.reject(new Error(reply.error)); } else { w.resolve(reply.result); }
});
socket.addEventListener('close', event => {
  $('status').textContent = 'disconnected' + (event.reason ? `: ${event.reason}` : '') + ' (reload the page)';
  for (const w of waiting.values()) { w.reject(new Error('backprop: the connection closed')); }
  waiting.clear();
  lesson.playing = false; play.playing = false;
});
async function ask(type, fields = {}) {
  await opened;
  return new Promise((resolve, reject) => {
    const id = nextId++;
    waiting.set(id, { resolve, reject });
    socket.send(JSON.stringify({ ...fields, type, id }));
  });
}

// ---------- small helpers ----------
const fmt = (x, digits = 6) => (typeof x === 'number' && isFinite(x)) ? String(Number(x.toPrecision(digits))) : String(x);
const fixed = x => (typeof x === 'number' && isFinite(x)) ? x.toFixed(4) : String(x);
function el(tag, attrs = {}, parent = null, text = null) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) { e.setAttribute(k, v); }
  if (text !== null) { e.textContent = text; }
  if (parent) { parent.appendChild(e); }
  return e;
}
function html(tag, attrs = {}, parent = null, text = null) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) { e.setAttribute(k, v); }
  if (text !== null) { e.textContent = text; }
  if (parent) { parent.appendChild(e); }
  return e;
}
function showError(id, error) { $(id).textContent = error ? String(error.message || error) : ''; }
function scale(d0, d1, r0, r1) { return v => r0 + (v - d0) / (d1 - d0) * (r1 - r0); }
// A colour from orange (0) through white (0.5) to blue (1), as TensorFlow Playground shades its plane.
function diverging(t) {
  t = Math.max(0, Math.min(1, t));
  const a = [230, 97, 1], m = [247, 247, 247], b = [44, 123, 182];
  const [p, q, u] = t < 0.5 ? [a, m, t * 2] : [m, b, (t - 0.5) * 2];
  return p.map((v, i) => Math.round(v + (q[i] - v) * u));
}
// Halfway to white.
function pale(rgb) { return rgb.map(v => Math.round(v + (255 - v) * 0.45)); }
// Class k of n as a hue around the colour wheel, at the given lightness (0 … 1): points dark, regions pale.
function classColour(k, n, lightness) {
  const h = k / n, s = 0.7, l = lightness;
  const q = l < 0.5 ? l * (1 + s) : l + s - l * s, p = 2 * l - q;
  const channel = t => {
    t = (t + 1) % 1;
    const v = t < 1 / 6 ? p + (q - p) * 6 * t : t < 1 / 2 ? q : t < 2 / 3 ? p + (q - p) * (2 / 3 - t) * 6 : p;
    return Math.round(v * 255);
  };
  return [channel(h + 1 / 3), channel(h), channel(h - 1 / 3)];
}
// Viridis-like ramp for the loss surface (dark = low SSR).
function ramp(t) {
  const stops = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]];
  t = Math.max(0, Math.min(1, t)) * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(t)), u = t - i;
  return stops[i].map((v, k) => Math.round(v + (stops[i + 1][k] - v) * u));
}

// ---------- the URL holds the page's whole state ----------
function readHash() {
  const p = new URLSearchParams(location.hash.slice(1));
  return Object.fromEntries(p.entries());
}
function writeHash(fields) {
  const p = new URLSearchParams(fields);
  history.replaceState(null, '', '#' + p.toString());
}
function saveState() {
  if (currentTab === 'lesson') {
    const f = { tab: 'lesson', stage: lesson.stage, point: lesson.point, trained: lesson.trained.join(','), sx: $('surface-x').value, sy: $('surface-y').value, slr: $('surface-lr').value };
    for (const n of NAMES) { f[n] = lesson.values[n]; }
    writeHash(f);
  } else {
    writeHash({ tab: 'play', ...playSettings() });
  }
}

// ---------- the lesson ----------
const lesson = { values: {}, trained: [...NAMES], stage: 3, point: 1, state: null, steps: 0, playing: false, pending: false, busy: false, backward: null, bwIndex: 0, stages: [] };

function buildParameterTable() {
  const body = $('parameters').querySelector('tbody');
  for (const n of NAMES) {
    const tr = html('tr', { id: `row-${n}` }, body);
    const check = html('input', { type: 'checkbox', id: `train-${n}`, title: `train ${n}` }, html('td', {}, tr));
    check.checked = true;
    check.addEventListener('change', () => {
      lesson.trained = NAMES.filter(m => $(`train-${m}`).checked);
      saveState();
    });
    html('td', {}, tr, n);
    const slider = html('input', { type: 'range', id: `slider-${n}`, min: n.startsWith('b') ? '-4' : '-6', max: n.startsWith('b') ? '4' : '6', step: '0.01' }, html('td', {}, tr));
    slider.addEventListener('input', () => { lesson.values[n] = Number(slider.value); lesson.steps = 0; requestLesson(); });
    slider.addEventListener('change', () => drawSurface());
    html('td', { id: `value-${n}` }, tr);
    html('td', { id: `grad-${n}` }, tr);
  }
  for (const id of ['surface-x', 'surface-y']) {
    for (const n of NAMES) { html('option', { value: n }, $(id), n); }
  }
  $('surface-x').value = 'w3';
  $('surface-y').value = 'w4';
  const points = $('point-buttons');
  for (const i of [1, 2, 3]) {
    const b = html('button', { type: 'button', id: `point-${i}`, 'aria-pressed': String(i === lesson.point) }, points, `i = ${i}`);
    b.addEventListener('click', () => { lesson.point = i; for (const j of [1, 2, 3]) { $(`point-${j}`).setAttribute('aria-pressed', String(i === j)); } drawNetwork(); saveState(); });
  }
}

// Coalesces slider moves: one request in flight, the latest values sent when it returns.
async function requestLesson() {
  if (lesson.busy) { lesson.pending = true; return; }
  lesson.busy = true;
  try {
    do {
      lesson.pending = false;
      const state = await ask('lesson', { values: lesson.values });
      showLesson(state);
    } while (lesson.pending);
    showError('lesson-error', null);
  } catch (e) {
    showError('lesson-error', e);
  } finally {
    lesson.busy = false;
  }
  saveState();
}

function showLesson(state) {
  lesson.state = state;
  const ssr = $('ssr');
  ssr.textContent = fmt(state.ssr);
  ssr.dataset.value = String(state.ssr);
  for (const n of NAMES) {
    const v = state.values[n];
    $(`slider-${n}`).value = String(v);
    const cell = $(`value-${n}`);
    cell.textContent = fmt(v);
    cell.dataset.value = String(v);
    const g = $(`grad-${n}`);
    g.textContent = fixed(state.gradients[n]);
    g.dataset.value = String(state.gradients[n]);
  }
  $('lesson-steps').textContent = `step ${lesson.steps}`;
  drawNetwork();
  drawSquiggle();
}

function drawNetwork() {
  const svg = $('network');
  svg.replaceChildren();
  const s = lesson.state;
  if (!s) { return; }
  const v = s.values, p = s.points[lesson.point - 1];
  const defs = el('defs', {}, svg);
  const marker = el('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: '10', refY: '5', markerUnits: 'userSpaceOnUse', markerWidth: '13', markerHeight: '13', orient: 'auto' }, defs);
  el('path', { d: 'M0,0 L10,5 L0,10 z', fill: '#555' }, marker);
  const edge = (id, x1, y1, x2, y2, label, lx, ly) => {
    el('line', { id, x1, y1, x2, y2, stroke: '#555', 'stroke-width': 2, 'marker-end': 'url(#arrow)' }, svg);
    el('text', { id: `${id}-label`, x: lx, y: ly, 'text-anchor': 'middle', 'font-size': 15 }, svg, label);
  };
  const node = (id, x, y, w, h, title, lines, fill) => {
    el('rect', { id, x: x - w / 2, y: y - h / 2, width: w, height: h, rx: 12, fill, stroke: '#333', 'stroke-width': 1.5 }, svg);
    el('text', { x, y: y - h / 2 + 18, 'text-anchor': 'middle', 'font-size': 14, 'font-weight': 'bold' }, svg, title);
    lines.forEach((t, k) => el('text', { x, y: y - h / 2 + 37 + 17 * k, 'text-anchor': 'middle', 'font-size': 13 }, svg, t));
  };
  const i = lesson.point;
  node('node-input', 70, 170, 110, 62, 'Dosage', [`Input_${i} = ${fmt(p.input, 4)}`], '#fff');
  edge('edge-w1', 125, 155, 268, 82, `× w1 = ${fmt(v.w1, 4)}`, 175, 100);
  edge('edge-w2', 125, 185, 268, 258, `× w2 = ${fmt(v.w2, 4)}`, 175, 255);
  node('node-top', 340, 75, 150, 82, 'SoftPlus', [`x1,${i} = ${fmt(p.x1, 4)}`, `y1,${i} = ${fmt(p.y1, 4)}`], '#e8f1fa');
  node('node-bottom', 340, 265, 150, 82, 'SoftPlus', [`x2,${i} = ${fmt(p.x2, 4)}`, `y2,${i} = ${fmt(p.y2, 4)}`], '#e8f1fa');
  el('text', { id: 'label-b1', x: 340, y: 28, 'text-anchor': 'middle', 'font-size': 15 }, svg, `+ b1 = ${fmt(v.b1, 4)}`);
  el('text', { id: 'label-b2', x: 340, y: 328, 'text-anchor': 'middle', 'font-size': 15 }, svg, `+ b2 = ${fmt(v.b2, 4)}`);
  edge('edge-w3', 415, 90, 530, 155, `× w3 = ${fmt(v.w3, 4)}`, 490, 105);
  edge('edge-w4', 415, 250, 530, 185, `× w4 = ${fmt(v.w4, 4)}`, 490, 245);
  el('circle', { id: 'node-sum', cx: 555, cy: 170, r: 24, fill: '#fff', stroke: '#333', 'stroke-width': 1.5 }, svg);
  el('text', { x: 555, y: 177, 'text-anchor': 'middle', 'font-size': 20 }, svg, '+');
  el('text', { id: 'label-b3', x: 555, y: 222, 'text-anchor': 'middle', 'font-size': 15 }, svg, `+ b3 = ${fmt(v.b3, 4)}`);
  edge('edge-out', 579, 170, 628, 170, '', 0, 0);
  node('node-out', 680, 170, 104, 62, 'Predicted', [`${fmt(p.predicted, 4)}`], '#e9f6ec');
  node('node-ssr', 680, 290, 170, 78, 'SSR', [`= ${fmt(s.ssr, 5)}`, `Observed_${i} = ${fmt(p.observed)}`], '#fdf3e7');
  el('line', { x1: 680, y1: 201, x2: 680, y2: 251, stroke: '#555', 'stroke-width': 2, 'marker-end': 'url(#arrow)' }, svg);
  highlightBackward();
}

function drawSquiggle() {
  const svg = $('squiggle');
  svg.replaceChildren();
  const s = lesson.state;
  const [L, R, T, B] = [48, 400, 14, 262];
  const ys = s.curveY.concat(s.points.map(p => p.observed));
  let lo = Math.min(0, ...ys), hi = Math.max(1, ...ys);
  const pad = (hi - lo) * 0.08; lo -= pad; hi += pad;
  const X = scale(0, 1, L, R), Y = scale(lo, hi, B, T);
  el('rect', { x: L, y: T, width: R - L, height: B - T, fill: '#fff', stroke: '#999' }, svg);
  for (const t of [0, 0.5, 1]) {
    el('text', { x: X(t), y: B + 18, 'text-anchor': 'middle', 'font-size': 13 }, svg, String(t));
  }
  for (const t of [0, 0.5, 1]) {
    if (t >= lo && t <= hi) {
      el('line', { x1: L, x2: R, y1: Y(t), y2: Y(t), stroke: '#eee' }, svg);
      el('text', { x: L - 6, y: Y(t) + 4, 'text-anchor': 'end', 'font-size': 13 }, svg, String(t));
    }
  }
  el('text', { x: (L + R) / 2, y: B + 36, 'text-anchor': 'middle', 'font-size': 13 }, svg, 'Dosage');
  el('text', { x: 14, y: (T + B) / 2, 'text-anchor': 'middle', 'font-size': 13, transform: `rotate(-90 14 ${(T + B) / 2})` }, svg, 'Efficacy');
  const d = s.curveX.map((x, k) => `${k ? 'L' : 'M'}${X(x).toFixed(1)} ${Y(s.curveY[k]).toFixed(1)}`).join('');
  el('path', { id: 'curve', d, fill: 'none', stroke: '#1a9641', 'stroke-width': 3 }, svg);
  s.points.forEach((p, k) => {
    el('line', { x1: X(p.input), x2: X(p.input), y1: Y(p.observed), y2: Y(p.predicted), stroke: '#d7301f', 'stroke-dasharray': '4 3' }, svg);
    el('circle', { cx: X(p.input), cy: Y(p.observed), r: k + 1 === lesson.point ? 7 : 5.5, fill: '#111' }, svg);
  });
}

async function oneStep(steps = 1, untilConverged = false) {
  const state = await ask('lessonStep', { values: lesson.values, trained: lesson.trained, steps, untilConverged });
  lesson.values = { ...state.values };
  lesson.steps += state.stepsTaken;
  showLesson(state);
  return state;
}

async function lessonPlay() {
  if (lesson.playing) { lesson.playing = false; return; }
  lesson.playing = true;
  $('lesson-play').textContent = 'Pause';
  try {
    // The lesson's stopping rules: every step size (learning rate × derivative) below 0.001, or 1000 steps.
    while (lesson.playing && lesson.steps < 1000) {
      const state = await oneStep(Math.min(5, 1000 - lesson.steps), true);
      if (state.converged) { $('lesson-steps').textContent = `step ${lesson.steps}: every step size is below 0.001`; break; }
      await new Promise(r => setTimeout(r, 30));
    }
    showError('lesson-error', null);
  } catch (e) {
    showError('lesson-error', e);
  } finally {
    lesson.playing = false;
    $('lesson-play').textContent = 'Train';
    saveState();
    drawSurface();
  }
}

function setStage(n) {
  const stage = lesson.stages[n - 1];
  lesson.stage = n;
  lesson.values = { ...stage.startingValues };
  lesson.trained = [...stage.trained];
  lesson.steps = 0;
  for (const m of NAMES) { $(`train-${m}`).checked = lesson.trained.includes(m); }
  for (const k of [1, 2, 3]) { $(`stage-${k}`).setAttribute('aria-pressed', String(k === n)); }
  closeBackward();
  requestLesson().then(drawSurface);
}

// ---------- the backward pass, one node at a time ----------
const HIGHLIGHT = {
  SSR: ['node-ssr'], 'SquaredResidual_i': ['node-ssr'], 'Residual_i': ['node-ssr'], 'Predicted_i': ['node-out', 'node-sum'],
  'y1,i': ['node-top', 'edge-w3'], 'x1,i': ['node-top'], 'y2,i': ['node-bottom', 'edge-w4'], 'x2,i': ['node-bottom'],
  w1: ['edge-w1', 'edge-w1-label'], w2: ['edge-w2', 'edge-w2-label'], w3: ['edge-w3', 'edge-w3-label'], w4: ['edge-w4', 'edge-w4-label'],
  b1: ['label-b1'], b2: ['label-b2'], b3: ['label-b3'],
};

async function startBackward() {
  try {
    lesson.backward = await ask('backward', { values: lesson.values });
    lesson.bwIndex = 0;
    $('backward-panel').hidden = false;
    showBackward();
    showError('lesson-error', null);
  } catch (e) { showError('lesson-error', e); }
}
function closeBackward() { lesson.backward = null; $('backward-panel').hidden = true; highlightBackward(); }
function highlightBackward() {
  for (const e of document.querySelectorAll('#network .highlight')) { e.classList.remove('highlight'); }
  if (!lesson.backward) { return; }
  const step = lesson.backward[lesson.bwIndex];
  for (const id of HIGHLIGHT[step.node] || []) { $(id)?.classList.add('highlight'); }
}
function showBackward() {
  const steps = lesson.backward, k = lesson.bwIndex, step = steps[k];
  const body = $('bw-body');
  body.replaceChildren();
  $('bw-position').textContent = `node ${k + 1} of ${steps.length}`;
  const f = html('p', { class: 'formula' }, body);
  if (k === 0) {
    f.append('The backward pass starts at the loss: d', html('b', { id: 'bw-node' }, null, step.node), '/dSSR = ');
    html('b', { id: 'bw-formula' }, f, step.formula);
    f.append('. Each next node gets dSSR/d(node) by the chain rule from the nodes that use it.');
  } else {
    f.append('dSSR/d', html('b', { id: 'bw-node' }, null, step.node), ` = Σ over its users of dSSR/d(user) × ${step.derivative}, with ${step.derivative} = `);
    html('b', { id: 'bw-formula' }, f, step.formula);
  }
  if (step.node === 'Predicted_i') {
    html('p', { class: 'note' }, body, 'Together: dSSR/dPredicted_i = −2(Observed_i − Predicted_i), computed once and shared by all seven parameters.');
  }
  const table = html('table', { class: 'numbers' }, body);
  const head = html('tr', {}, html('thead', {}, table));
  for (const h of ['i', 'user', 'dSSR/d(user)', step.derivative, 'product']) { html('th', {}, head, h); }
  const tbody = html('tbody', {}, table);
  for (const t of step.terms) {
    const tr = html('tr', {}, tbody);
    for (const c of [t.point || '', t.consumer, fmt(t.consumerGradient), fmt(t.local), fmt(t.product)]) { html('td', {}, tr, String(c)); }
  }
  if (step.isParameter) {
    html('p', { class: 'formula', id: 'bw-total' }, body, `dSSR/d${step.node} = sum of the products = ${fixed(step.total)}`);
  } else {
    html('p', { class: 'note' }, body, `The chain-rule product so far: dSSR/d${step.node} = ${step.gradients.map(g => fmt(g)).join(', ')}` + (step.gradients.length > 1 ? ' (i = 1, 2, 3)' : ''));
  }
  if (k === steps.length - 1) {
    html('h2', {}, body, 'The seven derivatives (as backprop explain prints them)');
    const final = html('table', { class: 'numbers', id: 'bw-final' }, body);
    const byName = Object.fromEntries(steps.filter(s => s.isParameter).map(s => [s.node, s.total]));
    const tr1 = html('tr', {}, final), tr2 = html('tr', {}, final);
    for (const n of NAMES) {
      html('th', {}, tr1, `dSSR/d${n}`);
      const td = html('td', { id: `bw-final-${n}` }, tr2, fixed(byName[n]));
      td.dataset.value = String(byName[n]);
    }
  }
  $('bw-prev').disabled = k === 0;
  $('bw-next').disabled = k === steps.length - 1;
  highlightBackward();
}

// ---------- the loss surface ----------
async function drawSurface() {
  const xName = $('surface-x').value, yName = $('surface-y').value;
  if (xName === yName || !lesson.state) { $('surface-note').textContent = 'Choose two different parameters.'; return; }
  const v = lesson.values;
  const span = n => [v[n] - 3, v[n] + 3];
  try {
    const lr = Number($('surface-lr').value);
    // First the path alone (on a 2 × 2 grid), then the picture over ±3 around the current values widened
    // to hold the path, as far as 20 from them (a path going further diverges and leaves the picture).
    const probe = await ask('surface', { values: v, x: xName, y: yName, xRange: span(xName), yRange: span(yName), side: 2, lr, steps: 2000 });
    const near = [];
    for (const p of probe.path) { if (!(Math.abs(p[0] - v[xName]) <= 20 && Math.abs(p[1] - v[yName]) <= 20)) { break; } near.push(p); }
    const fit = (n, k) => {
      let [lo, hi] = span(n);
      for (const p of near) { lo = Math.min(lo, p[k]); hi = Math.max(hi, p[k]); }
      const m = (hi - lo) * 0.05;
      return [lo - m, hi + m];
    };
    const s = await ask('surface', { values: v, x: xName, y: yName, xRange: fit(xName, 0), yRange: fit(yName, 1), side: 41, lr, steps: 2000 });
    const canvas = $('surface-canvas'), ctx = canvas.getContext('2d');
    const image = ctx.createImageData(s.side, s.side);
    const logs = s.ssr.map(z => Math.log10(z + 1e-9));
    const lo = Math.min(...logs), hi = Math.max(...logs);
    for (let r = 0; r < s.side; r++) {
      for (let c = 0; c < s.side; c++) {
        const [R, G, B] = ramp((logs[r * s.side + c] - lo) / (hi - lo || 1));
        const at = ((s.side - 1 - r) * s.side + c) * 4; // the lowest y at the bottom
        image.data.set([R, G, B, 255], at);
      }
    }
    const off = document.createElement('canvas');
    off.width = off.height = s.side;
    off.getContext('2d').putImageData(image, 0, 0);
    ctx.imageSmoothingEnabled = true;
    ctx.drawImage(off, 0, 0, canvas.width, canvas.height);
    const svg = $('surface-overlay');
    svg.replaceChildren();
    const X = scale(s.xRange[0], s.xRange[1], 0, 320), Y = scale(s.yRange[0], s.yRange[1], 320, 0);
    // A path that diverges leaves the picture: it is drawn up to where it leaves (far outside, it is cut).
    const inside = p => isFinite(p[0]) && isFinite(p[1]) && X(p[0]) >= 0 && X(p[0]) <= 320 && Y(p[1]) >= 0 && Y(p[1]) <= 320;
    const shown = [];
    for (const p of s.path) { if (!inside(p)) { break; } shown.push(p); }
    const diverged = shown.length < s.path.length;
    const next = s.path[shown.length];
    // A path that leaves the picture is drawn to its edge (the picture cuts the last line), with no red dot.
    const drawn = diverged && next && isFinite(X(next[0])) && isFinite(Y(next[1])) && Math.abs(X(next[0])) < 1e6 && Math.abs(Y(next[1])) < 1e6 ? [...shown, next] : shown;
    const d = drawn.map((p, k) => `${k ? 'L' : 'M'}${X(p[0]).toFixed(1)} ${Y(p[1]).toFixed(1)}`).join('');
    el('path', { id: 'surface-path', d, fill: 'none', stroke: '#fff', 'stroke-width': 2.5 }, svg);
    const [sx, sy] = shown[0], [ex, ey] = shown[shown.length - 1];
    el('circle', { cx: X(sx), cy: Y(sy), r: 5, fill: '#fff', stroke: '#000' }, svg);
    if (!diverged) { el('circle', { id: 'surface-end', cx: X(ex), cy: Y(ey), r: 5, fill: '#d7301f', stroke: '#fff' }, svg); }
    el('text', { x: 6, y: 314, fill: '#fff', 'font-size': 13 }, svg, `${xName} → (${fmt(s.xRange[0], 3)} … ${fmt(s.xRange[1], 3)})`);
    el('text', { x: 6, y: 16, fill: '#fff', 'font-size': 13 }, svg, `${yName} ↑ (${fmt(s.yRange[0], 3)} … ${fmt(s.yRange[1], 3)})`);
    $('surface-note').textContent = `SSR over ${xName} and ${yName}, the other five fixed (dark = low, log scale). White: gradient descent on these two alone, learning rate ${lr}, from the current values (white dot), ` +
      (diverged ? `leaving the picture: it diverges (try a smaller learning rate).` : `${s.path.length - 1} steps to the red dot.`);
    saveState();
  } catch (e) { $('surface-note').textContent = String(e.message || e); }
}

// ---------- training a network ----------
const play = { playing: false, view: null, busy: false, stepsPerFrame: 20 };

function playSettings() {
  return {
    data: $('p-data').value, samples: $('p-samples').value, noise: $('p-noise').value, layers: $('p-layers').value,
    activation: $('p-activation').value, loss: $('p-loss').value, optimizer: $('p-optimizer').value, lr: $('p-lr').value,
    batch: $('p-batch').value, seed: $('p-seed').value,
  };
}
function applyPlaySettings(f) {
  for (const k of ['data', 'samples', 'noise', 'layers', 'activation', 'loss', 'optimizer', 'lr', 'batch', 'seed']) {
    if (f[k] !== undefined) { $(`p-${k}`).value = f[k]; }
  }
}

async function setup() {
  play.playing = false;
  $('p-play').textContent = 'Play';
  const s = playSettings();
  try {
    const view = await ask('setup', {
      data: s.data, samples: Number(s.samples), noise: Number(s.noise), layers: s.layers, activation: s.activation,
      loss: s.loss, optimizer: s.optimizer, lr: Number(s.lr), batch: Number(s.batch), seed: Number(s.seed),
    });
    play.data = view.data;
    showView(view);
    showError('p-error', null);
  } catch (e) {
    showError('p-error', e);
  }
  saveState();
}

async function trainSteps(steps) {
  const view = await ask('train', { steps });
  showView(view);
  return view;
}

async function playLoop() {
  if (play.playing) { play.playing = false; $('p-play').textContent = 'Play'; return; }
  if (!play.view) { await setup(); }
  play.playing = true;
  $('p-play').textContent = 'Pause';
  try {
    while (play.playing) {
      const view = await trainSteps(play.stepsPerFrame);
      if (view.stopped) { showError('p-error', new Error(view.stopped)); break; }
      await new Promise(r => requestAnimationFrame(r));
    }
  } catch (e) {
    showError('p-error', e);
  } finally {
    play.playing = false;
    $('p-play').textContent = 'Play';
  }
}

function showView(view) {
  play.view = view;
  if (view.data) { play.data = view.data; }
  $('p-steps').textContent = String(view.steps);
  $('p-lossname').textContent = view.lossName;
  $('p-loss-value').textContent = fmt(view.loss, 5);
  $('p-loss-value').dataset.value = String(view.loss);
  const acc = $('p-accuracy');
  if (view.classification) {
    acc.textContent = `· accuracy ${(view.accuracy * 100).toFixed(1)}%`;
    acc.dataset.value = String(view.accuracy);
  } else { acc.textContent = ''; delete acc.dataset.value; }
  $('p-network').textContent = `${view.network} · ${view.parameters} parameters`;
  $('p-loss').disabled = view.classification; // classes are learnt with cross-entropy
  drawBoundary(view);
  drawLine($('p-losschart'), [view.lossHistory], view.steps, true, ['#1d2330']);
  drawLine($('p-gradients'), transpose(view.gradientNorms, view.gradientGroups.length), view.steps, true,
    ['#2c7bb6', '#1a9641', '#e66101', '#7b3294', '#d7301f', '#636363', '#01665e'], view.gradientGroups);
  drawNeurons(view);
  const session = sessionId;
  $('p-model').href = `/download/model?session=${session}`;
  $('p-report').href = `/download/report?session=${session}`;
}
function transpose(rows, n) { return Array.from({ length: n }, (_, j) => rows.map(r => r[j])); }

function drawBoundary(view) {
  const canvas = $('p-boundary'), ctx = canvas.getContext('2d');
  const svg = $('p-points');
  svg.replaceChildren();
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  const data = play.data;
  if (!data) { return; }
  if (view.boundary) {
    const side = Math.round(Math.sqrt(view.boundary.length));
    const image = ctx.createImageData(side, side);
    const classes = data.classes ? data.classes.length : 0;
    const values = view.boundary;
    const lo = Math.min(...values), hi = Math.max(...values);
    for (let r = 0; r < side; r++) {
      for (let c = 0; c < side; c++) {
        const v = values[r * side + c];
        // Two classes: P(positive) from orange (0) to blue (1), the points' colours; more: the winning
        // class's colour, paler than its points; numbers: low orange, high blue.
        // The regions paler than the points, so a point on its own class's region still stands out.
        const [R, G, B] = classes > 2 ? classColour(v, classes, 0.82) : pale(diverging(classes === 2 ? v : (v - lo) / (hi - lo || 1)));
        image.data.set([R, G, B, 255], ((side - 1 - r) * side + c) * 4);
      }
    }
    const off = document.createElement('canvas');
    off.width = off.height = side;
    off.getContext('2d').putImageData(image, 0, 0);
    ctx.imageSmoothingEnabled = true;
    ctx.drawImage(off, 0, 0, canvas.width, canvas.height);
    const [xr, yr] = view.domain;
    const X = scale(xr[0], xr[1], 0, 360), Y = scale(yr[0], yr[1], 360, 0);
    for (let k = 0; k < data.y.length; k++) {
      const label = data.y[k];
      const fill = data.classes ? (data.classes.length === 2 ? (label === 1 ? '#2c7bb6' : '#e66101') : `rgb(${classColour(label, data.classes.length, 0.45).join(' ')})`) : '#333';
      el('circle', { cx: X(data.x[2 * k]).toFixed(1), cy: Y(data.x[2 * k + 1]).toFixed(1), r: 3.6, fill, stroke: '#fff', 'stroke-width': 1 }, svg);
    }
  } else if (view.curve) {
    const xs = data.x, ys = data.y;
    const all = ys.concat(view.curve.y);
    const lo = Math.min(...all), hi = Math.max(...all);
    const X = scale(view.curve.x[0], view.curve.x[view.curve.x.length - 1], 20, 340), Y = scale(lo, hi, 340, 20);
    el('rect', { x: 20, y: 20, width: 320, height: 320, fill: 'none', stroke: '#ccc' }, svg);
    for (let k = 0; k < xs.length; k++) { el('circle', { cx: X(xs[k]).toFixed(1), cy: Y(ys[k]).toFixed(1), r: 2.5, fill: '#666' }, svg); }
    const d = view.curve.x.map((x, k) => `${k ? 'L' : 'M'}${X(x).toFixed(1)} ${Y(view.curve.y[k]).toFixed(1)}`).join('');
    el('path', { id: 'p-curve', d, fill: 'none', stroke: '#1a9641', 'stroke-width': 3 }, svg);
  } else {
    el('text', { x: 180, y: 180, 'text-anchor': 'middle', 'font-size': 14 }, svg, `${data.inputs.length} inputs: see the loss and accuracy`);
  }
}

function drawLine(svg, series, steps, log, colours, names = null) {
  svg.replaceChildren();
  const [L, R, T, B] = [46, 350, 10, 140];
  const finite = series.flat().filter(v => isFinite(v) && (!log || v > 0));
  el('rect', { x: L, y: T, width: R - L, height: B - T, fill: '#fff', stroke: '#ccc' }, svg);
  if (finite.length === 0) { return; }
  const f = log ? Math.log10 : v => v;
  let lo = f(Math.min(...finite)), hi = f(Math.max(...finite));
  if (hi - lo < 1e-9) { lo -= 0.5; hi += 0.5; }
  const Y = scale(lo, hi, B, T);
  el('text', { x: L - 4, y: T + 10, 'text-anchor': 'end', 'font-size': 11 }, svg, log ? `1e${Math.round(hi)}` : fmt(hi, 3));
  el('text', { x: L - 4, y: B, 'text-anchor': 'end', 'font-size': 11 }, svg, log ? `1e${Math.round(lo)}` : fmt(lo, 3));
  el('text', { x: R, y: B + 14, 'text-anchor': 'end', 'font-size': 11 }, svg, `step ${steps}`);
  series.forEach((values, j) => {
    const X = scale(0, Math.max(1, values.length - 1), L, R);
    const d = values.map((v, k) => (isFinite(v) && (!log || v > 0)) ? `${k ? 'L' : 'M'}${X(k).toFixed(1)} ${Y(f(v)).toFixed(1)}` : '').join('');
    el('path', { d: d.replace(/^L/, 'M'), fill: 'none', stroke: colours[j % colours.length], 'stroke-width': 1.6 }, svg);
    if (names) { el('text', { x: L + 6 + j * 62, y: B + 14, 'font-size': 11, fill: colours[j % colours.length] }, svg, names[j]); }
  });
}

function drawNeurons(view) {
  const box = $('p-neurons');
  box.replaceChildren();
  if (!view.neurons) { box.textContent = 'For 2-D data, each hidden neuron’s output is drawn here.'; return; }
  view.neurons.forEach((layer, l) => {
    const column = html('div', { class: 'layer' }, box);
    html('span', { class: 'note' }, column, `layer ${l}`);
    layer.forEach((values, u) => {
      const side = Math.round(Math.sqrt(values.length));
      const canvas = html('canvas', { width: side, height: side, title: `layer ${l}, neuron ${u}` }, column);
      const ctx = canvas.getContext('2d'), image = ctx.createImageData(side, side);
      const m = Math.max(1e-9, ...values.map(Math.abs));
      for (let r = 0; r < side; r++) {
        for (let c = 0; c < side; c++) {
          const [R, G, B] = diverging(0.5 + values[r * side + c] / m / 2);
          image.data.set([R, G, B, 255], ((side - 1 - r) * side + c) * 4);
        }
      }
      ctx.putImageData(image, 0, 0);
    });
  });
}

async function checkGradients() {
  try {
    const r = await ask('check');
    const panel = $('p-check-panel'), body = $('p-check-body');
    panel.hidden = false;
    body.replaceChildren();
    html('p', { id: 'p-check-summary' }, body, `${r.count} numbers checked on ${r.rows} rows; largest relative error ${r.maxRelativeError.toExponential(2)} ${r.maxRelativeError < 1e-6 ? '(backpropagation agrees)' : '(above 1e-6: look closer)'}`);
    const table = html('table', { class: 'numbers' }, body);
    const head = html('tr', {}, table);
    for (const h of ['number', 'backprop', 'finite differences', 'relative error']) { html('th', {}, head, h); }
    for (const w of r.worst) {
      const tr = html('tr', {}, table);
      for (const c of [w.name, fmt(w.backprop, 8), fmt(w.numerical, 8), w.relativeError.toExponential(2)]) { html('td', {}, tr, c); }
    }
    showError('p-error', null);
  } catch (e) { showError('p-error', e); }
}

async function upload(file) {
  $('p-upload').textContent = '';
  try {
    if (file.size > limits.maxUploadBytes) {
      throw new Error(`backprop: ${file.name} is larger than the ${Math.floor(limits.maxUploadBytes / 1024)} KiB an upload may be.`);
    }
    const text = await file.text();
    const r = await ask('data', { name: file.name, csv: text });
    $('p-upload').textContent = `${r.name}: ${r.rows} rows, inputs ${r.inputs.join(', ')}, target ${r.target}` + (r.classes ? ` (classes ${r.classes.join(', ')})` : '');
    $('p-data').value = 'csv';
    showError('p-error', null);
    await setup();
  } catch (e) { showError('p-error', e); }
}

// ---------- tabs and start ----------
let currentTab = 'lesson';
let sessionId = '';
let limits = {};
function showTab(tab) {
  currentTab = tab;
  $('lesson').hidden = tab !== 'lesson';
  $('play').hidden = tab !== 'play';
  $('tab-lesson').setAttribute('aria-pressed', String(tab === 'lesson'));
  $('tab-play').setAttribute('aria-pressed', String(tab === 'play'));
  if (tab === 'play' && !play.view) { setup(); }
  saveState();
}

async function start() {
  buildParameterTable();
  $('tab-lesson').addEventListener('click', () => showTab('lesson'));
  $('tab-play').addEventListener('click', () => showTab('play'));
  for (const k of [1, 2, 3]) { $(`stage-${k}`).addEventListener('click', () => setStage(k)); }
  $('one-step').addEventListener('click', () => oneStep().then(() => { showError('lesson-error', null); saveState(); drawSurface(); }, e => showError('lesson-error', e)));
  $('lesson-play').addEventListener('click', lessonPlay);
  $('backward').addEventListener('click', startBackward);
  $('bw-next').addEventListener('click', () => { lesson.bwIndex = Math.min(lesson.bwIndex + 1, lesson.backward.length - 1); showBackward(); });
  $('bw-prev').addEventListener('click', () => { lesson.bwIndex = Math.max(lesson.bwIndex - 1, 0); showBackward(); });
  $('bw-end').addEventListener('click', () => { lesson.bwIndex = lesson.backward.length - 1; showBackward(); });
  $('bw-close').addEventListener('click', closeBackward);
  $('surface-draw').addEventListener('click', drawSurface);
  $('surface-x').addEventListener('change', drawSurface);
  $('surface-y').addEventListener('change', drawSurface);
  $('surface-lr').addEventListener('change', drawSurface);
  $('p-play').addEventListener('click', playLoop);
  $('p-step').addEventListener('click', async () => { try { if (!play.view) { await setup(); } await trainSteps(1); showError('p-error', null); } catch (e) { showError('p-error', e); } });
  $('p-reset').addEventListener('click', setup);
  $('p-check').addEventListener('click', checkGradients);
  $('p-file').addEventListener('change', () => { const f = $('p-file').files[0]; if (f) { upload(f); } });
  for (const id of ['p-data', 'p-samples', 'p-noise', 'p-layers', 'p-activation', 'p-loss', 'p-optimizer', 'p-lr', 'p-batch', 'p-seed']) {
    $(id).addEventListener('change', () => { if (id !== 'p-data' || $('p-data').value !== 'csv') { setup(); } });
  }

  try {
    const hello = await ask('hello');
    sessionId = hello.session;
    limits = hello.limits;
    lesson.stages = hello.stages;
    $('status').textContent = 'connected to backprop serve';
  } catch (e) {
    $('status').textContent = String(e.message || e);
    return;
  }
  const h = readHash();
  lesson.values = { ...lesson.stages[2].startingValues };
  if (h.tab === 'lesson' || h.tab === undefined) {
    if (h.stage) { lesson.stage = Number(h.stage); lesson.values = { ...lesson.stages[lesson.stage - 1].startingValues }; lesson.trained = [...lesson.stages[lesson.stage - 1].trained]; }
    for (const n of NAMES) { if (h[n] !== undefined && isFinite(Number(h[n]))) { lesson.values[n] = Number(h[n]); } }
    if (h.trained !== undefined) { lesson.trained = h.trained.split(',').filter(n => NAMES.includes(n)); }
    if (h.point) { lesson.point = Math.min(3, Math.max(1, Number(h.point) || 1)); }
    if (NAMES.includes(h.sx)) { $('surface-x').value = h.sx; }
    if (NAMES.includes(h.sy)) { $('surface-y').value = h.sy; }
    if (h.slr && isFinite(Number(h.slr))) { $('surface-lr').value = h.slr; }
  }
  for (const m of NAMES) { $(`train-${m}`).checked = lesson.trained.includes(m); }
  for (const k of [1, 2, 3]) { $(`stage-${k}`).setAttribute('aria-pressed', String(k === lesson.stage)); }
  for (const j of [1, 2, 3]) { $(`point-${j}`).setAttribute('aria-pressed', String(lesson.point === j)); }
  await requestLesson();
  await drawSurface();
  if (h.tab === 'play') {
    applyPlaySettings(h);
    showTab('play');
  }
  document.body.dataset.ready = 'true';
}

start();
