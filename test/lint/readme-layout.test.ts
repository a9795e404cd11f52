/**
 * The README's layout table and its layers paragraph describe the tree as it is (issue 12: "the
 * README's layout table matches the tree"). Every path the table names exists; every library
 * folder and root module, every tracked top-level folder and every tools folder has a row; the
 * paragraph lists the layers of eslint.config.mjs in the rule's order.
 */
import * as fs from 'fs';
import * as path from 'path';
import { execFileSync } from 'child_process';
import { REPO_ROOT } from '../helpers/shared';

const readme = fs.readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
const layoutSection = readme.slice(readme.indexOf('\n## Layout\n'));

/** The backticked paths of the first column of the layout table. */
function tablePaths(): string[] {
  const rows = layoutSection
    .split('\n')
    .filter((l) => l.startsWith('| `'))
    .map((l) => l.split('|')[1]);
  return rows.flatMap((cell) => [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]));
}

/** The layers as the lint rule has them (eslint.config.mjs is ESM: read in a child process). */
function lintLayers(): string[][] {
  const out = execFileSync(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `const m = await import(${JSON.stringify(path.join(REPO_ROOT, 'eslint.config.mjs'))}); process.stdout.write(JSON.stringify(m.LAYERS));`,
    ],
    { cwd: REPO_ROOT, encoding: 'utf8' },
  );
  return JSON.parse(out) as string[][];
}

describe('README layout', () => {
  const paths = tablePaths();

  test('the table has rows, and every path it names exists', () => {
    expect(paths.length).toBeGreaterThan(10);
    const missing = paths.filter((p) => !fs.existsSync(path.join(REPO_ROOT, p)));
    expect(missing).toEqual([]);
  });

  test('every library folder and root module, tracked top-level folder and tools folder has a row', () => {
    const named = new Set(paths.map((p) => p.replace(/\/$/, '')));
    const src = 'kernel-lib/src';
    const libraryEntries = fs
      .readdirSync(path.join(REPO_ROOT, src), { withFileTypes: true })
      .filter((e) => e.isDirectory() || e.name.endsWith('.ts'))
      .map((e) => `${src}/${e.name}`);
    const tracked = execFileSync('git', ['ls-files'], { cwd: REPO_ROOT, encoding: 'utf8' }).split('\n').filter(Boolean);
    const topFolders = [...new Set(tracked.filter((f) => f.includes('/') && !f.startsWith('.')).map((f) => f.split('/')[0]))];
    const toolsFolders = [
      ...new Set(tracked.filter((f) => f.startsWith('tools/') && f.split('/').length > 2).map((f) => f.split('/').slice(0, 2).join('/'))),
    ];
    expect(libraryEntries.length).toBeGreaterThan(10);
    expect(topFolders).toContain('kernel-lib');
    expect(toolsFolders).toContain('tools/bench');
    const unlisted = [...libraryEntries, ...topFolders, ...toolsFolders].filter((p) => !named.has(p));
    expect(unlisted).toEqual([]);
  });

  test("the layers paragraph lists the lint rule's layers in its order", () => {
    const start = layoutSection.indexOf('The folders are layers, lowest first:');
    expect(start).toBeGreaterThan(0);
    const paragraph = layoutSection.slice(start, layoutSection.indexOf('\n\n', start));
    const chain = paragraph.slice(paragraph.indexOf(':') + 1, paragraph.indexOf(';'));
    const described = chain.split('←').map((step) => [...step.matchAll(/`([^`]+)`/g)].map((m) => m[1]));
    expect(described).toEqual(lintLayers());
  });
});
