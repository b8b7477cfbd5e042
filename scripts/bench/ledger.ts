/**
 * Suite 5, ledger: query records landed on a real `hardhat node` (JSON-RPC on 127.0.0.1), records/s
 * and gas per record, through the LedgerBatcher draining a durable LevelDB outbox in batches of
 * 200 (the node's default), against the naive design — one transaction per query (recordBatch
 * with a single record), sent one after another, each awaiting its receipt — on the same chain in
 * the same run. Records carry real EIP-712 signatures by a querier key.
 *
 * Batched records/s is the batcher's flush: from the first read of the outbox to the last
 * receipt. Appending to the outbox happens on the lookup path (group-committed with fsync) and is
 * reported on its own line.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Level } from "level";
import { getAddress, Wallet, type JsonRpcProvider } from "ethers";
import {
  connectChain, connectContracts, connectSigner, deployConsortium, LedgerBatcher, lookupRequestDigest, QueryOutcome, refusalDigest, RpcLedgerChannel,
  type JsonRpcCaller, type LedgerChannel, type LedgerRecord, type LookupRequest,
} from "../../node/chain/index.ts";
import { CONFIG_DEFAULTS } from "../../node/config/index.ts";
import { silentLogger } from "../../node/logger.ts";
import { Outbox, type OutboxLevel } from "../../node/store/index.ts";
import { startChain, type LocalChain } from "../devnet/chain.ts";
import { devAccount } from "../devnet/consortium.ts";
import { Prng } from "./data.ts";
import { result } from "./report.ts";
import { perSecond } from "./stats.ts";
import type { Suite } from "./suite.ts";

/** Records per batch: the node's default (ledger.maxBatchRecords). */
const BATCH_RECORDS = CONFIG_DEFAULTS.ledger.maxBatchRecords;
/** The chain both designs write to (scripts/devnet/chain.ts): RISKSHARE_BENCH_CHAIN=hardhat|anvil. */
const CHAIN_KIND = process.env.RISKSHARE_BENCH_CHAIN === "hardhat" ? "hardhat" : "anvil";
/** Batch transactions in flight: the node's default (ledger.maxInFlightBatches). */
const IN_FLIGHT = CONFIG_DEFAULTS.ledger.maxInFlightBatches;
const TARGET_RATIO = 50;

function sizes(quick: boolean): { naive: number; batched: number } {
  return quick ? { naive: 200, batched: 4_000 } : { naive: 1_000, batched: 20_000 };
}

/** `count` records as a provider's outbox holds them: signed requests from `querier`, 1 in 10 denied. */
function signedRecords(count: number, querier: Wallet, provider: string, chainId: bigint, ledger: string, rng: Prng): LedgerRecord[] {
  const nowMs = Date.now();
  return Array.from({ length: count }, () => {
    const request: LookupRequest = {
      querier: querier.address, provider, kind: 0, categoryMask: BigInt(2 + 2 * rng.int(15)), itemCount: 1 + rng.int(1_000),
      itemsCommitment: rng.hex(32), nonce: rng.hex(32), deadline: BigInt(Math.floor(nowMs / 1000) + 60),
    };
    const signature = querier.signingKey.sign(lookupRequestDigest(chainId, ledger, request)).serialized;
    const denied = rng.int(10) === 0;
    return {
      request, signature, outcome: denied ? QueryOutcome.DeniedReciprocity : QueryOutcome.Answered,
      keyEpoch: denied ? 0 : 1, count: 1, answerDigest: denied ? refusalDigest("E_RECIPROCITY") : rng.hex(32), receivedAtMs: nowMs,
    };
  });
}

/** Gas used by the transactions `hashes`, read from their receipts. */
async function gasOf(rpc: JsonRpcCaller, hashes: readonly string[]): Promise<bigint> {
  let gas = 0n;
  for (const hash of hashes) {
    const receipt = (await rpc.call("eth_getTransactionReceipt", [hash])) as { status?: string; gasUsed?: string } | null;
    if (!receipt || BigInt(receipt.status ?? 0) !== 1n) throw new Error(`transaction ${hash} did not land`);
    gas += BigInt(receipt.gasUsed ?? 0);
  }
  return gas;
}

/** The ledger suite. */
export const ledgerSuite: Suite = {
  name: "ledger",
  async run(ctx) {
    const size = sizes(ctx.quick);
    const rng = new Prng(ctx.seed ^ 0x6c64);
    let chain: LocalChain | undefined;
    let provider: JsonRpcProvider | undefined;
    let db: Level<string, unknown> | undefined;
    let batcher: LedgerBatcher | undefined;
    const dir = await mkdtemp(join(tmpdir(), "riskshare-bench-ledger-"));
    try {
      const chainStarted = performance.now();
      chain = await startChain({ kind: CHAIN_KIND });
      ctx.log(`ledger: ${CHAIN_KIND} node up (pid ${chain.pid}) in ${((performance.now() - chainStarted) / 1000).toFixed(1)} s`);
      const connection = await connectChain({ rpcUrl: chain.rpcUrl, rpcTimeoutMs: 60_000, pollIntervalMs: 50 });
      provider = connection.provider;
      const { chainId } = connection;
      // Dev accounts: 0 deploys, 1 records naively, 2 through the batcher, 3 is the querier.
      const [naiveKey, batchedKey, querierKey] = [1, 2, 3].map((i) => new Wallet(devAccount(i).privateKey));
      const deployment = await deployConsortium(connectSigner(new Wallet(devAccount(0).privateKey), provider), {
        founders: [naiveKey!, batchedKey!, querierKey!].map((w, i) => ({ address: w.address, name: `Bench member ${i + 1}`, peerId: rng.hex(38), oprfKey: rng.hex(32) })),
      }, silentLogger());
      const ledgerAddress = getAddress(deployment.addresses.ledger);

      const { rpc } = connection;
      // Naive: one transaction per query, each awaiting its receipt — through the same channel
      // (encoding, signing, raw JSON-RPC), so the ratio measures batching and pipelining alone.
      const naiveChannel = new RpcLedgerChannel(
        { chainId, ledgerAddress, confirmTimeoutMs: 120_000, pollIntervalMs: 50 },
        { rpc, fees: provider, wallet: naiveKey!, ledger: connectContracts(deployment.addresses, provider).ledger },
      );
      const naiveRecords = signedRecords(size.naive, querierKey!, naiveKey!.address, chainId, ledgerAddress, rng);
      const naiveHashes: string[] = [];
      let seq = (await naiveChannel.lastSequence()) + 1n;
      const naiveStarted = performance.now();
      for (const record of naiveRecords) {
        const submitted = await naiveChannel.submit(seq++, [record], async () => undefined);
        await naiveChannel.confirm(submitted);
        naiveHashes.push(submitted.hash);
      }
      const naiveMs = performance.now() - naiveStarted;
      const naiveGas = await gasOf(rpc, naiveHashes);
      ctx.log(`ledger: naive ${size.naive} records in ${(naiveMs / 1000).toFixed(1)} s`);

      // Batched: the outbox and the batcher as the node runs them.
      const signStarted = performance.now();
      const batchedRecords = signedRecords(size.batched, querierKey!, batchedKey!.address, chainId, ledgerAddress, rng);
      ctx.log(`ledger: ${size.batched.toLocaleString("en-US")} requests signed in ${((performance.now() - signStarted) / 1000).toFixed(1)} s`);
      db = new Level<string, unknown>(join(dir, "db"), { valueEncoding: "json" });
      await db.open();
      const outbox = new Outbox({ maxBacklog: size.batched + 1 }, { db: db.sublevel("outbox", { valueEncoding: "json" }) as unknown as OutboxLevel });
      await outbox.open();
      const appendStarted = performance.now();
      await Promise.all(batchedRecords.map((record) => outbox.append(record)));
      const appendMs = performance.now() - appendStarted;

      const batchHashes: string[] = [];
      const channel = new RpcLedgerChannel(
        { chainId, ledgerAddress, confirmTimeoutMs: 120_000, pollIntervalMs: 50 },
        { rpc, fees: provider, wallet: batchedKey!, ledger: connectContracts(deployment.addresses, provider).ledger },
      );
      const recording: LedgerChannel = {
        lastSequence: () => channel.lastSequence(),
        reset: () => channel.reset(),
        confirm: (batch) => channel.confirm(batch),
        succeeded: (txHash) => channel.succeeded(txHash),
        submit: async (seq, records, beforeSend) => {
          const submitted = await channel.submit(seq, records, beforeSend);
          batchHashes.push(submitted.hash);
          return submitted;
        },
      };
      batcher = new LedgerBatcher(
        { providerAddress: batchedKey!.address, flushIntervalMs: 3_600_000, maxBatchRecords: BATCH_RECORDS, maxInFlight: IN_FLIGHT },
        { channel: recording, outbox, logger: silentLogger() },
      );
      const flushStarted = performance.now();
      const landed = await batcher.flush();
      const batchedMs = performance.now() - flushStarted;
      if (landed !== size.batched || (await outbox.size()) !== 0) throw new Error(`the batcher landed ${landed} of ${size.batched} records`);
      const batchedGas = await gasOf(rpc, batchHashes);
      ctx.log(
        `ledger: batched ${size.batched.toLocaleString("en-US")} records in ${batchHashes.length} transactions, ${(batchedMs / 1000).toFixed(1)} s; ` +
          `outbox appends ${Math.round(perSecond(size.batched, appendMs)).toLocaleString("en-US")}/s`,
      );

      const batchedRate = perSecond(size.batched, batchedMs);
      const naiveRate = perSecond(size.naive, naiveMs);
      const naiveIs = "1 transaction per query, sequential, receipt each";
      return [
        result({ name: "ledger.records_per_s", value: batchedRate, unit: "records/s", baseline: naiveRate, baselineIs: naiveIs }),
        result({ name: "ledger.gas_per_record", value: Number(batchedGas) / size.batched, unit: "gas", baseline: Number(naiveGas) / size.naive, baselineIs: naiveIs }),
        result({
          name: "ledger.batched_vs_naive", value: batchedRate / naiveRate, unit: "×", baseline: 1, baselineIs: "naive = 1",
          target: { text: `≥ ${TARGET_RATIO}`, met: (v) => v >= TARGET_RATIO },
        }),
      ];
    } finally {
      await batcher?.stop().catch(() => undefined);
      await db?.close().catch(() => undefined);
      provider?.destroy();
      await chain?.stop();
      await rm(dir, { recursive: true, force: true });
    }
  },
};
