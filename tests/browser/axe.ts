import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { AxeResults, Result } from 'axe-core';
import type { Page } from 'playwright-core';
import { expect } from 'vitest';

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

export const LANGUAGES = ['fr', 'en'] as const;
export const SCHEMES = ['light', 'dark'] as const;

/** A page of the dashboard: where it is, and what shows once its data is in. */
export interface View {
  name: string;
  hash: string;
  ready: string;
  /** What to do once it is drawn, before the check (open a panel the check must see too). */
  then?: (page: Page) => Promise<void>;
}

/** Switches the page's language with the header's selector, as a user does. */
export async function chooseLanguage(page: Page, language: (typeof LANGUAGES)[number]): Promise<void> {
  await page.locator('#locale').selectOption(language);
  await expect.poll(() => page.locator('html').getAttribute('lang')).toBe(language);
}

/** Every view, in each language and each colour scheme, passes WCAG 2.1 A and AA (all failures shown at once). */
export async function checkViews(page: Page, views: readonly View[]): Promise<void> {
  const found: string[] = [];
  for (const language of LANGUAGES) {
    await chooseLanguage(page, language);
    for (const view of views) {
      await page.evaluate(
        (hash) => ((globalThis as unknown as { location: { hash: string } }).location.hash = hash),
        view.hash,
      );
      await page.locator(view.ready).first().waitFor();
      await view.then?.(page);
      for (const colorScheme of SCHEMES) {
        await page.emulateMedia({ colorScheme });
        found.push(await accessibilityViolations(page, `${view.name} (${language}, ${colorScheme})`));
      }
    }
  }
  await page.emulateMedia({ colorScheme: 'light' });
  expect(found.filter(Boolean).join('\n\n')).toBe('');
}
