import { DateTime } from 'luxon';
import type { MailMessage } from './mailer.js';

export type MailLanguage = 'fr' | 'en';

export interface InvitationMail {
  to: string;
  language: MailLanguage;
  role: 'member' | 'employer_manager';
  /** The member's name, or the employer's. */
  name: string;
  link: string;
  expiresAt: number;
}

const WORDS = {
  fr: {
    subject: 'Votre accès à votre espace Tessera',
    hello: (name: string) => `Bonjour ${name},`,
    employerHello: 'Bonjour,',
    member:
      'Vous êtes invité à créer votre compte : vos passages, vos jours restants cette semaine, votre casier, et la déclaration d’un badge perdu.',
    employer: (name: string) =>
      `Vous êtes invité à créer le compte de gestionnaire de ${name} : la fréquentation de vos équipes et vos factures.`,
    open: 'Ouvrez ce lien pour choisir votre identifiant et votre mot de passe :',
    button: 'Créer mon compte',
    expires: (date: string) => `Ce lien ne sert qu’une fois et expire le ${date}.`,
    ignore: 'Si vous n’attendiez pas ce message, ignorez-le : aucun compte ne sera créé.',
    zone: 'Europe/Paris',
  },
  en: {
    subject: 'Your access to your Tessera space',
    hello: (name: string) => `Hello ${name},`,
    employerHello: 'Hello,',
    member:
      'You are invited to create your account: your visits, the days left this week, your locker, and declaring a lost badge.',
    employer: (name: string) =>
      `You are invited to create the manager account of ${name}: your staff's attendance and your invoices.`,
    open: 'Open this link to choose your username and password:',
    button: 'Create my account',
    expires: (date: string) => `This link works once and expires on ${date}.`,
    ignore: 'If you did not expect this message, ignore it: no account will be created.',
    zone: 'Europe/Paris',
  },
} as const;

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);

/** The invitation email, in its language, as text and as HTML, each with the link. */
export function invitationMessage(m: InvitationMail): MailMessage {
  const w = WORDS[m.language];
  const date =
    DateTime.fromMillis(m.expiresAt, { zone: w.zone }).setLocale(m.language).toLocaleString(DateTime.DATETIME_MED) ??
    '';
  const lines = m.role === 'member' ? [w.hello(m.name), w.member] : [w.employerHello, w.employer(m.name)];
  const text = [...lines, '', w.open, m.link, '', w.expires(date), w.ignore, ''].join('\n');
  const p = (s: string) => `<p>${escapeHtml(s)}</p>`;
  const html = [
    `<!doctype html><html lang="${m.language}"><body>`,
    ...lines.map(p),
    p(w.open),
    `<p><a href="${escapeHtml(m.link)}">${escapeHtml(w.button)}</a></p>`,
    `<p>${escapeHtml(m.link)}</p>`,
    p(w.expires(date)),
    p(w.ignore),
    '</body></html>',
  ].join('\n');
  return { to: m.to, subject: w.subject, text, html };
}
