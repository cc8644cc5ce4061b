//! The ledger: stake, balance, rewards, penalties and slashed amounts of every node.
//!
//! DESIGN.md "Where the spec is silent": rewards are minted to balances; penalties
//! and slashing come out of stake; slashed value is burned, paid to the protocol
//! treasury, or paid to the slot's proposer (YAML `slashed_to`). All arithmetic is
//! checked; the invariant
//! `Σ stake + Σ balance + burned + treasury == genesis + minted` holds after every
//! operation and is re-checked by [`Ledger::conservation_ok`].

use std::collections::BTreeMap;

use alloy_primitives::Address;
use serde::{Deserialize, Serialize};

use super::types::Role;

/// One node's account. Amounts in reward units.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    /// The node's address.
    pub address: Address,
    /// Its role.
    pub role: Role,
    /// Bonded stake.
    pub stake: u64,
    /// Liquid balance (where rewards land).
    pub balance: u64,
    /// Cumulative rewards received.
    pub rewards: u64,
    /// Cumulative protocol penalties taken from stake.
    pub penalties: u64,
    /// Cumulative slashing taken from stake.
    pub slashed: u64,
}

/// Ledger-wide totals, reward units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct LedgerTotals {
    /// Stake plus balances at genesis.
    pub genesis: u64,
    /// Everything minted as rewards since genesis.
    pub minted: u64,
    /// Everything burned (penalties and slashing with `slashed_to: burn`).
    pub burned: u64,
    /// The protocol treasury (`slashed_to: protocol`, the paper's insurance reading).
    pub treasury: u64,
    /// Σ stake now.
    pub stake: u64,
    /// Σ balance now.
    pub balance: u64,
}

/// Where taken stake goes. Mirrors the YAML's `slashed_to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sink {
    /// Destroyed.
    Burn,
    /// Credited to the protocol treasury.
    Treasury,
    /// Credited to this account's balance (the slot's proposer).
    Account(Address),
}

/// Ledger errors. Every one is a bug or a bad genesis, never a user's message.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum LedgerError {
    /// The address has no account.
    #[error("no account for {0}")]
    UnknownAccount(Address),
    /// The address already has an account.
    #[error("duplicate genesis account {0}")]
    DuplicateAccount(Address),
    /// A sum exceeded u64.
    #[error("reward-unit arithmetic overflow")]
    Overflow,
}

/// The ledger. Deterministic iteration order (by address).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ledger {
    accounts: BTreeMap<Address, Account>,
    totals: LedgerTotals,
}

impl Ledger {
    /// Open an account at genesis with `stake` and `balance` reward units.
    ///
    /// # Errors
    /// [`LedgerError::DuplicateAccount`], [`LedgerError::Overflow`].
    pub fn open(
        &mut self,
        address: Address,
        role: Role,
        stake: u64,
        balance: u64,
    ) -> Result<(), LedgerError> {
        if self.accounts.contains_key(&address) {
            return Err(LedgerError::DuplicateAccount(address));
        }
        let add = stake.checked_add(balance).ok_or(LedgerError::Overflow)?;
        self.totals.genesis = self
            .totals
            .genesis
            .checked_add(add)
            .ok_or(LedgerError::Overflow)?;
        self.accounts.insert(
            address,
            Account {
                address,
                role,
                stake,
                balance,
                rewards: 0,
                penalties: 0,
                slashed: 0,
            },
        );
        Ok(())
    }

    /// Mint `amount` into `to`'s balance.
    ///
    /// # Errors
    /// [`LedgerError::UnknownAccount`], [`LedgerError::Overflow`].
    pub fn reward(&mut self, to: Address, amount: u64) -> Result<(), LedgerError> {
        let minted = self
            .totals
            .minted
            .checked_add(amount)
            .ok_or(LedgerError::Overflow)?;
        let acct = self
            .accounts
            .get_mut(&to)
            .ok_or(LedgerError::UnknownAccount(to))?;
        acct.balance = acct
            .balance
            .checked_add(amount)
            .ok_or(LedgerError::Overflow)?;
        acct.rewards = acct
            .rewards
            .checked_add(amount)
            .ok_or(LedgerError::Overflow)?;
        self.totals.minted = minted;
        Ok(())
    }

    /// Take up to `amount` from `from`'s stake and send it to `sink`; returns what
    /// was actually taken (a stake cannot go negative). `slash` chooses whether it
    /// counts as slashing or as a protocol penalty.
    ///
    /// # Errors
    /// [`LedgerError::UnknownAccount`] for `from` or a sink account.
    pub fn take_stake(
        &mut self,
        from: Address,
        amount: u64,
        slash: bool,
        sink: Sink,
    ) -> Result<u64, LedgerError> {
        if let Sink::Account(a) = sink {
            if !self.accounts.contains_key(&a) {
                return Err(LedgerError::UnknownAccount(a));
            }
        }
        let acct = self
            .accounts
            .get_mut(&from)
            .ok_or(LedgerError::UnknownAccount(from))?;
        let taken = amount.min(acct.stake);
        acct.stake -= taken;
        if slash {
            acct.slashed += taken;
        } else {
            acct.penalties += taken;
        }
        match sink {
            Sink::Burn => self.totals.burned += taken,
            Sink::Treasury => self.totals.treasury += taken,
            Sink::Account(a) => {
                let to = self
                    .accounts
                    .get_mut(&a)
                    .ok_or(LedgerError::UnknownAccount(a))?;
                to.balance = to.balance.checked_add(taken).ok_or(LedgerError::Overflow)?;
            }
        }
        Ok(taken)
    }

    /// The account of `address`.
    #[must_use]
    pub fn account(&self, address: &Address) -> Option<&Account> {
        self.accounts.get(address)
    }

    /// All accounts, sorted by address.
    pub fn accounts(&self) -> impl Iterator<Item = &Account> {
        self.accounts.values()
    }

    /// Totals with Σ stake and Σ balance recomputed from the accounts.
    #[must_use]
    pub fn totals(&self) -> LedgerTotals {
        let mut t = self.totals;
        t.stake = self.accounts.values().map(|a| a.stake).sum();
        t.balance = self.accounts.values().map(|a| a.balance).sum();
        t
    }

    /// `Σ stake + Σ balance + burned + treasury == genesis + minted`, in u128 so an
    /// overflow cannot hide a violation.
    #[must_use]
    pub fn conservation_ok(&self) -> bool {
        let t = self.totals();
        u128::from(t.stake) + u128::from(t.balance) + u128::from(t.burned) + u128::from(t.treasury)
            == u128::from(t.genesis) + u128::from(t.minted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(n: u8) -> Address {
        Address::repeat_byte(n)
    }

    #[test]
    fn penalty_is_capped_at_stake_and_conserves() {
        let mut l = Ledger::default();
        l.open(addr(1), Role::Prover, 5, 0).unwrap();
        l.open(addr(2), Role::Validator, 10, 0).unwrap();
        assert_eq!(
            l.take_stake(addr(1), 9, false, Sink::Account(addr(2)))
                .unwrap(),
            5
        );
        assert_eq!(l.account(&addr(1)).unwrap().stake, 0);
        assert_eq!(l.account(&addr(1)).unwrap().penalties, 5);
        assert_eq!(l.account(&addr(2)).unwrap().balance, 5);
        l.reward(addr(1), 7).unwrap();
        assert_eq!(l.totals().minted, 7);
        assert!(l.conservation_ok());
    }

    #[test]
    fn unknown_and_duplicate_accounts_are_errors() {
        let mut l = Ledger::default();
        l.open(addr(1), Role::Prover, 5, 0).unwrap();
        assert_eq!(
            l.open(addr(1), Role::Prover, 5, 0),
            Err(LedgerError::DuplicateAccount(addr(1)))
        );
        assert_eq!(
            l.reward(addr(9), 1),
            Err(LedgerError::UnknownAccount(addr(9)))
        );
        l.reward(addr(1), 1).unwrap();
        assert_eq!(l.reward(addr(1), u64::MAX), Err(LedgerError::Overflow));
        // A failed reward changes nothing.
        assert_eq!(l.totals().minted, 1);
        assert_eq!(l.account(&addr(1)).unwrap().balance, 1);
        assert!(l.conservation_ok());
    }
}
