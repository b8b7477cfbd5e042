import { EventEmitter, once } from "node:events";
import { expect } from "chai";
import { silentLogger } from "../../node/logger.ts";
import { Housekeeping, type Chore } from "../../node/store/index.ts";

const NOW = 1_700_000_000;

describe("store: housekeeping", () => {
  it("runs every chore at the round's time, even when one of them fails", async () => {
    const ran: string[] = [];
    const chore = (name: string, fail = false): Chore => ({
      name,
      run: async (nowSec) => {
        ran.push(`${name}@${nowSec}`);
        if (fail) throw new Error("disk full");
      },
    });
    const housekeeping = new Housekeeping({}, { chores: [chore("nonces"), chore("usage", true), chore("entries")], nowSec: () => NOW, logger: silentLogger() });
    await housekeeping.runOnce();
    expect(ran).to.deep.equal([`nonces@${NOW}`, `usage@${NOW}`, `entries@${NOW}`]);
  });

  it("joins a round in progress instead of starting a second one", async () => {
    let runs = 0;
    let finish!: () => void;
    const slow: Chore = { name: "slow", run: () => new Promise<void>((resolve) => { runs += 1; finish = resolve; }) };
    const housekeeping = new Housekeeping({}, { chores: [slow], nowSec: () => NOW, logger: silentLogger() });
    const first = housekeeping.runOnce();
    const second = housekeeping.runOnce();
    finish();
    await Promise.all([first, second]);
    expect(runs).to.equal(1);
  });

  it("runs a round every interval once started, until stopped", async () => {
    const rounds = new EventEmitter();
    let count = 0;
    const tick: Chore = { name: "tick", run: async () => { count += 1; rounds.emit("round"); } };
    const housekeeping = new Housekeeping({ intervalMs: 1 }, { chores: [tick], logger: silentLogger() });
    housekeeping.start();
    try {
      await once(rounds, "round");
      await once(rounds, "round");
    } finally {
      await housekeeping.stop();
    }
    const stoppedAt = count;
    await housekeeping.runOnce();
    expect(count, "runOnce still works on demand").to.equal(stoppedAt + 1);
  });
});
