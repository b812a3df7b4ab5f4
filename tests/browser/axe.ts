import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { AxeResults, Result } from 'axe-core';
import type { Page } from 'playwright-core';

/** The rules of WCAG 2.1, levels A and AA: what every page of the dashboard must pass. */
const WCAG_21_AA = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] as const;
/**
 * axe's best practices, checked as well: one level-one heading, landmarks, headings in order,
 * named table headers; no success criterion of WCAG requires them, a screen reader needs them.
 */
const BEST_PRACTICE = 'best-practice';

/** axe-core's own script, read from node_modules once: the page fetches nothing from outside for it. */
let axeSource: string | undefined;
const axeScript = () =>
  (axeSource ??= readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8'));

/** One line per violation: its rule, impact, and each element it found, by selector. */
function describeViolations(violations: readonly Result[]): string {
  return violations
    .map((v) => {
      const targets = v.nodes.map((n) => `    ${JSON.stringify(n.target)}: ${n.failureSummary ?? ''}`.trimEnd());
      return [`${v.id} (${v.impact ?? 'no impact'}): ${v.help}`, ...targets].join('\n');
    })
    .join('\n');
}

/**
 * Runs axe-core on the page as it is now, with the WCAG 2.1 A and AA rules and the best practices: its
 * violations, each with its id, impact and targets, under `what` (none: an empty string).
 */
export async function accessibilityViolations(page: Page, what: string): Promise<string> {
  // Evaluated rather than added as a <script>: the dashboard's Content-Security-Policy refuses
  // inline scripts, and the page must be checked as it is served, its policy in force.
  if (!(await page.evaluate(() => 'axe' in globalThis))) await page.evaluate(axeScript());
  const results = await page.evaluate(
    (tags) =>
      (globalThis as unknown as { axe: { run(o: unknown): Promise<AxeResults> } }).axe.run({
        runOnly: { type: 'tag', values: tags },
        resultTypes: ['violations'],
      }),
    [...WCAG_21_AA, BEST_PRACTICE],
  );
  if (results.violations.length === 0) return '';
  return `${what}: ${results.violations.length} accessibility violation(s)\n${describeViolations(results.violations)}`;
}

/** Throws with every WCAG 2.1 A and AA (or best-practice) violation of the page as it is now, if there is any. */
export async function expectAccessible(page: Page, what: string): Promise<void> {
  const found = await accessibilityViolations(page, what);
  if (found) throw new Error(found);
}
