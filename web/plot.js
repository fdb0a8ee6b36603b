// The convergence plot: the running estimate of pi against the samples (log scale), its 2-sigma band and pi itself, on a canvas.

/** Colours and fonts come from the page's CSS custom properties, so the plot follows its theme. */
function theme(canvas) {
  const css = getComputedStyle(canvas);
  const v = (name, fallback) => css.getPropertyValue(name).trim() || fallback;
  return {
    text: v("--fg", "#1b1f24"),
    muted: v("--muted", "#57606a"),
    grid: v("--grid", "#d8dee4"),
    line: v("--accent", "#0b63ce"),
    band: v("--band", "rgba(11, 99, 206, 0.18)"),
    truth: v("--truth", "#b42318"),
    font: css.fontFamily || "system-ui, sans-serif",
  };
}

/** Tick values 10^k covering [lo, hi] on a log axis. */
function decades(lo, hi) {
  const out = [];
  for (let k = Math.ceil(Math.log10(lo) - 1e-9); k <= Math.floor(Math.log10(hi) + 1e-9); k++) out.push(10 ** k);
  return out;
}

/** About `want` round tick values covering [lo, hi] on a linear axis. */
function linearTicks(lo, hi, want) {
  const raw = (hi - lo) / want;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const out = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) out.push(t);
  return { ticks: out, step };
}

/** A sample count as a short label: 1000 -> "10³" style powers of ten, else plain. */
function powerLabel(v) {
  const k = Math.round(Math.log10(v));
  const sup = "⁰¹²³⁴⁵⁶⁷⁸⁹";
  if (k < 4) return String(10 ** k);
  return "10" + String(k).split("").map((d) => sup[Number(d)]).join("");
}

/** Samples past which the y range follows the band of the last ZOOM_DECADES decades. */
export const ZOOM_FROM = 1e6;
const ZOOM_DECADES = 2;

/**
 * The y range [lo, hi] around pi: wide enough for the estimates and their 2-sigma bands, at
 * least 1e-7 and at most 0.6 each side. Past ZOOM_FROM samples only the points of the last
 * ZOOM_DECADES decades count, so the axis zooms in as the band narrows (earlier points leave
 * the frame) instead of staying as wide as the first chunks needed.
 */
export function yRange(points) {
  const last = points.length ? points[points.length - 1].n : 0;
  const from = last > ZOOM_FROM ? last / 10 ** ZOOM_DECADES : 0;
  let half = last > ZOOM_FROM ? 1e-7 : 0.002;
  for (const p of points) if (p.n >= from) half = Math.max(half, Math.abs(p.pi - Math.PI) + 2 * p.se);
  half = Math.min(half * 1.08, 0.6);
  return [Math.PI - half, Math.PI + half];
}

/** Sizes the canvas for the screen's pixel ratio; returns its 2D context and the frame of the plot. */
function prepare(canvas) {
  const dpr = window.devicePixelRatio || 1;
  const cssWidth = canvas.clientWidth || 600;
  const cssHeight = canvas.clientHeight || 360;
  if (canvas.width !== Math.round(cssWidth * dpr) || canvas.height !== Math.round(cssHeight * dpr)) {
    canvas.width = Math.round(cssWidth * dpr);
    canvas.height = Math.round(cssHeight * dpr);
  }
  const ctx = canvas.getContext("2d");
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, cssWidth, cssHeight);
  const small = cssWidth < 480;
  const fontPx = small ? 11 : 12;
  const t = theme(canvas);
  ctx.font = `${fontPx}px ${t.font}`;
  const left = small ? 52 : 64;
  const top = 14;
  const bottom = small ? 40 : 44;
  const frame = { left, top, w: cssWidth - left - 12, h: cssHeight - top - bottom, cssHeight, small, fontPx };
  return { ctx, t, frame };
}

/** The scales: x log10 of the samples, from the first point (or 10^3) to `total`; y from yRange. */
function scales(frame, points, total) {
  const { left, top, w, h } = frame;
  const xMin = Math.max(1, Math.min(points.length ? points[0].n : 1000, 1000));
  const xMax = Math.max(xMin * 10, Number(total) || xMin * 10);
  const lx0 = Math.log10(xMin);
  const lx1 = Math.log10(xMax);
  const [y0, y1] = yRange(points);
  return {
    xMin,
    xMax,
    y0,
    y1,
    X: (n) => left + ((Math.log10(n) - lx0) / (lx1 - lx0)) * w,
    Y: (v) => top + (1 - (v - y0) / (y1 - y0)) * h,
  };
}

/** One straight line from (x0, y0) to (x1, y1) in the current stroke style. */
function line(ctx, x0, y0, x1, y1) {
  ctx.beginPath();
  ctx.moveTo(x0, y0);
  ctx.lineTo(x1, y1);
  ctx.stroke();
}

/** The grid, the tick labels of both axes and the axis titles. */
function drawAxes(ctx, t, frame, s) {
  const { left, top, w, h, small, cssHeight } = frame;
  ctx.strokeStyle = t.grid;
  ctx.lineWidth = 1;
  ctx.fillStyle = t.muted;
  ctx.textAlign = "center";
  ctx.textBaseline = "top";
  let xt = decades(s.xMin, s.xMax);
  if (small && xt.length > 6) xt = xt.filter((_, i) => i % 2 === 0);
  for (const v of xt) {
    line(ctx, s.X(v), top, s.X(v), top + h);
    ctx.fillText(powerLabel(v), s.X(v), top + h + 5);
  }
  const { ticks: yt, step } = linearTicks(s.y0, s.y1, small ? 4 : 6);
  const yDigits = Math.max(0, Math.min(8, -Math.floor(Math.log10(step) + 1e-9)));
  ctx.textAlign = "right";
  ctx.textBaseline = "middle";
  for (const v of yt) {
    line(ctx, left, s.Y(v), left + w, s.Y(v));
    ctx.fillText(v.toFixed(yDigits), left - 6, s.Y(v));
  }
  ctx.fillStyle = t.text;
  ctx.textAlign = "center";
  ctx.textBaseline = "bottom";
  ctx.fillText("samples (log scale)", left + w / 2, cssHeight - 2);
  ctx.save();
  ctx.translate(12, top + h / 2);
  ctx.rotate(-Math.PI / 2);
  ctx.textBaseline = "middle";
  ctx.fillText("estimate of π", 0, 0);
  ctx.restore();
}

/** The 2-sigma band, pi dashed and the running estimate, clipped to the frame. */
function drawData(ctx, t, frame, s, points) {
  const { left, top, w, h } = frame;
  ctx.save();
  ctx.beginPath();
  ctx.rect(left, top, w, h);
  ctx.clip();
  if (points.length) {
    ctx.fillStyle = t.band;
    ctx.beginPath();
    points.forEach((p, i) => (i ? ctx.lineTo : ctx.moveTo).call(ctx, s.X(p.n), s.Y(p.pi + 2 * p.se)));
    for (let i = points.length - 1; i >= 0; i--) ctx.lineTo(s.X(points[i].n), s.Y(points[i].pi - 2 * points[i].se));
    ctx.closePath();
    ctx.fill();
  }
  ctx.strokeStyle = t.truth;
  ctx.setLineDash([6, 4]);
  ctx.lineWidth = 1.5;
  line(ctx, left, s.Y(Math.PI), left + w, s.Y(Math.PI));
  ctx.setLineDash([]);
  if (points.length) {
    ctx.strokeStyle = t.line;
    ctx.lineWidth = 2;
    ctx.beginPath();
    points.forEach((p, i) => (i ? ctx.lineTo : ctx.moveTo).call(ctx, s.X(p.n), s.Y(p.pi)));
    ctx.stroke();
    const last = points[points.length - 1];
    ctx.fillStyle = t.line;
    ctx.beginPath();
    ctx.arc(s.X(last.n), s.Y(last.pi), 3.5, 0, 2 * Math.PI);
    ctx.fill();
  }
  ctx.restore();
}

/** The frame and the legend, wrapped onto a second row when too wide for the plot. */
function drawLegend(ctx, t, frame) {
  const { left, top, w, h, fontPx } = frame;
  ctx.strokeStyle = t.muted;
  ctx.strokeRect(left, top, w, h);
  const items = [
    ["line", t.line, "running estimate"],
    ["band", t.band, "± 2 standard errors"],
    ["dash", t.truth, "π"],
  ];
  ctx.textAlign = "left";
  ctx.textBaseline = "middle";
  let lx = left + 10;
  let ly = top + 12;
  for (const [kind, colour, label] of items) {
    const width = 23 + ctx.measureText(label).width;
    if (lx > left + 10 && lx + width > left + w - 6) {
      lx = left + 10;
      ly += fontPx + 6;
    }
    if (kind === "band") {
      ctx.fillStyle = colour;
      ctx.fillRect(lx, ly - 5, 18, 10);
    } else {
      ctx.strokeStyle = colour;
      ctx.lineWidth = 2;
      ctx.setLineDash(kind === "dash" ? [5, 3] : []);
      line(ctx, lx, ly, lx + 18, ly);
      ctx.setLineDash([]);
    }
    ctx.fillStyle = t.text;
    ctx.fillText(label, lx + 23, ly);
    lx += width + 14;
  }
}

/**
 * Draws `points` ([{n, pi, se}], n the samples so far) on `canvas`, the x axis running to
 * `total` samples. With no points it draws the empty axes.
 */
export function drawPlot(canvas, points, total) {
  const { ctx, t, frame } = prepare(canvas);
  const s = scales(frame, points, total);
  drawAxes(ctx, t, frame, s);
  drawData(ctx, t, frame, s, points);
  drawLegend(ctx, t, frame);
}
