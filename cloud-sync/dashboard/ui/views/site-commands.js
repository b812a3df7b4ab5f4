import { post } from '../api.js';
import { fill, h, toast } from '../dom.js';
import { t } from '../i18n.js';
import { state } from '../live.js';
import { enrolPanel } from './site-enrol.js';

/**
 * @typedef {import('../api.js').Failure} Failure
 * @typedef {import('../../../../shared/protocol/commands.js').CommandRequest} CommandRequest
 * @typedef {{ site: string, name?: string | undefined, confirm?: HTMLElement }} CommandPage the site page the commands are on
 */

/** Commands are a network operator's: the API refuses anyone else, and the page offers them nothing. */
export const mayCommand = () => state.account?.role === 'operator';

/**
 * The site's commands card (docs/hub.md "Commands"): lockdown and its lift, the panel where
 * every command, a door's unlock included, asks for confirmation before it is sent, and the
 * panel of the cards presented at a reader put in enrol mode (its button is by the reader).
 * @param {CommandPage} page
 */
export function commandsCard(page) {
  page.confirm = h('div.confirm-panel');
  return h(
    'section.card.commands',
    h('h2', t('site.commands')),
    h('p.muted', t('command.explain')),
    h('div.row', commandButton(page, { kind: 'lockdown' }), commandButton(page, { kind: 'lift_lockdown' })),
    page.confirm,
    h('h3', t('enrol.title')),
    h('p.muted', t('enrol.explain')),
    enrolPanel(page),
  );
}

/**
 * A button that asks in the page's confirmation panel, then sends `request` to the site.
 * @param {CommandPage} page
 * @param {CommandRequest} request
 */
export function commandButton(page, request) {
  const danger = request.kind === 'lockdown' ? '.danger' : '';
  return h(
    `button${danger}`,
    {
      type: 'button',
      dataset: { command: request.kind, ...(request.kind === 'unlock' ? { door: request.door } : {}) },
      onclick: () => ask(page, request),
    },
    t(`command.${request.kind}`),
  );
}

/**
 * @param {CommandPage} page
 * @param {CommandRequest} request
 */
function ask(page, request) {
  // The card made the panel: a page shows command buttons only with the card.
  const panel = /** @type {HTMLElement} */ (page.confirm);
  const close = () => fill(panel);
  const confirm = async () => {
    close();
    await send(page.site, request);
  };
  const vars = { site: page.name ?? page.site, door: request.kind === 'unlock' ? request.door : '' };
  fill(
    panel,
    h(
      'div.confirm',
      { role: 'alertdialog', 'aria-label': t(`command.${request.kind}`) },
      h('p', t(`command.confirm.${request.kind}`, vars)),
      h('button.danger', { type: 'button', onclick: confirm }, t('command.yes')),
      ' ',
      h('button.link', { type: 'button', onclick: close }, t('command.no')),
    ),
  );
}

/**
 * @param {string} site
 * @param {CommandRequest} request
 */
async function send(site, request) {
  try {
    await post(`/sites/${site}/commands`, request);
    toast(t('command.sent', { kind: t(`command.${request.kind}`) }));
  } catch (err) {
    toast(t('command.failed', { m: /** @type {Failure} */ (err).message }), 'error');
  }
}
