// Bar charts drawn on the server as SVG: no script, no library, nothing inline the CSP would
// refuse (colours come from the stylesheet's classes). Each bar says its time and count in a
// <title> (a tooltip), and the chart its total to screen readers.
import { html, type SafeHtml } from '../html.js';

export interface Series {
  title: string;
  /** Counts per bucket, oldest first. */
  values: number[];
  /** The stylesheet's colour: s1 … s4. */
  colour: 's1' | 's2' | 's3' | 's4';
}

const WIDTH = 360;
const HEIGHT = 150;
const LEFT = 34;
const BOTTOM = 18;
const TOP = 8;

/** A round, even number at least `max`, for the top of the axis (its half is marked too): 2, 10, 20, 50, 100… */
export function axisTop(max: number): number {
  if (max <= 2) return 2;
  const magnitude = 10 ** Math.floor(Math.log10(max));
  return [1, 2, 5, 10].map((step) => step * magnitude).find((top) => top >= max)!;
}

export function barChart({ series, starts, label, period }: { series: Series; starts: Date[]; label: (start: Date) => string; period: string }): SafeHtml {
  const total = series.values.reduce((sum, value) => sum + value, 0);
  const top = axisTop(Math.max(...series.values));
  const plotWidth = WIDTH - LEFT;
  const plotHeight = HEIGHT - BOTTOM - TOP;
  const slot = plotWidth / series.values.length;
  const bar = Math.max(1, slot * 0.75);
  const y = (value: number) => TOP + plotHeight - (value / top) * plotHeight;
  return html`<figure class="chart panel" data-total="${total}">
<figcaption>${series.title} <span class="muted">${total} in ${period}</span></figcaption>
<svg viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-label="${series.title}: ${total} in ${period}">
<line class="grid" x1="${LEFT}" y1="${TOP}" x2="${WIDTH}" y2="${TOP}"/>
<line class="grid" x1="${LEFT}" y1="${y(top / 2)}" x2="${WIDTH}" y2="${y(top / 2)}"/>
<line class="axis" x1="${LEFT}" y1="${TOP + plotHeight}" x2="${WIDTH}" y2="${TOP + plotHeight}"/>
<text x="${LEFT - 4}" y="${TOP + 4}" text-anchor="end">${top}</text>
<text x="${LEFT - 4}" y="${y(top / 2) + 3}" text-anchor="end">${top / 2}</text>
<text x="${LEFT - 4}" y="${TOP + plotHeight}" text-anchor="end">0</text>
${series.values.map((value, i) =>
  value > 0
    ? html`<rect class="${series.colour}" x="${(LEFT + i * slot + (slot - bar) / 2).toFixed(1)}" y="${y(value).toFixed(1)}" width="${bar.toFixed(1)}" height="${(TOP + plotHeight - y(value)).toFixed(1)}"><title>${label(starts[i]!)}: ${value}</title></rect>\n`
    : '',
)}<text x="${LEFT}" y="${HEIGHT - 4}">${label(starts[0]!)}</text>
<text x="${WIDTH}" y="${HEIGHT - 4}" text-anchor="end">${label(starts.at(-1)!)}</text>
</svg>
</figure>`;
}
