// Line charts drawn by hand in SVG: no library to install or serve, nothing from the internet.
// Every text goes in with textContent, so a value from the API is never read as markup.

const SVG_NS = "http://www.w3.org/2000/svg";
const WIDTH = 760;
const HEIGHT = 230;
const MARGIN = { left: 44, right: 24, top: 14, bottom: 28 };
const DOTS_UP_TO = 120; // points drawn as dots (with a tooltip each) when there are this few
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const SECOND = 1000;
const TIME_STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200,
  86400, 172800, 604800].map((s) => s * SECOND);

function svg(tag, attrs = {}, text) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

// A round step (1, 2 or 5 times a power of ten) that cuts span into about `count` parts.
export function niceStep(span, count) {
  const raw = span / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const n = raw / magnitude;
  return (n <= 1 ? 1 : n <= 2 ? 2 : n <= 5 ? 5 : 10) * magnitude;
}

function pad2(n) {
  return String(n).padStart(2, "0");
}

function timeLabel(ms, step) {
  const d = new Date(ms);
  if (step >= 86400 * SECOND) return MONTHS[d.getMonth()] + " " + d.getDate();
  const hm = pad2(d.getHours()) + ":" + pad2(d.getMinutes());
  return step < 60 * SECOND ? hm + ":" + pad2(d.getSeconds()) : hm;
}

function yDomain(values) {
  let lo = Math.min(...values);
  let hi = Math.max(...values);
  if (lo === hi) {
    const pad = Math.abs(lo) * 0.1 || 1;
    lo -= pad;
    hi += pad;
  }
  const step = niceStep(hi - lo, 4);
  return { lo: Math.floor(lo / step) * step, hi: Math.ceil(hi / step) * step, step };
}

// points: [{t: Unix ms, v: number}] in any order; from/to: the range shown, in Unix ms.
// format(v): a value's text; describe(point): a point's tooltip. Returns an <svg>.
export function lineChart({ points, from, to, title, format, describe }) {
  const root = svg("svg", { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, class: "chart", role: "img" });
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const sorted = points.filter((p) => Number.isFinite(p.v)).sort((a, b) => a.t - b.t);
  if (sorted.length) {
    from = Math.min(from, sorted[0].t);
    to = Math.max(to, sorted[sorted.length - 1].t);
  }
  if (!(to > from)) to = from + SECOND;
  const x = (t) => MARGIN.left + ((t - from) / (to - from)) * plotW;

  // Time axis: a round step in local time giving at most 7 ticks.
  const step = TIME_STEPS.find((s) => (to - from) / s <= 7) || TIME_STEPS[TIME_STEPS.length - 1];
  const zone = -new Date(from).getTimezoneOffset() * 60 * SECOND;
  const grid = svg("g", { class: "grid" });
  for (let t = Math.ceil((from + zone) / step) * step - zone; t <= to; t += step) {
    grid.append(svg("line", { x1: x(t), x2: x(t), y1: MARGIN.top, y2: MARGIN.top + plotH }));
    grid.append(svg("text", { x: x(t), y: HEIGHT - 8, "text-anchor": "middle", class: "tick" }, timeLabel(t, step)));
  }
  root.append(grid);
  root.append(svg("rect", { x: MARGIN.left, y: MARGIN.top, width: plotW, height: plotH, class: "frame" }));

  if (!sorted.length) {
    root.setAttribute("aria-label", `${title}: no values in this range`);
    root.append(svg("text", { x: MARGIN.left + plotW / 2, y: MARGIN.top + plotH / 2, "text-anchor": "middle",
      class: "empty" }, "No values in this range"));
    return root;
  }

  const { lo, hi, step: yStep } = yDomain(sorted.map((p) => p.v));
  const y = (v) => MARGIN.top + plotH - ((v - lo) / (hi - lo)) * plotH;
  const decimals = Math.max(0, -Math.floor(Math.log10(yStep)));
  for (let v = lo; v <= hi + yStep / 2; v += yStep) {
    grid.append(svg("line", { x1: MARGIN.left, x2: MARGIN.left + plotW, y1: y(v), y2: y(v) }));
    grid.append(svg("text", { x: MARGIN.left - 6, y: y(v) + 4, "text-anchor": "end", class: "tick" },
      v.toFixed(decimals)));
  }

  const line = sorted.map((p, i) => `${i ? "L" : "M"}${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`).join("");
  const first = sorted[0];
  const last = sorted[sorted.length - 1];
  const base = MARGIN.top + plotH;
  root.append(svg("path", { d: `${line}L${x(last.t).toFixed(1)},${base}L${x(first.t).toFixed(1)},${base}Z`,
    class: "area" }));
  root.append(svg("path", { d: line, class: "line" }));
  if (sorted.length <= DOTS_UP_TO) {
    const dots = svg("g", { class: "dots" });
    for (const p of sorted) {
      const dot = svg("circle", { cx: x(p.t).toFixed(1), cy: y(p.v).toFixed(1), r: 2.5 });
      dot.append(svg("title", {}, describe(p)));
      dots.append(dot);
    }
    root.append(dots);
  }
  const newest = svg("circle", { cx: x(last.t), cy: y(last.v), r: 4.5, class: "newest" });
  newest.append(svg("title", {}, describe(last)));
  root.append(newest);
  // The newest value's label: above the point (below it near the top), ending at it.
  const labelY = y(last.v) - 10 < MARGIN.top + 12 ? y(last.v) + 20 : y(last.v) - 10;
  root.append(svg("text", { x: x(last.t), y: labelY, "text-anchor": "end", class: "newest-label" }, format(last.v)));
  root.setAttribute("aria-label", `${title}: ${sorted.length} points, newest ${format(last.v)}`);
  return root;
}
