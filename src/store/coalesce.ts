/**
 * Runs `task` one at a time. A request made while it runs is coalesced into one more run after
 * it (however many requests came meanwhile), so the last request always sees a run that started
 * after it. Each request's promise settles with the run that serves it.
 */
export function coalesce(task: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | undefined;
  let queued: Promise<void> | undefined;
  const noop = () => undefined;

  function start(): Promise<void> {
    const run = Promise.resolve().then(task);
    running = run;
    run.then(noop, noop).then(() => {
      if (running === run) running = undefined;
    });
    return run;
  }

  return function request(): Promise<void> {
    if (queued) return queued;
    if (running) {
      queued = running.then(noop, noop).then(() => {
        queued = undefined;
        return start();
      });
      return queued;
    }
    return start();
  };
}
