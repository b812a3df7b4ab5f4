/** French (default: the first networks are French) and English. Numbers and dates through Intl, in each site's time zone. */
const MESSAGES = {
  fr: {
    'nav.overview': 'Réseau', 'nav.alarms': 'Alarmes', 'nav.members': 'Membres', 'nav.billing': 'Facturation', 'logout': 'Se déconnecter',
    'login.title': 'Connexion', 'login.username': 'Identifiant', 'login.password': 'Mot de passe', 'login.submit': 'Se connecter',
    'login.invalid': 'Identifiant ou mot de passe incorrect.', 'login.rate_limited': 'Trop d’essais : réessayez dans {s} s.',
    'password.title': 'Choisir votre mot de passe', 'password.why': 'Ce compte a un mot de passe à usage unique : choisissez le vôtre (10 caractères au moins).',
    'password.new': 'Nouveau mot de passe', 'password.again': 'Le même, à nouveau', 'password.submit': 'Enregistrer', 'password.mismatch': 'Les deux mots de passe diffèrent.',
    'live.on': 'en direct', 'live.off': 'reconnexion…',
    'network.total': 'Total du réseau', 'network.present': '{n} présents sur {c}', 'network.sites': 'Sites',
    'site.present': 'présents', 'site.capacity': 'capacité {c}', 'site.online': 'en ligne', 'site.offline': 'hors ligne', 'site.unknown': 'jamais vu',
    'site.degraded': 'dégradé', 'site.alarms': '{n} alarme(s)', 'site.noAlarms': 'aucune alarme', 'site.open': 'Ouvrir',
    'site.chart': 'Occupation', 'site.time': 'Heure', 'site.24h': '24 h', 'site.7d': '7 jours', 'site.whoIsIn': 'Qui est là', 'site.nobody': 'Personne pour l’instant.',
    'site.since': 'depuis', 'site.doors': 'Portes', 'site.readers': 'Lecteurs', 'site.health': 'État du site', 'site.none': 'Rien vu récemment.',
    'health.lastEvent': 'Dernier événement', 'health.backlog': 'En attente sur le site', 'health.missing': 'Manquants au hub',
    'health.directory': 'Annuaire (révision, âge)', 'health.clock': 'Horloge', 'health.synced': 'synchronisée', 'health.unsynced': 'non synchronisée',
    'health.status': 'Dernier statut', 'health.timeZone': 'Fuseau horaire',
    'door.locked': 'verrouillée', 'door.free_access': 'accès libre', 'door.forced': 'forcée', 'door.held': 'maintenue ouverte',
    'reader.connected': 'connecté', 'reader.lost': 'perdu', 'reader.lastTap': 'dernier passage',
    'feed.title': 'Événements en direct', 'feed.empty': 'En attente d’événements…',
    'alarms.title': 'Alarmes', 'alarms.open': 'Ouvertes', 'alarms.all': 'Toutes', 'alarms.none': 'Aucune alarme.', 'alarms.ack': 'Acquitter',
    'alarms.acked': 'acquittée par {by}, {at}', 'alarms.cleared': 'terminée {at}', 'alarms.active': 'active', 'alarms.count': '×{n}',
    'alarm.door.forced': 'Porte forcée', 'alarm.door.held': 'Porte maintenue ouverte', 'alarm.reader.lost': 'Lecteur perdu',
    'alarm.sync.rejected': 'Synchronisation refusée', 'alarm.site.offline': 'Site hors ligne', 'alarm.sync.log_behind': 'Base du site perdue : numérotation à reprendre',
    'alarm.directory.stale_soon': 'Annuaire bientôt périmé', 'alarm.directory.rejected': 'Mise à jour de l’annuaire refusée', 'alarm.relay.failed': 'Relais en panne', 'alarm.reader.unreadable': 'Badges illisibles',
    'members.title': 'Membres et badges', 'members.search': 'Rechercher un nom, un identifiant ou un badge', 'members.none': 'Aucun résultat.',
    'members.add': 'Ajouter un membre', 'members.id': 'Identifiant', 'members.name': 'Nom', 'members.plan': 'Formule', 'members.save': 'Enregistrer',
    'members.badges': 'Badges', 'members.addBadge': 'Ajouter un badge', 'members.uid': 'UID du badge', 'members.member': 'Membre',
    'members.revoke': 'Révoquer', 'members.revoked': 'révoqué', 'members.active': 'actif', 'members.import': 'Importer un CSV', 'members.export': 'Exporter en CSV',
    'members.importDone': 'Import terminé : {n} ligne(s).', 'members.saved': 'Enregistré.', 'members.badgeRevoked': 'Badge {b} révoqué.',
    'members.suspended': 'suspendu', 'members.status': 'État',
    'billing.title': 'Facturation', 'billing.next': 'Prochaine période à clôturer : {p}', 'billing.none': 'Aucune période close.',
    'billing.first': 'Aucune période close : la première clôture (tessera billing close AAAA-MM) ouvre le registre, sur le mois de votre choix.',
    'billing.closed': 'close', 'billing.open': 'ouverte (aperçu, non numérotée)', 'billing.preview': 'Aperçu de {p}', 'billing.invoices': '{n} facture(s)',
    'billing.subtotal': 'Total HT', 'billing.vat': 'TVA', 'billing.total': 'Total TTC', 'billing.closedAt': 'clôturée le {at}', 'billing.cutoff': 'événements reçus jusqu’au {at}',
    'billing.unbilled': '{n} membre(s) absent(s) de l’annuaire : leur usage n’est pas facturé', 'billing.noInvoice': 'Aucune facture.', 'billing.number': 'N°', 'billing.account': 'Compte', 'billing.lines': 'Lignes',
    'billing.unpriced': '{n} article(s) sans prix : leur usage n’est pas facturé (ajoutez le prix avant la clôture)', 'billing.unpricedUse': '« {item} » à {site}, {p} : {uses} usage(s), {q} unité(s)',
    'billing.export': 'Exporter la période :', 'billing.back': '← Toutes les périodes',
    'invoice.title': 'Facture {n}', 'invoice.employer': 'Employeur', 'invoice.member': 'Membre', 'invoice.periodOf': 'Période : {p} · clôturée le {at}', 'invoice.vatAmount': 'Montant de TVA',
    'invoice.download': 'Télécharger :', 'invoice.lines': 'Lignes', 'invoice.item': 'Désignation', 'invoice.site': 'Site', 'invoice.dates': 'Dates', 'invoice.quantity': 'Qté',
    'invoice.unit': 'Prix unitaire HT', 'invoice.amount': 'Montant HT', 'invoice.vatRate': 'TVA {r}', 'invoice.vatOn': 'sur {b}', 'invoice.bySite': 'Par site', 'invoice.byMember': 'Par membre',
    'invoice.days': 'Jours', 'invoice.network': 'Réseau (abonnements, casiers)', 'invoice.adjusts': 'ajustement de {p}',
    'line.subscription': 'Abonnement', 'line.extra-day': 'Jours au-delà du forfait', 'line.day': 'Journées', 'line.half-day': 'Demi-journées', 'line.week': 'Semaines',
    'line.locker': 'Casier', 'line.consumable': 'Consommations',
    'error.generic': 'Erreur : {m}', 'error.forbidden': 'Accès refusé.',
    'event.access.granted': 'Accès accordé', 'event.access.denied': 'Accès refusé', 'event.presence.in': 'Entrée', 'event.presence.out': 'Sortie',
    'event.door.forced': 'Porte forcée', 'event.door.held': 'Porte maintenue ouverte', 'event.door.secured': 'Porte refermée',
    'event.locker.assigned': 'Casier attribué', 'event.locker.opened': 'Casier ouvert', 'event.locker.released': 'Casier libéré',
    'event.door.exit_requested': 'Bouton de sortie', 'event.door.mode': 'Mode de porte', 'event.consumable.used': 'Consommation',
    'event.device.fault': 'Défaut d’équipement', 'event.clock.unsynced': 'Horloge non synchronisée',
    'reason.ok': 'accordé', 'reason.staff': 'personnel', 'reason.unknown_badge': 'badge inconnu', 'reason.badge_revoked': 'badge révoqué',
    'reason.member_suspended': 'membre suspendu', 'reason.expired': 'expiré', 'reason.outside_hours': 'hors horaires',
    'reason.site_not_allowed': 'site non autorisé', 'reason.quota_exhausted': 'quota épuisé', 'reason.at_capacity': 'site complet',
    'reason.anti_passback': 'anti-retour', 'reason.clock_unsynced': 'horloge non synchronisée', 'reason.card_not_genuine': 'carte non authentique',
    'reason.card_replayed': 'carte rejouée', 'reason.directory_stale': 'annuaire trop ancien', 'reason.lockdown': 'verrouillage général',
    'door.lockdown': 'verrouillage général', 'alarm.command.rejected': 'Commande refusée par le site', 'event.command.executed': 'Commande exécutée',
    'site.commands': 'Commandes', 'command.explain': 'Signées par le hub, valables 60 s. Pendant un verrouillage général, aucune entrée ; les sorties restent possibles.',
    'command.unlock': 'Déverrouiller', 'command.lockdown': 'Verrouillage général', 'command.lift_lockdown': 'Lever le verrouillage', 'command.resend': 'Renvoyer les événements',
    'command.confirm.unlock': 'Déverrouiller la porte {door} de {site} le temps d’une impulsion ?',
    'command.confirm.lockdown': 'Verrouiller toutes les portes de {site} ? Plus aucune entrée jusqu’à la levée ; les sorties restent possibles.',
    'command.confirm.lift_lockdown': 'Lever le verrouillage général de {site} ?',
    'command.yes': 'Confirmer', 'command.no': 'Annuler', 'command.sent': 'Commande envoyée : {kind}.', 'command.failed': 'Commande non transmise : {m}',
  },
  en: {
    'nav.overview': 'Network', 'nav.alarms': 'Alarms', 'nav.members': 'Members', 'nav.billing': 'Billing', 'logout': 'Log out',
    'login.title': 'Log in', 'login.username': 'Username', 'login.password': 'Password', 'login.submit': 'Log in',
    'login.invalid': 'Wrong username or password.', 'login.rate_limited': 'Too many attempts: try again in {s} s.',
    'password.title': 'Choose your password', 'password.why': 'This account has a one-time password: choose your own (at least 10 characters).',
    'password.new': 'New password', 'password.again': 'The same again', 'password.submit': 'Save', 'password.mismatch': 'The two passwords differ.',
    'live.on': 'live', 'live.off': 'reconnecting…',
    'network.total': 'Network total', 'network.present': '{n} in out of {c}', 'network.sites': 'Sites',
    'site.present': 'in', 'site.capacity': 'capacity {c}', 'site.online': 'online', 'site.offline': 'offline', 'site.unknown': 'never seen',
    'site.degraded': 'degraded', 'site.alarms': '{n} alarm(s)', 'site.noAlarms': 'no alarm', 'site.open': 'Open',
    'site.chart': 'Occupancy', 'site.time': 'Time', 'site.24h': '24 h', 'site.7d': '7 days', 'site.whoIsIn': 'Who is in', 'site.nobody': 'Nobody at the moment.',
    'site.since': 'since', 'site.doors': 'Doors', 'site.readers': 'Readers', 'site.health': 'Site health', 'site.none': 'Nothing seen recently.',
    'health.lastEvent': 'Last event', 'health.backlog': 'Waiting at the site', 'health.missing': 'Missing at the hub',
    'health.directory': 'Directory (revision, age)', 'health.clock': 'Clock', 'health.synced': 'synced', 'health.unsynced': 'not synced',
    'health.status': 'Last status', 'health.timeZone': 'Time zone',
    'door.locked': 'locked', 'door.free_access': 'free access', 'door.forced': 'forced', 'door.held': 'held open',
    'reader.connected': 'connected', 'reader.lost': 'lost', 'reader.lastTap': 'last tap',
    'feed.title': 'Live events', 'feed.empty': 'Waiting for events…',
    'alarms.title': 'Alarms', 'alarms.open': 'Open', 'alarms.all': 'All', 'alarms.none': 'No alarm.', 'alarms.ack': 'Acknowledge',
    'alarms.acked': 'acknowledged by {by}, {at}', 'alarms.cleared': 'ended {at}', 'alarms.active': 'active', 'alarms.count': '×{n}',
    'alarm.door.forced': 'Door forced', 'alarm.door.held': 'Door held open', 'alarm.reader.lost': 'Reader lost',
    'alarm.sync.rejected': 'Sync rejected', 'alarm.site.offline': 'Site offline', 'alarm.sync.log_behind': 'Site database lost: renumbering needed',
    'alarm.directory.stale_soon': 'Directory nearly stale', 'alarm.directory.rejected': 'Directory update refused', 'alarm.relay.failed': 'Relay failed', 'alarm.reader.unreadable': 'Unreadable badges',
    'members.title': 'Members and badges', 'members.search': 'Search a name, an id or a badge', 'members.none': 'No result.',
    'members.add': 'Add a member', 'members.id': 'Id', 'members.name': 'Name', 'members.plan': 'Plan', 'members.save': 'Save',
    'members.badges': 'Badges', 'members.addBadge': 'Add a badge', 'members.uid': 'Badge UID', 'members.member': 'Member',
    'members.revoke': 'Revoke', 'members.revoked': 'revoked', 'members.active': 'active', 'members.import': 'Import a CSV', 'members.export': 'Export as CSV',
    'members.importDone': 'Import done: {n} row(s).', 'members.saved': 'Saved.', 'members.badgeRevoked': 'Badge {b} revoked.',
    'members.suspended': 'suspended', 'members.status': 'Status',
    'billing.title': 'Billing', 'billing.next': 'Next period to close: {p}', 'billing.none': 'No period closed.',
    'billing.first': 'No period closed yet: the first close (tessera billing close YYYY-MM) starts the ledger, on any month.',
    'billing.closed': 'closed', 'billing.open': 'open (preview, not numbered)', 'billing.preview': 'Preview {p}', 'billing.invoices': '{n} invoice(s)',
    'billing.subtotal': 'Subtotal excl. VAT', 'billing.vat': 'VAT', 'billing.total': 'Total incl. VAT', 'billing.closedAt': 'closed {at}', 'billing.cutoff': 'events received up to {at}',
    'billing.unbilled': '{n} member(s) not in the directory: their usage is not billed', 'billing.noInvoice': 'No invoice.', 'billing.number': 'No.', 'billing.account': 'Account', 'billing.lines': 'Lines',
    'billing.unpriced': '{n} item(s) without a price: their use is not charged (add the price before the close)', 'billing.unpricedUse': '"{item}" at {site}, {p}: {uses} use(s), {q} unit(s)',
    'billing.export': 'Export the period:', 'billing.back': '← All periods',
    'invoice.title': 'Invoice {n}', 'invoice.employer': 'Employer', 'invoice.member': 'Member', 'invoice.periodOf': 'Period: {p} · closed {at}', 'invoice.vatAmount': 'VAT amount',
    'invoice.download': 'Download:', 'invoice.lines': 'Lines', 'invoice.item': 'Item', 'invoice.site': 'Site', 'invoice.dates': 'Dates', 'invoice.quantity': 'Qty',
    'invoice.unit': 'Unit price excl. VAT', 'invoice.amount': 'Amount excl. VAT', 'invoice.vatRate': 'VAT {r}', 'invoice.vatOn': 'on {b}', 'invoice.bySite': 'By site', 'invoice.byMember': 'By member',
    'invoice.days': 'Days', 'invoice.network': 'Network-wide (subscriptions, lockers)', 'invoice.adjusts': 'adjustment of {p}',
    'line.subscription': 'Subscription', 'line.extra-day': 'Days beyond the plan', 'line.day': 'Days', 'line.half-day': 'Half-days', 'line.week': 'Week passes',
    'line.locker': 'Locker', 'line.consumable': 'Consumables',
    'error.generic': 'Error: {m}', 'error.forbidden': 'Access denied.',
    'event.access.granted': 'Access granted', 'event.access.denied': 'Access denied', 'event.presence.in': 'Check-in', 'event.presence.out': 'Check-out',
    'event.door.forced': 'Door forced', 'event.door.held': 'Door held open', 'event.door.secured': 'Door secured',
    'event.locker.assigned': 'Locker assigned', 'event.locker.opened': 'Locker opened', 'event.locker.released': 'Locker released',
    'event.door.exit_requested': 'Exit button', 'event.door.mode': 'Door mode', 'event.consumable.used': 'Consumable used',
    'event.device.fault': 'Device fault', 'event.clock.unsynced': 'Clock not synced',
    'reason.ok': 'granted', 'reason.staff': 'staff', 'reason.unknown_badge': 'unknown badge', 'reason.badge_revoked': 'badge revoked',
    'reason.member_suspended': 'member suspended', 'reason.expired': 'expired', 'reason.outside_hours': 'outside hours',
    'reason.site_not_allowed': 'site not allowed', 'reason.quota_exhausted': 'quota used up', 'reason.at_capacity': 'site full',
    'reason.anti_passback': 'anti-passback', 'reason.clock_unsynced': 'clock not synced', 'reason.card_not_genuine': 'card not genuine',
    'reason.card_replayed': 'card replayed', 'reason.directory_stale': 'directory too old', 'reason.lockdown': 'lockdown',
    'door.lockdown': 'lockdown', 'alarm.command.rejected': 'Command refused by the site', 'event.command.executed': 'Command carried out',
    'site.commands': 'Commands', 'command.explain': 'Signed by the hub, valid for 60 s. During a lockdown nobody gets in; people can still get out.',
    'command.unlock': 'Unlock', 'command.lockdown': 'Lockdown', 'command.lift_lockdown': 'Lift lockdown', 'command.resend': 'Re-send events',
    'command.confirm.unlock': 'Unlock door {door} of {site} for one pulse?',
    'command.confirm.lockdown': 'Lock every door of {site}? Nobody gets in until it is lifted; people can still get out.',
    'command.confirm.lift_lockdown': 'Lift the lockdown of {site}?',
    'command.yes': 'Confirm', 'command.no': 'Cancel', 'command.sent': 'Command sent: {kind}.', 'command.failed': 'Command not delivered: {m}',
  },
};

export const LOCALES = { fr: 'fr-FR', en: 'en-GB' };
let current = pickLocale();

function pickLocale() {
  const saved = localStorage.getItem('tessera.locale');
  return saved in MESSAGES ? saved : 'fr';
}

export const locale = () => current;

export function setLocale(next) {
  if (!(next in MESSAGES)) return;
  current = next;
  localStorage.setItem('tessera.locale', next);
  document.documentElement.lang = next;
}

/** The message `key` in the chosen language, `{name}` replaced from `vars`; an unknown key shows as itself. */
export function t(key, vars = {}) {
  return translate(key, vars) ?? key;
}

/** The translation of `key`, or `fallback` (a code the dashboard has no words for yet, shown as it is). */
export const tOr = (key, fallback) => translate(key, {}) ?? fallback;

function translate(key, vars) {
  const text = MESSAGES[current][key] ?? MESSAGES.fr[key];
  return text?.replace(/\{(\w+)\}/g, (_, name) => String(vars[name] ?? ''));
}

export const formatNumber = (n) => new Intl.NumberFormat(LOCALES[current]).format(n);
export const formatPercent = (rate) => (rate === null || rate === undefined ? '–' : new Intl.NumberFormat(LOCALES[current], { style: 'percent', maximumFractionDigits: 0 }).format(rate));

/** A date and time in a site's own time zone (the browser's when the site has none declared). */
export function formatDateTime(value, timeZone) {
  if (value === null || value === undefined) return '–';
  const date = typeof value === 'number' ? new Date(value) : new Date(value);
  return new Intl.DateTimeFormat(LOCALES[current], { dateStyle: 'short', timeStyle: 'short', ...(timeZone ? { timeZone } : {}) }).format(date);
}

export function formatTime(value, timeZone) {
  return new Intl.DateTimeFormat(LOCALES[current], { timeStyle: 'medium', ...(timeZone ? { timeZone } : {}) }).format(new Date(value));
}

/** An amount from integer cents, for the locale: Intl reads the decimal string exactly, so no floating point enters. */
export function formatMoney(cents, currency) {
  const abs = Math.abs(cents);
  const decimal = `${cents < 0 ? '-' : ''}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
  return new Intl.NumberFormat(LOCALES[current], { style: 'currency', currency }).format(decimal);
}

/** A VAT rate given in percent (20, 5.5). */
export const formatVatPercent = (percent) => new Intl.NumberFormat(LOCALES[current], { style: 'percent', maximumFractionDigits: 2 }).format(`${percent}e-2`);

/** A billing month `YYYY-MM`, in words ("novembre 2026"). */
export const formatMonth = (period) => new Intl.DateTimeFormat(LOCALES[current], { month: 'long', year: 'numeric', timeZone: 'UTC' }).format(new Date(`${period}-01T00:00:00Z`));

/** A site-local calendar date `YYYY-MM-DD`, as it is: formatted in UTC so no zone moves it. */
export const formatLocalDate = (date) => new Intl.DateTimeFormat(LOCALES[current], { dateStyle: 'short', timeZone: 'UTC' }).format(new Date(`${date}T00:00:00Z`));
