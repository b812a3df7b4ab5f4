import { describe, expect, it } from 'vitest';
import { parseDocument } from '../../shared/platform/yaml-document.js';
import { parseSiteConfig } from '../../firmware-config/load.js';
import { Directory } from '../../shared/protocol/directory.js';

describe('YAML documents the library must not compose (shared/platform/yaml-limits.ts)', () => {
  it('a site config nested 20,000 levels deep is refused with its place, not left to overflow the parser (which can abort the process)', () => {
    for (const text of [`${'['.repeat(20_000)}${']'.repeat(20_000)}`, `${'- '.repeat(20_000)}x`]) {
      const r = parseSiteConfig(text, 'murat.yaml', '/etc/tessera');
      expect(r).toMatchObject({
        ok: false,
        code: 'config.invalid',
        errors: [
          {
            path: expect.stringMatching(/^\(line 1, column \d+\)$/) as string,
            message: 'nested more than 64 levels deep',
          },
        ],
      });
    }
  });

  it('a key that is a list, a mapping or an alias is refused at once: 800 bytes of `? ? ?` took the library minutes', () => {
    const started = Date.now();
    const r = parseDocument(`${'? '.repeat(400)}x`, 'directory.yaml', Directory, 'directory.invalid');
    expect(Date.now() - started).toBeLessThan(2000);
    expect(r).toMatchObject({
      ok: false,
      code: 'directory.invalid',
      errors: [{ path: '(line 1, column 3)', message: 'a key must be a name, not a list, a mapping or an alias' }],
    });
    expect(parseDocument('revision: 2\n[plans]: []', 'directory.yaml', Directory, 'directory.invalid')).toMatchObject({
      ok: false,
      errors: [{ path: '(line 2, column 1)' }],
    });
  });

  it('anchors and aliases as values still work, and so do documents nested as deep as ours', () => {
    const r = parseDocument(
      'plans:\n  - &p {id: always, name: "24/7", access: always}\nrevision: 3',
      'directory.yaml',
      Directory,
      'directory.invalid',
    );
    expect(r).toMatchObject({ ok: true, value: { revision: 3, plans: [{ id: 'always' }] } });
  });
});
