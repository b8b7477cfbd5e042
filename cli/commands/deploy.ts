import { Command } from "commander";
import { z } from "zod";
import { KeyStore, updateConfig } from "../../node/config/index.ts";
import { connectChain, connectSigner, deployConsortium, DEFAULT_CREDITS, DEFAULT_GOVERNANCE, type CreditParams, type FounderInput } from "../../node/chain/index.ts";
import { RiskshareError } from "../../node/errors.ts";
import { shippedWarninglists } from "../../node/identity/index.ts";
import { contextOf } from "../context.ts";
import { parseOptions } from "../errors.ts";
import { addressArg, oprfKeyArg, parseDuration, parseFraction, parseUint64, peerIdToRegistryBytes } from "../parse.ts";
import { formatDuration } from "../../node/chain/index.ts";
import type { CliIo } from "../output.ts";
import { loadConfig, CONFIG_DEFAULTS } from "../../node/config/index.ts";

const schema = z.object({
  rpc: z.string().optional(),
  founder: z.array(z.string()).default([]),
  regulator: z.array(addressArg).default([]),
  quorum: z.string().default(`${DEFAULT_GOVERNANCE.quorumNumerator}/${DEFAULT_GOVERNANCE.quorumDenominator}`),
  votingPeriodDays: z.coerce.number().positive().max(365).optional(),
  timelockDelay: z.string().optional(),
  seedWindow: z.string().optional(),
  admissionDelay: z.string().optional(),
  keepAdmin: z.boolean().optional(),
  startingCredits: z.string().optional(),
  overdraftLimit: z.string().optional(),
  poolPercent: z.string().optional(),
  providerCapPercent: z.string().optional(),
  falsePositiveBurn: z.string().optional(),
});

/** The QueryLedger's credit parameters given as flags (each defaults to DEFAULT_CREDITS in deployConsortium). */
function creditFlags(opts: z.infer<typeof schema>): Partial<CreditParams> {
  const percent = (text: string, argument: string): number => {
    const value = parseUint64(text, argument);
    if (value > 100n) throw new RiskshareError("E_USAGE", `${argument} must be a percentage from 0 to 100 (got "${text.slice(0, 40)}")`, { argument });
    return Number(value);
  };
  return {
    ...(opts.startingCredits === undefined ? {} : { startingCredits: parseUint64(opts.startingCredits, "--starting-credits") }),
    ...(opts.overdraftLimit === undefined ? {} : { overdraftLimit: parseUint64(opts.overdraftLimit, "--overdraft-limit") }),
    ...(opts.poolPercent === undefined ? {} : { poolPercent: percent(opts.poolPercent, "--pool-percent") }),
    ...(opts.providerCapPercent === undefined ? {} : { providerCapPercent: percent(opts.providerCapPercent, "--provider-cap-percent") }),
    ...(opts.falsePositiveBurn === undefined ? {} : { falsePositiveBurn: parseUint64(opts.falsePositiveBurn, "--false-positive-burn") }),
  };
}

/** Parses `ADDRESS=NAME,PEERID,OPRFKEY` (all three printed by the founder's `riskshare init`). */
export function parseFounder(text: string): FounderInput {
  const match = /^(0x[0-9a-fA-F]{40})=([^,]+),([^,]+),([^,]+)$/.exec(text.trim());
  const oprfKey = oprfKeyArg.safeParse((match?.[4] ?? "").trim());
  if (!match || !oprfKey.success) throw new RiskshareError("E_USAGE", `--founder must look like 0xADDRESS=NAME,PEERID,OPRFKEY with OPRFKEY 32 bytes of 0x-hex (got "${text.slice(0, 80)}")`);
  return { address: addressArg.parse(match[1]), name: (match[2] ?? "").trim(), peerId: peerIdToRegistryBytes((match[3] ?? "").trim()), oprfKey: oprfKey.data };
}

/** `riskshare deploy`: deploys and seeds the consortium contracts and writes their addresses into the config. */
export function deployCommand(io: CliIo): Command {
  return new Command("deploy")
    .description("deploy the consortium contracts with this data directory's key as bootstrap admin, seed founders, regulators, categories and the default policy, then renounce the admin")
    .option("--rpc <url>", "chain JSON-RPC URL (default: config)")
    .option("--founder <ADDRESS=NAME,PEERID,OPRFKEY...>", "a founding member with its OPRF public key (repeatable; its `riskshare init` printed all three); include this node's own address to make it a member")
    .option("--regulator <address...>", "an account with the REGULATOR role (repeatable)")
    .option("--quorum <fraction>", "quorum fraction f of the voting members, above 1/2 and at most 3/4 (docs/GOVERNANCE.md)", `${DEFAULT_GOVERNANCE.quorumNumerator}/${DEFAULT_GOVERNANCE.quorumDenominator}`)
    .option("--voting-period-days <days>", "how long a proposal stays open (default 7); fixed for the registry's life, no proposal changes it")
    .option("--timelock-delay <duration>", `how long an executed Remove, regulator, policy, category-retirement or quorum proposal waits before anyone may enact it (default ${formatDuration(DEFAULT_GOVERNANCE.timelockDelaySeconds)}); fixed for the registry's life`)
    .option("--seed-window <duration>", `how long after deployment a kept bootstrap admin may still seed (default ${formatDuration(DEFAULT_GOVERNANCE.seedWindowSeconds)}); seeding also ends at the first executed proposal`)
    .option("--admission-delay <duration>", "how long an executed admission waits before the member may be activated, the regulators' veto window (default 7d; e.g. 30s on a test chain); fixed for the registry's life")
    .option("--keep-admin", "do not renounce the bootstrap admin (for staged set-ups; renounce later)")
    .option("--starting-credits <n>", `credits every member account starts with (default ${DEFAULT_CREDITS.startingCredits}; 1 credit = 1 evaluated item); fixed for the ledger's life`)
    .option("--overdraft-limit <n>", `the most a member past its first 90 days may overdraw, at most what it earned in 13 weeks (default ${DEFAULT_CREDITS.overdraftLimit}); fixed for the ledger's life`)
    .option("--pool-percent <n>", `the weekly bonus pool, in percent of the week's metered items (default ${DEFAULT_CREDITS.poolPercent}); fixed for the ledger's life`)
    .option("--provider-cap-percent <n>", `the most one provider takes of a week's pool, in percent (default ${DEFAULT_CREDITS.providerCapPercent}); fixed for the ledger's life`)
    .option("--false-positive-burn <n>", `credits burnt from a provider per false positive reported on it (default ${DEFAULT_CREDITS.falsePositiveBurn}); fixed for the ledger's life`)
    .addHelpText("after", "\nExample:\n  riskshare deploy --rpc http://127.0.0.1:8545 \\\n    --founder 0xAbc…=\"Bank A\",16Uiu2HAm…,0x5e2f… --founder 0xDef…=\"Bank B\",16Uiu2HAm…,0x9a41… --quorum 2/3")
    .action(async (raw: unknown, command: Command) => {
      const ctx = contextOf(command, io);
      const opts = parseOptions(schema, raw);
      const quorum = parseFraction(opts.quorum);
      const founders = opts.founder.map(parseFounder);
      const timelockDelaySeconds = opts.timelockDelay === undefined ? undefined : parseDuration(opts.timelockDelay, "--timelock-delay");
      const seedWindowSeconds = opts.seedWindow === undefined ? undefined : parseDuration(opts.seedWindow, "--seed-window");
      for (const [argument, seconds] of [["--timelock-delay", timelockDelaySeconds], ["--seed-window", seedWindowSeconds]] as const) {
        if (seconds === 0n) throw new RiskshareError("E_BAD_INPUT", `${argument}: must be longer than zero`, { argument });
      }
      const credits = creditFlags(opts);
      const admissionDelaySeconds = opts.admissionDelay === undefined ? undefined : parseDuration(opts.admissionDelay, "--admission-delay");
      if (admissionDelaySeconds === 0n) throw new RiskshareError("E_USAGE", "--admission-delay must be longer than zero: the regulators' veto window needs time");
      if (founders.length === 0) throw new RiskshareError("E_USAGE", "give at least one --founder: a consortium without members cannot vote");
      const config = await loadConfig(ctx.dataDir);
      const rpcUrl = opts.rpc ?? config.chain.rpcUrl;
      const connection = await connectChain({ rpcUrl, rpcTimeoutMs: config.chain.rpcTimeoutMs, pollIntervalMs: config.chain.pollIntervalMs ?? CONFIG_DEFAULTS.chain.pollIntervalMs });
      try {
        const signer = connectSigner(await new KeyStore({ dataDir: ctx.dataDir, env: ctx.io.env }).nodeKey(), connection.provider);
        const result = await deployConsortium(signer, {
          founders,
          regulators: opts.regulator,
          quorumNumerator: quorum.numerator,
          quorumDenominator: quorum.denominator,
          ...(opts.votingPeriodDays === undefined ? {} : { votingPeriodSeconds: BigInt(Math.round(opts.votingPeriodDays * 86_400)) }),
          ...(timelockDelaySeconds === undefined ? {} : { timelockDelaySeconds }),
          ...(seedWindowSeconds === undefined ? {} : { seedWindowSeconds }),
          ...(admissionDelaySeconds === undefined ? {} : { admissionDelaySeconds }),
          warninglistHash: shippedWarninglists().hash,
          credits,
          renounceAdmin: opts.keepAdmin !== true,
        }, ctx.logger);
        await updateConfig(ctx.dataDir, (c) => ({ ...c, chain: { ...c.chain, rpcUrl, contracts: result.addresses } }));
        ctx.out.result(
          { chainId: connection.chainId, ...result },
          (r) => [
            `deployed on chain ${r.chainId} at block ${r.deployBlock}`,
            `  registry       ${r.addresses.registry}`,
            `  contributions  ${r.addresses.contributions}`,
            `  ledger         ${r.addresses.ledger}`,
            `  founders       ${founders.map((f) => f.name).join(", ")}`,
            `  categories     ${r.categories.map((c) => `${c.id}:${c.name}`).join(", ")}`,
            `  warninglists   ${shippedWarninglists().hash} pinned (this build's lists)`,
            `  timelock       ${formatDuration(r.timelockDelaySeconds)} between executing a removal, regulator, policy, category-retirement or quorum proposal and enacting it`,
            `addresses written to ${ctx.dataDir}/config.json`,
          ].join("\n"),
        );
      } finally {
        connection.provider.destroy();
      }
    });
}
