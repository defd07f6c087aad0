//! The emergency controls (seed §7): cancel every open order of the run, or liquidate (halt,
//! then cancel every open order and sell every position at market). Each is committed as a
//! firing and carried out by the run at its next step, before the broker works that step's
//! bars (the run's broker, paper or Alpaca, is the one that acts); the answer reports every
//! order it touched in its latest state, and the audit log keeps who asked, why and the result.

use super::account::status_name;
use super::lifecycle::WHO;
use super::{ApiError, ApiResult, Shared};
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{Value, json};
use strat_engine::broker::{Order, Status};
use strat_engine::control::{CANCEL_ALL, Firing, LIQUIDATE, OPERATOR};
use strat_store::{Accepted, AuditEntry};

/// How long the answer waits for the run to carry it out, then for its orders to settle.
const WAIT: std::time::Duration = std::time::Duration::from_secs(30);
const SETTLE: std::time::Duration = std::time::Duration::from_secs(10);

/// The orders with these ids in `run`, as the store holds them now.
fn orders(s: &Shared, run: u64, ids: &[u64]) -> ApiResult<Vec<Order>> {
    let all = s.reader.orders(run).map_err(ApiError::store)?;
    Ok(all.into_iter().filter(|o| ids.contains(&o.id)).collect())
}

/// The execution that carried out firing `seq`: its orders' ids, once there.
async fn carried_out(s: &Shared, seq: u64) -> ApiResult<Option<(u64, Vec<u64>)>> {
    let begun = tokio::time::Instant::now();
    while begun.elapsed() < WAIT {
        if let Some(r) = s.controls.firing(seq).map_err(ApiError::store)?
            && let Some(run) = r.run
            && let Some(e) = super::firings::execution_of(s, run, seq)?
        {
            let ids = e["orders"].as_array().into_iter().flatten().filter_map(Value::as_u64).collect();
            return Ok(Some((run, ids)));
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    Ok(None)
}

async fn carry_out(s: Shared, kind: &'static str, body: Bytes) -> ApiResult<(StatusCode, Json<Value>)> {
    super::running(&s)?;
    let why = super::lifecycle::reason(&body)?;
    if kind == LIQUIDATE {
        // Nothing may buy again while the positions are being sold.
        s.controls
            .decide(WHO, "halt", why.clone(), |l| l.halt("liquidated by the operator"))
            .map_err(ApiError::store)?;
    }
    let firing = Firing {
        seq: 0,
        graph: OPERATOR.into(),
        trigger: u32::MAX,
        kind: kind.into(),
        text: kind.into(),
        symbol: None,
        payload: None,
        received: format!("{} (api)", crate::utc_now()),
    };
    let Accepted::New(seq) = s.controls.accept(None, crate::unix_now(), firing).map_err(ApiError::store)? else {
        return Err(ApiError::store("an emergency was taken for a replay"));
    };
    let Some((run, ids)) = carried_out(&s, seq).await? else {
        audit(
            &s,
            kind,
            why,
            format!(
                "firing {seq}: not carried out within {} s; it still waits for the run's next step",
                WAIT.as_secs()
            ),
        )?;
        return Ok((StatusCode::ACCEPTED, Json(json!({"firing": seq, "state": "pending"}))));
    };
    let begun = tokio::time::Instant::now();
    let mut now = orders(&s, run, &ids)?;
    while now.iter().any(|o| o.status == Status::Pending) && begun.elapsed() < SETTLE {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        now = orders(&s, run, &ids)?;
    }
    let items: Vec<Value> = now
        .iter()
        .map(|o| json!({"order": o.id, "symbol": o.symbol, "side": o.side.name(), "qty": o.qty, "by": o.by, "status": status_name(o.status), "reason": o.reason}))
        .collect();
    let mut counts = std::collections::BTreeMap::new();
    for o in &now {
        *counts.entry(status_name(o.status)).or_insert(0) += 1;
    }
    let result = if now.is_empty() {
        "nothing was open or held".to_string()
    } else {
        let parts: Vec<String> = counts.iter().map(|(k, n)| format!("{n} {k}")).collect();
        format!("{} orders: {}", now.len(), parts.join(", "))
    };
    audit(&s, kind, why, format!("firing {seq}: {result}"))?;
    s.tell(format!("{}: {result}", kind.replace('_', "-")));
    Ok((StatusCode::OK, Json(json!({"firing": seq, "run": run, "orders": items, "result": result}))))
}

fn audit(s: &Shared, kind: &str, why: Option<String>, result: String) -> ApiResult<()> {
    let entry = AuditEntry { seq: 0, at: crate::utc_now(), who: WHO.into(), what: kind.replace('_', "-"), why, result };
    s.controls.audit(entry).map(drop).map_err(ApiError::store)
}

pub async fn cancel_all(State(s): State<Shared>, body: Bytes) -> ApiResult<(StatusCode, Json<Value>)> {
    carry_out(s, CANCEL_ALL, body).await
}

pub async fn liquidate(State(s): State<Shared>, body: Bytes) -> ApiResult<(StatusCode, Json<Value>)> {
    carry_out(s, LIQUIDATE, body).await
}
