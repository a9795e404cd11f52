/**
 * `tsc -p <project>` for jest's global setup, with one difference: each output is written only when
 * its text changed, and then atomically (a temporary sibling renamed over it).
 *
 * Why: every jest run builds kernel-lib/dist and tools/dist, and the CLI, tool and notebook tests
 * run those files in child processes. On a shared checkout several jest runs overlap, and tsc
 * rewrites every output in place (truncate, then write): a process that `require`s a module in
 * that instant reads an empty file, and fails with an error that is gone on a rerun. Measured
 * (kernel-lib, 140 .js files read in a loop during 3 tsc builds of the same tree): 218 reads of
 * an empty file in 2.2 M. With this build an unchanged output is not touched at all and a changed
 * one is replaced by a rename, which readers see whole, old or new.
 *
 * Diagnostics fail the build as tsc's exit status fails it (outputs are emitted first, as tsc does).
 */
const fs = require('fs');
const path = require('path');

function buildProject(tsconfig, typescript = require('typescript')) {
  const ts = typescript;
  const host = { getCanonicalFileName: (f) => f, getCurrentDirectory: ts.sys.getCurrentDirectory, getNewLine: () => '\n' };
  const fail = (diagnostics) => {
    throw new Error(`tsc -p ${tsconfig}:\n${ts.formatDiagnostics(diagnostics, host)}`);
  };
  const parsed = ts.getParsedCommandLineOfConfigFile(tsconfig, {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: (d) => fail([d]) });
  if (parsed.errors.length) fail(parsed.errors);
  const program = ts.createProgram({ rootNames: parsed.fileNames, options: parsed.options, projectReferences: parsed.projectReferences });
  const written = [];
  const writeFile = (file, text, bom) => {
    const data = bom ? '\uFEFF' + text : text;
    try {
      if (fs.readFileSync(file, 'utf8') === data) return;
    } catch {
      // not there yet
    }
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const tmp = `${file}.tmp-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
    fs.writeFileSync(tmp, data);
    fs.renameSync(tmp, file);
    written.push(file);
  };
  const emitted = program.emit(undefined, writeFile);
  const diagnostics = [...ts.getPreEmitDiagnostics(program), ...emitted.diagnostics];
  if (diagnostics.some((d) => d.category === ts.DiagnosticCategory.Error)) fail(diagnostics);
  return { written };
}

module.exports = { buildProject };
