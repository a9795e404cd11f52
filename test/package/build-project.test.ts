/**
 * jest's global setup builds kernel-lib/dist and tools/dist with test/helpers/build-project.js
 * while other jest runs on the same checkout may be running those files (CLI, tool and notebook
 * tests): an unchanged output is not written again, a changed one is replaced by a rename (a
 * reader never sees it empty or half written, which tsc's in-place rewrite showed), and type
 * errors still fail the build. Checked on a two-file project in a temporary directory.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { buildProject } = require('../helpers/build-project') as {
  buildProject: (tsconfig: string) => { written: string[] };
};

test('writes only changed outputs, each by a rename; a type error fails the build', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'al-build-project-'));
  try {
    const tsconfig = path.join(dir, 'tsconfig.json');
    fs.writeFileSync(
      tsconfig,
      JSON.stringify({ compilerOptions: { outDir: 'dist', rootDir: 'src', declaration: true, strict: true, types: [] }, include: ['src'] }),
    );
    fs.mkdirSync(path.join(dir, 'src'));
    fs.writeFileSync(path.join(dir, 'src', 'a.ts'), 'export const a: number = 1;\n');
    fs.writeFileSync(path.join(dir, 'src', 'b.ts'), "import { a } from './a';\nexport const b = a + 1;\n");
    const out = (f: string): string => path.join(dir, 'dist', f);

    expect(
      buildProject(tsconfig)
        .written.map((f) => path.relative(dir, f))
        .sort(),
    ).toEqual(['dist/a.d.ts', 'dist/a.js', 'dist/b.d.ts', 'dist/b.js'].sort());
    expect(fs.readFileSync(out('b.js'), 'utf8')).toContain('a + 1');
    const inode = (f: string): number => fs.statSync(out(f)).ino;
    const before = { a: inode('a.js'), b: inode('b.js'), bMtime: fs.statSync(out('b.js')).mtimeMs };

    // Unchanged sources: nothing is written (same file, same mtime).
    expect(buildProject(tsconfig).written).toEqual([]);
    expect(inode('b.js')).toBe(before.b);
    expect(fs.statSync(out('b.js')).mtimeMs).toBe(before.bMtime);

    // A changed source: its outputs are new files renamed into place (a new inode), the others untouched.
    fs.writeFileSync(path.join(dir, 'src', 'b.ts'), "import { a } from './a';\nexport const b = a + 2;\n");
    expect(buildProject(tsconfig).written.map((f) => path.basename(f))).toEqual(['b.js']);
    expect(inode('b.js')).not.toBe(before.b);
    expect(inode('a.js')).toBe(before.a);
    expect(fs.readFileSync(out('b.js'), 'utf8')).toContain('a + 2');
    expect(fs.readdirSync(path.join(dir, 'dist')).filter((f) => f.includes('.tmp-'))).toEqual([]);

    // A type error fails the build, naming the file (as tsc's exit status failed the global setup).
    fs.writeFileSync(path.join(dir, 'src', 'b.ts'), "import { a } from './a';\nexport const b: string = a;\n");
    expect(() => buildProject(tsconfig)).toThrow(/src\/b\.ts\(2,14\): error TS2322: Type 'number' is not assignable to type 'string'/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
