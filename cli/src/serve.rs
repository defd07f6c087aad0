//! `strat serve`: a run of `strat run` with the HTTP API beside it. The run is chosen, journaled
//! and resumed exactly as `strat run` does it; the API (`strat_service`) reads the store while
//! the run writes it, behind the bearer token of `$STRAT_HOME/token`. Where it listens is
//! written to `$STRAT_HOME/service.json` so the other commands find it; Ctrl-C or SIGTERM stops
//! the run, then the API once its requests in flight are answered.

use crate::{exit, files};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use strat_service::signature::Secret;
use strat_service::{Running, Service, token};

#[derive(clap::Args)]
#[group(id = "serve")]
pub struct Args {
    #[command(flatten)]
    run: crate::run::Args,
    /// Where the API listens (port 0: one the system picks, written to $STRAT_HOME/service.json)
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:7878")]
    listen: SocketAddr,
}

/// Where a running service says it answers.
pub fn address_file(home: &Path) -> PathBuf {
    home.join("service.json")
}

pub fn token_file(home: &Path) -> PathBuf {
    home.join("token")
}

/// The API, started once the run is ready.
struct Serving {
    listen: SocketAddr,
    home: PathBuf,
    running: Option<Running>,
    interrupted: Option<Arc<AtomicBool>>,
}

impl crate::run::Hosting for Serving {
    fn ready(&mut self, r: crate::run::Ready<'_>) -> Result<(), u8> {
        let tokens = token::Tokens::open(&token_file(&self.home)).map_err(|e| {
            eprintln!("error: {e}");
            exit::USAGE
        })?;
        let mut service = Service::new(r.reader, r.controls, Arc::new(r.program.clone()), r.file.clone(), tokens);
        let (found, unusable) = secrets(r.program);
        for why in unusable {
            eprintln!("warning: {why}: its webhook refuses every call (503)");
        }
        service.secrets = found;
        service.notifier = r.notifier.clone();
        service.market = r.market.to_string();
        service.broker = r.broker.to_string();
        service.set_run(r.run);
        let running = strat_service::start(self.listen, Arc::new(service)).map_err(|e| {
            eprintln!("error: cannot listen on {}: {e} (`--listen` chooses another address)", self.listen);
            exit::USAGE
        })?;
        let address = running.address();
        if !address.ip().is_loopback() {
            eprintln!(
                "warning: the API answers on {address}, beyond this machine, over plain HTTP: the token crosses the network readable; put it behind TLS (a reverse proxy) or listen on 127.0.0.1"
            );
        }
        let said = serde_json::json!({"address": address.to_string(), "pid": std::process::id(), "file": r.file, "run": r.run});
        files::write_atomically(&address_file(&self.home), said.to_string().as_bytes()).map_err(|e| {
            eprintln!("error: cannot write `{}`: {e}", address_file(&self.home).display());
            exit::USAGE
        })?;
        println!(
            "the API answers on http://{address}/api/v1 with the token of {} (`strat token` prints it)",
            token_file(&self.home).display()
        );
        self.running = Some(running);
        self.interrupted = Some(r.interrupted);
        Ok(())
    }
}

/// The secret of each webhook trigger, from the variable it names (the environment, else
/// `$STRAT_HOME/secrets`), or why it cannot be used; and what to warn of (one unset or unusable).
fn secrets(program: &strat_lang::ir::Program) -> (BTreeMap<String, Result<Secret, String>>, Vec<String>) {
    let env = crate::settings::Env::load();
    let (mut found, mut warnings) = (BTreeMap::new(), Vec::new());
    for g in &program.graphs {
        for t in &g.triggers {
            let strat_lang::ir::TriggerKind::Webhook { secret_env: Some(name), .. } = &t.kind else { continue };
            match env.get(name) {
                Some(text) => {
                    let parsed = Secret::parse(text.trim()).map_err(|e| e.to_string());
                    if let Err(why) = &parsed {
                        warnings.push(format!("webhook secret {name} of {}: {why}", g.name));
                    }
                    found.insert(name.clone(), parsed);
                }
                None => warnings.push(format!("webhook secret {name} of {} is not set", g.name)),
            }
        }
    }
    (found, warnings)
}

pub fn serve(args: &Args) -> u8 {
    let home = files::home();
    let mut serving = Serving { listen: args.listen, home: home.clone(), running: None, interrupted: None };
    let code = crate::run::run_hosted(&args.run, &mut serving);
    let Some(running) = serving.running else { return code };
    let interrupted = serving.interrupted.unwrap_or_default();
    if code == exit::OK && !interrupted.load(Ordering::SeqCst) {
        println!("the run ended; the API answers until Ctrl-C or SIGTERM");
        while !interrupted.load(Ordering::SeqCst) {
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }
    let _ = std::fs::remove_file(address_file(&home));
    match running.stop() {
        Ok(()) => {
            println!("the API stopped");
            code
        }
        Err(e) => {
            eprintln!("error: the API did not stop cleanly: {e}");
            exit::USAGE
        }
    }
}

#[derive(clap::Args)]
pub struct TokenArgs {
    /// Replace the token by a new one (a running service refuses the old one from its next request)
    #[arg(long)]
    rotate: bool,
}

/// `strat token`: prints the service's token, made on first use.
pub fn token(args: &TokenArgs) -> u8 {
    let home = files::home();
    if let Err(e) = files::private_dir(&home) {
        eprintln!("error: cannot create `{}`: {e}", home.display());
        return exit::USAGE;
    }
    let path = token_file(&home);
    let made = if args.rotate { token::rotate(&path) } else { token::read_or_create(&path) };
    match made {
        Ok(t) => {
            println!("{t}");
            exit::OK
        }
        Err(e) => {
            eprintln!("error: {e}");
            exit::USAGE
        }
    }
}
