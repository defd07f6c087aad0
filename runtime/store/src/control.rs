//! The operator's decisions and the firings from outside, kept in the store: the lifecycle
//! (halted, paused and archived graphs, disabled triggers) survives restarts and reloads; a
//! webhook's call is committed, durably, before it is acknowledged, with its `webhook-id`, so a
//! call seen before is refused and one acknowledged runs exactly once even across a crash. The
//! run asks [`StoreControl`] at each step; its steps' records mark the firings they ran.

use super::{AUDIT, CONTROL, CONTROLLED, FIRINGS, NOTIFICATIONS, PENDING, WEBHOOK_IDS, bad_record, err, json};
use chrono::NaiveDateTime;
use redb::{Database, ReadableDatabase, ReadableTable, ReadableTableMetadata};
use std::sync::Arc;
use strat_engine::control::{Control, Firing, Lifecycle, Said};
use strat_engine::store::StoreError;

/// A firing as the store keeps it: what was asked and what became of it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FiringRecord {
    pub firing: Firing,
    /// `pending` until a run's step ran it, then `done`.
    pub state: String,
    /// The run and step that ran it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<String>,
}

/// What became of a call offered with [`Controls::accept`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accepted {
    /// Committed under this number: it will run.
    New(u64),
    /// Its `webhook-id` was accepted before, under this number: nothing more happens.
    Seen(u64),
}

/// How long a `webhook-id` is remembered: longer than any timestamp the signature check
/// accepts (±5 minutes), so a replay is refused by one check or the other.
const REMEMBER_SECS: i64 = 3600;
/// How often (in calls accepted) the ids older than that are aged out.
const PRUNE_EVERY: u64 = 1024;

/// Reading and changing the operator's decisions, from any thread.
#[derive(Clone)]
pub struct Controls {
    pub(crate) db: Arc<Database>,
}

const LIFECYCLE: &str = "lifecycle";

impl Controls {
    pub fn lifecycle(&self) -> Result<Lifecycle, StoreError> {
        let tx = self.db.begin_read().map_err(err)?;
        let t = tx.open_table(CONTROL).map_err(err)?;
        match t.get(LIFECYCLE).map_err(err)? {
            Some(v) => serde_json::from_str(v.value()).map_err(bad_record),
            None => Ok(Lifecycle::default()),
        }
    }

    /// Changes the lifecycle with `change` in one transaction (so two changes at once both
    /// take), committed durably; returns the lifecycle after.
    pub fn change(&self, change: impl FnOnce(&mut Lifecycle)) -> Result<Lifecycle, StoreError> {
        let tx = self.db.begin_write().map_err(err)?;
        let after = {
            let mut t = tx.open_table(CONTROL).map_err(err)?;
            let mut l: Lifecycle = match t.get(LIFECYCLE).map_err(err)? {
                Some(v) => serde_json::from_str(v.value()).map_err(bad_record)?,
                None => Lifecycle::default(),
            };
            change(&mut l);
            t.insert(LIFECYCLE, json(&l)?.as_str()).map_err(err)?;
            l
        };
        tx.commit().map_err(err)?;
        Ok(after)
    }

    /// Commits `firing` (its `seq` given here) unless `webhook_id` was accepted before, all in
    /// one durable transaction: once this returns [`Accepted::New`], the call is kept whatever
    /// happens to the process. `now` (unix seconds) ages out ids older than any the signature
    /// check would let through.
    pub fn accept(&self, webhook_id: Option<&str>, now: i64, mut firing: Firing) -> Result<Accepted, StoreError> {
        let tx = self.db.begin_write().map_err(err)?;
        let seq = {
            let mut ids = tx.open_table(WEBHOOK_IDS).map_err(err)?;
            if let Some(id) = webhook_id
                && let Some(seen) = ids.get(id).map_err(err)?
            {
                return Ok(Accepted::Seen(seen.value().0));
            }
            let mut firings = tx.open_table(FIRINGS).map_err(err)?;
            let seq = firings.last().map_err(err)?.map_or(1, |(k, _)| k.value() + 1);
            firing.seq = seq;
            let record = FiringRecord { firing, state: "pending".into(), run: None, step: None };
            firings.insert(seq, json(&record)?.as_str()).map_err(err)?;
            tx.open_table(PENDING).map_err(err)?.insert(seq, ()).map_err(err)?;
            if let Some(id) = webhook_id {
                // Aging out reads every id kept, so it is done once every PRUNE_EVERY calls.
                if seq % PRUNE_EVERY == 0 {
                    ids.retain(|_, (_, at)| at >= now - REMEMBER_SECS).map_err(err)?;
                }
                ids.insert(id, (seq, now)).map_err(err)?;
            }
            seq
        };
        tx.commit().map_err(err)?;
        Ok(Accepted::New(seq))
    }

    /// The firings no run has run yet, oldest first (read through the table of those pending,
    /// so a step's poll costs what waits, not every call ever taken).
    pub fn pending(&self) -> Result<Vec<Firing>, StoreError> {
        let tx = self.db.begin_read().map_err(err)?;
        let (waiting, all) = (tx.open_table(PENDING).map_err(err)?, tx.open_table(FIRINGS).map_err(err)?);
        let mut out = Vec::new();
        for kv in waiting.iter().map_err(err)? {
            let (seq, _) = kv.map_err(err)?;
            if let Some(v) = all.get(seq.value()).map_err(err)? {
                let r: FiringRecord = serde_json::from_str(v.value()).map_err(bad_record)?;
                out.push(r.firing);
            }
        }
        Ok(out)
    }

    /// How many firings wait.
    pub fn waiting(&self) -> Result<u64, StoreError> {
        let tx = self.db.begin_read().map_err(err)?;
        tx.open_table(PENDING).map_err(err)?.len().map_err(err)
    }

    pub fn firing(&self, seq: u64) -> Result<Option<FiringRecord>, StoreError> {
        let tx = self.db.begin_read().map_err(err)?;
        let t = tx.open_table(FIRINGS).map_err(err)?;
        t.get(seq).map_err(err)?.map(|v| serde_json::from_str(v.value()).map_err(bad_record)).transpose()
    }
}

/// One entry of the audit log: who did what, when, why, and what came of it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AuditEntry {
    /// Its number (given when it is appended).
    #[serde(default)]
    pub seq: u64,
    /// When, as the machine's clock said it (UTC).
    pub at: String,
    /// `api` (the bearer token's holder) or `local user NAME`.
    pub who: String,
    /// What was done (`halt`, `pause DipBuyer`, …).
    pub what: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub why: Option<String>,
    pub result: String,
}

impl Controls {
    /// Appends `entry` to the audit log, durably; nothing can change or remove it after.
    pub fn audit(&self, mut entry: AuditEntry) -> Result<u64, StoreError> {
        let tx = self.db.begin_write().map_err(err)?;
        let seq = {
            let mut t = tx.open_table(AUDIT).map_err(err)?;
            let seq = t.last().map_err(err)?.map_or(1, |(k, _)| k.value() + 1);
            entry.seq = seq;
            t.insert(seq, json(&entry)?.as_str()).map_err(err)?;
            seq
        };
        tx.commit().map_err(err)?;
        Ok(seq)
    }

    /// Changes the lifecycle with `change` (which says what came of it) and appends who asked,
    /// what, why and that result to the audit log; the lifecycle after and the result.
    pub fn decide(
        &self,
        who: &str,
        what: &str,
        why: Option<String>,
        change: impl FnOnce(&mut Lifecycle) -> String,
    ) -> Result<(Lifecycle, String), StoreError> {
        let mut result = String::new();
        let after = self.change(|l| result = change(l))?;
        let at =
            chrono::DateTime::from_timestamp(self.now(), 0).map_or_else(String::new, |t| t.naive_utc().to_string());
        let entry = AuditEntry { seq: 0, at, who: who.into(), what: what.into(), why, result: result.clone() };
        self.audit(entry)?;
        Ok((after, result))
    }

    /// The wall clock in unix seconds, for the audit log.
    #[allow(clippy::disallowed_methods)] // the audit log says when, by the machine's clock
    fn now(&self) -> i64 {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
        now.map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
    }

    /// Records what became of delivering a notification to one channel.
    pub fn record_delivery(&self, entry: &serde_json::Value) -> Result<(), StoreError> {
        let tx = self.db.begin_write().map_err(err)?;
        {
            let mut t = tx.open_table(NOTIFICATIONS).map_err(err)?;
            let seq = t.last().map_err(err)?.map_or(1, |(k, _)| k.value() + 1);
            t.insert(seq, json(entry)?.as_str()).map_err(err)?;
        }
        tx.commit().map_err(err)
    }

    /// The deliveries of notifications, oldest first.
    pub fn deliveries(&self) -> Result<Vec<serde_json::Value>, StoreError> {
        let tx = self.db.begin_read().map_err(err)?;
        let t = tx.open_table(NOTIFICATIONS).map_err(err)?;
        t.iter()
            .map_err(err)?
            .map(|kv| kv.map_err(err).and_then(|(_, v)| serde_json::from_str(v.value()).map_err(bad_record)))
            .collect()
    }

    /// The audit log, oldest first.
    pub fn audit_log(&self) -> Result<Vec<AuditEntry>, StoreError> {
        let tx = self.db.begin_read().map_err(err)?;
        let t = tx.open_table(AUDIT).map_err(err)?;
        t.iter()
            .map_err(err)?
            .map(|kv| kv.map_err(err).and_then(|(_, v)| serde_json::from_str(v.value()).map_err(bad_record)))
            .collect()
    }
}

/// Marks the firings a step ran as done, in the step's own transaction.
pub(crate) fn record(
    tx: &redb::WriteTransaction,
    run: u64,
    step: NaiveDateTime,
    said: &Said,
) -> Result<(), StoreError> {
    let mut t = tx.open_table(CONTROLLED).map_err(err)?;
    let seq = super::next_seq(&t, run)?;
    let entry = serde_json::json!({"step": step, "said": said});
    t.insert((run, seq), json(&entry)?.as_str()).map_err(err)?;
    let mut firings = tx.open_table(FIRINGS).map_err(err)?;
    let mut waiting = tx.open_table(PENDING).map_err(err)?;
    for f in &said.firings {
        let record =
            FiringRecord { firing: f.clone(), state: "done".into(), run: Some(run), step: Some(step.to_string()) };
        firings.insert(f.seq, json(&record)?.as_str()).map_err(err)?;
        waiting.remove(f.seq).map_err(err)?;
    }
    Ok(())
}

/// What the control said at each journaled step of `run`.
pub(crate) fn controlled(db: &Database, run: u64) -> Result<Vec<(NaiveDateTime, Said)>, StoreError> {
    #[derive(serde::Deserialize)]
    struct Entry {
        step: NaiveDateTime,
        said: Said,
    }
    let tx = db.begin_read().map_err(err)?;
    let t = tx.open_table(CONTROLLED).map_err(err)?;
    let mut out = Vec::new();
    for kv in t.range((run, 0)..=(run, u64::MAX)).map_err(err)? {
        let (_, v) = kv.map_err(err)?;
        let e: Entry = serde_json::from_str(v.value()).map_err(bad_record)?;
        out.push((e.step, e.said));
    }
    Ok(out)
}

/// The run's control: the lifecycle and the pending firings, read from the store at each step.
pub struct StoreControl {
    pub controls: Controls,
}

impl Control for StoreControl {
    fn poll(&mut self, _step: NaiveDateTime) -> Result<Said, String> {
        let lifecycle = self.controls.lifecycle().map_err(|e| e.to_string())?;
        let firings = self.controls.pending().map_err(|e| e.to_string())?;
        Ok(Said { lifecycle, firings })
    }
}
