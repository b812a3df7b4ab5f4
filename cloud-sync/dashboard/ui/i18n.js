import { MESSAGES } from './messages.js';

/** French and English (messages.js). Numbers and dates through Intl, in each site's time zone. */

/** @typedef {keyof typeof MESSAGES} Locale */

/** @type {Readonly<Record<Locale, string>>} */
export const LOCALES = { fr: 'fr-FR', en: 'en-GB' };
let current = pickLocale();

/** @returns {Locale} */
function pickLocale() {
  const saved = localStorage.getItem('tessera.locale') ?? '';
  return saved in MESSAGES ? /** @type {Locale} */ (saved) : 'fr';
}

export const locale = () => current;

/** @param {string} next */
export function setLocale(next) {
  if (!(next in MESSAGES)) return;
  current = /** @type {Locale} */ (next);
  localStorage.setItem('tessera.locale', next);
  document.documentElement.lang = next;
}

/**
 * The message `key` in the chosen language, `{name}` replaced from `vars`; an unknown key shows as itself.
 * @param {string} key
 * @param {Vars} [vars]
 * @returns {string}
 */
export function t(key, vars = {}) {
  return translate(key, vars) ?? key;
}

/**
 * The translation of `key`, or `fallback` (a code the dashboard has no words for yet, shown as it is).
 * @param {string} key
 * @param {string} fallback
 * @returns {string}
 */
export const tOr = (key, fallback) => translate(key, {}) ?? fallback;

/** @typedef {Readonly<Record<string, string | number | null | undefined>>} Vars a missing value shows as nothing */

/**
 * @param {string} key
 * @param {Vars} vars
 * @returns {string | undefined}
 */
function translate(key, vars) {
  const text = MESSAGES[current][key] ?? MESSAGES.fr[key];
  return text?.replace(/\{(\w+)\}/g, (_, name) => String(vars[name] ?? ''));
}

/** @param {number} n */
export const formatNumber = (n) => new Intl.NumberFormat(LOCALES[current]).format(n);
/** @param {number | null | undefined} rate a fraction (0.5 is 50 %) */
export const formatPercent = (rate) =>
  rate === null || rate === undefined
    ? '–'
    : new Intl.NumberFormat(LOCALES[current], { style: 'percent', maximumFractionDigits: 0 }).format(rate);

/**
 * A date and time in a site's own time zone (the browser's when the site has none declared).
 * @param {string | number | null | undefined} value an ISO 8601 instant, or milliseconds since the epoch
 * @param {string} [timeZone]
 */
export function formatDateTime(value, timeZone) {
  if (value === null || value === undefined) return '–';
  const date = typeof value === 'number' ? new Date(value) : new Date(value);
  return new Intl.DateTimeFormat(LOCALES[current], {
    dateStyle: 'short',
    timeStyle: 'short',
    ...(timeZone ? { timeZone } : {}),
  }).format(date);
}

/**
 * @param {string | number} value an ISO 8601 instant, or milliseconds since the epoch
 * @param {string} [timeZone]
 */
export function formatTime(value, timeZone) {
  return new Intl.DateTimeFormat(LOCALES[current], { timeStyle: 'medium', ...(timeZone ? { timeZone } : {}) }).format(
    new Date(value),
  );
}

/**
 * An amount from integer cents, for the locale: Intl reads the decimal string exactly, so no floating point enters.
 * @param {number} cents
 * @param {string} currency ISO 4217
 */
export function formatMoney(cents, currency) {
  const abs = Math.abs(cents);
  const decimal = /** @type {Intl.StringNumericLiteral} */ (
    `${cents < 0 ? '-' : ''}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`
  );
  return new Intl.NumberFormat(LOCALES[current], { style: 'currency', currency }).format(decimal);
}

/**
 * A VAT rate given in percent (20, 5.5): Intl divides the decimal string exactly.
 * @param {number} percent
 */
export const formatVatPercent = (percent) =>
  new Intl.NumberFormat(LOCALES[current], { style: 'percent', maximumFractionDigits: 2 }).format(
    /** @type {Intl.StringNumericLiteral} */ (`${percent}e-2`),
  );

/**
 * A billing month `YYYY-MM`, in words ("novembre 2026").
 * @param {string} period
 */
export const formatMonth = (period) =>
  new Intl.DateTimeFormat(LOCALES[current], { month: 'long', year: 'numeric', timeZone: 'UTC' }).format(
    new Date(`${period}-01T00:00:00Z`),
  );

/**
 * A site-local calendar date `YYYY-MM-DD`, as it is: formatted in UTC so no zone moves it.
 * @param {string} date
 */
export const formatLocalDate = (date) =>
  new Intl.DateTimeFormat(LOCALES[current], { dateStyle: 'short', timeZone: 'UTC' }).format(
    new Date(`${date}T00:00:00Z`),
  );

/**
 * An hour of the day, without seconds, in a site's time zone.
 * @param {string | number} value an ISO 8601 instant, or milliseconds since the epoch
 * @param {string} [timeZone]
 */
export const formatHour = (value, timeZone) =>
  new Intl.DateTimeFormat(LOCALES[current], { timeStyle: 'short', ...(timeZone ? { timeZone } : {}) }).format(
    new Date(value),
  );

/**
 * A day in words ("mardi 14 juillet"), in a site's time zone.
 * @param {string | number} value an ISO 8601 instant, or milliseconds since the epoch
 * @param {string} [timeZone]
 */
export const formatDay = (value, timeZone) =>
  new Intl.DateTimeFormat(LOCALES[current], {
    weekday: 'long',
    day: 'numeric',
    month: 'long',
    ...(timeZone ? { timeZone } : {}),
  }).format(new Date(value));
