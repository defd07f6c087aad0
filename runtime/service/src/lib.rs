//! The strat service's HTTP API: what a running `strat serve` answers under `/api/v1`. Every
//! route but the webhooks' needs the bearer token of `$STRAT_HOME/token`; bodies over 1 MiB
//! are refused (413); no CORS header is ever sent, so browsers keep other origins out.
//!
//! The service reads the store through a [`Reader`] while the run on the engine's thread
//! writes it; what it knows of the program (its agents, workflows, teams and triggers) comes
//! from the checked IR.

pub mod api;
pub mod notify;
pub mod signature;
pub mod token;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use strat_lang::ir::Program;
use strat_store::{Controls, Reader};

/// The largest request body accepted.
pub const MAX_BODY: usize = 1 << 20;

/// What every request can see.
pub struct Service {
    pub reader: Reader,
    /// The operator's decisions, the firings and the audit log.
    pub controls: Controls,
    /// Each webhook secret's variable and what it held when the service started: the secret,
    /// or why it cannot be used (unset, not a `whsec_` secret). The service reads no
    /// environment itself.
    pub secrets: std::collections::BTreeMap<String, Result<signature::Secret, String>>,
    /// The webhooks' calls accepted lately, by trigger id (unix seconds), for their throttles.
    pub recent: std::sync::Mutex<std::collections::BTreeMap<String, std::collections::VecDeque<i64>>>,
    pub program: Arc<Program>,
    /// The file the service runs, as the store names it.
    pub file: String,
    /// Where orders go and where bars come from, as the run says them.
    pub broker: String,
    pub market: String,
    pub tokens: token::Tokens,
    /// Where notifications go (none configured: only the log).
    pub notifier: Option<Arc<notify::Notifier>>,
    /// The id in the store of the run the service is doing (0 before it began).
    run: AtomicU64,
}

impl Service {
    pub fn new(
        reader: Reader,
        controls: Controls,
        program: Arc<Program>,
        file: String,
        tokens: token::Tokens,
    ) -> Service {
        Service {
            reader,
            controls,
            secrets: Default::default(),
            recent: Default::default(),
            program,
            file,
            broker: String::new(),
            market: String::new(),
            tokens,
            notifier: None,
            run: AtomicU64::new(0),
        }
    }

    /// The run the service is doing, once it has begun.
    pub fn set_run(&self, id: u64) {
        self.run.store(id, Ordering::SeqCst);
    }

    pub fn current_run(&self) -> Option<u64> {
        Some(self.run.load(Ordering::SeqCst)).filter(|id| *id != 0)
    }

    /// Tells the notification channels (if any) what the operator did.
    pub fn tell(&self, message: String) {
        let Some(n) = &self.notifier else { return };
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let id = format!("strat-operator-{}-{}", unix_now(), NEXT.fetch_add(1, Ordering::Relaxed));
        n.send(notify::Note { id, time: utc_now(), source: "operator".into(), message, run: self.current_run() });
    }
}

/// The wall clock in unix seconds (the webhooks' timestamps are checked against it).
#[allow(clippy::disallowed_methods)] // the service's own clock, outside the engine
pub fn unix_now() -> i64 {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
    now.map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// The wall clock as a UTC time.
pub fn utc_now() -> String {
    chrono::DateTime::from_timestamp(unix_now(), 0).map_or_else(String::new, |t| t.naive_utc().to_string())
}

/// The router of the whole API over `service`.
pub fn router(service: Arc<Service>) -> axum::Router {
    api::router(service)
}

/// Serves `service` on `listener` until `shutdown` resolves, then lets the requests in flight
/// finish.
pub async fn serve(
    listener: tokio::net::TcpListener,
    service: Arc<Service>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(service)).with_graceful_shutdown(shutdown).await
}

/// The API answering on its own threads, until [`Running::stop`].
pub struct Running {
    address: std::net::SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<std::io::Result<()>>>,
}

/// Binds `address` (refused at once when it is taken) and serves `service` there on a runtime
/// of two worker threads.
pub fn start(address: std::net::SocketAddr, service: Arc<Service>) -> std::io::Result<Running> {
    let listener = std::net::TcpListener::bind(address)?;
    listener.set_nonblocking(true)?;
    let address = listener.local_addr()?;
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let thread = std::thread::Builder::new().name("strat-api".into()).spawn(move || {
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener)?;
            serve(listener, service, async move { drop(stopped.await) }).await
        })
    })?;
    Ok(Running { address, stop: Some(stop), thread: Some(thread) })
}

impl Running {
    /// Where the API answers (the port the system chose when asked for port 0).
    pub fn address(&self) -> std::net::SocketAddr {
        self.address
    }

    /// Stops taking connections, lets the requests in flight finish, and waits for it.
    pub fn stop(mut self) -> std::io::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match self.thread.take().map(std::thread::JoinHandle::join) {
            Some(Ok(done)) => done,
            Some(Err(_)) => Err(std::io::Error::other("the API's thread panicked")),
            None => Ok(()),
        }
    }
}
