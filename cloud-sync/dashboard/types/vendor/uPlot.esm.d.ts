// The dashboard imports uPlot as `/ui/vendor/uPlot.esm.js`, a URL the hub serves from node_modules
// (static.ts); this gives that URL the package's own types when tsconfig.dashboard.json checks the UI.
import uPlot from 'uplot';

export default uPlot;
