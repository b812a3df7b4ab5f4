import { fill, h } from '../dom.js';
import { t } from '../i18n.js';

/**
 * @typedef {{ title: string, message: string, warning?: string | undefined, yes: string, onYes: () => Promise<unknown> }} Question
 */

/**
 * Asks in `panel` before anything irreversible is sent: the question, maybe a warning (a late
 * cancellation's fee), a button that does it and one that does not. Focus goes to the question,
 * so that a screen reader reads it, then back where it was when it is answered.
 * @param {HTMLElement} panel
 * @param {Question} question
 */
export function ask(panel, question) {
  const before = /** @type {HTMLElement | null} */ (document.activeElement);
  const close = () => {
    fill(panel);
    before?.focus();
  };
  const yes = async () => {
    fill(panel);
    await question.onYes();
  };
  const box = h(
    'div.confirm',
    { role: 'alertdialog', 'aria-label': question.title, tabIndex: -1 },
    h('p', question.message),
    question.warning ? h('p.warning', question.warning) : null,
    h(
      'div.row',
      h('button.danger', { type: 'button', onclick: yes }, question.yes),
      h('button.link', { type: 'button', onclick: close }, t('confirm.no')),
    ),
  );
  fill(panel, box);
  box.focus();
}
