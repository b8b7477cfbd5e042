import { Command } from "commander";
import { rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { getBytes, hexlify, parseEther } from "ethers";
import { z } from "zod";
import { connectSigner, createKeyRotation, MemberStatus, rotateMemberKey, rotateOprfKey, translateChainError, type ConsortiumView } from "../../node/chain/index.ts";
import {
  API_SCOPES, DATA_DIR_LAYOUT, KEY_ENV, KeyStore, NEXT_DB_DIR, exists, passphraseFrom, preparedRotationPath, readRotationMarker, writeFileAtomic, type PreparedRotation,
} from "../../node/config/index.ts";
import { peerIdFromEvmKey } from "../../node/p2p/index.ts";
import { isRiskshareError, RiskshareError } from "../../node/errors.ts";
import { assertPhoneRegion, createVoprf, DEFAULT_NORMALISE_OPTIONS, loadWarninglists, type EntryKeyEvaluator } from "../../node/identity/index.ts";
import { BULK_IMPORT_TUNING, createProgressReporter, importList, publishSnapshots, Store, type ImportFormat } from "../../node/store/index.ts";
import { chainFlagsSchema, loadView, openChain, send, withChainFlags, type ChainSession } from "../chain.ts";
import type { IContributionRegistry } from "../../types/ethers-contracts/index.ts";
import { contextOf, type CliContext } from "../context.ts";
import { parseOptions } from "../errors.ts";
import { table, type CliIo } from "../output.ts";
import { runningNode } from "../runtime.ts";

/** `riskshare key …`: this member's keys. */
export function keyCommand(io: CliIo): Command {
  const key = new Command("key").description("this member's keys: encrypted at rest under a passphrase from RISKSHARE_PASSPHRASE_FILE, RISKSHARE_PASSPHRASE or config.json keys.passphraseFile (never an argument)");

  key.addCommand(new Command("show")
    .description("the public parts of this member's keys (address, PeerId, OPRF public key of each key epoch) and which key files are encrypted, with what scrypt cost; never a secret. Needs the passphrase: the public parts are derived from the secrets")
    .addHelpText("after", "\nExample:\n  RISKSHARE_PASSPHRASE_FILE=/etc/riskshare/passphrase riskshare --data-dir ./bank-a key show")
    .action(async (_raw: unknown, command: Command) => {
      const ctx = contextOf(command, io);
      const keys = new KeyStore({ dataDir: ctx.dataDir, env: ctx.io.env });
      const wallet = await keys.nodeKey();
      const voprf = await createVoprf();
      const oprfKeys: { epoch: number; publicKey: string }[] = [];
      for (const epoch of await keys.oprfKeyEpochs()) oprfKeys.push({ epoch, publicKey: hexlify(voprf.publicKey((await keys.oprfKey(epoch))!)) });
      const files = await keys.files();
      ctx.out.result({ address: wallet.address, peerId: peerIdFromEvmKey(wallet.privateKey).toString(), oprfKeys, files }, (r) => [
        `address  ${r.address}`, `peerId   ${r.peerId}`,
        table(["KEY EPOCH", "OPRF PUBLIC KEY"], r.oprfKeys.map((k) => [k.epoch, k.publicKey])),
        table(["FILE", "KIND", "AT REST", "SCRYPT N"], r.files.map((f) => [`keys/${f.file}`, f.kind, f.kind === "api-token" ? "plaintext (client credential)" : f.encrypted ? "encrypted" : "PLAINTEXT: run riskshare key migrate", f.kdf === undefined ? "" : `2^${Math.log2(f.kdf.N)}`])),
      ].join("\n"));
    }));

  key.addCommand(new Command("migrate")
    .description("encrypt the plaintext key files of a data dir written before encryption at rest, in place: each file is replaced atomically (temporary file, fsync, rename), so an interruption leaves it readable in its old or new form; files already encrypted are left alone (running it again does nothing)")
    .addHelpText("after", "\nExample:\n  RISKSHARE_PASSPHRASE_FILE=/etc/riskshare/passphrase riskshare --data-dir ./bank-a key migrate\n  # the plaintext blocks may survive on disk: see docs/OPERATIONS.md, Keys at rest")
    .action(async (_raw: unknown, command: Command) => {
      const ctx = contextOf(command, io);
      const keys = new KeyStore({ dataDir: ctx.dataDir, env: ctx.io.env });
      const migrated = await keys.migrate();
      ctx.out.result({ migrated: migrated.map((f) => `keys/${f}`) }, (r) => (r.migrated.length === 0 ? "every key file is already encrypted; nothing to do" : `encrypted ${r.migrated.join(", ")}`));
    }));

  key.addCommand(new Command("passphrase")
    .description(`change the passphrase of every key file: the current one from ${KEY_ENV.passphraseFile} (or ${KEY_ENV.passphrase}, or config.json keys.passphraseFile), the new one from ${KEY_ENV.newPassphraseFile} (or ${KEY_ENV.newPassphrase}); each file is replaced atomically and a run interrupted can be run again`)
    .addHelpText("after", `\nExample:\n  ${KEY_ENV.passphraseFile}=old.pass ${KEY_ENV.newPassphraseFile}=new.pass riskshare --data-dir ./bank-a key passphrase\n  # then make the node start with the new one (replace the file it reads), and back keys/ up again`)
    .action(async (_raw: unknown, command: Command) => {
      const ctx = contextOf(command, io);
      const newPassphrase = await passphraseFrom(ctx.io.env, { baseDir: ctx.dataDir, names: { passphrase: KEY_ENV.newPassphrase, passphraseFile: KEY_ENV.newPassphraseFile } });
      if (newPassphrase === undefined) throw new RiskshareError("E_USAGE", `no new passphrase: set ${KEY_ENV.newPassphraseFile} to a 0600 file holding it (or ${KEY_ENV.newPassphrase})`);
      const keys = new KeyStore({ dataDir: ctx.dataDir, env: ctx.io.env });
      const changed = await keys.changePassphrase(newPassphrase);
      const running = await runningNode(ctx.dataDir);
      ctx.out.result({ changed: changed.map((f) => `keys/${f}`), runningPid: running?.pid ?? null }, (r) => [
        r.changed.length === 0 ? "every key file is already under the new passphrase" : `re-encrypted ${r.changed.join(", ")} under the new passphrase`,
        `${r.runningPid === null ? "The node unlocks" : `The running node (pid ${r.runningPid}) keeps the keys it unlocked; it unlocks`} with the new passphrase from its next start: replace the passphrase file it reads. Backups of keys/ made before open with the old one only.`,
      ].join("\n"));
    }));

  key.addCommand(new Command("rotate-token")
    .option("--scope <scope>", "the token to replace: read | check | admin | all", "admin")
    .description("replace a local API bearer token (keys/api.token admin, keys/api-check.token check, keys/api-read.token read) with a new random one; a running node takes it within a second and refuses the old one from then on")
    .addHelpText("after", "\nExamples:\n  riskshare --data-dir ./bank-a key rotate-token --scope check\n  # hand the new keys/api-check.token to the systems that check identifiers\n  riskshare --data-dir ./bank-a key rotate-token --scope all")
    .action(async (raw: unknown, command: Command) => {
      const ctx = contextOf(command, io);
      const opts = parseOptions(z.object({ scope: z.enum([...API_SCOPES, "all"]) }), raw);
      const keys = new KeyStore({ dataDir: ctx.dataDir, env: ctx.io.env });
      const scopes = opts.scope === "all" ? [...API_SCOPES] : [opts.scope];
      for (const scope of scopes) await keys.rotateApiToken(scope);
      const running = await runningNode(ctx.dataDir);
      ctx.out.result({ files: scopes.map((scope) => keys.apiTokenPath(scope)), scopes, runningPid: running?.pid ?? null }, (r) => [
        ...r.scopes.map((scope, i) => `new ${scope} API token written to ${r.files[i]}`),
        r.runningPid === null ? "no node runs for this data dir: it takes the new token at its start" : `the running node (pid ${r.runningPid}) takes the new token within a second and refuses the old one from then on`,
      ].join("\n"));
    }));

  key.addCommand(withChainFlags(new Command("rotate-oprf"))
    .argument("[files...]", "the member's own list files (CSV or JSON Lines), re-imported under the new key; with --commit, the files of lists imported while the new store was prepared")
    .option("--format <format>", "csv | jsonl (default: from each file's name)")
    .option("--prepare", "build the new key's store in db-next while the node keeps serving under the current key; nothing is sent on chain; run again with the same files after an interruption, it resumes")
    .option("--commit", "switch to the store --prepare built (node stopped, its ledger outbox empty): rotate on chain, publish, move the journal, nonces and quota usage over")
    .option("--workers <n>", "worker threads that evaluate the rows (default: one per core for files of 4 MiB or more; with the node serving on few cores, 1 leaves it a core)")
    .description("rotate the OPRF key: a new key for the next key epoch, the lists re-imported under it into a fresh store, the key rotated on chain, every category's filter published, the journal, nonces and quota usage moved over; the old store is kept as db-epoch-N. In one go with the node stopped, or in two steps so that the node answers under the old key while the new store is built: --prepare FILES while it serves, then stop it and --commit. A run interrupted after the on-chain rotation resumes")
    .addHelpText("after", "\nExamples:\n  riskshare --data-dir ./bank-a key rotate-oprf --prepare risk.csv mules.jsonl   # node serving\n  # stop the node once GET /v1/health shows ledger.backlog 0, then:\n  riskshare --data-dir ./bank-a key rotate-oprf --commit\n  # start the node again: it answers under the new key epoch\n\n  riskshare --data-dir ./bank-a key rotate-oprf risk.csv mules.jsonl   # in one go, node stopped")
    .action(async (files: string[], raw: unknown, command: Command) => {
      const ctx = contextOf(command, io);
      const opts = parseOptions(chainFlagsSchema.extend({
        format: z.enum(["csv", "jsonl"]).optional(), prepare: z.boolean().optional(), commit: z.boolean().optional(),
        workers: z.coerce.number().int("must be a whole number of threads").min(0).max(64, "must be at most 64 threads").optional(),
      }), raw);
      if (opts.prepare === true && opts.commit === true) throw new RiskshareError("E_USAGE", "--prepare and --commit are two steps: run --prepare FILES while the node serves, then --commit with the node stopped");
      if (opts.commit !== true && files.length === 0) throw new RiskshareError("E_USAGE", "name the member's list files: the new key's store is built from them (what is not in them is not listed afterwards)");
      const session = await openChain(ctx, opts, opts.prepare !== true);
      const dbDir = join(ctx.dataDir, DATA_DIR_LAYOUT.dbDir);
      try {
        const view = await loadView(session, ctx);
        const keys = new KeyStore({ dataDir: ctx.dataDir, env: ctx.io.env });
        const address = (await keys.nodeKey()).address;
        const member = view.member(address);
        if (member === undefined) throw new RiskshareError("E_NOT_MEMBER", `${address} is not a member; a key is rotated by the member itself`);
        if (member.status !== MemberStatus.Active) throw new RiskshareError("E_NOT_MEMBER", `${address} is not Active: its filters could not be published under a new key; rotate once it is reinstated`);
        const chainId = session.connection.chainId;
        if (opts.prepare === true) {
          // The node may serve meanwhile: db/ is not touched, nothing is sent on chain.
          const keyEpoch = member.keyEpoch + 1;
          const prepared = await prepareNextStore(ctx, session, view, keys, { address, chainId, keyEpoch, resuming: false, files, format: opts.format, workers: opts.workers });
          const running = await runningNode(ctx.dataDir);
          const result = { prepared: true, keyEpoch, oprfKey: prepared.marker.oprfKey, resumed: prepared.resumed, imported: prepared.marker.imported, preparedStore: join(ctx.dataDir, NEXT_DB_DIR), runningPid: running?.pid ?? null };
          ctx.out.result(result, (r) => [
            `the store of key epoch ${r.keyEpoch} (${r.oprfKey}) is ready in ${r.preparedStore}${r.resumed ? " (an interrupted run resumed)" : ""}; nothing was sent on chain${r.runningPid === null ? "" : `, and the running node (pid ${r.runningPid}) answers under key epoch ${r.keyEpoch - 1} until the switch`}`,
            table(["FILE", "ENTRIES", "REJECTED"], r.imported.map((i) => [i.file, i.added, i.rejected])),
            "To switch: once GET /v1/health shows ledger.backlog 0, stop the node, run `riskshare key rotate-oprf --commit` (with the files of any list imported meanwhile), then start the node.",
          ].join("\n"));
          return;
        }
        let currentEpoch: number;
        let resuming: boolean;
        let marker: PreparedRotation;
        let imported: ImportedFile[];
        if (opts.commit === true) {
          const found = await readPreparedRotation(ctx.dataDir);
          if (found === undefined) throw new RiskshareError("E_ROTATION_NOT_PREPARED", `${join(ctx.dataDir, NEXT_DB_DIR)} holds no complete store of a next key epoch`);
          if (found.predecessor !== undefined) {
            throw new RiskshareError("E_ROTATION_STALE", `${join(ctx.dataDir, NEXT_DB_DIR)} holds a move of ${found.predecessor} to the new member key ${found.account} (\`key rotate-member --prepare\`), not an OPRF key rotation: commit it with \`riskshare key rotate-member --commit\`, or run \`key rotate-oprf --prepare FILES\``);
          }
          if (found.account.toLowerCase() !== address.toLowerCase() || BigInt(found.chainId) !== chainId) {
            throw new RiskshareError("E_ROTATION_STALE", `the prepared store belongs to ${found.account} on chain ${found.chainId}, not to ${address} on chain ${chainId}`);
          }
          marker = found;
          currentEpoch = (await drainedStoreEpoch(ctx, view, dbDir, "run `riskshare key rotate-oprf --commit`")) ?? marker.keyEpoch - 1;
          resuming = member.keyEpoch === marker.keyEpoch;
          if (!resuming && member.keyEpoch + 1 !== marker.keyEpoch) {
            throw new RiskshareError("E_ROTATION_STALE", `the prepared store is for key epoch ${marker.keyEpoch}, but the chain holds epoch ${member.keyEpoch} for this member`, { keyEpoch: marker.keyEpoch, chainKeyEpoch: member.keyEpoch });
          }
          if (currentEpoch !== marker.keyEpoch - 1) {
            throw new RiskshareError("E_ROTATION_STALE", `the serving store is bound to key epoch ${currentEpoch}, but the prepared store follows epoch ${marker.keyEpoch - 1}`, { keyEpoch: marker.keyEpoch, storeKeyEpoch: currentEpoch });
          }
          imported = [...marker.imported];
        } else {
          currentEpoch = (await drainedStoreEpoch(ctx, view, dbDir, "rotate")) ?? member.keyEpoch;
          // A run that rotated on chain but did not finish resumes at the epoch the chain has now.
          resuming = member.keyEpoch > currentEpoch;
          const keyEpoch = resuming ? member.keyEpoch : member.keyEpoch + 1;
          const prepared = await prepareNextStore(ctx, session, view, keys, { address, chainId, keyEpoch, resuming, chainOprfKey: member.oprfKey, files, format: opts.format, workers: opts.workers });
          marker = prepared.marker;
          imported = [...marker.imported];
        }
        const { keyEpoch } = marker;
        const secretKey = await keys.oprfKey(keyEpoch);
        const voprf = await createVoprf();
        if (secretKey === undefined || hexlify(voprf.publicKey(secretKey)).toLowerCase() !== marker.oprfKey.toLowerCase()) {
          throw new RiskshareError("E_OPRF_KEY_MISSING", `keys/oprf-${keyEpoch}.key is missing or is not the key the prepared store was built under`, { keyEpoch });
        }
        if (resuming && marker.oprfKey.toLowerCase() !== member.oprfKey.toLowerCase()) throw new RiskshareError("E_OPRF_KEY_MISSING", `keys/oprf-${keyEpoch}.key is not the key the chain holds for epoch ${keyEpoch}`, { keyEpoch });
        const evaluator = await keys.entryKeyEvaluator({ chainId, providerAddress: address, keyEpoch });
        const nextDir = join(ctx.dataDir, NEXT_DB_DIR);
        const old = new Store({ location: dbDir, categories: view.activeCategoryMap() }, { logger: ctx.logger });
        await old.open();
        try {
          const changed = opts.commit === true ? await listChangesSince(old, marker.startedAtMs) : { imports: [], delisted: 0 };
          assertNothingMissed(changed, files);
          const next = new Store({ location: nextDir, categories: view.activeCategoryMap(), binding: evaluator.context, tuning: BULK_IMPORT_TUNING }, { logger: ctx.logger });
          await next.open();
          try {
            if (opts.commit === true && files.length > 0) imported.push(...await importInto(ctx, session, next, evaluator, files, { format: opts.format, workers: opts.workers }));
            const rotation = resuming ? undefined : await rotateOprfKey(session.contracts.registry, marker.oprfKey);
            if (rotation !== undefined && rotation.keyEpoch !== keyEpoch) throw new RiskshareError("E_INTERNAL", `the chain rotated to key epoch ${rotation.keyEpoch}, not ${keyEpoch}`);
            const published = await publishAll(next, session.contracts.contributions, view);
            // The journal (so `audit open` still opens earlier queries), the nonce counters and windows and the quota usage move along.
            await next.copyProtocolStateFrom(old);
            await next.close();
            await old.close();
            // The old store stays beside the new one, for rollback.
            const kept = join(ctx.dataDir, `${DATA_DIR_LAYOUT.dbDir}-epoch-${currentEpoch}`);
            if (await exists(dbDir)) await rename(dbDir, kept);
            await rename(nextDir, dbDir);
            await rm(preparedRotationPath(ctx.dataDir), { force: true });
            const result = {
              keyEpoch, oprfKey: marker.oprfKey, txHash: rotation?.txHash ?? null, resumed: resuming, imported, keptStore: kept,
              published, delistedMeanwhile: changed.delisted,
            };
            ctx.out.result(result, (r) => [
              `OPRF key rotated to epoch ${r.keyEpoch} (${r.oprfKey})${r.txHash === null ? " (rotated on chain by an earlier run; finished now)" : `, tx ${r.txHash}`}; the old store is kept in ${r.keptStore}`,
              ...rotationTables(r),
              ...delistedMeanwhileLines(r.delistedMeanwhile),
              "Start the node again: it answers under the new key epoch.",
            ].join("\n"));
          } finally {
            if (next.isOpen) await next.close();
          }
        } finally {
          if (old.isOpen) await old.close();
        }
      } finally {
        session.close();
      }
    }));
  key.addCommand(withChainFlags(new Command("rotate-member"))
    .argument("[files...]", "the member's own list files (CSV or JSON Lines), re-imported under the new account and key epoch; with --commit, the files of lists imported while the new store was prepared")
    .option("--format <format>", "csv | jsonl (default: from each file's name)")
    .option("--fund <ether>", "ether to send from the old account to the new one first, for the new account's gas (its snapshots, votes and ledger batches from now on); at the move, not with --prepare")
    .option("--prepare", "create the new member key and build its store in db-next while the node keeps serving under the current account; nothing is sent on chain; run again with the same files after an interruption, it resumes")
    .option("--commit", "move to the account --prepare prepared (node stopped, its ledger outbox empty): fund it, rotateMemberKey, publish, move the journal, nonces and quota usage over")
    .option("--workers <n>", "worker threads that evaluate the rows (default: one per core for files of 4 MiB or more; with the node serving on few cores, 1 leaves it a core)")
    .description("move this membership to a new member key and account: a new member key (keys/node-next.key, same passphrase) and OPRF key for the next key epoch, the lists re-imported into a fresh store bound to the new account, rotateMemberKey sent from the old account with the new key's signature, every category's filter published from the new account, the journal, nonces and quota usage moved over; the old key is kept as keys/node-<old address>.key and the old store as db-account-<old address>. In one go with the node stopped, or in two steps so that the node serves under the old account while the new store is built: --prepare FILES while it serves, then stop it and --commit. A run interrupted after the on-chain move resumes")
    .addHelpText("after", "\nExamples:\n  riskshare --data-dir ./bank-a key rotate-member --prepare risk.csv mules.jsonl   # node serving\n  # stop the node once GET /v1/health shows ledger.backlog 0, then:\n  riskshare --data-dir ./bank-a key rotate-member --commit --fund 0.5\n  # start the node again: it runs under the new account and PeerId; tell the peers that list it in p2p.bootstrap\n\n  riskshare --data-dir ./bank-a key rotate-member risk.csv mules.jsonl --fund 0.5   # in one go, node stopped")
    .action(async (files: string[], raw: unknown, command: Command) => {
      const ctx = contextOf(command, io);
      const opts = parseOptions(chainFlagsSchema.extend({
        format: z.enum(["csv", "jsonl"]).optional(), fund: z.string().regex(/^[0-9]+(\.[0-9]+)?$/, "must be an amount of ether, e.g. 0.5").optional(),
        prepare: z.boolean().optional(), commit: z.boolean().optional(),
        workers: z.coerce.number().int("must be a whole number of threads").min(0).max(64, "must be at most 64 threads").optional(),
      }), raw);
      if (opts.prepare === true && opts.commit === true) throw new RiskshareError("E_USAGE", "--prepare and --commit are two steps: run --prepare FILES while the node serves, then --commit with the node stopped");
      if (opts.prepare === true && opts.fund !== undefined) throw new RiskshareError("E_USAGE", "--fund is sent at the move: give it to --commit (nothing is sent on chain while the store is prepared)");
      if (opts.commit !== true && files.length === 0) throw new RiskshareError("E_USAGE", "name the member's list files: the new account's store is built from them (what is not in them is not listed afterwards)");
      const session = await openChain(ctx, opts, opts.prepare !== true);
      const dbDir = join(ctx.dataDir, DATA_DIR_LAYOUT.dbDir);
      const nextDir = join(ctx.dataDir, NEXT_DB_DIR);
      try {
        const view = await loadView(session, ctx);
        const chainId = session.connection.chainId;
        const keys = new KeyStore({ dataDir: ctx.dataDir, env: ctx.io.env });
        const oldAccount = (await keys.nodeKey()).address;
        const member = view.member(oldAccount);
        if (member === undefined) throw new RiskshareError("E_NOT_MEMBER", `${oldAccount} is not a member; a membership is moved by the member itself`);
        if (opts.prepare === true && member.status !== MemberStatus.Active) {
          throw new RiskshareError("E_NOT_MEMBER", `${oldAccount} is not Active: only an Active member moves to a new key (not one suspended, by vote or by a regulator, nor one already moved)`);
        }
        if (member.status !== MemberStatus.Active && member.status !== MemberStatus.Rotated) throw new RiskshareError("E_NOT_MEMBER", `${oldAccount} is not Active: only an Active member moves to a new key (not one suspended, by vote or by a regulator)`);
        const nextWallet = await keys.nextNodeKey();
        const peerId = peerIdFromEvmKey(nextWallet.privateKey).toString();
        if (opts.prepare === true) {
          // The node may serve meanwhile: db/ is not touched, nothing is sent on chain.
          const keyEpoch = member.keyEpoch + 1;
          const prepared = await prepareNextStore(ctx, session, view, keys, {
            address: nextWallet.address, predecessor: oldAccount, chainId, keyEpoch, resuming: false, files, format: opts.format, workers: opts.workers,
          });
          const running = await runningNode(ctx.dataDir);
          const result = {
            prepared: true, oldAccount, newAccount: nextWallet.address, peerId, keyEpoch, oprfKey: prepared.marker.oprfKey, resumed: prepared.resumed,
            imported: prepared.marker.imported, preparedStore: nextDir, runningPid: running?.pid ?? null,
          };
          ctx.out.result(result, (r) => [
            `the store of ${r.newAccount} (PeerId ${r.peerId}, key epoch ${r.keyEpoch}) is ready in ${r.preparedStore}${r.resumed ? " (an interrupted run resumed)" : ""}; nothing was sent on chain${r.runningPid === null ? "" : `, and the running node (pid ${r.runningPid}) serves as ${r.oldAccount} until the move`}`,
            table(["FILE", "ENTRIES", "REJECTED"], r.imported.map((i) => [i.file, i.added, i.rejected])),
            "The new member key is keys/node-next.key: back keys/ up now.",
            "To move: once GET /v1/health shows ledger.backlog 0, stop the node, run `riskshare key rotate-member --commit --fund ETH` (with the files of any list imported meanwhile), then start the node.",
          ].join("\n"));
          return;
        }
        // A run that moved on chain but did not finish resumes with the key the chain names.
        const resuming = member.status === MemberStatus.Rotated && view.successorOf(oldAccount) === nextWallet.address;
        if (!resuming && member.status !== MemberStatus.Active) throw new RiskshareError("E_NOT_MEMBER", `${oldAccount} was moved to ${view.successorOf(oldAccount) ?? "another account"}, not to the key in keys/node-next.key; restore keys/ from the backup made at that rotation`);
        const keyEpoch = resuming ? view.member(nextWallet.address)!.keyEpoch : member.keyEpoch + 1;
        const chainOprfKey = resuming ? view.member(nextWallet.address)!.oprfKey : undefined;
        // With --commit, the move --prepare built; in one go, the one built below once the funds are checked.
        let found: PreparedRotation | undefined;
        if (opts.commit === true) {
          found = await readPreparedRotation(ctx.dataDir);
          if (found === undefined) throw new RiskshareError("E_ROTATION_NOT_PREPARED", `${nextDir} holds no complete store of a move to a new member key: run \`riskshare key rotate-member --prepare FILES\` first`);
          if (found.predecessor === undefined) {
            throw new RiskshareError("E_ROTATION_STALE", `${nextDir} holds an OPRF key rotation of ${found.account} (\`key rotate-oprf --prepare\`), not a move to a new member key: commit it with \`riskshare key rotate-oprf --commit\`, or run \`key rotate-member --prepare FILES\``);
          }
          if (found.predecessor.toLowerCase() !== oldAccount.toLowerCase() || found.account.toLowerCase() !== nextWallet.address.toLowerCase() || BigInt(found.chainId) !== chainId) {
            throw new RiskshareError("E_ROTATION_STALE", `the prepared store moves ${found.predecessor} to ${found.account} on chain ${found.chainId}, not ${oldAccount} to ${nextWallet.address} (keys/node-next.key) on chain ${chainId}`);
          }
          if (found.keyEpoch !== keyEpoch || (chainOprfKey !== undefined && chainOprfKey.toLowerCase() !== found.oprfKey.toLowerCase())) {
            throw new RiskshareError("E_ROTATION_STALE", `the prepared store is for key epoch ${found.keyEpoch}, but the move ${resuming ? "the chain made is to" : "would be to"} epoch ${keyEpoch}`, { keyEpoch: found.keyEpoch, chainKeyEpoch: keyEpoch });
          }
          await drainedStoreEpoch(ctx, view, dbDir, "run `riskshare key rotate-member --commit`");
        } else {
          await drainedStoreEpoch(ctx, view, dbDir, "move to the new key");
        }
        const { provider } = session.connection;
        const newSigner = connectSigner(nextWallet, provider);
        if (!resuming && opts.fund === undefined && (await provider.getBalance(nextWallet.address)) === 0n && ((await provider.getFeeData()).gasPrice ?? 0n) > 0n) {
          throw new RiskshareError("E_USAGE", `the new account ${nextWallet.address} holds no ether for its gas; pass --fund ETH (sent from the old account) or fund it first`);
        }
        // In one go, a key rotation prepared in db-next for the old account is replaced by the move's store.
        const prepared = found ?? (await prepareNextStore(ctx, session, view, keys, {
          address: nextWallet.address, predecessor: oldAccount, chainId, keyEpoch, resuming, chainOprfKey, files, format: opts.format, workers: opts.workers,
        })).marker;
        const imported = [...prepared.imported];
        const secretKey = await keys.oprfKey(keyEpoch);
        if (secretKey === undefined || hexlify((await createVoprf()).publicKey(secretKey)).toLowerCase() !== prepared.oprfKey.toLowerCase()) {
          throw new RiskshareError("E_OPRF_KEY_MISSING", `keys/oprf-${keyEpoch}.key is missing or is not the key the prepared store was built under`, { keyEpoch });
        }
        const evaluator = await keys.entryKeyEvaluator({ chainId, providerAddress: nextWallet.address, keyEpoch });
        // A run interrupted after it set the old store aside resumes from there (db/ then holds a new one).
        const keptStore = join(ctx.dataDir, `${DATA_DIR_LAYOUT.dbDir}-account-${oldAccount}`);
        const oldKept = await exists(keptStore);
        const old = new Store({ location: oldKept ? keptStore : dbDir, categories: view.activeCategoryMap() }, { logger: ctx.logger });
        await old.open();
        try {
          const changed = opts.commit === true ? await listChangesSince(old, prepared.startedAtMs) : { imports: [], delisted: 0 };
          assertNothingMissed(changed, files);
          const next = new Store({ location: nextDir, categories: view.activeCategoryMap(), binding: evaluator.context, tuning: BULK_IMPORT_TUNING }, { logger: ctx.logger });
          await next.open();
          try {
            if (opts.commit === true && files.length > 0) imported.push(...await importInto(ctx, session, next, evaluator, files, { format: opts.format, workers: opts.workers }));
            if (!resuming && opts.fund !== undefined) {
              try {
                await (await session.signer!.sendTransaction({ to: nextWallet.address, value: parseEther(opts.fund) })).wait();
              } catch (err) {
                throw translateChainError(err, "fund the new account");
              }
            }
            const rotation = resuming ? undefined : await rotateMemberKey(session.contracts.registry, createKeyRotation(getBytes(nextWallet.privateKey), {
              oldAccount, oprfKey: prepared.oprfKey, chainId, registry: await session.contracts.registry.getAddress(),
            }));
            if (rotation !== undefined && rotation.keyEpoch !== keyEpoch) throw new RiskshareError("E_INTERNAL", `the chain moved the member to key epoch ${rotation.keyEpoch}, not ${keyEpoch}`);
            const published = await publishAll(next, session.contracts.contributions.connect(newSigner), view);
            // The journal (so `audit open` still opens earlier queries), the nonce counters and windows and the quota usage move along.
            await next.copyProtocolStateFrom(old);
            await next.close();
            await old.close();
            if (oldKept) await rm(dbDir, { recursive: true, force: true });
            else if (await exists(dbDir)) await rename(dbDir, keptStore);
            await rename(nextDir, dbDir);
            await rm(preparedRotationPath(ctx.dataDir), { force: true });
            const retiredKey = await keys.retireNodeKey();
            const result = {
              oldAccount, newAccount: nextWallet.address, peerId, keyEpoch, oprfKey: prepared.oprfKey,
              txHash: rotation?.txHash ?? null, resumed: resuming, imported, keptStore, retiredKey: `keys/${retiredKey}`,
              published, delistedMeanwhile: changed.delisted,
            };
            ctx.out.result(result, (r) => [
              `membership moved from ${r.oldAccount} to ${r.newAccount} (PeerId ${r.peerId}), OPRF key epoch ${r.keyEpoch}${r.txHash === null ? " (moved on chain by an earlier run; finished now)" : `, tx ${r.txHash}`}`,
              `the old member key is kept as ${r.retiredKey} and the old store as ${r.keptStore}; back keys/ up now`,
              ...rotationTables(r),
              ...delistedMeanwhileLines(r.delistedMeanwhile),
              "Start the node again: it runs under the new account and PeerId. Peers that list this node in p2p.bootstrap need its new multiaddr.",
            ].join("\n"));
          } finally {
            if (next.isOpen) await next.close();
          }
        } finally {
          if (old.isOpen) await old.close();
        }
      } finally {
        session.close();
      }
    }));
  return key;
}

/** The prepared rotation of this data dir, if a complete one waits in db-next. */
async function readPreparedRotation(dataDir: string): Promise<PreparedRotation | undefined> {
  const marker = await readRotationMarker(dataDir);
  return marker?.complete === true ? marker : undefined;
}

/**
 * Builds the store of `keyEpoch` in db-next from the member's list files and marks it complete in
 * db-next.json: creates the epoch's OPRF key unless keys/ holds it (a run resuming after the
 * on-chain rotation must find the one the chain names). A run interrupted before the end, run again
 * with the same files, resumes: files it finished are not read again, the one it was importing
 * continues from its checkpoint. Touches neither db/ nor the chain.
 */
async function prepareNextStore(ctx: CliContext, session: ChainSession, view: ConsortiumView, keys: KeyStore, args: {
  address: string; predecessor?: string; chainId: bigint; keyEpoch: number; resuming: boolean; chainOprfKey?: string; files: readonly string[]; format: ImportFormat | undefined; workers: number | undefined;
}): Promise<{ marker: PreparedRotation; resumed: boolean }> {
  const { keyEpoch } = args;
  const voprf = await createVoprf();
  const stored = await keys.oprfKey(keyEpoch);
  if (args.resuming && stored === undefined) throw new RiskshareError("E_OPRF_KEY_MISSING", `the chain names key epoch ${keyEpoch} for this member, but keys/ holds no key for it`, { keyEpoch });
  const secretKey = stored ?? voprf.generateKeyPair().secretKey;
  if (stored === undefined) await keys.putOprfKey(keyEpoch, hexlify(secretKey));
  const oprfKey = hexlify(voprf.publicKey(secretKey));
  if (args.resuming && oprfKey.toLowerCase() !== args.chainOprfKey?.toLowerCase()) throw new RiskshareError("E_OPRF_KEY_MISSING", `keys/oprf-${keyEpoch}.key is not the key the chain holds for epoch ${keyEpoch}`, { keyEpoch });
  const evaluator = await keys.entryKeyEvaluator({ chainId: args.chainId, providerAddress: args.address, keyEpoch });
  const nextDir = join(ctx.dataDir, NEXT_DB_DIR);
  const earlier = await readRotationMarker(ctx.dataDir).catch(() => undefined);
  const resumed = earlier !== undefined && !earlier.complete && earlier.account === args.address && earlier.predecessor === args.predecessor && earlier.chainId === args.chainId.toString()
    && earlier.keyEpoch === keyEpoch && earlier.oprfKey === oprfKey && earlier.files.length === args.files.length && earlier.files.every((f, i) => f === args.files[i]);
  const marker: PreparedRotation = {
    version: 1, account: args.address, ...(args.predecessor === undefined ? {} : { predecessor: args.predecessor }), chainId: args.chainId.toString(), keyEpoch, oprfKey, files: [...args.files], startedAtMs: resumed ? earlier.startedAtMs : Date.now(), complete: false, imported: [],
  };
  let next: Store;
  if (resumed) {
    next = new Store({ location: nextDir, categories: view.activeCategoryMap(), binding: evaluator.context, tuning: BULK_IMPORT_TUNING }, { logger: ctx.logger });
    await next.open();
  } else {
    await rm(preparedRotationPath(ctx.dataDir), { force: true });
    // A fresh store for the new epoch; one left by another key, files or a finished run is started over.
    next = await freshStore(ctx, view, evaluator, nextDir);
  }
  try {
    await writeFileAtomic(preparedRotationPath(ctx.dataDir), `${JSON.stringify(marker, null, 2)}\n`);
    marker.imported.push(...await importInto(ctx, session, next, evaluator, args.files, { format: args.format, workers: args.workers, resume: resumed }));
  } finally {
    await next.close();
  }
  const complete: PreparedRotation = { ...marker, complete: true, preparedAtMs: Date.now() };
  await writeFileAtomic(preparedRotationPath(ctx.dataDir), `${JSON.stringify(complete, null, 2)}\n`);
  return { marker: complete, resumed };
}

/** The imports (source, rows, when) and delistings the serving store recorded from `fromMs` on. */
async function listChangesSince(store: Store, fromMs: number): Promise<{ imports: { source: string; rows: number; atMs: number }[]; delisted: number }> {
  const imports: { source: string; rows: number; atMs: number }[] = [];
  let delisted = 0;
  for await (const record of store.auditTrail({ fromMs })) {
    if (record.action === "import" && record.imported + record.updated > 0) imports.push({ source: record.source, rows: record.imported + record.updated, atMs: record.atMs });
    else if (record.action === "delist") delisted++;
  }
  return { imports, delisted };
}

/**
 * Refuses a commit whose prepared store misses lists imported into the serving store meanwhile,
 * unless their files are given to it (they are imported into the new store first).
 */
function assertNothingMissed(changed: { imports: readonly { source: string; rows: number; atMs: number }[] }, files: readonly string[]): void {
  if (changed.imports.length === 0 || files.length > 0) return;
  const imports = changed.imports.map((i) => `${i.source} (${i.rows} rows, ${new Date(i.atMs).toISOString()})`).join(", ");
  throw new RiskshareError("E_ROTATION_STALE", `lists were imported into the serving store while the new one was prepared: ${imports}; the new store does not hold them`, { imports: changed.imports.length });
}

/** What a commit says of the entries delisted in the old store while the new one was prepared. */
function delistedMeanwhileLines(delisted: number): string[] {
  if (delisted === 0) return [];
  return [`${delisted} entr${delisted === 1 ? "y was" : "ies were"} delisted in the old store while the new one was prepared: if your list files still hold them, delist them again (riskshare list remove)`];
}

/** True for the error a Store's open throws when another process (or this one) holds its LevelDB lock. */
function isStoreLocked(err: unknown): boolean {
  return isRiskshareError(err, "E_STORE_CLOSED") && (err.meta as { locked?: boolean } | undefined)?.locked === true;
}

/** A fresh store for a rotation at `dir` (an interrupted rotation's is started over), bound to the new key. */
async function freshStore(ctx: CliContext, view: ConsortiumView, evaluator: EntryKeyEvaluator, dir: string): Promise<Store> {
  if (await exists(dir)) {
    // Another rotation still building it holds its lock: removing it under that run would lose both.
    const held = new Store({ location: dir, categories: view.activeCategoryMap() }, { logger: ctx.logger });
    try {
      await held.open();
    } catch (err) {
      if (isStoreLocked(err)) {
        throw new RiskshareError("E_STORE_CLOSED", `${dir} is in use: another \`riskshare key\` rotation is building it`, { locked: true });
      }
    } finally {
      await held.close();
    }
  }
  await rm(dir, { recursive: true, force: true });
  const store = new Store({ location: dir, categories: view.activeCategoryMap(), binding: evaluator.context, tuning: BULK_IMPORT_TUNING }, { logger: ctx.logger });
  await store.open();
  return store;
}

/**
 * Re-imports the member's list files into a rotation's fresh store, as `list import` does: the
 * data dir's consortium warninglists, progress on the terminal, Ctrl-C ending the import at its
 * last committed batch (run again to resume). Entries and rejected rows per file.
 */
async function importInto(ctx: CliContext, session: ChainSession, store: Store, evaluator: EntryKeyEvaluator, files: readonly string[], opts: {
  format: ImportFormat | undefined; workers?: number | undefined; resume?: boolean;
}): Promise<ImportedFile[]> {
  const resume = opts.resume ?? false;
  const region = session.config?.identity.defaultRegion ?? DEFAULT_NORMALISE_OPTIONS.defaultRegion;
  assertPhoneRegion(region);
  const warninglists = loadWarninglists(ctx.dataDir);
  const progress = createProgressReporter({ tty: ctx.io.isTTY, json: ctx.json, ci: Boolean(ctx.io.env.CI) });
  const controller = new AbortController();
  const onSignal = (): void => controller.abort();
  process.once("SIGINT", onSignal);
  const imported: ImportedFile[] = [];
  try {
    for (const file of files) {
      const summary = await importList({ path: file }, {
        format: opts.format, workers: opts.workers, normalise: { defaultRegion: region }, resume, skipDone: resume, onProgress: (p) => progress.update(p), signal: controller.signal,
      }, { store, evaluator, logger: ctx.logger, warninglists });
      progress.stop();
      imported.push({ file, added: summary.imported + summary.updated, rejected: summary.rejected, workers: summary.workerThreads });
    }
  } finally {
    process.off("SIGINT", onSignal);
    progress.stop();
  }
  return imported;
}

/** Publishes every active category's snapshot of a rotation's new store, through `contributions` (the signer it publishes as). */
async function publishAll(store: Store, contributions: IContributionRegistry, view: ConsortiumView): Promise<PublishedRow[]> {
  const published = await publishSnapshots(store, {
    publish: async (categoryId, epoch, liveCount, filterHash) => (await send(`publish the ${store.categoryName(categoryId)} snapshot`, () => contributions.publish(categoryId, epoch, liveCount, filterHash))).txHash,
  }, view.categories().filter((c) => c.active).map((c) => c.id));
  return published.map((p) => ({ category: store.categoryName(p.categoryId) ?? String(p.categoryId), liveCount: p.liveCount, filterHash: hexlify(p.filterHash) }));
}

/** The two tables a rotation prints: the files re-imported and the snapshots published. */
function rotationTables(r: { imported: readonly ImportedFile[]; published: readonly PublishedRow[] }): string[] {
  return [
    table(["FILE", "ENTRIES", "REJECTED"], r.imported.map((i) => [i.file, i.added, i.rejected])),
    table(["CATEGORY", "LIVE ENTRIES", "FILTER HASH"], r.published.map((p) => [p.category, p.liveCount, p.filterHash])),
  ];
}

interface ImportedFile { file: string; added: number; rejected: number; workers: number }
interface PublishedRow { category: string; liveCount: number; filterHash: string }

/**
 * Opens the current store (a running node holds its lock: opening it tells) and checks that every
 * ledger record it holds is on chain: a rotation's new store starts with an empty outbox. The
 * store's key epoch, if it is bound to one.
 */
async function drainedStoreEpoch(ctx: CliContext, view: ConsortiumView, dbDir: string, then: string): Promise<number | undefined> {
  const current = new Store({ location: dbDir, categories: view.activeCategoryMap() }, { logger: ctx.logger });
  try {
    await current.open();
  } catch (err) {
    if (isStoreLocked(err)) {
      throw new RiskshareError("E_STORE_CLOSED", `${dbDir} is in use: a node runs on this data dir; stop it once GET /v1/health shows ledger.backlog 0, then ${then}`, { locked: true }, { cause: err });
    }
    throw err;
  }
  try {
    const outbox = current.outbox({ maxBacklog: Number.MAX_SAFE_INTEGER });
    await outbox.open();
    if (outbox.backlog() > 0) {
      throw new RiskshareError("E_BACKLOG", `the store still holds ${outbox.backlog()} ledger record(s) not on chain; start the node until GET /v1/health shows ledger.backlog 0, stop it, then ${then}`);
    }
    return current.binding?.keyEpoch;
  } finally {
    await current.close();
  }
}
