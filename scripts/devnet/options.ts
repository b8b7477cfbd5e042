/** Constants of the local devnet (kept apart from devnet.ts, which the CLI loads only when `devnet up` runs). */

/** Most members a devnet runs: dev accounts 1..7 (0 deploys, 9 is the regulator; anvil prefunds 10). */
export const MAX_DEVNET_MEMBERS = 7;

/** The fraudster's phone of the demo story, on Bank A's list. */
export const DEMO_PHONE = "+86 138 0013 8000";

/**
 * How long an executed Admit waits on a devnet before `riskshare member activate` (and the regulator's
 * veto window): a minute, long enough to try a veto by hand, short enough to wait out.
 */
export const DEVNET_ADMISSION_DELAY_SECONDS = 60n;

/** The devnet's description file, in its directory. */
export const DEVNET_MANIFEST = "devnet.json";

/**
 * The devnet's timelock: an executed Remove, regulator, policy, category-retirement or quorum
 * proposal may be enacted this many seconds later (48 hours on a real consortium).
 */
export const DEVNET_TIMELOCK_DELAY_SECONDS = 10n;
