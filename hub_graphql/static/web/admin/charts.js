// The dashboard's own charts, drawn as SVG elements in the browser (createElementNS, text as text nodes).

const SVG = "http://www.w3.org/2000/svg";

function svg(tag, attributes = {}, ...children) {
  const element = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, String(value));
  for (const child of children) {
    element.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
  }
  return element;
}

function niceMax(value) {
  if (value <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}

function day(value) {
  return new Date(value).toISOString().slice(0, 10);
}

/**
 * A product's daily demand: the history as a solid line, the forecast as a dashed line inside its
 * shaded 80 % interval. `title` and `description` name the chart for screen readers.
 */
export function demandChart(history, forecast, { title, description, width = 760, height = 300 }) {
  const pad = { left: 48, right: 16, top: 16, bottom: 36 };
  const points = [...history, ...forecast];
  const times = points.map((p) => new Date(p.date).getTime());
  const start = Math.min(...times);
  const end = Math.max(...times);
  const top = niceMax(Math.max(1, ...points.map((p) => Math.max(p.units, p.high ?? 0))));
  const x = (date) => pad.left + ((new Date(date).getTime() - start) / Math.max(1, end - start)) * (width - pad.left - pad.right);
  const y = (units) => height - pad.bottom - (Math.max(0, units) / top) * (height - pad.top - pad.bottom);
  const line = (series) => series.map((p) => `${x(p.date).toFixed(1)},${y(p.units).toFixed(1)}`).join(" ");

  const titleId = `chart-title-${Math.random().toString(36).slice(2)}`;
  const chart = svg(
    "svg",
    { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-labelledby": titleId, class: "chart", preserveAspectRatio: "xMidYMid meet" },
    svg("title", { id: titleId }, title),
    svg("desc", {}, description),
  );
  // Grid and the units axis.
  for (let i = 0; i <= 4; i += 1) {
    const units = (top / 4) * i;
    chart.appendChild(svg("line", { x1: pad.left, x2: width - pad.right, y1: y(units), y2: y(units), class: "grid" }));
    chart.appendChild(svg("text", { x: pad.left - 6, y: y(units) + 4, "text-anchor": "end", class: "axis" }, String(Math.round(units * 100) / 100)));
  }
  if (points.length) {
    chart.appendChild(svg("text", { x: pad.left, y: height - 10, class: "axis" }, day(start)));
    chart.appendChild(svg("text", { x: width - pad.right, y: height - 10, "text-anchor": "end", class: "axis" }, day(end)));
  }
  const band = forecast.filter((p) => p.low !== null && p.high !== null);
  if (band.length) {
    const upper = band.map((p) => `${x(p.date).toFixed(1)},${y(p.high).toFixed(1)}`);
    const lower = band.map((p) => `${x(p.date).toFixed(1)},${y(p.low).toFixed(1)}`).reverse();
    chart.appendChild(svg("polygon", { points: [...upper, ...lower].join(" "), class: "interval" }));
  }
  if (history.length) chart.appendChild(svg("polyline", { points: line(history), class: "history" }));
  if (forecast.length) {
    const joined = history.length ? [history[history.length - 1], ...forecast] : forecast;
    chart.appendChild(svg("polyline", { points: line(joined), class: "forecast" }));
    chart.appendChild(svg("line", { x1: x(forecast[0].date), x2: x(forecast[0].date), y1: pad.top, y2: height - pad.bottom, class: "today" }));
  }
  return chart;
}
