/**
 * What an element may hold: nodes, text (numbers become text), nothing (null, undefined, false), or
 * lists of these, nested (append flattens any depth; the type stops at two, as JSDoc aliases cannot recurse).
 * @typedef {Node | string | number | false | null | undefined} Leaf
 * @typedef {Leaf | readonly Leaf[] | readonly (Leaf | readonly Leaf[])[]} Child
 */
/**
 * Attributes and properties of `h`: `on*` are listeners, `dataset` goes to data-*, a non-string
 * value of a known property is set as that property, anything else as an attribute.
 * @typedef {{
 *   onclick?: (e: MouseEvent) => unknown,
 *   onsubmit?: (e: SubmitEvent) => unknown,
 *   dataset?: Record<string, string>,
 *   [name: string]: unknown,
 * }} Props
 */
/**
 * The element `h` makes from a tag such as 'input' or 'li.alarm.active'; a bare '.cls' is a div.
 * @template {string} Tag
 * @typedef {Tag extends `${infer Name}.${string}` ? ElementNamed<Name> : ElementNamed<Tag>} ElementOf
 */
/**
 * @template {string} Name
 * @typedef {Name extends '' ? HTMLDivElement : Name extends keyof HTMLElementTagNameMap ? HTMLElementTagNameMap[Name] : HTMLElement} ElementNamed
 */

/**
 * A tiny element builder: h('a.cls', {href: '#/'}, 'text', child). Text is always set as text, never as HTML.
 * @template {string} Tag
 * @param {Tag} tag
 * @param {Props | Child} [props]
 * @param {Child[]} children
 * @returns {ElementOf<Tag>}
 */
export function h(tag, props = {}, ...children) {
  if (props === null || typeof props !== 'object' || props instanceof Node || Array.isArray(props)) {
    children.unshift(props);
    props = {};
  }
  const [name, ...classes] = tag.split('.');
  const el = /** @type {ElementOf<Tag>} */ (document.createElement(name || 'div'));
  if (classes.length) el.className = classes.join(' ');
  for (const [key, value] of Object.entries(props ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on')) el.addEventListener(key.slice(2), /** @type {EventListener} */ (value));
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key in el && typeof value !== 'string')
      /** @type {Record<string, unknown>} */ (/** @type {unknown} */ (el))[key] = value;
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

/**
 * @param {Element} el
 * @param {readonly Child[]} children
 */
function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/**
 * Replaces the content of `el`.
 * @template {Element} E
 * @param {E} el
 * @param {Child[]} children
 * @returns {E}
 */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/**
 * An element of index.html: the page's frame, there before any module runs.
 * @param {string} id
 * @returns {HTMLElement}
 */
export const byId = (id) => /** @type {HTMLElement} */ (document.getElementById(id));

/** @type {ReturnType<typeof setTimeout> | undefined} */
let toastTimer;
/**
 * @param {string} message
 * @param {'info' | 'error'} [kind]
 */
export function toast(message, kind = 'info') {
  const el = byId('toast');
  el.textContent = message;
  el.className = kind;
  el.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => (el.hidden = true), 4000);
}
