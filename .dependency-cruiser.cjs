/**
 * The layers of the code, checked by `npm run check` (docs/architecture.md explains them).
 * From the bottom: shared/platform (what any process needs to run) → shared/protocol (the wire)
 * → the two processes, edge/ (composition root edge/site) and the hub (cloud-sync/hub its core,
 * cloud-sync/hub-process its composition root), which never import each other.
 */
const HUB_SIDE = 'cloud-sync/(hub|hub-process|billing|dashboard|broker)/';
const PROJECT = '(shared|edge|cloud-sync|firmware-config|cli|demo|bench|tests)/';

module.exports = {
  forbidden: [
    {
      name: 'platform-imports-no-project-code',
      comment:
        'shared/platform is the bottom layer: logging, errors, HTTP set-up, SQLite opening, YAML loading. It knows no protocol and no process.',
      severity: 'error',
      from: { path: '^shared/platform/' },
      to: { path: `^${PROJECT}`, pathNot: '^shared/platform/' },
    },
    {
      name: 'protocol-imports-only-platform',
      comment: 'shared/protocol is the wire both ends parse with; it may use the platform and nothing above it.',
      severity: 'error',
      from: { path: '^shared/protocol/' },
      to: { path: `^${PROJECT}`, pathNot: '^shared/(platform|protocol)/' },
    },
    {
      name: 'hub-never-imports-edge',
      comment: 'The hub and the site are two processes on two machines: they share only shared/.',
      severity: 'error',
      from: { path: `^${HUB_SIDE}` },
      to: { path: '^(edge|cloud-sync/edge)/' },
    },
    {
      name: 'edge-never-imports-hub',
      comment: 'The site runs alone when the link is down: nothing of the hub may be needed to decide at a door.',
      severity: 'error',
      from: { path: '^(edge|cloud-sync/edge)/' },
      to: { path: `^${HUB_SIDE}` },
    },
    {
      name: 'sync-worker-through-its-own-interfaces',
      comment:
        "The site's sync worker reaches the edge's store and handlers only through interfaces it declares; edge/site passes the real ones in.",
      severity: 'error',
      from: { path: '^cloud-sync/edge/' },
      to: { path: `^${PROJECT}`, pathNot: '^(shared/|cloud-sync/edge/)' },
    },
    {
      name: 'hub-core-below-its-parts',
      comment:
        "The hub's core (ingest, directory, occupancy, accounts, admin) knows nothing of billing, the dashboard or the process that wires them.",
      severity: 'error',
      from: { path: '^cloud-sync/hub/' },
      to: { path: '^cloud-sync/(billing|dashboard|hub-process)/' },
    },
    {
      name: 'broker-below-the-hub',
      comment:
        'The embedded broker and its access rules take what they need as interfaces; the hub plugs its identities in.',
      severity: 'error',
      from: { path: '^cloud-sync/broker/' },
      to: { path: '^cloud-sync/(hub|hub-process|billing|dashboard)/' },
    },
    {
      name: 'only-entry-points-import-the-hub-process',
      comment: 'cloud-sync/hub-process composes the hub; only the CLI, the demo, benches and tests start it.',
      severity: 'error',
      from: { path: `^${PROJECT}`, pathNot: '^(cloud-sync/hub-process|cli|demo|bench|tests)/' },
      to: { path: '^cloud-sync/hub-process/' },
    },
    {
      name: 'domain-takes-its-own-options',
      comment:
        "Doors, lockers, presence, the decision and the store declare their own option types; edge/site maps the site's YAML config to them.",
      severity: 'error',
      from: { path: '^edge/', pathNot: '^edge/(site/|cli\\.ts$)' },
      to: { path: '^firmware-config/' },
    },
    {
      name: 'only-entry-points-import-the-site',
      comment:
        "edge/site composes the site's process; its parts declare the part of the site they need instead of importing it.",
      severity: 'error',
      from: { path: `^${PROJECT}`, pathNot: '^(edge/site/|edge/cli\\.ts$|cli/|demo/|bench/|tests/)' },
      to: { path: '^edge/site/' },
    },
    {
      name: 'site-config-read-only-by-entry-points',
      comment: 'firmware-config is the operator-facing file format; it depends only on shared/.',
      severity: 'error',
      from: { path: '^firmware-config/' },
      to: { path: '^(edge|cloud-sync|cli|demo)/' },
    },
    {
      name: 'product-never-imports-tests',
      comment: 'What ships never loads test or bench code.',
      severity: 'error',
      from: { path: '^(shared|edge|cloud-sync|firmware-config|cli|demo)/' },
      to: { path: '^(tests|bench)/' },
    },
    {
      name: 'no-circular',
      comment: 'A cycle between modules makes load order matter and hides which one is the lower layer.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'no-folder-cycle',
      comment: 'Folders form layers: if a imports b, nothing in b imports a, directly or through others.',
      severity: 'error',
      scope: 'folder',
      from: { pathNot: '^tests/' },
      to: { circular: true },
    },
  ],
  options: {
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|dist|coverage|var)/' },
  },
};
