//! Notifications: what `notify "…"` says in a run, and what the operator's emergency controls
//! did, delivered to the channels configured — a generic outgoing webhook signed as Standard
//! Webhooks sign, and Slack-compatible incoming webhooks — on a thread of their own, each
//! retried with a doubling pause. A delivery that fails is recorded (and said), never fatal: the
//! run goes on whatever the channels do. Everything said is in the run's log as well.

use crate::signature::{Secret, sign};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::time::Duration;
use strat_store::Controls;

/// Where notifications go.
#[derive(Debug, Clone)]
pub enum Channel {
    /// `POST` of `{"type", "id", "time", "source", "message", "run"}`, signed when a secret is set.
    Webhook { url: String, secret: Option<Secret> },
    /// `POST` of `{"text": …}`.
    Slack { url: String },
}

impl Channel {
    /// What the records call it: its kind and host, never its whole address (a Slack address
    /// is itself a secret).
    pub fn name(&self) -> String {
        let (kind, url) = match self {
            Channel::Webhook { url, .. } => ("webhook", url),
            Channel::Slack { url } => ("slack", url),
        };
        let host = url.split("://").nth(1).and_then(|r| r.split(['/', '?']).next()).unwrap_or("?");
        format!("{kind} {host}")
    }
}

/// One thing to say.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Note {
    /// Unique to the note (the receiver's idempotency key: `webhook-id`).
    pub id: String,
    pub time: String,
    /// The graph that said it, or `operator`.
    pub source: String,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub run: Option<u64>,
}

/// How deliveries are tried.
#[derive(Debug, Clone, Copy)]
pub struct Retry {
    pub attempts: u32,
    pub first_pause: Duration,
    pub timeout: Duration,
}

impl Default for Retry {
    fn default() -> Retry {
        Retry { attempts: 4, first_pause: Duration::from_millis(500), timeout: Duration::from_secs(10) }
    }
}

/// The most notes waiting to be delivered; more are recorded as not delivered.
const QUEUE: usize = 1024;

/// Delivers notes on its own thread until dropped (it then delivers what waits, and stops).
pub struct Notifier {
    tx: Option<SyncSender<Note>>,
    thread: Option<std::thread::JoinHandle<()>>,
    controls: Option<Controls>,
}

impl Notifier {
    /// Starts delivering to `channels`, recording each outcome through `controls` (if given).
    pub fn start(channels: Vec<Channel>, retry: Retry, controls: Option<Controls>) -> std::io::Result<Notifier> {
        let (tx, rx) = sync_channel::<Note>(QUEUE);
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        let client = reqwest::Client::builder().timeout(retry.timeout).build().map_err(std::io::Error::other)?;
        let recorder = controls.clone();
        let thread = std::thread::Builder::new().name("strat-notify".into()).spawn(move || {
            runtime.block_on(deliver_all(rx, &channels, &client, retry, recorder.as_ref()));
        })?;
        Ok(Notifier { tx: Some(tx), thread: Some(thread), controls })
    }

    /// Hands `note` over for delivery without waiting.
    pub fn send(&self, note: Note) {
        let Some(tx) = &self.tx else { return };
        if let Err(TrySendError::Full(n) | TrySendError::Disconnected(n)) = tx.try_send(note) {
            record(self.controls.as_ref(), &n, "all", Err(format!("not delivered: {QUEUE} notes already wait")), 0);
        }
    }
}

impl Drop for Notifier {
    fn drop(&mut self) {
        drop(self.tx.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

async fn deliver_all(
    rx: Receiver<Note>,
    channels: &[Channel],
    client: &reqwest::Client,
    retry: Retry,
    controls: Option<&Controls>,
) {
    // The channel is read on this thread; a blocking receive between notes is what it waits on.
    while let Ok(note) = rx.recv() {
        for c in channels {
            let (outcome, attempts) = deliver(client, c, &note, retry).await;
            record(controls, &note, &c.name(), outcome, attempts);
        }
    }
}

/// One note to one channel, retried on a failure worth retrying; the outcome and the attempts.
async fn deliver(client: &reqwest::Client, c: &Channel, note: &Note, retry: Retry) -> (Result<u16, String>, u32) {
    let mut pause = retry.first_pause;
    let mut last = Err("not tried".to_string());
    for attempt in 1..=retry.attempts.max(1) {
        last = once(client, c, note).await;
        let again = match &last {
            Ok(_) => false,
            // A refusal the receiver means (bad request, gone) is not sent again.
            Err(e) => !e.starts_with("refused 4") || e.starts_with("refused 408") || e.starts_with("refused 429"),
        };
        if !again || attempt == retry.attempts.max(1) {
            return (last, attempt);
        }
        tokio::time::sleep(pause).await;
        pause = pause.saturating_mul(2);
    }
    (last, retry.attempts)
}

async fn once(client: &reqwest::Client, c: &Channel, note: &Note) -> Result<u16, String> {
    let request = match c {
        Channel::Webhook { url, secret } => {
            let body = serde_json::to_vec(&serde_json::json!({"type": "notification", "id": note.id, "time": note.time, "source": note.source, "message": note.message, "run": note.run}))
                .map_err(|e| e.to_string())?;
            let mut r = client.post(url).header("content-type", "application/json");
            if let Some(secret) = secret {
                let ts = crate::unix_now();
                r = r
                    .header(crate::signature::ID_HEADER, &note.id)
                    .header(crate::signature::TIMESTAMP_HEADER, ts.to_string())
                    .header(crate::signature::SIGNATURE_HEADER, sign(secret, &note.id, ts, &body));
            }
            r.body(body)
        }
        Channel::Slack { url } => {
            let text = format!("strat {}: {}", note.source, note.message);
            client.post(url).json(&serde_json::json!({"text": text}))
        }
    };
    let status = request.send().await.map_err(|e| format!("not delivered: {e}"))?.status().as_u16();
    if (200..300).contains(&status) { Ok(status) } else { Err(format!("refused {status}")) }
}

fn record(controls: Option<&Controls>, note: &Note, channel: &str, outcome: Result<u16, String>, attempts: u32) {
    let result = match &outcome {
        Ok(status) => format!("delivered ({status})"),
        Err(e) => e.clone(),
    };
    if outcome.is_err() {
        eprintln!("warning: the notification {} to {channel} failed after {attempts} attempt(s): {result}", note.id);
    }
    let Some(controls) = controls else { return };
    let entry = serde_json::json!({"at": crate::utc_now(), "note": note, "channel": channel, "attempts": attempts, "delivered": outcome.is_ok(), "result": result});
    if let Err(e) = controls.record_delivery(&entry) {
        eprintln!("warning: the delivery of notification {} could not be recorded: {e}", note.id);
    }
}
