import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hubSecrets } from '../../cloud-sync/hub-process/cli.js';
import { tempDir } from '../support/temp-dir.js';

/** A secret file as a container runtime mounts it: the password, and usually a newline. */
function secretFile(text: string): string {
  const path = join(tempDir(), 'secret');
  writeFileSync(path, text, { mode: 0o600 });
  return path;
}

const SQLITE = '/var/lib/tessera/hub.db';

describe("the hub's passwords from files (TESSERA_MQTT_PASSWORD_FILE, TESSERA_DB_PASSWORD_FILE)", () => {
  it("gives the broker password of the URL's user, without its trailing newline, and leaves the URL as it was", () => {
    const r = hubSecrets(
      { mqtt: 'mqtt://hub@mosquitto:1883', db: SQLITE },
      { TESSERA_MQTT_PASSWORD_FILE: secretFile('s3cret pass\n') },
    );
    expect(r).toEqual({ mqttPassword: 's3cret pass', db: SQLITE });
  });

  it('puts the database password into the PostgreSQL URL, encoded so that any character reaches the server as it is', () => {
    const r = hubSecrets(
      { mqtt: undefined, db: 'postgres://tessera@postgres:5432/tessera' },
      { TESSERA_DB_PASSWORD_FILE: secretFile('p@ss:w%rd/#1\r\n') },
    );
    if (typeof r === 'string') throw new Error(r);
    const url = new URL(r.db);
    expect(decodeURIComponent(url.password)).toBe('p@ss:w%rd/#1');
    expect(`${url.username}@${url.host}${url.pathname}`).toBe('tessera@postgres:5432/tessera');
    expect(r.mqttPassword).toBeUndefined();
  });

  it('without the variables, changes nothing', () => {
    expect(hubSecrets({ mqtt: 'mqtt://hub:inline@h:1883', db: SQLITE }, {})).toEqual({
      mqttPassword: undefined,
      db: SQLITE,
    });
  });

  it.each([
    [
      'a broker password with no external broker',
      { mqtt: undefined, db: SQLITE },
      'TESSERA_MQTT_PASSWORD_FILE',
      /give its URL/,
    ],
    ['a URL with no username', { mqtt: 'mqtt://mosquitto:1883', db: SQLITE }, 'TESSERA_MQTT_PASSWORD_FILE', /USER@/],
    [
      'a URL with a password already',
      { mqtt: 'mqtt://hub:x@mosquitto:1883', db: SQLITE },
      'TESSERA_MQTT_PASSWORD_FILE',
      /has a password already/,
    ],
    [
      'a database password for a SQLite file',
      { mqtt: undefined, db: SQLITE },
      'TESSERA_DB_PASSWORD_FILE',
      /PostgreSQL/,
    ],
    [
      'a --db URL with a password already',
      { mqtt: undefined, db: 'postgres://u:p@h/d' },
      'TESSERA_DB_PASSWORD_FILE',
      /has a password already/,
    ],
  ])('refuses %s', (_what, given, variable, message) => {
    expect(hubSecrets(given, { [variable]: secretFile('pw\n') })).toMatch(message);
  });

  it('refuses a missing file, an empty one and one of several lines, naming the variable', () => {
    const given = { mqtt: 'mqtt://hub@h:1883', db: SQLITE };
    expect(hubSecrets(given, { TESSERA_MQTT_PASSWORD_FILE: '/nonexistent/secret' })).toMatch(
      /^TESSERA_MQTT_PASSWORD_FILE: cannot read \/nonexistent\/secret/,
    );
    expect(hubSecrets(given, { TESSERA_MQTT_PASSWORD_FILE: secretFile('\n') })).toMatch(/alone, on one line/);
    expect(hubSecrets(given, { TESSERA_MQTT_PASSWORD_FILE: secretFile('one\ntwo\n') })).toMatch(/alone, on one line/);
  });
});
