import type { ContractRunner } from "ethers";
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
