import { ZeroAddress, isError, type ContractRunner } from "ethers";
import { RiskshareError } from "../errors.ts";
import { translateChainError } from "./errors.ts";
import {
  IConsortiumRegistry__factory,
  IContributionRegistry__factory,
  IQueryLedger__factory,
  type IConsortiumRegistry,
  type IContributionRegistry,
  type IQueryLedger,
} from "../../types/ethers-contracts/index.ts";

/** Addresses of the three consortium contracts. */
export interface ContractAddresses {
  registry: string;
  contributions: string;
  ledger: string;
}

/** Typed handles on the three consortium contracts. */
export interface ConsortiumContracts {
  registry: IConsortiumRegistry;
  contributions: IContributionRegistry;
  ledger: IQueryLedger;
  addresses: ContractAddresses;
}

/** Binds typed contract handles to a provider (reads) or a signer (writes). */
export function connectContracts(addresses: ContractAddresses, runner: ContractRunner): ConsortiumContracts {
  return {
    registry: IConsortiumRegistry__factory.connect(addresses.registry, runner),
    contributions: IContributionRegistry__factory.connect(addresses.contributions, runner),
    ledger: IQueryLedger__factory.connect(addresses.ledger, runner),
    addresses,
  };
}

/**
 * Reads the addresses of the ContributionRegistry and QueryLedger a registry names, so that a
 * reader needs only the registry's address. Undefined when the registry names none yet.
 * Throws E_CONTRACTS_MISSING when no registry that can name them answers at the address.
 */
export async function readCompanions(
  registryAddress: string,
  runner: ContractRunner,
): Promise<Pick<ContractAddresses, "contributions" | "ledger"> | undefined> {
  const registry = IConsortiumRegistry__factory.connect(registryAddress, runner);
  let contributions: string;
  let ledger: string;
  try {
    [contributions, ledger] = await Promise.all([registry.contributions(), registry.ledger()]);
  } catch (err) {
    // Empty or undecodable answers: an account without code, another contract, or a registry
    // deployed before it could name its companions.
    if (isError(err, "BAD_DATA") || (isError(err, "CALL_EXCEPTION") && err.revert === null)) {
      throw new RiskshareError(
        "E_CONTRACTS_MISSING",
        `no ConsortiumRegistry that names its companion contracts answers at ${registryAddress}`,
        { registry: registryAddress },
        { cause: err },
      );
    }
    throw translateChainError(err, "read the companion contracts from the registry");
  }
  if (contributions === ZeroAddress || ledger === ZeroAddress) return undefined;
  return { contributions, ledger };
}
