/**
 * Prometheus text exposition (version 0.0.4), written here rather than through a client
 * library: the hub and the edge only expose values they already hold, read at scrape time.
 */
export interface Sample {
  labels?: Record<string, string>;
  value: number;
}

export type MetricFamily =
  | { name: string; help: string; type: 'counter' | 'gauge'; samples: Sample[] }
  | { name: string; help: string; type: 'histogram'; histogram: HistogramSnapshot; labels?: Record<string, string> };

export interface HistogramSnapshot {
  /** Upper bounds, ascending, without +Inf. */
  bounds: readonly number[];
  /** Cumulative count at or below each bound. */
  cumulative: number[];
  count: number;
  sum: number;
}

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** A histogram with fixed buckets, as Prometheus wants them. */
export class Histogram {
  private readonly counts: number[];
  private count = 0;
  private sum = 0;

  constructor(readonly bounds: readonly number[]) {
    this.counts = bounds.map(() => 0);
  }

  observe(value: number): void {
    this.count++;
    this.sum += value;
    const i = this.bounds.findIndex((b) => value <= b);
    if (i >= 0) this.counts[i] = (this.counts[i] ?? 0) + 1;
  }

  snapshot(): HistogramSnapshot {
    let running = 0;
    return {
      bounds: this.bounds,
      cumulative: this.counts.map((c) => (running += c)),
      count: this.count,
      sum: this.sum,
    };
  }
}

const escapeLabel = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
const labelText = (labels: Record<string, string> | undefined) => {
  const entries = Object.entries(labels ?? {});
  return entries.length === 0 ? '' : `{${entries.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(',')}}`;
};
const num = (v: number) => (Number.isNaN(v) ? 'NaN' : v === Infinity ? '+Inf' : v === -Infinity ? '-Inf' : String(v));

export function renderExposition(families: readonly MetricFamily[]): string {
  const lines: string[] = [];
  for (const f of families) {
    lines.push(`# HELP ${f.name} ${f.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`, `# TYPE ${f.name} ${f.type}`);
    if (f.type !== 'histogram') {
      for (const s of f.samples) lines.push(`${f.name}${labelText(s.labels)} ${num(s.value)}`);
      continue;
    }
    const h = f.histogram;
    h.bounds.forEach((b, i) =>
      lines.push(`${f.name}_bucket${labelText({ ...f.labels, le: num(b) })} ${h.cumulative[i] ?? 0}`),
    );
    lines.push(
      `${f.name}_bucket${labelText({ ...f.labels, le: '+Inf' })} ${h.count}`,
      `${f.name}_sum${labelText(f.labels)} ${num(h.sum)}`,
      `${f.name}_count${labelText(f.labels)} ${h.count}`,
    );
  }
  return `${lines.join('\n')}\n`;
}
