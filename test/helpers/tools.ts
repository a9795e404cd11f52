/**
 * External tools some tests need (headless Chromium, Jupyter with tslab). On CI (CI=true) a
 * missing tool is a failure — .ci/run installs them. On a developer machine the test is skipped
 * with a message naming the apt package to install.
 */
import { execFileSync } from 'child_process';

export function hasCommand(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** describe() when every command exists; otherwise fail on CI and skip (with a message) locally. */
export function describeWithTools(name: string, commands: Record<string, string>, fn: () => void): void {
  const missing = Object.entries(commands).filter(([cmd]) => !hasCommand(cmd));
  if (missing.length === 0) {
    describe(name, fn);
    return;
  }
  const why = missing.map(([cmd, pkg]) => `${cmd} (apt-get install -y ${pkg})`).join(', ');
  if (process.env.CI) {
    describe(name, () => {
      test('required tools are installed', () => {
        throw new Error(`missing on CI: ${why}`);
      });
    });
  } else {
    console.warn(`SKIPPED "${name}": missing ${why}`);
    describe.skip(name, fn);
  }
}
