/** The child-runner harness itself: limits are enforced and measured (other hostile tests rely on it). */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { expectCleanFailure, runCliLimited, runNodeLimited } from './harness';

describe('hostile harness', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'al-harness-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('passes a one-line CLI error naming its input, with a measured peak RSS', async () => {
    const missing = path.join(dir, 'missing-scores.npy');
    const r = await runCliLimited(['metrics', '--scores', missing, '--labels', missing]);
    const line = expectCleanFailure(r, missing);
    expect(line).toContain('missing-scores.npy');
    expect(r.peakRssBytes).toBeGreaterThan(10 * 2 ** 20); // node itself uses tens of MiB
  });

  it('kills a child that exceeds the time limit', async () => {
    const script = path.join(dir, 'sleep.js');
    fs.writeFileSync(script, 'setTimeout(() => {}, 60000);');
    const r = await runNodeLimited([script], { timeoutMs: 500 });
    expect(r.killedFor).toBe('time');
    expect(r.wallMs).toBeLessThan(5000);
  });

  it('kills a child that exceeds the memory limit', async () => {
    const script = path.join(dir, 'alloc.js');
    fs.writeFileSync(
      script,
      'const a = []; for (let i = 0; i < 40; i++) { a.push(Buffer.alloc(16 * 2 ** 20, 1)); } setTimeout(() => {}, 60000);',
    );
    const r = await runNodeLimited([script], { maxRssBytes: 200 * 2 ** 20, timeoutMs: 20000 });
    expect(r.killedFor).toBe('memory');
    expect(r.peakRssBytes).toBeGreaterThan(200 * 2 ** 20);
  });
});
