//! A small LSP client: runs the real `strat lsp` process and speaks JSON-RPC over its standard
//! input and output. Shared by the LSP tests and the LSP benchmark.
#![allow(dead_code)] // the tests and the benchmark use different parts
#![allow(clippy::disallowed_methods)] // a test client waits with deadlines of its own

use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

pub struct Client {
    child: Child,
    stdin: ChildStdin,
    incoming: Receiver<Value>,
    /// Notifications and server requests received while waiting for something else.
    pub backlog: Vec<Value>,
    next_id: i64,
}

/// How long any single wait may take before the test fails (a hang, not a slow answer).
pub const PATIENCE: Duration = Duration::from_secs(30);

fn read_message(r: &mut impl BufRead) -> Option<Value> {
    let mut len: Option<usize> = None;
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some(v) = line.strip_prefix("Content-Length:") {
            len = v.trim().parse().ok();
        }
    }
    let mut body = vec![0; len?];
    r.read_exact(&mut body).ok()?;
    serde_json::from_slice(&body).ok()
}

impl Client {
    /// Starts `strat lsp` in `dir`.
    pub fn start(exe: &str, dir: &std::path::Path) -> Client {
        let mut child = Command::new(exe)
            .arg("lsp")
            .current_dir(dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("strat lsp starts");
        let stdin = child.stdin.take().expect("stdin");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, incoming) = channel();
        std::thread::spawn(move || {
            let mut r = BufReader::new(stdout);
            while let Some(v) = read_message(&mut r) {
                if tx.send(v).is_err() {
                    break;
                }
            }
        });
        Client { child, stdin, incoming, backlog: Vec::new(), next_id: 1 }
    }

    fn write(&mut self, v: &Value) {
        let body = v.to_string();
        write!(self.stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).expect("write to the server");
        self.stdin.flush().expect("flush");
    }

    pub fn notify(&mut self, method: &str, params: Value) {
        self.write(&json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    /// Sends a request and returns its id, without waiting.
    pub fn send_request(&mut self, method: &str, params: Value) -> i64 {
        let id = self.next_id;
        self.next_id += 1;
        self.write(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        id
    }

    fn next(&mut self, deadline: Instant) -> Value {
        let left = deadline.saturating_duration_since(Instant::now());
        match self.incoming.recv_timeout(left) {
            Ok(v) => v,
            Err(RecvTimeoutError::Timeout) => panic!("the server did not answer in time"),
            Err(RecvTimeoutError::Disconnected) => panic!("the server closed its output"),
        }
    }

    /// Waits for the response to request `id`: its `result`, or its `error` as `Err`.
    pub fn response(&mut self, id: i64) -> Result<Value, Value> {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let v = self.next(deadline);
            if v.get("id").and_then(Value::as_i64) == Some(id) && v.get("method").is_none() {
                return match v.get("error") {
                    Some(e) => Err(e.clone()),
                    None => Ok(v.get("result").cloned().unwrap_or(Value::Null)),
                };
            }
            self.handle_server_message(v);
        }
    }

    pub fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.send_request(method, params);
        match self.response(id) {
            Ok(v) => v,
            Err(e) => panic!("{method} failed: {e}"),
        }
    }

    /// Answers requests from the server (configuration, registration) and keeps notifications.
    fn handle_server_message(&mut self, v: Value) {
        if let (Some(id), Some(_)) = (v.get("id").cloned(), v.get("method")) {
            self.write(&json!({"jsonrpc": "2.0", "id": id, "result": null}));
        }
        self.backlog.push(v);
    }

    /// Waits for a notification `method` whose params satisfy `want` (also looking at the ones
    /// already received), and returns its params.
    pub fn wait_for(&mut self, method: &str, want: impl Fn(&Value) -> bool) -> Value {
        if let Some(i) = self.backlog.iter().position(|v| v["method"] == method && want(&v["params"])) {
            return self.backlog.remove(i)["params"].take();
        }
        let deadline = Instant::now() + PATIENCE;
        loop {
            let v = self.next(deadline);
            if v["method"] == method && want(&v["params"]) {
                return v["params"].clone();
            }
            self.handle_server_message(v);
        }
    }

    /// `initialize` and `initialized`, offering `encodings`; returns the server's capabilities.
    pub fn initialize(&mut self, root: &std::path::Path, encodings: &[&str]) -> Value {
        let root_uri = format!("file://{}", root.display());
        let caps = json!({
            "general": {"positionEncodings": encodings},
            "textDocument": {"completion": {"completionItem": {"snippetSupport": true}}}
        });
        let r = self.request(
            "initialize",
            json!({
                "processId": null,
                "rootUri": root_uri,
                "workspaceFolders": [{"uri": root_uri, "name": "test"}],
                "capabilities": caps
            }),
        );
        self.notify("initialized", json!({}));
        r
    }

    pub fn open(&mut self, uri: &str, text: &str) {
        self.notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": uri, "languageId": "strat", "version": 1, "text": text}}),
        );
    }

    /// Replaces `range` ((line, character) to (line, character)) with `text`.
    pub fn change(&mut self, uri: &str, version: i64, range: ((u32, u32), (u32, u32)), text: &str) {
        let ((l1, c1), (l2, c2)) = range;
        self.notify(
            "textDocument/didChange",
            json!({
                "textDocument": {"uri": uri, "version": version},
                "contentChanges": [{
                    "range": {"start": {"line": l1, "character": c1}, "end": {"line": l2, "character": c2}},
                    "text": text
                }]
            }),
        );
    }

    /// The diagnostics of `uri` as of every change sent so far (pull request).
    pub fn diagnostics(&mut self, uri: &str) -> Vec<Value> {
        let r = self.request("textDocument/diagnostic", json!({"textDocument": {"uri": uri}}));
        r["items"].as_array().cloned().unwrap_or_default()
    }

    pub fn at(uri: &str, line: u32, character: u32) -> Value {
        json!({"textDocument": {"uri": uri}, "position": {"line": line, "character": character}})
    }

    /// `shutdown` then `exit`; returns the exit status code.
    pub fn shutdown(mut self) -> Option<i32> {
        let r = self.request("shutdown", Value::Null);
        assert_eq!(r, Value::Null);
        self.notify("exit", Value::Null);
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.code();
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                return None;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
