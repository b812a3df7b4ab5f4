/** A small XML writer for the invoice documents: elements are strings, absent parts are left out. */

export type Node = string | null | undefined | false | Node[];

/** Characters XML 1.0 cannot carry: C0 controls but tab, LF, CR; U+FFFE and U+FFFF. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const NOT_XML = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g;

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

/**
 * Escapes text for an element or an attribute, and drops what XML 1.0 cannot carry (control
 * characters other than tab and line breaks, lone surrogates): a description typed with one
 * must not make the whole document unreadable.
 */
export function escapeXml(text: string): string {
  return text
    .replace(NOT_XML, '')
    .replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '')
    .replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

/** `<name attr="…">children</name>`, kept even when empty (a required element). */
export function el(name: string, attrs: Record<string, string | undefined> | null, ...children: Node[]): string {
  const inner = flatten(children);
  const a = Object.entries(attrs ?? {})
    .filter((e): e is [string, string] => e[1] !== undefined)
    .map(([k, v]) => ` ${k}="${escapeXml(v)}"`)
    .join('');
  return `<${name}${a}>${inner}</${name}>`;
}

/** An element holding text, or nothing when the text is absent. */
export function text(
  name: string,
  value: string | number | undefined | null,
  attrs?: Record<string, string | undefined>,
): string {
  if (value === undefined || value === null || value === '') return '';
  return `<${name}${Object.entries(attrs ?? {})
    .filter((e): e is [string, string] => e[1] !== undefined)
    .map(([k, v]) => ` ${k}="${escapeXml(v)}"`)
    .join('')}>${escapeXml(String(value))}</${name}>`;
}

/** Like `el`, but left out when none of its children is there (an optional group). */
export function group(name: string, attrs: Record<string, string | undefined> | null, ...children: Node[]): string {
  return flatten(children) === '' ? '' : el(name, attrs, ...children);
}

function flatten(children: Node[]): string {
  let out = '';
  for (const c of children) {
    if (Array.isArray(c)) out += flatten(c);
    else if (c) out += c;
  }
  return out;
}

/** Cents as a decimal amount with two places: 123456 → `1234.56`, -5 → `-0.05`. */
export function amount(cents: number): string {
  const neg = cents < 0;
  const abs = Math.abs(cents);
  return `${neg ? '-' : ''}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

/** A quantity or a rate, without exponent and with at most four decimals: 1.5, 20, 5.5. */
export function decimal(n: number): string {
  const fixed = n.toFixed(4).replace(/\.?0+$/, '');
  return fixed === '-0' ? '0' : fixed;
}
