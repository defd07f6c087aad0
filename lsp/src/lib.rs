//! The strat language server: LSP over standard input and output.
//!
//! All language logic lives in `strat_lang::ide`; this crate converts positions and types of
//! the protocol, owns the open documents and reads imported files from disk. Changes are
//! applied in order by one owner thread ([`owner`]); requests are answered on immutable
//! analyses it hands out.

mod convert;
mod disk;
mod owner;
mod server;

pub use convert::{Encoding, Lines};

use tower_lsp_server::{LspService, Server};

/// Serves the language server on `input` and `output` until the client exits.
pub async fn serve<I, O>(input: I, output: O)
where
    I: tokio::io::AsyncRead + Unpin,
    O: tokio::io::AsyncWrite,
{
    let (owner_tx, owner_rx) = std::sync::mpsc::channel();
    let (publish_tx, publish_rx) = tokio::sync::mpsc::unbounded_channel();
    let owner = std::thread::Builder::new()
        .name("strat-lsp-owner".into())
        .spawn(move || owner::Owner::new(publish_tx).run(owner_rx));
    let stopper = owner_tx.clone();
    let (service, socket) = LspService::new(|client| {
        tokio::spawn(server::publish_loop(client, publish_rx));
        server::Backend::new(owner_tx)
    });
    Server::new(input, output, socket).serve(service).await;
    let _ = stopper.send(owner::Msg::Stop);
    if let Ok(handle) = owner {
        let _ = handle.join();
    }
}

/// Runs the server on standard input and output (`strat lsp`).
pub fn run_stdio() -> std::io::Result<()> {
    let rt = tokio::runtime::Builder::new_current_thread().build()?;
    rt.block_on(serve(tokio::io::stdin(), tokio::io::stdout()));
    Ok(())
}
