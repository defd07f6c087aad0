//! Record/replay cassettes: every model call of a run and its outcome (reply or error),
//! keyed by a SHA-256 of what determines the answer — provider, model, parameters, system
//! prompt, prompt and answer schema. A replayed run answers from the cassette alone: no
//! network, the same replies, usage and costs, so its output is byte for byte the recorded
//! run's. A call the cassette does not hold is an error of that call, never a fallback.
//!
//! The file is JSON lines: a header `{"cassette": "strat", "version": 1, "label": …}` (the
//! recorded run's model label, which the replay shows as its own), then one line per call in
//! the order made: `{"key", "agent", "provider", "model", "reply": LlmReply}` or
//! `{…, "error": LlmError}`. The same request made twice has two lines, replayed in order.
//! Keys never reach it: replies and errors are scrubbed by the providers.
//! The caller writes and reads the file (atomically, through a temporary file).

use serde_json::json;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};
use strat_engine::llm::{ErrorKind, Llm, LlmError, LlmReply, LlmRequest};

pub const VERSION: u64 = 1;

/// The cassette key of a request.
pub fn key(r: &LlmRequest) -> String {
    let what = json!({
        "provider": r.model.provider,
        "model": r.model.model,
        "params": r.model.params,
        "system": r.system,
        "prompt": r.prompt,
        "schema": r.schema,
    });
    Sha256::digest(what.to_string().as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Reply(LlmReply),
    Error(LlmError),
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Entry {
    pub key: String,
    pub agent: String,
    pub provider: String,
    pub model: String,
    #[serde(flatten)]
    pub outcome: Outcome,
}

impl Entry {
    /// A replayed call's usage counts against the run's budgets, so it must be a real one: a
    /// cost that is negative (or not a number) would give budget back.
    fn check_usage(&self) -> Result<(), String> {
        match &self.outcome {
            Outcome::Reply(r) if !(r.cost.is_finite() && r.cost >= 0.0) => {
                Err(format!("the recorded cost {} is not a cost (0 or more dollars)", r.cost))
            }
            _ => Ok(()),
        }
    }
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Header {
    cassette: String,
    version: u64,
    label: String,
}

/// The calls of one run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tape {
    pub label: String,
    pub entries: Vec<Entry>,
}

impl Tape {
    /// The file's text.
    pub fn to_text(&self) -> String {
        let header = Header { cassette: "strat".into(), version: VERSION, label: self.label.clone() };
        let mut out = serde_json::to_string(&header).unwrap_or_default();
        out.push('\n');
        for e in &self.entries {
            out.push_str(&serde_json::to_string(e).unwrap_or_default());
            out.push('\n');
        }
        out
    }

    /// Reads a cassette; an error names the line.
    pub fn parse(text: &str) -> Result<Tape, CassetteError> {
        let mut lines = text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty());
        let (_, first) = lines.next().ok_or(CassetteError::Empty)?;
        let header: Header = serde_json::from_str(first).map_err(|_| CassetteError::NoHeader)?;
        if header.cassette != "strat" || header.version != VERSION {
            return Err(CassetteError::Version);
        }
        let entries = lines
            .map(|(i, l)| {
                let entry: Entry =
                    serde_json::from_str(l).map_err(|e| CassetteError::Call { line: i + 1, reason: e.to_string() })?;
                entry.check_usage().map_err(|reason| CassetteError::Call { line: i + 1, reason })?;
                Ok(entry)
            })
            .collect::<Result<Vec<Entry>, CassetteError>>()?;
        Ok(Tape { label: header.label, entries })
    }
}

/// Why a cassette cannot be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CassetteError {
    Empty,
    /// Its first line is not a cassette's header.
    NoHeader,
    /// The header is of another kind or version of cassette.
    Version,
    /// A recorded call cannot be read.
    Call {
        line: usize,
        reason: String,
    },
}

impl std::fmt::Display for CassetteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CassetteError::Empty => f.write_str("the cassette is empty"),
            CassetteError::NoHeader => f.write_str("line 1 is not a strat cassette header"),
            CassetteError::Version => write!(f, "not a version {VERSION} strat cassette"),
            CassetteError::Call { line, reason } => write!(f, "line {line}: {reason}"),
        }
    }
}

impl std::error::Error for CassetteError {}

/// Answers through another `Llm` and records every call.
pub struct Recorder {
    inner: Box<dyn Llm>,
    tape: Arc<Mutex<Tape>>,
}

impl Recorder {
    /// The recorder, and the tape it fills (the caller saves it after the run).
    pub fn new(inner: Box<dyn Llm>) -> (Recorder, Arc<Mutex<Tape>>) {
        let tape = Arc::new(Mutex::new(Tape { label: inner.label(), entries: Vec::new() }));
        (Recorder { inner, tape: tape.clone() }, tape)
    }

    fn record(&self, r: &LlmRequest, outcome: &Result<LlmReply, LlmError>) {
        let entry = Entry {
            key: key(r),
            agent: r.agent.clone(),
            provider: r.model.provider.clone(),
            model: r.model.model.clone(),
            outcome: match outcome {
                Ok(reply) => Outcome::Reply(reply.clone()),
                Err(e) => Outcome::Error(e.clone()),
            },
        };
        self.tape.lock().unwrap_or_else(|p| p.into_inner()).entries.push(entry);
    }
}

impl Llm for Recorder {
    fn label(&self) -> String {
        self.inner.label()
    }

    fn complete(&mut self, request: &LlmRequest) -> Result<LlmReply, LlmError> {
        let out = self.inner.complete(request);
        self.record(request, &out);
        out
    }

    fn complete_all(&mut self, requests: &[LlmRequest]) -> Vec<Result<LlmReply, LlmError>> {
        let out = self.inner.complete_all(requests);
        for (r, o) in requests.iter().zip(&out) {
            self.record(r, o);
        }
        out
    }

    fn notes(&self) -> Vec<String> {
        self.inner.notes()
    }
}

/// Answers from a cassette only.
pub struct Replayer {
    label: String,
    /// What the cassette is called in messages (its file name).
    name: String,
    calls: BTreeMap<String, VecDeque<Outcome>>,
    served: usize,
    missing: usize,
}

impl Replayer {
    pub fn new(tape: Tape, name: &str) -> Replayer {
        let mut calls: BTreeMap<String, VecDeque<Outcome>> = BTreeMap::new();
        for e in tape.entries {
            calls.entry(e.key).or_default().push_back(e.outcome);
        }
        Replayer { label: tape.label, name: name.to_string(), calls, served: 0, missing: 0 }
    }
}

impl Llm for Replayer {
    fn label(&self) -> String {
        self.label.clone()
    }

    fn complete(&mut self, request: &LlmRequest) -> Result<LlmReply, LlmError> {
        let k = key(request);
        match self.calls.get_mut(&k).and_then(VecDeque::pop_front) {
            Some(Outcome::Reply(r)) => {
                self.served += 1;
                Ok(r)
            }
            Some(Outcome::Error(e)) => {
                self.served += 1;
                Err(e)
            }
            None => {
                self.missing += 1;
                Err(LlmError {
                    kind: ErrorKind::Unavailable,
                    message: format!(
                        "the cassette {} has no answer for agent {}'s call to {} {} (key {}); record it again",
                        self.name,
                        request.agent,
                        request.model.provider,
                        request.model.model,
                        &k[..16]
                    ),
                })
            }
        }
    }

    fn notes(&self) -> Vec<String> {
        let mut n = vec![format!("models were replayed from the cassette {} ({} calls)", self.name, self.served)];
        if self.missing > 0 {
            n.push(format!("{} calls were not in the cassette {} and failed", self.missing, self.name));
        }
        n
    }
}
