/**
 * The promise's outcome, or a rejection once `ms` have passed without one (the promise itself runs on).
 *
 * When the deadline's timer fires, the answer may already be waiting: timers run before the event loop reads its
 * sockets, so a process that was busy (a CPU shared with others, a long synchronous task) would see its timer first and
 * call a prompt answer late. The rejection therefore waits for one turn of the loop (`setImmediate` runs after the
 * sockets are read), and an answer that arrived meanwhile wins.
 */
export function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  let immediate: NodeJS.Immediate | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      immediate = setImmediate(() => reject(new Error(`no answer within ${ms} ms`)));
    }, ms);
  });
  return Promise.race([promise, deadline]).finally(() => {
    clearTimeout(timer);
    clearImmediate(immediate);
  });
}
