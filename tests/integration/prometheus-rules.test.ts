import { spawnSync } from 'node:child_process';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { buildApi } from '../../edge/api/server.js';
import { ManualClock } from '../../shared/platform/clock.js';
import { topics } from '../../shared/protocol/topics.js';
import { siteEvent, statusOf } from '../harness/hub-fixtures.js';
import { signedInHub } from '../harness/hub-auth.js';
import { UID, startSite } from '../harness/site.js';
import { silent } from '../support/logger.js';
import { tempDir } from '../support/temp-dir.js';

/**
 * The monitoring kit against the real thing: deploy/prometheus/alerts.yml and prometheus.yml pass
 * promtool, the rules pass their unit tests (alerts.test.yml), a real scrape of a hub and of a
 * simulated edge passes `promtool check metrics`, and every metric name the rules and the Grafana
 * dashboard (deploy/grafana/tessera.json) query is one those scrapes expose.
 */

const DEPLOY = join(import.meta.dirname, '../../deploy');
const PROMTOOL = process.env.PROMTOOL ?? 'promtool';
// Under CI (.ci/run installs it) a missing promtool fails the test instead of skipping it.
const hasPromtool = process.env.CI === 'true' || spawnSync(PROMTOOL, ['--version']).status === 0;
const withPromtool = hasPromtool ? it : it.skip;

function promtool(args: string[], input?: string) {
  const r = spawnSync(PROMTOOL, args, { input, encoding: 'utf8', timeout: 60_000 });
  if (r.error) throw r.error;
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

/** Names a scrape exposes: each family, and a histogram's _bucket, _sum and _count. */
function exposedNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const [, name, type] of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    if (name === undefined) continue;
    names.add(name);
    if (type === 'histogram' || type === 'summary') for (const s of ['_bucket', '_sum', '_count']) names.add(name + s);
  }
  return names;
}

const KEYWORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'bool',
  'and',
  'or',
  'unless',
  'offset',
]);
/** Series Prometheus makes itself, not read from a scrape. */
const SYNTHETIC = new Set(['up']);

/** The metric names a PromQL expression reads (a cheap parse: strings, label matchers, ranges, grouping, functions and keywords taken out). */
function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\$\w+/g, ' ');
  return [...bare.matchAll(/(?<![\w.:])([a-zA-Z_:][\w:]*)(?![\w:])(?!\s*\()/g)]
    .map((m) => m[1] ?? '')
    .filter((n) => !KEYWORDS.has(n) && !/^(?:Inf|NaN)$/i.test(n));
}

function ruleExpressions(): Array<{ alert: string; expr: string }> {
  const rules = parse(readFileSync(join(DEPLOY, 'prometheus/alerts.yml'), 'utf8')) as {
    groups: Array<{ rules: Array<{ alert: string; expr: string }> }>;
  };
  return rules.groups.flatMap((g) => g.rules);
}

interface Panel {
  title?: string;
  targets?: Array<{ expr?: string }>;
  panels?: Panel[];
}
function dashboardExpressions(): Array<{ where: string; expr: string }> {
  const dashboard = JSON.parse(readFileSync(join(DEPLOY, 'grafana/tessera.json'), 'utf8')) as {
    panels: Panel[];
    templating: { list: Array<{ name: string; definition?: string }> };
  };
  const panels = (list: Panel[]): Panel[] => list.flatMap((p) => [p, ...panels(p.panels ?? [])]);
  return [
    ...panels(dashboard.panels).flatMap((p) =>
      (p.targets ?? []).flatMap((t) => (t.expr ? [{ where: `panel ${p.title ?? ''}`, expr: t.expr }] : [])),
    ),
    ...dashboard.templating.list.flatMap((v) =>
      v.definition
        ? [{ where: `variable ${v.name}`, expr: /label_values\((.*),\s*\w+\)/.exec(v.definition)?.[1] ?? '' }]
        : [],
    ),
  ];
}

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

/** One scrape of a hub (with a monitor token, over HTTP) and one of a simulated edge with a broker link. */
let scrapes: { hub: string; edge: string };
beforeAll(async () => {
  const { hub, admin } = await signedInHub(silent, new ManualClock('2026-11-23T08:00:10Z'));
  cleanups.push(() => hub.stop());
  await hub.sites.upsert({ id: 'murat', name: 'Murat', timeZone: 'Europe/Paris', capacity: 4 });
  const t = topics();
  const events = [1, 2].map((seq) => siteEvent('murat', seq));
  hub.ingest.onMessage(t.events('murat'), Buffer.from(JSON.stringify({ v: 1, site: 'murat', events })));
  hub.ingest.onMessage(t.status('murat'), Buffer.from(JSON.stringify(statusOf('murat', { lastSeq: 2, ackedSeq: 2 }))));
  await hub.ingest.commitGroup();
  const hubUrl = await hub.api.listen({ host: '127.0.0.1', port: 0 });
  const made = await hub.api.inject({
    method: 'POST',
    url: '/auth/monitor-tokens',
    headers: admin,
    payload: { name: 'prometheus' },
  });
  const { token } = made.json<{ token: string }>();

  const site = await startSite();
  cleanups.push(() => site.stop());
  site.tap('front-in', UID.alice);
  const edge = buildApi({
    edge: site.edge,
    log: silent,
    clock: site.clock,
    version: 'test',
    startedAt: site.clock.now(),
    link: () => ({ connected: true, unreachableSeconds: 0 }),
  });
  cleanups.push(() => edge.close());
  const edgeUrl = await edge.listen({ host: '127.0.0.1', port: 0 });

  const get = async (url: string, headers: Record<string, string> = {}) => {
    const r = await fetch(url, { headers });
    expect(r.status, url).toBe(200);
    expect(r.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    return r.text();
  };
  scrapes = {
    hub: await get(`${hubUrl}/metrics`, { authorization: `Bearer ${token}` }),
    edge: await get(`${edgeUrl}/metrics`),
  };
});

describe('the Prometheus rules and example configuration', () => {
  withPromtool('pass promtool check rules, their unit tests, and check config', () => {
    const check = promtool(['check', 'rules', join(DEPLOY, 'prometheus/alerts.yml')]);
    expect(check.code, check.out).toBe(0);
    const tests = promtool(['test', 'rules', join(DEPLOY, 'prometheus/alerts.test.yml')]);
    expect(tests.code, tests.out).toBe(0);
    expect(tests.out).toContain('SUCCESS');
    // The example config, beside its rules and the token files it names.
    const dir = tempDir();
    for (const f of ['prometheus.yml', 'alerts.yml']) copyFileSync(join(DEPLOY, 'prometheus', f), join(dir, f));
    for (const f of ['tessera-hub.token', 'tessera-edge.token'])
      writeFileSync(join(dir, f), 'secret\n', { mode: 0o600 });
    const config = promtool(['check', 'config', join(dir, 'prometheus.yml')]);
    expect(config.code, config.out).toBe(0);
  });

  withPromtool('a real scrape of the hub and of an edge passes promtool check metrics', () => {
    for (const [who, text] of Object.entries(scrapes)) {
      const r = promtool(['check', 'metrics'], text);
      // It parses (a parse error is exit code 1); lint remarks (exit code 3) only on prom-client's
      // names (its gauges nodejs_active_handles_total...), never on ours.
      const remarks = r.out.split('\n').filter((l) => l.trim() !== '');
      expect(r.code === 0 || r.code === 3, `${who}: ${r.out}`).toBe(true);
      expect(r.code === 0, `${who}: ${r.out}`).toBe(remarks.length === 0);
      for (const remark of remarks) expect(remark, who).toMatch(/^nodejs_\w+ /);
    }
    // Each of ours alone, with nothing to say about it.
    for (const [who, text] of Object.entries(scrapes)) {
      const ours = text.slice(0, text.indexOf('# HELP process_'));
      expect(ours, who).toContain('tessera_build_info');
      const r = promtool(['check', 'metrics'], ours);
      expect({ code: r.code, out: r.out.trim() }, who).toEqual({ code: 0, out: '' });
    }
  });

  it('every metric a rule reads is one the hub or the edge exposes', () => {
    const exposed = new Set([...exposedNames(scrapes.hub), ...exposedNames(scrapes.edge), ...SYNTHETIC]);
    const rules = ruleExpressions();
    expect(rules.length).toBeGreaterThanOrEqual(10);
    for (const { alert, expr } of rules) {
      const names = metricNames(expr);
      expect(names.length, alert).toBeGreaterThan(0);
      for (const name of names) expect(exposed, `${alert}: ${name}`).toContain(name);
    }
  });
});

describe('the Grafana dashboard', () => {
  it('queries only metrics the hub or the edge exposes', () => {
    const exposed = new Set([...exposedNames(scrapes.hub), ...exposedNames(scrapes.edge), ...SYNTHETIC]);
    const exprs = dashboardExpressions();
    expect(exprs.length).toBeGreaterThan(20);
    for (const { where, expr } of exprs) {
      const names = metricNames(expr);
      expect(names.length, `${where}: ${expr}`).toBeGreaterThan(0);
      for (const name of names) expect(exposed, `${where}: ${name}`).toContain(name);
    }
  });

  it('the name parser finds what a query reads, and only that', () => {
    expect(
      metricNames(
        'histogram_quantile(0.95, sum by (site, le) (rate(tessera_edge_decision_latency_seconds_bucket{site=~"$site"}[5m]))) > 0.5',
      ),
    ).toEqual(['tessera_edge_decision_latency_seconds_bucket']);
    expect(metricNames('time() - tessera_site_last_event_timestamp_seconds{site="a"}')).toEqual([
      'tessera_site_last_event_timestamp_seconds',
    ]);
    expect(metricNames('tessera_site_backlog > 100 and deriv(tessera_site_backlog[15m]) > 0')).toEqual([
      'tessera_site_backlog',
      'tessera_site_backlog',
    ]);
    expect(metricNames('up{job=~"tessera-hub|tessera-edge"} == 0')).toEqual(['up']);
  });
});
