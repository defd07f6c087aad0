//! `strat run`'s settings beyond its flags: `$STRAT_HOME/strat.conf` (`key = value` lines, `#`
//! comments) names the market, the broker and the warm-up, so a flag need not be repeated;
//! and the keys of Polygon and Alpaca come from the environment, else from
//! `$STRAT_HOME/secrets` (the file the model keys live in). A flag wins over the file.

use std::collections::BTreeMap;

/// What `strat.conf` says (each unset when it says nothing).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RunConf {
    pub market: Option<String>,
    pub broker: Option<String>,
    pub warm_up_days: Option<u32>,
}

const KEYS: &str = "market (sim | polygon), broker (paper | alpaca), warm_up_days";

/// Reads `text` as `strat.conf`; an unknown setting or value is an error naming its line.
pub fn parse(text: &str) -> Result<RunConf, String> {
    let mut conf = RunConf::default();
    for (n, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or_default().trim();
        if line.is_empty() {
            continue;
        }
        let Some((key, value)) = line.split_once('=').map(|(k, v)| (k.trim(), v.trim())) else {
            return Err(format!("line {}: expected `key = value`", n + 1));
        };
        let bad = |what: &str| format!("line {}: `{value}` is not {what}", n + 1);
        match key {
            "market" if matches!(value, "sim" | "polygon") => conf.market = Some(value.into()),
            "market" => return Err(bad("a market (sim, polygon)")),
            "broker" if matches!(value, "paper" | "alpaca") => conf.broker = Some(value.into()),
            "broker" => return Err(bad("a broker (paper, alpaca)")),
            "warm_up_days" => conf.warm_up_days = Some(value.parse().map_err(|_| bad("a number of days"))?),
            other => return Err(format!("line {}: unknown setting `{other}`; the settings are {KEYS}", n + 1)),
        }
    }
    Ok(conf)
}

/// `$STRAT_HOME/strat.conf`, or nothing set when there is no such file.
pub fn run_conf() -> Result<RunConf, String> {
    let path = crate::files::home().join("strat.conf");
    match std::fs::read_to_string(&path) {
        Ok(text) => parse(&text).map_err(|e| format!("{}: {e}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(RunConf::default()),
        Err(e) => Err(format!("cannot read `{}`: {e}", path.display())),
    }
}

/// A setting from the environment, else from `$STRAT_HOME/secrets`.
pub struct Env {
    secrets: BTreeMap<String, String>,
}

impl Env {
    pub fn load() -> Env {
        let text = std::fs::read_to_string(crate::files::home().join("secrets")).unwrap_or_default();
        let secrets = strat_models::config::parse_secrets(&text)
            .map(|m| m.into_iter().map(|(k, v)| (k, v.expose().to_string())).collect())
            .unwrap_or_default();
        Env { secrets }
    }

    pub fn get(&self, name: &str) -> Option<String> {
        std::env::var(name).ok().filter(|v| !v.trim().is_empty()).or_else(|| self.secrets.get(name).cloned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_run_settings_are_read_and_anything_else_is_refused_with_its_line() {
        let conf =
            parse("# mine\nmarket = polygon\nbroker = alpaca  # paper account\nwarm_up_days = 3\n").expect("reads");
        assert_eq!(
            conf,
            RunConf { market: Some("polygon".into()), broker: Some("alpaca".into()), warm_up_days: Some(3) }
        );
        assert!(parse("broker = ibkr").is_err_and(|e| e == "line 1: `ibkr` is not a broker (paper, alpaca)"));
        assert!(parse("\nlive = true").is_err_and(|e| e.starts_with("line 2: unknown setting `live`")));
        assert!(parse("market").is_err_and(|e| e.contains("expected `key = value`")));
    }
}
