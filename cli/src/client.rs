//! The other commands' way to a running `strat serve`: the address it wrote to
//! `$STRAT_HOME/service.json` and the token beside it. A file left by a service that is gone
//! (killed outright) answers nothing, so the commands read the store themselves instead.

use std::path::Path;

/// A service that answered.
pub struct Client {
    address: String,
    token: String,
    runtime: tokio::runtime::Runtime,
    http: reqwest::Client,
}

/// What a call answered: its status and its body as JSON.
pub type Answer = (u16, serde_json::Value);

/// What an error answer of the service says.
pub fn message(v: &serde_json::Value) -> &str {
    v["error"]["message"].as_str().unwrap_or("the service refused")
}

/// The running service under `home`, if one answers.
pub fn find(home: &Path) -> Option<Client> {
    let said: serde_json::Value = serde_json::from_slice(&std::fs::read(home.join("service.json")).ok()?).ok()?;
    let address = said["address"].as_str()?.to_string();
    let token = strat_service::token::read(&home.join("token")).ok()?;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().ok()?;
    let http = reqwest::Client::builder().timeout(std::time::Duration::from_secs(60)).build().ok()?;
    let client = Client { address, token, runtime, http };
    client.call("GET", "/api/v1/status", None).ok().filter(|(status, _)| *status == 200)?;
    Some(client)
}

impl Client {
    /// `METHOD path` with the token and a JSON body, if any.
    pub fn call(&self, method: &str, path: &str, body: Option<serde_json::Value>) -> Result<Answer, String> {
        let url = format!("http://{}{path}", self.address);
        let method = reqwest::Method::from_bytes(method.as_bytes()).map_err(|e| e.to_string())?;
        let mut request = self.http.request(method, &url).bearer_auth(&self.token);
        if let Some(b) = body {
            request = request.json(&b);
        }
        self.runtime.block_on(async {
            let response =
                request.send().await.map_err(|e| format!("the service at {} did not answer: {e}", self.address))?;
            let status = response.status().as_u16();
            let bytes = response.bytes().await.map_err(|e| e.to_string())?;
            Ok((status, serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null)))
        })
    }

    pub fn address(&self) -> &str {
        &self.address
    }
}
