// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IConsortiumRegistry} from "../interfaces/IConsortiumRegistry.sol";

/// @title The bodies of ConsortiumRegistry's regulator pause and dormancy mark, as an external (linked) library: they
/// run in the registry's context (its storage, its events, `msg.sender` the registry's caller) but
/// their code is not part of the registry's, which must stay under EIP-170's 24,576 bytes.
library ConsortiumHolds {
    /// @dev The regulator's pause of every lookup (one slot of the registry).
    struct Pause {
        /// End of the pause: lookups are paused while now < until; 0 if never paused or lifted by a vote.
        uint64 until;
        /// When the latest pause began, for the consortium-wide cooldown; 0 before the first.
        uint64 lastPausedAt;
    }

    /// @dev A member's activity, kept apart from its record (one slot of the registry per member).
    struct Activity {
        /// The member's latest on-chain action (or its admission, reinstatement or wake).
        uint64 lastActionAt;
        /// When a Remove vote removed it; 0 if none did.
        uint64 removedAt;
        /// Marked by ConsortiumRegistry.markDormant: no vote until its next action.
        bool dormant;
        /// Actions recorded, wrapping. Counting them makes every record of an action change the slot,
        /// so its gas never depends on whether the clock moved since the last one: a transaction's
        /// gas estimate made in the second of the member's previous action (a no-op write) would
        /// otherwise fall 2,800 short once mined a second later.
        uint32 actions;
    }

    /// @dev ConsortiumRegistry.markDormant after its check that `account` is a voting member, of
    /// `votingMembers` with quorum `quorum` now: `dormancyPeriod` has passed since its last action,
    /// and max(2, `quorum`) voting members remain without it. The registry then lowers its count.
    function markDormant(
        Activity storage activity,
        address account,
        uint64 dormancyPeriod,
        uint256 votingMembers,
        uint256 quorum
    ) external {
        uint64 dormantFrom = activity.lastActionAt + dormancyPeriod;
        if (block.timestamp < dormantFrom) revert IConsortiumRegistry.ConsortiumRegistryNotDormant(account, dormantFrom);
        uint256 floor = quorum > 2 ? quorum : 2;
        if (votingMembers - 1 < floor) revert IConsortiumRegistry.ConsortiumRegistryVotingFloor(votingMembers - 1, floor);
        activity.dormant = true;
        emit IConsortiumRegistry.MemberDormant(account);
    }

    /// @dev ConsortiumRegistry.regulatorPause after its caller check: now < `until` <= now + `maxPause`,
    /// and the latest pause began at least `cooldown` ago.
    function pause(Pause storage state, uint64 maxPause, uint64 cooldown, uint64 until) external {
        uint64 latest = uint64(block.timestamp) + maxPause;
        if (until <= block.timestamp || until > latest) {
            revert IConsortiumRegistry.ConsortiumRegistryInvalidPauseEnd(until, latest);
        }
        uint64 last = state.lastPausedAt;
        if (last != 0 && block.timestamp < uint256(last) + cooldown) {
            revert IConsortiumRegistry.ConsortiumRegistryPauseCooldown(last + cooldown);
        }
        state.until = until;
        state.lastPausedAt = uint64(block.timestamp);
        emit IConsortiumRegistry.ConsortiumPaused(msg.sender, until);
    }
}
