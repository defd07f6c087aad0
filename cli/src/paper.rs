//! The flags `strat backtest` and `strat run` share where they mean the same thing: the days
//! traded (`--from`, `--to`) and the paper broker's cash, costs and fills.

use crate::exit;
use chrono::NaiveDate;
use std::collections::BTreeMap;
use strat_engine::broker::{Costs, FillAt};
use strat_engine::market::Bar;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Fill {
    NextOpen,
    NextClose,
    SameClose,
}

/// Which days of the data are traded.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct Period {
    /// First day to trade (YYYY-MM-DD); the data before it warms the indicators
    #[arg(long)]
    pub from: Option<NaiveDate>,
    /// Last day to trade (YYYY-MM-DD)
    #[arg(long)]
    pub to: Option<NaiveDate>,
}

impl Period {
    /// A usage error when `--from` is after `--to`.
    pub fn check(&self) -> Result<(), u8> {
        match (self.from, self.to) {
            (Some(from), Some(to)) if from > to => {
                eprintln!("error: `--from {from}` is after `--to {to}`: no day is in between");
                Err(exit::USAGE)
            }
            _ => Ok(()),
        }
    }

    /// Keeps the bars up to `--to`, and those before `--from` (they warm the indicators);
    /// a symbol with no bar to trade is left out, with a warning.
    pub fn select(&self, data: &mut BTreeMap<String, Vec<Bar>>) {
        for bars in data.values_mut() {
            bars.retain(|b| self.to.is_none_or(|t| b.time.date() <= t));
        }
        data.retain(|sym, bars| {
            let traded = bars.iter().any(|b| self.from.is_none_or(|f| b.time.date() >= f));
            if !traded {
                eprintln!("warning: no bars for {sym} between the --from and --to dates; it is left out");
            }
            traded
        });
    }

    /// Where trading starts: midnight of `--from`.
    pub fn trade_from(&self) -> Option<chrono::NaiveDateTime> {
        self.from.and_then(|f| f.and_hms_opt(0, 0, 0))
    }
}

/// The paper broker: its cash, costs and fills.
#[derive(clap::Args, Debug, Clone)]
pub struct Paper {
    /// Starting cash
    #[arg(long, default_value_t = 100_000.0)]
    pub cash: f64,
    /// Commission per fill: `0.005/share`, `0.1%` of the value, or both joined by `+`
    #[arg(long, value_name = "COST", default_value = "0")]
    pub commission: String,
    /// Market orders fill this much worse than the price they fill at: `5bps` or `0.05%`
    #[arg(long, value_name = "SLIPPAGE", default_value = "0")]
    pub slippage: String,
    /// When a market order decided at a bar's close fills: the next bar's open, the next
    /// bar's close, or (optimistic) the same bar's close
    #[arg(long, value_enum, default_value_t = Fill::NextOpen)]
    pub fill: Fill,
}

impl Paper {
    /// The broker's costs and fill rule; a usage error names the flag that is wrong.
    pub fn costs(&self) -> Result<Costs, u8> {
        if !(self.cash.is_finite() && self.cash > 0.0) {
            eprintln!("error: `--cash` must be a positive amount");
            return Err(exit::USAGE);
        }
        let Some(mut costs) = costs(&self.commission, &self.slippage) else {
            eprintln!(
                "error: `--commission` takes `0.005/share`, `0.1%` or `0.005/share+0.1%`; `--slippage` takes `5bps` or `0.05%`"
            );
            return Err(exit::USAGE);
        };
        costs.fill = match self.fill {
            Fill::NextOpen => FillAt::NextOpen,
            Fill::NextClose => FillAt::NextClose,
            Fill::SameClose => FillAt::SameClose,
        };
        Ok(costs)
    }
}

fn costs(commission: &str, slippage: &str) -> Option<Costs> {
    let mut c = Costs::default();
    for part in commission.split('+').map(str::trim).filter(|p| !p.is_empty() && *p != "0") {
        if let Some(v) = part.strip_suffix("/share") {
            c.per_share = v.trim().parse().ok().filter(|v: &f64| *v >= 0.0)?;
        } else if let Some(v) = part.strip_suffix('%') {
            c.percent = v.trim().parse().ok().filter(|v: &f64| *v >= 0.0)?;
        } else {
            return None;
        }
    }
    let s = slippage.trim();
    if s != "0" && !s.is_empty() {
        c.slippage_bps = if let Some(v) = s.strip_suffix("bps") {
            v.trim().parse().ok()?
        } else {
            s.strip_suffix('%')?.trim().parse::<f64>().ok()? * 100.0
        };
        if c.slippage_bps < 0.0 {
            return None;
        }
    }
    Some(c)
}
