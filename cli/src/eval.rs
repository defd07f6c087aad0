//! `strat eval`: the value of an expression at every bar of CSV data.

use crate::{ColorChoice, exit, render};
use std::io::Write;
use strat_engine::eval::{Value, evaluate};
use strat_lang::Workspace;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum EvalFormat {
    Csv,
    Json,
}

#[derive(clap::Args)]
pub struct Args {
    /// The expression, e.g. 'rsi(SPY, 14) < 30'
    expr: String,
    /// Price data for a symbol, as SYMBOL=PATH (repeat for several symbols)
    #[arg(long = "data", value_name = "SYMBOL=PATH", required = true)]
    data: Vec<String>,
    #[command(flatten)]
    csv: crate::data::CsvFlags,
    /// Output format
    #[arg(long, value_enum, default_value_t = EvalFormat::Csv)]
    format: EvalFormat,
    /// When to use colour in error reports
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    color: ColorChoice,
}

pub fn run(args: &Args) -> u8 {
    let checked = strat_lang::check_expression(&args.expr);
    if !checked.diagnostics.is_empty() {
        let mut ws = Workspace::new();
        ws.set_file("<expr>", args.expr.clone().into_bytes());
        render::to_stderr(&ws, &checked.diagnostics, args.color);
    }
    let Some(expr) = checked.expr else { return exit::FOUND };
    if matches!(checked.ty.as_str(), "macd" | "bollinger") {
        let field = if checked.ty == "macd" { ".histogram" } else { ".lower" };
        eprintln!("error: the value is a {} record; pick one field, e.g. `{}{field}`", checked.ty, args.expr);
        return exit::FOUND;
    }
    let data = match crate::data::load(&args.data, &args.csv) {
        Ok(d) => d,
        Err(code) => return code,
    };
    let values = match evaluate(&expr, &data) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("error: {e}");
            return if e.starts_with("no data for") { exit::USAGE } else { exit::FOUND };
        }
    };
    let daily = values.iter().all(|(t, _)| t.time() == chrono::NaiveTime::MIN);
    let stamp = |t: &chrono::NaiveDateTime| if daily { t.date().to_string() } else { t.to_string() };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let written = match args.format {
        EvalFormat::Csv => (|| {
            writeln!(out, "date,value")?;
            for (t, v) in &values {
                match v {
                    Some(v) => writeln!(out, "{},{v}", stamp(t))?,
                    None => writeln!(out, "{},", stamp(t))?,
                }
            }
            out.flush()
        })(),
        EvalFormat::Json => {
            let rows: Vec<serde_json::Value> = values
                .iter()
                .map(|(t, v)| serde_json::json!({ "date": stamp(t), "value": v.as_ref().map(Value::to_json) }))
                .collect();
            serde_json::to_writer(&mut out, &rows)
                .map_err(std::io::Error::other)
                .and_then(|()| writeln!(out))
                .and_then(|()| out.flush())
        }
    };
    match written {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            eprintln!("error: cannot write output: {e}");
            exit::USAGE
        }
        _ => exit::OK,
    }
}
