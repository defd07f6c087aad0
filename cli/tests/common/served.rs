//! A `strat serve` running in the background for a test, and a real HTTP client to ask it.
#![allow(clippy::disallowed_methods)] // the tests read the files the service writes

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Served {
    child: Option<Child>,
    pub home: PathBuf,
    pub address: String,
    pub token: String,
    runtime: tokio::runtime::Runtime,
    client: reqwest::Client,
}

/// A fresh `$STRAT_HOME` for one test.
pub fn home(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("strat-serve-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_default()
}

/// `strat serve ARGS` under `home`, its output in files beside it (a pipe nobody reads would
/// stop it once full).
pub fn spawn(home: &Path, args: &[&str]) -> Child {
    let mut c = Command::new(assert_cmd::cargo::cargo_bin("strat"));
    c.current_dir(super::root()).env("STRAT_HOME", home).arg("serve").args(args);
    let file = |p: PathBuf| Stdio::from(std::fs::File::create(p).expect("output file"));
    c.stdout(file(home.with_extension("stdout"))).stderr(file(home.with_extension("stderr")));
    for v in
        ["ANTHROPIC_API_KEY", "OPENAI_API_KEY", "ANTHROPIC_BASE_URL", "OPENAI_BASE_URL", "STRAT_CONFIG", "NO_COLOR"]
    {
        c.env_remove(v);
    }
    c.spawn().expect("strat serve starts")
}

/// `strat serve ARGS --listen 127.0.0.1:0` under `home`, once its API answers.
pub fn serve(home: &Path, args: &[&str]) -> Served {
    let mut all = args.to_vec();
    all.extend(["--listen", "127.0.0.1:0"]);
    // A service killed outright leaves its address behind: wait for the new one's.
    let _ = std::fs::remove_file(home.join("service.json"));
    let mut child = spawn(home, &all);
    let begun = Instant::now();
    let said = loop {
        let file = std::fs::read(home.join("service.json")).ok();
        if let Some(v) = file.and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok()) {
            break v;
        }
        let ended = child.try_wait().ok().flatten();
        assert!(ended.is_none(), "the service ended ({ended:?}): {}", read(&home.with_extension("stderr")));
        assert!(begun.elapsed() < Duration::from_secs(60), "the service did not start");
        std::thread::sleep(Duration::from_millis(20));
    };
    let token = read(&home.join("token")).trim().to_string();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    Served {
        child: Some(child),
        home: home.to_path_buf(),
        address: said["address"].as_str().expect("address").to_string(),
        token,
        runtime,
        client: reqwest::Client::new(),
    }
}

impl Served {
    /// `GET path` with the service's token: the status and the body as JSON.
    pub fn get(&self, path: &str) -> (u16, serde_json::Value) {
        self.get_as(path, Some(&self.token))
    }

    /// `GET path` with this bearer token, or none.
    pub fn get_as(&self, path: &str, token: Option<&str>) -> (u16, serde_json::Value) {
        let mut r = self.client.get(self.url(path));
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        self.send(r)
    }

    /// `POST path` with the service's token and these bytes.
    pub fn post(&self, path: &str, body: Vec<u8>) -> (u16, serde_json::Value) {
        self.send(self.client.post(self.url(path)).bearer_auth(&self.token).body(body))
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// Sends a request: the status and the body as JSON (null when it is not JSON).
    pub fn send(&self, r: reqwest::RequestBuilder) -> (u16, serde_json::Value) {
        self.runtime.block_on(async {
            let response = r.send().await.expect("the service answers");
            let status = response.status().as_u16();
            let bytes = response.bytes().await.unwrap_or_default();
            (status, serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null))
        })
    }

    /// Waits until `GET path` answers 200 with a body `done` accepts; that body.
    pub fn wait_for(&self, path: &str, done: impl Fn(&serde_json::Value) -> bool) -> serde_json::Value {
        let begun = Instant::now();
        loop {
            let (status, body) = self.get(path);
            if status == 200 && done(&body) {
                return body;
            }
            assert!(begun.elapsed() < Duration::from_secs(60), "{path} never got there: {status} {body}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Sends SIGTERM and waits for the exit: its code, standard output and error.
    pub fn terminate(mut self) -> (Option<i32>, String, String) {
        let mut child = self.child.take().expect("running");
        Command::new("kill").args(["-TERM", &child.id().to_string()]).status().expect("kill");
        let status = child.wait().expect("exits");
        (status.code(), read(&self.home.with_extension("stdout")), read(&self.home.with_extension("stderr")))
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}
