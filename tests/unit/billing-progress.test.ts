import { describe, expect, it } from 'vitest';
import { progressReporter } from '../../cloud-sync/billing/progress.js';

describe('the progress of a close', () => {
  it('draws one bar per phase on a terminal, redrawn in place and at most every 100 ms', () => {
    let text = '';
    let now = 0;
    const report = progressReporter({ isTTY: true, write: (t) => (text += t) }, () => now);
    report('reading events', 0, 200_000);
    now = 50;
    report('reading events', 50_000, 200_000); // too soon: not drawn
    now = 200;
    report('reading events', 100_000, 200_000);
    report('reading events', 200_000, 200_000); // the end is always drawn
    report('writing invoices', 3, 3);
    const frames = text.split('\r').filter(Boolean);
    expect(frames).toEqual([
      `reading events         [${'.'.repeat(30)}]   0% 0/200,000`,
      `reading events         [${'#'.repeat(15)}${'.'.repeat(15)}]  50% 100,000/200,000`,
      `reading events         [${'#'.repeat(30)}] 100% 200,000/200,000\n`,
      `writing invoices       [${'#'.repeat(30)}] 100% 3/3`,
    ]);
  });

  it('writes a line per quarter elsewhere (a log, a pipe)', () => {
    const lines: string[] = [];
    const report = progressReporter({ isTTY: false, write: (t) => lines.push(t) });
    for (let done = 0; done <= 100; done += 10) report('reading events', done, 100);
    expect(lines).toEqual([
      'billing: reading events: 0% (0/100)\n',
      'billing: reading events: 25% (30/100)\n',
      'billing: reading events: 50% (50/100)\n',
      'billing: reading events: 75% (80/100)\n',
      'billing: reading events: 100% (100/100)\n',
    ]);
  });
});
