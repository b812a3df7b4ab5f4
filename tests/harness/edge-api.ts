import { afterEach } from 'vitest';
import type { SiteConfigInput } from '../../firmware-config/schema.js';
import { buildApi } from '../../edge/api/server.js';
import { startSite, type Harness } from './site.js';
import { silent } from '../support/logger.js';

export type EdgeApi = ReturnType<typeof buildApi>;

/**
 * For a test file: a function that starts a site (tests/harness/site.ts) with its local API,
 * simulated routes included unless told otherwise; both are closed after each test.
 */
export function edgeApiFixture(): (opts?: {
  simulated?: boolean;
  override?: Partial<SiteConfigInput>;
}) => Promise<{ site: Harness; app: EdgeApi }> {
  let site: Harness | undefined;
  let app: EdgeApi | undefined;
  afterEach(async () => {
    await app?.close();
    await site?.stop();
    app = site = undefined;
  });
  return async ({ simulated = true, override = {} } = {}) => {
    const started = await startSite(override);
    site = started;
    app = buildApi({
      edge: started.edge,
      log: silent,
      clock: started.clock,
      version: 'test',
      startedAt: started.clock.now(),
      ...(simulated ? { sim: { reader: started.reader, gpio: started.gpio } } : {}),
    });
    return { site: started, app };
  };
}
