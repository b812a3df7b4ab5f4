import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'scripts', 'check-references.mjs');

// The check reads this file too: every reference it must refuse is put together at run time.
const OUTSIDE_DOC = `${['DES', 'IGN'].join('')}.md`;
const ISSUE = ['iss', 'ue 12'].join('');
const ISSUE_HASH = ['#', '15'].join('');
const BARE_INVARIANT = ['invariant', '3'].join(' ');
const BLACK = ['#', '000000'].join('');

describe('the check that the repository stands on its own (scripts/check-references.mjs)', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'tessera-references-'));
    expect(spawnSync('git', ['init', '-q'], { cwd: root }).status).toBe(0);
    write('docs/a.md', '# A\n\n## Section\n');
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  function write(file: string, text: string): void {
    mkdirSync(dirname(join(root, file)), { recursive: true });
    writeFileSync(join(root, file), text);
  }

  function check(): { status: number | null; output: string } {
    const run = spawnSync(process.execPath, [SCRIPT, root], { encoding: 'utf8' });
    return { status: run.status, output: run.stdout + run.stderr };
  }

  it('passes a clean folder, with the look-alikes it must not mistake for references', () => {
    write(
      'README.md',
      [
        'See [A](docs/a.md), [its section](docs/a.md#section), [the folder](docs/) and [the web](https://example.org/x.md).',
        'Jump [below](#usage). The rule is in docs/architecture.md, invariant 3.',
        '```sh',
        'cat [not a link](nowhere.md)',
        '```',
        'Inline `[nor this](gone.md)` either.',
      ].join('\n'),
    );
    write('docs/b.md', 'Back [up](../README.md) and [across](./a.md "A").\n');
    write('src/cmac.ts', '// AES with PKCS#7 padding switched off; see docs/a.md#2-keys.\n');
    write('ui/style.css', `:root { --accent: #1f6feb; --line: ${BLACK}; }\n`);
    write('ui/chart.js', "const stroke = '#123456';\n");
    expect(check()).toEqual({ status: 0, output: '' });
  });

  it('refuses a file that names a document kept outside the repository, saying where', () => {
    write('src/door.ts', `// Relays to safe state first (${OUTSIDE_DOC}).\n`);
    const { status, output } = check();
    expect(status).toBe(1);
    expect(output).toContain('src/door.ts:1: names a document kept outside the repository');
  });

  it('refuses issue numbers in either spelling, in code, tests and docs', () => {
    write('tests/retention.test.ts', `describe('retention (${ISSUE})', () => {});\n`);
    write('docs/c.md', `Fixed in ${ISSUE_HASH}.\n`);
    const { status, output } = check();
    expect(status).toBe(1);
    expect(output).toContain('tests/retention.test.ts:1: cites an issue number');
    expect(output).toContain('docs/c.md:1: cites an issue number');
  });

  it('refuses an invariant by number unless the line says it is the one in docs/architecture.md', () => {
    write('src/store.ts', `// One transaction (${BARE_INVARIANT}).\n`);
    const { status, output } = check();
    expect(status).toBe(1);
    expect(output).toContain('src/store.ts:1: numbers an invariant without naming docs/architecture.md');
  });

  it('refuses a relative Markdown link to a file that is not there, with or without an anchor', () => {
    write('docs/d.md', 'See [gone](gone.md) and [moved](../docs/moved.md#why).\n\n[def]: ./old.md\n');
    const { status, output } = check();
    expect(status).toBe(1);
    expect(output).toContain('docs/d.md:1: links to a file that does not exist: gone.md');
    expect(output).toContain('docs/d.md:1: links to a file that does not exist: ../docs/moved.md#why');
    expect(output).toContain('docs/d.md:3: links to a file that does not exist: ./old.md');
    expect(output).toContain('3 problem(s) in 1 file(s)');
  });

  it('refuses a link that leaves the repository', () => {
    write('docs/e.md', 'See [there](../../elsewhere/notes.md).\n');
    expect(check().output).toContain('docs/e.md:1: links outside the repository: ../../elsewhere/notes.md');
  });
});
