import { EXAMPLE_PRICE_LIST, type PriceList } from '../cloud-sync/billing/prices.js';

/**
 * The demo network's directory, as the operator would enter it at the hub: the three example
 * centres, their plans, employers, members and badges, and the price list. The plans open at any
 * hour so the demo lives whenever it is run (the edges decide on real time); the real centres'
 * staffed hours are in firmware-config/examples/.
 */

export interface DemoSite {
  id: 'murat' | 'allanche' | 'reichstett';
  /** The example config it runs: firmware-config/examples/<example>.yaml. */
  example: string;
  entry: string;
  /** The exit reader; absent where a second tap at the entry checks out. */
  exit?: string;
  lockerReader?: string;
  /** The door the demo holds open once, and the way out of the site. */
  door: string;
  /** Whether that door has a request-to-exit button inside (the config's doors[].exitButton). */
  exitButton: boolean;
}

export const DEMO_SITES: readonly DemoSite[] = [
  { id: 'murat', example: 'business-hours', entry: 'front-in', exit: 'front-out', door: 'front', exitButton: true },
  { id: 'allanche', example: 'rural-24-7', entry: 'door-in', door: 'main', exitButton: false },
  {
    id: 'reichstett',
    example: 'lockers',
    entry: 'door-in',
    lockerReader: 'lockers',
    door: 'entrance',
    exitButton: true,
  },
];

export interface DemoMember {
  id: string;
  name: string;
  plan: string;
  employer?: string;
  /** Where they work: their home site first; nomads visit the others too. */
  sites: DemoSite['id'][];
  uid: string;
}

export const PLANS = [
  { id: 'murat-day', name: 'Journée à Murat (20 EUR, 10 EUR la demi-journée)', access: 'always', sites: ['murat'] },
  { id: 'murat-week', name: 'Semaine à Murat (80 EUR)', access: 'always', sites: ['murat'] },
  {
    id: 'murat-2-days',
    name: 'Murat, 2 jours par semaine (100 EUR par mois)',
    access: 'always',
    sites: ['murat'],
    daysPerWeek: 2,
  },
  // The door lets a third day in: the price list charges it 12 EUR (Reichstett's trial tariff).
  {
    id: 'reichstett-2-days',
    name: 'Bureau-Mobile, 2 jours par semaine (12 EUR le jour en plus), casier compris',
    access: 'always',
    sites: ['reichstett'],
    lockers: true,
  },
  // At any hour, up to 5 days a week: the door refuses a sixth, as the price list says.
  {
    id: 'allanche-24-7',
    name: "Tiers-lieu d'Allanche, accès 24/7, 5 jours par semaine",
    access: 'always',
    sites: ['allanche'],
    daysPerWeek: 5,
  },
  {
    id: 'soho-solo',
    name: 'Nomade du réseau (1000 pages par mois)',
    access: 'always',
    sites: 'all',
    daysPerWeek: 5,
    lockers: true,
    printQuota: 1000,
  },
] as const;

export const EMPLOYERS = [
  { id: 'cc-hautes-terres', name: 'Communauté de communes Hautes Terres' },
  { id: 'auvergne-bois-conseil', name: 'Auvergne Bois Conseil SARL' },
  { id: 'alsace-logistique', name: 'Alsace Logistique Conseil' },
  { id: 'rhin-ingenierie', name: 'Rhin Ingénierie SAS' },
] as const;

/** [name, plan, employer or '', sites]: who works where. */
const PEOPLE: Array<[string, string, string, DemoSite['id'][]]> = [
  ['Sylvie Chazal', 'murat-2-days', 'auvergne-bois-conseil', ['murat']],
  ['Julien Vidal', 'murat-day', '', ['murat']],
  ['Hélène Bouchard', 'murat-2-days', 'cc-hautes-terres', ['murat']],
  ['Thomas Rouquier', 'murat-2-days', 'cc-hautes-terres', ['murat']],
  ['Camille Delmas', 'murat-day', '', ['murat']],
  ['Nicolas Teyssier', 'murat-week', 'auvergne-bois-conseil', ['murat']],
  ['Marie Vermenouze', 'murat-week', '', ['murat']],
  ['Laurent Bonnefoy', 'murat-day', 'cc-hautes-terres', ['murat']],
  ['Élodie Pagès', 'allanche-24-7', '', ['allanche']],
  ['Bernard Sauvat', 'allanche-24-7', 'cc-hautes-terres', ['allanche']],
  ['Agnès Lavigne', 'allanche-24-7', '', ['allanche']],
  ['Pierre Chabrier', 'allanche-24-7', 'auvergne-bois-conseil', ['allanche']],
  ['Anne Schaeffer', 'reichstett-2-days', 'alsace-logistique', ['reichstett']],
  ['Marc Wolff', 'reichstett-2-days', 'alsace-logistique', ['reichstett']],
  ['Claire Muller', 'reichstett-2-days', 'rhin-ingenierie', ['reichstett']],
  ['Luc Hoffmann', 'reichstett-2-days', 'rhin-ingenierie', ['reichstett']],
  ['Sophie Koenig', 'reichstett-2-days', 'alsace-logistique', ['reichstett']],
  ['Paul Meyer', 'reichstett-2-days', '', ['reichstett']],
  ['Julie Weber', 'reichstett-2-days', 'rhin-ingenierie', ['reichstett']],
  ['Karim Haddad', 'soho-solo', 'rhin-ingenierie', ['reichstett', 'murat']],
  ['Inès Roux', 'soho-solo', 'cc-hautes-terres', ['murat', 'allanche']],
  ['David Lemoine', 'soho-solo', '', ['allanche', 'murat']],
];

/** Stable UIDs: 7 bytes like an NTAG's, 04 first. */
const uidOf = (i: number) => `04DE40${(0x100000 + i * 7919).toString(16).toUpperCase().padStart(8, '0')}`;

export const MEMBERS: readonly DemoMember[] = PEOPLE.map(([name, plan, employer, sites], i) => ({
  id: `m-${String(i + 1).padStart(3, '0')}`,
  name,
  plan,
  ...(employer ? { employer } : {}),
  sites,
  uid: uidOf(i),
}));

/** Every day, 08:00-19:00 in each site's own time: when the demo's desks and rooms may be booked. */
const BOOKABLE = [{ days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], from: '08:00', to: '19:00' }];

/**
 * What members can book: an open space at each centre, and Murat's meeting room, whose own reader
 * (`salle-in` in its example config) opens only for the holder of a booking.
 */
export const RESOURCES = [
  { id: 'murat-open', site: 'murat', kind: 'desk-pool', name: 'Open space', size: 12, hours: BOOKABLE },
  {
    id: 'murat-salle',
    site: 'murat',
    kind: 'room',
    name: 'Salle du Puy Mary',
    capacity: 6,
    reader: 'salle-in',
    hours: BOOKABLE,
    prices: { hourCents: 1500, halfDayCents: 4000 },
  },
  { id: 'allanche-open', site: 'allanche', kind: 'desk-pool', name: 'Grande salle', size: 8, hours: BOOKABLE },
  { id: 'reichstett-open', site: 'reichstett', kind: 'desk-pool', name: 'Plateau', size: 10, hours: BOOKABLE },
  {
    id: 'reichstett-reunion',
    site: 'reichstett',
    kind: 'room',
    name: 'Salle de réunion',
    capacity: 8,
    hours: BOOKABLE,
    prices: { hourCents: 2000, halfDayCents: 5000 },
  },
] as const;

/** The member the demo invites to their self-service space: a nomad of the network. */
export const INVITED_MEMBER = 'm-020';

const NOMADS = EXAMPLE_PRICE_LIST.plans['soho-solo'];

/** The billing example's tariffs, and one for the 24/7 plan the example has not. */
export const PRICES: PriceList = {
  ...EXAMPLE_PRICE_LIST,
  plans: {
    ...EXAMPLE_PRICE_LIST.plans,
    // The network's nomads have four hours of meeting room a month.
    ...(NOMADS && { 'soho-solo': { ...NOMADS, bookings: { includedRoomHoursPerMonth: 4 } } }),
    'allanche-24-7': {
      kind: 'subscription',
      monthlyCents: 6000,
      daysPerWeek: 5,
      extraDay: { refuse: true, cents: 500 },
      vatPercent: 20,
      included: {},
    },
  },
};
