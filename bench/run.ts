import { benchBilling } from './billing.js';
import { benchDashboard } from './dashboard.js';
import { benchNtag424 } from './ntag424.js';
import { benchPcscTap } from './pcsc-tap.js';
import { benchSync } from './sync.js';
import { benchTapLatency } from './tap-latency.js';

/** `npm run bench`: every benchmark of the project, each against its baseline in the same run. */
const sections = [await benchTapLatency(), await benchNtag424(), await benchPcscTap(), await benchSync(), benchBilling(), await benchDashboard()];
process.stdout.write(`${sections.map((s) => s.join('\n')).join('\n\n')}\n`);
