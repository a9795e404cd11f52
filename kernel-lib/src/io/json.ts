/**
 * A JSON document read whole, one way for every reader (run directories, checkpoints, reports):
 * a file over JSON_MAX_BYTES is refused before it is read, and errors name the file and say
 * whether it could not be read or did not parse.
 */
import * as fs from 'fs';
import { limitError, resolveLimits } from '../limits';

export function readJsonFile<T = unknown>(file: string, what = 'JSON document'): T {
  let text: string;
  try {
    const max = resolveLimits().JSON_MAX_BYTES;
    const size = fs.statSync(file).size;
    if (size > max) throw limitError(file, 'JSON_MAX_BYTES', max, `${what} of ${size} bytes`);
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (!code) throw e;
    throw new Error(`${file}: cannot read (${code})`);
  }
  try {
    return JSON.parse(text) as T;
  } catch (e) {
    throw new Error(`${file}: invalid JSON (${(e as Error).message.split('\n')[0].slice(0, 200)})`);
  }
}
