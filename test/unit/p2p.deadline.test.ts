import { getEventListeners, once } from "node:events";
import { expect } from "chai";
import { exchangeSignal } from "../../node/deadline.ts";
import { toP2pError } from "../../node/p2p/errors.ts";

describe("p2p: the signal of one exchange", () => {
  it("aborts with a TimeoutError when its time is up, which reads as E_TIMEOUT", async () => {
    const service = new AbortController();
    const { signal, dispose } = exchangeSignal(5, [service.signal]);
    await once(signal, "abort");
    expect((signal.reason as DOMException).name).to.equal("TimeoutError");
    expect(toP2pError(new Error("read aborted"), signal).code).to.equal("E_TIMEOUT");
    expect(getEventListeners(service.signal, "abort"), "listener on the service signal").to.have.length(0);
    dispose();
  });

  it("aborts with a parent's reason when a parent aborts, which reads as E_ABORTED", () => {
    const service = new AbortController();
    const caller = new AbortController();
    const { signal, dispose } = exchangeSignal(60_000, [service.signal, undefined, caller.signal]);
    caller.abort(new Error("caller gave up"));
    expect(signal.aborted).to.equal(true);
    expect((signal.reason as Error).message).to.equal("caller gave up");
    expect(toP2pError(new Error("read aborted"), signal).code).to.equal("E_ABORTED");
    expect(getEventListeners(service.signal, "abort"), "listener left on the other parent").to.have.length(0);
    dispose();
  });

  it("starts aborted when a parent already is, with the first aborted parent's reason", () => {
    const first = new AbortController();
    const second = new AbortController();
    first.abort(new Error("first"));
    second.abort(new Error("second"));
    const { signal } = exchangeSignal(60_000, [new AbortController().signal, first.signal, second.signal]);
    expect(signal.aborted).to.equal(true);
    expect((signal.reason as Error).message).to.equal("first");
  });

  it("once disposed, never aborts and leaves no listener on its parents", async () => {
    const service = new AbortController();
    const { signal, dispose } = exchangeSignal(5, [service.signal]);
    expect(getEventListeners(service.signal, "abort")).to.have.length(1);
    dispose();
    dispose();
    expect(getEventListeners(service.signal, "abort")).to.have.length(0);
    service.abort(new Error("stopping"));
    // a later timer of the same length has fired by the time this one would have
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(signal.aborted).to.equal(false);
  });
});
