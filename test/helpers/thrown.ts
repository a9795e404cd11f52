/** What `fn` throws (a test fails when it does not throw), for assertions on the error's fields. */
export function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a throw');
}
