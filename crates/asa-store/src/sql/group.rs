//! The ledger's group commit. Every reservation, charge and release of this node goes
//! through one writer task that takes everything queued and commits it in one
//! transaction, with a fixed number of statements per group whatever its size: the
//! reservations' state flips, one locked read of the accounts involved, the new balances
//! computed here in arrival order, then one update per account and one multi-row insert
//! each for reservations and ledger lines. When the queue is empty a lone operation
//! commits at once: there is no window to wait for company.
//!
//! Nothing is answered before its group has committed, so a 2xx leaves only after its
//! charge is durable. The invariants are the single-operation path's:
//! - a balance never goes below zero: each reservation is checked against the balance as
//!   the operations before it in the group left it, under the database's lock on the
//!   account (SQLite's one writer; `FOR UPDATE` on PostgreSQL, in id order, so two nodes'
//!   groups never deadlock), and the table's CHECK stays the backstop;
//! - nothing is charged twice: the charge is the `held -> charged` flip of the request's
//!   reservation row, and the ledger's UNIQUE (kind, request_id) still holds;
//! - a dead node's reservations lapse as before: they are rows with an expiry.
//!
//! What the group does not decide goes the single-operation way after the group committed
//! (`Deferred`): a reservation that needs an auto-top-up (the payment may take a while and
//! must not hold the group), one whose account the read did not find, a charge whose
//! reservation was not held (a replay, a late charge after expiry), and a request id met
//! twice in one group. If the group's transaction fails (a reservation whose request id
//! was reserved before is one way), it is rolled back and every operation in it runs the
//! single-operation way, so one bad operation costs the others only time.

use super::ledger::{auto_topup_of, holdings, Holdings};
use super::write_gate::Lane;
use super::{duration_ms, from_ms, get, to_ms, SqlStore};
use crate::error::{ReserveError, StoreError};
use crate::types::{ChargeOutcome, LedgerKind, Reservation};
use asa_model::{AccountId, Credits, RequestId};
use chrono::{DateTime, Utc};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Connection};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Weak};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// Most operations committed in one transaction: bounds the statements' parameter
/// counts (8 per ledger line, far under SQLite's 32,766 and PostgreSQL's 65,535) and how
/// long one commit holds the writer.
const MAX_GROUP: usize = 512;

type Reply<T, E = StoreError> = oneshot::Sender<Result<T, E>>;

/// What one ledger operation asks.
#[derive(Clone)]
pub(crate) enum Req {
    Reserve {
        account_id: AccountId,
        request_id: RequestId,
        cost: Credits,
        ttl: Duration,
    },
    Charge(Reservation),
    Release(Reservation),
}

impl Req {
    fn request_id(&self) -> &RequestId {
        match self {
            Req::Reserve { request_id, .. } => request_id,
            Req::Charge(r) | Req::Release(r) => &r.request_id,
        }
    }
}

/// Where its answer goes.
pub(crate) enum ReplyTo {
    Reserve(Reply<Reservation, ReserveError>),
    Charge(Reply<ChargeOutcome>),
    Release(Reply<bool>),
}

/// One ledger operation waiting for its group.
pub(crate) struct Op {
    req: Req,
    reply: ReplyTo,
}

/// The sending side, held by the store; the writer task stops when it is dropped.
pub(crate) struct LedgerQueue(mpsc::UnboundedSender<Op>);

impl LedgerQueue {
    /// Starts the writer for `store`, which owns the returned queue (hence the weak
    /// reference: the task must not keep its store alive).
    ///
    /// `relaxed`, for a SQLite file, is a connection of the writer's own that commits
    /// without syncing to disk, for groups without a charge (see [`Durability`]).
    pub(crate) fn start(store: Weak<SqlStore>, relaxed: Option<AnyConnection>) -> LedgerQueue {
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(writer(store, rx, relaxed));
        LedgerQueue(tx)
    }
}

/// How a group commits. A charge is what a 2xx waits for, so a group holding one commits
/// on a connection with `synchronous = FULL` (SQLite syncs the WAL before the commit
/// returns; PostgreSQL always flushes its WAL at commit). A group of reservations and
/// releases only commits without the sync on SQLite: losing it to a power cut (the process
/// survives anything less) loses credits held, never a charge: the node died with its
/// requests, a lost reservation is as if never taken (a charge of it would find no row and
/// deliver no 2xx), a lost release leaves the reservation to expire. The WAL is one
/// sequence, so a later synced commit carries every earlier one with it.
pub(crate) enum Durability {
    Synced,
    Relaxed,
}

impl Durability {
    /// The pragma a relaxed connection runs once.
    pub(crate) const RELAXED_PRAGMA: &'static str = "PRAGMA synchronous = NORMAL";

    fn of(reqs: &[Req]) -> Durability {
        if reqs.iter().any(|r| matches!(r, Req::Charge(_))) {
            Durability::Synced
        } else {
            Durability::Relaxed
        }
    }
}

fn writer_gone() -> StoreError {
    StoreError::Corrupt("the ledger's writer has stopped".into())
}

async fn writer(
    store: Weak<SqlStore>,
    mut rx: mpsc::UnboundedReceiver<Op>,
    mut relaxed: Option<AnyConnection>,
) {
    let mut group = Vec::with_capacity(MAX_GROUP);
    while rx.recv_many(&mut group, MAX_GROUP).await > 0 {
        let Some(store) = store.upgrade() else {
            return; // dropping the group's replies tells their callers
        };
        let ops = std::mem::replace(&mut group, Vec::with_capacity(MAX_GROUP));
        if store.commit_group(ops, relaxed.as_mut()).await == Relaxed::Broken {
            // Later groups commit through the pool, synced: slower, never wrong.
            if let Some(conn) = relaxed.take() {
                let _ = conn.close().await;
            }
        }
    }
    if let Some(conn) = relaxed {
        let _ = conn.close().await;
    }
}

/// Whether the writer's relaxed connection is still fit for use.
#[derive(Debug, PartialEq, Eq)]
enum Relaxed {
    Fine,
    /// It failed a group: it may be broken, so it is closed.
    Broken,
}

/// An account as the group's read found it, and what the group changed.
struct Account {
    now: Holdings,
    delta_balance: Credits,
    delta_reserved: Credits,
    /// The auto-top-up threshold, when the account has auto-top-up on.
    topup_below: Option<Credits>,
}

/// A ledger line the group writes.
struct Line {
    account_id: AccountId,
    kind: LedgerKind,
    amount: Credits,
    after: Holdings,
    request_id: RequestId,
}

/// A reservation row the group writes.
struct Held {
    request_id: RequestId,
    account_id: AccountId,
    cost: Credits,
    expires_at: i64,
}

/// What the group decided for one operation (by its index in the group).
enum Decision {
    Reserved(Result<Reservation, ReserveError>),
    Charged(ChargeOutcome),
    Released(bool),
    /// Left to the single-operation path, after the group.
    Alone,
}

/// Everything a group decided, written in one go.
struct Plan {
    lines: Vec<Line>,
    held: Vec<Held>,
    decisions: Vec<Decision>,
}

impl SqlStore {
    /// Queues `req` for the next group and waits for its answer.
    async fn queue<T, E: From<StoreError>>(
        &self,
        req: Req,
        reply: impl FnOnce(Reply<T, E>) -> ReplyTo,
    ) -> Result<T, E> {
        let (tx, answer) = oneshot::channel();
        let op = Op {
            req,
            reply: reply(tx),
        };
        if self.ledger.0.send(op).is_err() {
            return Err(writer_gone().into());
        }
        answer.await.map_err(|_| writer_gone())?
    }

    pub(crate) async fn reserve_grouped(
        &self,
        account_id: &AccountId,
        request_id: &RequestId,
        cost: Credits,
        ttl: Duration,
    ) -> Result<Reservation, ReserveError> {
        if !cost.is_positive() {
            return Err(StoreError::InvalidArgument("cost must be > 0".into()).into());
        }
        let req = Req::Reserve {
            account_id: account_id.clone(),
            request_id: request_id.clone(),
            cost,
            ttl,
        };
        self.queue(req, ReplyTo::Reserve).await
    }

    pub(crate) async fn charge_grouped(
        &self,
        r: &Reservation,
    ) -> Result<ChargeOutcome, StoreError> {
        self.queue(Req::Charge(r.clone()), ReplyTo::Charge).await
    }

    pub(crate) async fn release_grouped(&self, r: &Reservation) -> Result<bool, StoreError> {
        self.queue(Req::Release(r.clone()), ReplyTo::Release).await
    }

    /// Commits `ops` as one transaction, answers them, then runs what was left to the
    /// single-operation path. Says whether the relaxed connection failed the group.
    async fn commit_group(
        self: Arc<Self>,
        ops: Vec<Op>,
        relaxed: Option<&mut AnyConnection>,
    ) -> Relaxed {
        let now = self.now();
        let mut alone = Vec::new();
        let mut reqs = Vec::with_capacity(ops.len());
        let mut replies = Vec::with_capacity(ops.len());
        let mut seen = HashSet::with_capacity(ops.len());
        for op in ops {
            // A request id met twice in one group goes alone after it, so no statement
            // meets the same row twice.
            if seen.insert(op.req.request_id().to_string()) {
                reqs.push(op.req);
                replies.push(op.reply);
            } else {
                alone.push(op);
            }
        }
        let mut on_relaxed = false;
        let committed: Result<Plan, StoreError> = match (Durability::of(&reqs), relaxed) {
            (Durability::Relaxed, Some(conn)) => {
                on_relaxed = true;
                // The writer's own connection still takes SQLite's one writer in turn.
                let _writer = self.enter_writer(Lane::Settle).await;
                async {
                    let mut tx = conn.begin_with(self.dialect.begin()).await?;
                    let plan = self.apply_group(&mut tx, &reqs, now).await?;
                    tx.commit().await?;
                    Ok(plan)
                }
                .await
            }
            _ => {
                async {
                    let mut w = self.begin_settling_write().await?;
                    let plan = self.apply_group(&mut w.tx, &reqs, now).await?;
                    w.commit().await?;
                    Ok(plan)
                }
                .await
            }
        };
        // A replayed request id fails a group through no fault of the connection.
        let broken = on_relaxed
            && matches!(&committed, Err(e) if !matches!(e, StoreError::DuplicateRequest { .. }));
        match committed {
            Ok(plan) => {
                for ((req, reply), decision) in reqs.into_iter().zip(replies).zip(plan.decisions) {
                    // A caller that went away no longer needs the answer; the operation
                    // stands (its guard, if dropped, settles it in turn).
                    match (reply, decision) {
                        (ReplyTo::Reserve(tx), Decision::Reserved(r)) => drop(tx.send(r)),
                        (ReplyTo::Charge(tx), Decision::Charged(c)) => drop(tx.send(Ok(c))),
                        (ReplyTo::Release(tx), Decision::Released(b)) => drop(tx.send(Ok(b))),
                        (reply, _) => alone.push(Op { req, reply }),
                    }
                }
            }
            Err(e) => {
                // Rolled back: nothing of the group stands, so each may go alone.
                tracing::warn!(error = %e, size = reqs.len(), "ledger group failed; settling its operations one by one");
                alone.extend(
                    reqs.into_iter()
                        .zip(replies)
                        .map(|(req, reply)| Op { req, reply }),
                );
            }
        }
        for op in alone {
            let store = self.clone();
            tokio::spawn(async move { store.run_alone(op).await });
        }
        if broken {
            Relaxed::Broken
        } else {
            Relaxed::Fine
        }
    }

    /// The single-operation path, for what a group does not decide.
    async fn run_alone(&self, Op { req, reply }: Op) {
        match (req, reply) {
            (
                Req::Reserve {
                    account_id,
                    request_id,
                    cost,
                    ttl,
                },
                ReplyTo::Reserve(tx),
            ) => drop(tx.send(self.reserve_impl(&account_id, &request_id, cost, ttl).await)),
            (Req::Charge(r), ReplyTo::Charge(tx)) => drop(tx.send(self.charge_impl(&r).await)),
            (Req::Release(r), ReplyTo::Release(tx)) => drop(tx.send(self.release_impl(&r).await)),
            // `queue` pairs each request with its own kind of reply.
            (req, _) => tracing::error!(
                request_id = %req.request_id(),
                "ledger operation with a mismatched reply"
            ),
        }
    }

    /// Decides and writes every operation of the group inside its transaction.
    async fn apply_group(
        &self,
        tx: &mut AnyConnection,
        reqs: &[Req],
        now: DateTime<Utc>,
    ) -> Result<Plan, StoreError> {
        let plan = self.plan_group(tx, reqs, now).await?;
        self.write_plan(tx, &plan, now).await?;
        Ok(plan)
    }

    /// Decides every operation of the group inside its transaction, and updates the
    /// accounts it changed.
    async fn plan_group(
        &self,
        tx: &mut AnyConnection,
        reqs: &[Req],
        now: DateTime<Utc>,
    ) -> Result<Plan, StoreError> {
        let now_ms = to_ms(now);
        let ids = |want: fn(&Req) -> bool| -> Vec<RequestId> {
            reqs.iter()
                .filter(|r| want(r))
                .map(|r| r.request_id().clone())
                .collect()
        };
        let charged = self
            .flip(tx, &ids(|r| matches!(r, Req::Charge(_))), "charged", now_ms)
            .await?;
        let released = self
            .flip(
                tx,
                &ids(|r| matches!(r, Req::Release(_))),
                "released",
                now_ms,
            )
            .await?;
        let mut involved: Vec<&AccountId> = reqs
            .iter()
            .filter_map(|r| match r {
                Req::Reserve { account_id, .. } => Some(account_id),
                _ => None,
            })
            .chain(charged.values().map(|(a, _)| a))
            .chain(released.values().map(|(a, _)| a))
            .collect();
        involved.sort_unstable();
        involved.dedup();
        let mut accounts = self.lock_accounts(tx, &involved).await?;

        let mut plan = Plan {
            lines: Vec::new(),
            held: Vec::new(),
            decisions: Vec::with_capacity(reqs.len()),
        };
        // Accounts one of whose reservations went alone: the later ones follow it, so an
        // account's reservations are still decided in arrival order.
        let mut slow: HashSet<&AccountId> = HashSet::new();
        for req in reqs {
            let decision = match req {
                Req::Charge(r) => match charged.get(&r.request_id) {
                    // Not held: a replay, a release that won, or a late charge after expiry.
                    None => Decision::Alone,
                    Some((account_id, cost)) => {
                        let a = account(&mut accounts, account_id)?;
                        a.delta_reserved -= *cost;
                        a.now.reserved -= *cost;
                        let after = a.now;
                        plan.line(account_id, LedgerKind::Charge, *cost, after, &r.request_id);
                        Decision::Charged(ChargeOutcome::Charged {
                            balance: after.balance,
                            late: false,
                        })
                    }
                },
                Req::Release(r) => match released.get(&r.request_id) {
                    // Charged, released or expired already: nothing to give back.
                    None => Decision::Released(false),
                    Some((account_id, cost)) => {
                        let a = account(&mut accounts, account_id)?;
                        a.delta_balance += *cost;
                        a.delta_reserved -= *cost;
                        a.now.balance += *cost;
                        a.now.reserved -= *cost;
                        let after = a.now;
                        plan.line(account_id, LedgerKind::Release, *cost, after, &r.request_id);
                        Decision::Released(true)
                    }
                },
                Req::Reserve {
                    account_id,
                    request_id,
                    cost,
                    ttl,
                } => {
                    let cost = *cost;
                    let a = accounts
                        .get_mut(account_id)
                        .filter(|_| !slow.contains(account_id));
                    match a {
                        Some(a)
                            if a.now.balance >= cost
                                && a.topup_below.is_none_or(|t| a.now.balance - cost >= t) =>
                        {
                            a.delta_balance -= cost;
                            a.delta_reserved += cost;
                            a.now.balance -= cost;
                            a.now.reserved += cost;
                            let after = a.now;
                            let expires_at = now_ms.saturating_add(duration_ms(*ttl));
                            plan.line(account_id, LedgerKind::Reserve, cost, after, request_id);
                            plan.held.push(Held {
                                request_id: request_id.clone(),
                                account_id: account_id.clone(),
                                cost,
                                expires_at,
                            });
                            Decision::Reserved(Ok(Reservation {
                                request_id: request_id.clone(),
                                account_id: account_id.clone(),
                                cost,
                                expires_at: from_ms(expires_at)?,
                                balance_after: after.balance,
                            }))
                        }
                        Some(a) if a.topup_below.is_none() => {
                            Decision::Reserved(Err(ReserveError::Insufficient {
                                balance: a.now.balance,
                                cost,
                            }))
                        }
                        // Auto-top-up due (its payment must not hold the group), an
                        // account not found, or one already gone alone.
                        _ => {
                            slow.insert(account_id);
                            Decision::Alone
                        }
                    }
                }
            };
            plan.decisions.push(decision);
        }
        for (id, a) in &accounts {
            if a.delta_balance != Credits::ZERO || a.delta_reserved != Credits::ZERO {
                sqlx::query(
                    "UPDATE accounts SET balance = balance + $1, reserved = reserved + $2 \
                     WHERE id = $3",
                )
                .bind(a.delta_balance)
                .bind(a.delta_reserved)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            }
        }
        Ok(plan)
    }

    /// Flips the `held` reservations among `ids` to `state`; returns each flipped one's
    /// account and cost.
    async fn flip(
        &self,
        tx: &mut AnyConnection,
        ids: &[RequestId],
        state: &str,
        now: i64,
    ) -> Result<HashMap<RequestId, (AccountId, Credits)>, StoreError> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let sql = format!(
            "UPDATE reservations SET state = $1, settled_at = $2 \
             WHERE state = 'held' AND request_id IN ({}) RETURNING request_id, account_id, cost",
            placeholders(3, ids.len())
        );
        let mut q = sqlx::query(&sql).bind(state).bind(now);
        for id in ids {
            q = q.bind(id);
        }
        q.fetch_all(&mut *tx)
            .await?
            .iter()
            .map(|row| {
                Ok((
                    get::<RequestId>(row, "request_id")?,
                    (get(row, "account_id")?, get(row, "cost")?),
                ))
            })
            .collect()
    }

    /// Reads (and on PostgreSQL locks, in id order) the accounts the group touches.
    async fn lock_accounts(
        &self,
        tx: &mut AnyConnection,
        ids: &[&AccountId],
    ) -> Result<HashMap<AccountId, Account>, StoreError> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let sql = format!(
            "SELECT id, balance, reserved, topup_threshold, topup_amount, topup_monthly_cap \
             FROM accounts WHERE id IN ({}) ORDER BY id{}",
            placeholders(1, ids.len()),
            self.dialect.for_update()
        );
        let mut q = sqlx::query(&sql);
        for id in ids {
            q = q.bind(*id);
        }
        q.fetch_all(&mut *tx)
            .await?
            .iter()
            .map(|row| Ok((get::<AccountId>(row, "id")?, account_of(row)?)))
            .collect()
    }

    /// The group's new reservation rows and ledger lines, one statement each.
    async fn write_plan(
        &self,
        tx: &mut AnyConnection,
        plan: &Plan,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let now = to_ms(now);
        if !plan.held.is_empty() {
            let sql = format!(
                "INSERT INTO reservations (request_id, account_id, cost, state, created_at, \
                 expires_at) VALUES {} ON CONFLICT (request_id) DO NOTHING RETURNING request_id",
                rows(plan.held.len(), 5, "'held', ")
            );
            let mut q = sqlx::query(&sql);
            for h in &plan.held {
                q = q
                    .bind(&h.request_id)
                    .bind(&h.account_id)
                    .bind(h.cost)
                    .bind(now)
                    .bind(h.expires_at);
            }
            let inserted: HashSet<RequestId> = q
                .fetch_all(&mut *tx)
                .await?
                .iter()
                .map(|row| get(row, "request_id"))
                .collect::<Result<_, _>>()?;
            // A request id reserved before (a replay): the group rolls back and each of its
            // operations goes alone, where the replay is refused on its own. Request ids are
            // the server's own, so this is all but never.
            if let Some(h) = plan.held.iter().find(|h| !inserted.contains(&h.request_id)) {
                return Err(StoreError::DuplicateRequest {
                    request_id: h.request_id.clone(),
                });
            }
        }
        if !plan.lines.is_empty() {
            let sql = format!(
                "INSERT INTO ledger (account_id, kind, amount, balance_after, reserved_after, \
                 request_id, created_at) VALUES {}",
                rows(plan.lines.len(), 7, "")
            );
            let mut q = sqlx::query(&sql);
            for l in &plan.lines {
                q = q
                    .bind(&l.account_id)
                    .bind(l.kind.as_str())
                    .bind(l.amount)
                    .bind(l.after.balance)
                    .bind(l.after.reserved)
                    .bind(&l.request_id)
                    .bind(now);
            }
            q.execute(&mut *tx).await?;
        }
        Ok(())
    }
}

impl Plan {
    fn line(
        &mut self,
        account_id: &AccountId,
        kind: LedgerKind,
        amount: Credits,
        after: Holdings,
        request_id: &RequestId,
    ) {
        self.lines.push(Line {
            account_id: account_id.clone(),
            kind,
            amount,
            after,
            request_id: request_id.clone(),
        });
    }
}

fn account<'a>(
    accounts: &'a mut HashMap<AccountId, Account>,
    id: &AccountId,
) -> Result<&'a mut Account, StoreError> {
    // A flipped reservation's account was read under the same lock; a missing one is a
    // broken foreign key.
    accounts
        .get_mut(id)
        .ok_or_else(|| StoreError::Corrupt(format!("reservation of a missing account {id}")))
}

fn account_of(row: &AnyRow) -> Result<Account, StoreError> {
    Ok(Account {
        now: holdings(row)?,
        delta_balance: Credits::ZERO,
        delta_reserved: Credits::ZERO,
        // Read as the single-operation path reads it: on only with all three columns set.
        topup_below: auto_topup_of(row)?.map(|a| a.threshold),
    })
}

/// `$first, $first+1, ...` for `n` values.
fn placeholders(first: usize, n: usize) -> String {
    let mut s = String::with_capacity(n * 5);
    for i in 0..n {
        if i > 0 {
            s.push_str(", ");
        }
        s.push('$');
        s.push_str(&(first + i).to_string());
    }
    s
}

/// `n` row tuples of `width` placeholders each, numbered from `$1`; `fixed` is put
/// literally after the first two columns (the reservations' constant state).
fn rows(n: usize, width: usize, fixed: &str) -> String {
    let mut s = String::with_capacity(n * width * 5);
    for r in 0..n {
        if r > 0 {
            s.push_str(", ");
        }
        s.push('(');
        for c in 0..width {
            if c > 0 {
                s.push_str(", ");
            }
            if c == 3 && !fixed.is_empty() {
                s.push_str(fixed);
            }
            s.push('$');
            s.push_str(&(r * width + c + 1).to_string());
        }
        s.push(')');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statement_shapes() {
        assert_eq!(placeholders(3, 2), "$3, $4");
        assert_eq!(rows(2, 2, ""), "($1, $2), ($3, $4)");
        assert_eq!(rows(1, 5, "'held', "), "($1, $2, $3, 'held', $4, $5)");
    }
}
