/**
 * The baseline of bench/scale.ts's connection benchmark, in a process of its own: the same
 * embedded broker the hub runs (Aedes, open), without the hub. Prints `port N` once listening;
 * stops on SIGTERM.
 */
import { startBroker } from '../cloud-sync/broker/embedded.js';
import { silent } from '../tests/support/logger.js';

const broker = await startBroker({ port: 0, log: silent });
process.stdout.write(`port ${broker.port}\n`);
process.once('SIGTERM', () => void broker.close().then(() => process.exit(0)));
