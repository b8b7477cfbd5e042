/**
 * The signal of one exchange (a lookup, a filter sync, a dial, an API check): its own deadline
 * plus whatever may cancel it from outside. The one deadline helper of the node.
 *
 * @example
 *   const deadline = exchangeSignal(5_000, [serviceSignal, opts.signal]);
 *   try { await exchange(deadline.signal); } finally { deadline.dispose(); }
 */

/** A signal and the means to let go of it once the exchange is over. */
export interface ExchangeSignal {
  signal: AbortSignal;
  /** Clears the timer and the listeners on the parents; the signal then never aborts. Idempotent. */
  dispose(): void;
}

/**
 * Aborts when `timeoutMs` passes (reason: a "TimeoutError" DOMException, as AbortSignal.timeout
 * gives) or when a parent aborts (its reason). Unlike AbortSignal.any([..., AbortSignal.timeout()])
 * it holds nothing once disposed: a finished exchange leaves no timer to fire seconds later, and
 * no composite signal hanging off the service's long-lived one.
 */
export function exchangeSignal(timeoutMs: number, parents: readonly (AbortSignal | undefined)[], timeoutMessage = "The operation was aborted due to timeout"): ExchangeSignal {
  const controller = new AbortController();
  const live = parents.filter((parent): parent is AbortSignal => parent !== undefined);
  const already = live.find((parent) => parent.aborted);
  if (already !== undefined) {
    controller.abort(already.reason);
    return { signal: controller.signal, dispose: () => undefined };
  }
  const listeners = live.map((parent) => {
    const onAbort = () => finish(parent.reason);
    parent.addEventListener("abort", onAbort, { once: true });
    return { parent, onAbort };
  });
  const timer = setTimeout(() => finish(new DOMException(timeoutMessage, "TimeoutError")), timeoutMs);
  timer.unref?.();
  let disposed = false;
  const dispose = () => {
    if (disposed) return;
    disposed = true;
    clearTimeout(timer);
    for (const { parent, onAbort } of listeners) parent.removeEventListener("abort", onAbort);
  };
  function finish(reason: unknown): void {
    dispose();
    controller.abort(reason);
  }
  return { signal: controller.signal, dispose };
}
