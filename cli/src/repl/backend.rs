//! The REPL's backend: one session's data, current bar and loaded file, and what each command
//! answers. It knows nothing of the terminal; the tests drive it through [`Repl`] and compare
//! the replies as text.

use crate::render;
use chrono::{NaiveDate, NaiveDateTime};
use std::collections::BTreeMap;
use std::path::Path;
use std::rc::Rc;
use strat_engine::eval::{Value, evaluate, evaluate_constant};
use strat_engine::market::Bar;
use strat_lang::load::read_source;
use strat_lang::syntax::ast::Item;
use strat_lang::{Code, Diagnostic, Severity, Workspace};

/// What one input produced: results on `out`, errors and warnings (rendered diagnostics
/// included) on `err`, and whether it succeeded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub out: String,
    pub err: String,
    pub ok: bool,
}

impl Reply {
    pub fn out(text: impl Into<String>) -> Reply {
        let mut out = text.into();
        if !out.is_empty() && !out.ends_with('\n') {
            out.push('\n');
        }
        Reply { out, err: String::new(), ok: true }
    }

    pub fn error(message: impl std::fmt::Display) -> Reply {
        Reply { out: String::new(), err: format!("error: {message}\n"), ok: false }
    }

    fn line(mut self, text: impl std::fmt::Display) -> Reply {
        self.out.push_str(&format!("{text}\n"));
        self
    }

    fn warn(mut self, text: impl std::fmt::Display) -> Reply {
        self.err.push_str(&format!("warning: {text}\n"));
        self
    }

    fn note(mut self, text: impl std::fmt::Display) -> Reply {
        self.err.push_str(&format!("note: {text}\n"));
        self
    }
}

/// What a REPL does with each command. [`super::commands::handle`] parses a line and calls
/// one of these; the front end only prints the replies.
pub trait Repl {
    /// An expression's value: at the current bar when it reads data, else its one value.
    fn eval(&mut self, expr: &str) -> Reply;
    /// The bars where a condition is true, with its operands there.
    fn when(&mut self, expr: &str) -> Reply;
    /// An expression's checked type and unit.
    fn type_of(&mut self, expr: &str) -> Reply;
    /// Checks a `.strat` file and lists its declarations.
    fn load(&mut self, path: &str) -> Reply;
    /// Loads `SYMBOL=PATH` price data (several separated by spaces), or lists what is loaded.
    fn data(&mut self, specs: &str) -> Reply;
    /// Moves the current bar to a date (`first`, `last`), or shows it.
    fn at(&mut self, when: &str) -> Reply;
    /// Tickers that have data or appear in a loaded universe, with where from (for completion).
    fn tickers(&self) -> BTreeMap<String, String>;
}

/// An expression evaluated at every bar of the loaded data.
struct Evaluated {
    ty: String,
    values: Vec<Option<Value>>,
}

/// A universe of the loaded file.
struct Universe {
    symbols: Vec<String>,
    file: String,
}

/// The state of one REPL session.
pub struct Session {
    /// Colour in rendered diagnostics.
    color: bool,
    data: BTreeMap<String, Vec<Bar>>,
    /// Where each symbol's data came from.
    sources: BTreeMap<String, String>,
    /// Every distinct bar time of the loaded data, in order: the steps expressions are read at.
    timeline: Vec<NaiveDateTime>,
    /// Index of the current bar in `timeline`.
    current: usize,
    /// Expressions already evaluated over the data, by their text; emptied when data changes.
    cache: BTreeMap<String, Rc<Evaluated>>,
    universes: BTreeMap<String, Universe>,
    /// What `:data` does with a row that fails validation.
    pub bad_rows: crate::data::BadRows,
}

/// Rows `:when` lists at each end when there are more than twice as many.
const SHOWN: usize = 10;

impl Session {
    pub fn new(color: bool) -> Session {
        Session {
            color,
            data: BTreeMap::new(),
            sources: BTreeMap::new(),
            timeline: Vec::new(),
            current: 0,
            cache: BTreeMap::new(),
            universes: BTreeMap::new(),
            bad_rows: crate::data::BadRows::Refuse,
        }
    }

    fn daily(&self) -> bool {
        self.timeline.iter().all(|t| t.time() == chrono::NaiveTime::MIN)
    }

    fn stamp(&self, i: usize) -> String {
        match self.timeline.get(i) {
            Some(t) if self.daily() => t.date().to_string(),
            Some(t) => t.format("%Y-%m-%d %H:%M").to_string(),
            None => "no bar".to_string(),
        }
    }

    fn position(&self, i: usize) -> String {
        format!("bar {} of {}", count(i + 1), count(self.timeline.len()))
    }

    /// Renders diagnostics of `text` (named `<input>`) the way `strat check` does.
    fn diagnostics(&self, text: &str, diagnostics: &[Diagnostic]) -> String {
        let mut ws = Workspace::new();
        ws.set_file("<input>", text.as_bytes().to_vec());
        let mut buf = Vec::new();
        let _ = render::human(&ws, diagnostics, self.color, &mut buf);
        String::from_utf8_lossy(&buf).into_owned()
    }

    /// Checks an expression: its lowered form and type, or a reply with the rendered errors.
    fn check(&self, text: &str) -> Result<(strat_lang::ir::Expr, String, String), Reply> {
        if strat_lang::repl::looks_like_declaration(text) {
            return Err(Reply::error(
                "declarations are not evaluated in the REPL: put them in a file and `:load FILE` it",
            ));
        }
        let checked = strat_lang::check_expression(text);
        let rendered =
            if checked.diagnostics.is_empty() { String::new() } else { self.diagnostics(text, &checked.diagnostics) };
        match checked.expr {
            Some(e) => Ok((e, checked.ty, rendered)),
            None => {
                let mut reply = Reply { out: String::new(), err: rendered, ok: false };
                for d in checked.diagnostics.iter().filter(|d| d.code == Code::Unresolved) {
                    let name = text.get(d.span.range()).unwrap_or("");
                    if let Some(u) = self.universes.get(name) {
                        reply = reply.note(format!(
                            "`{name}` is a universe of {}; the REPL evaluates one symbol at a time: {}",
                            u.file,
                            u.symbols.join(", ")
                        ));
                    }
                }
                Err(reply)
            }
        }
    }

    /// The values of an expression at every bar (memoised by its text).
    fn series(&mut self, text: &str, expr: &strat_lang::ir::Expr, ty: &str) -> Result<Rc<Evaluated>, String> {
        if let Some(e) = self.cache.get(text) {
            return Ok(e.clone());
        }
        let values = evaluate(expr, &self.data).map_err(|e| repl_hint(&e))?;
        let e = Rc::new(Evaluated { ty: ty.to_string(), values: values.into_iter().map(|(_, v)| v).collect() });
        self.cache.insert(text.to_string(), e.clone());
        Ok(e)
    }

    /// The values of a subexpression (an operand, a condition), when it checks on its own.
    fn part(&mut self, text: &str) -> Option<Rc<Evaluated>> {
        let c = strat_lang::check_expression(text);
        let e = c.expr?;
        self.series(text, &e, &c.ty).ok()
    }

    /// `text = value` for each operand at bar `i`.
    fn operands_at(&self, operands: &[(String, Rc<Evaluated>)], i: usize) -> String {
        operands.iter().map(|(t, e)| format!("{t} = {}", shown(e, i))).collect::<Vec<_>>().join(", ")
    }

    /// The conditions of a boolean expression with their operands, evaluated.
    #[allow(clippy::type_complexity)]
    fn parts(&mut self, text: &str) -> Vec<(String, Option<Rc<Evaluated>>, Vec<(String, Rc<Evaluated>)>)> {
        let mut out = Vec::new();
        for c in strat_lang::repl::conditions(text) {
            let cond = &text[c.span.range()];
            let value = self.part(cond);
            let operands = c
                .operands
                .iter()
                .filter_map(|o| {
                    let t = &text[o.range()];
                    self.part(t).map(|e| (compact(t), e))
                })
                .collect();
            out.push((compact(cond), value, operands));
        }
        out
    }

    fn undefined(&self, e: &Evaluated, i: usize) -> String {
        let at = self.stamp(i);
        match e.values.iter().position(Option::is_some) {
            None => format!("undefined at {at}: not defined at any of the {} bars loaded", count(e.values.len())),
            Some(first) if first > i => format!(
                "undefined at {at} ({}): warm-up, first defined on {} ({})",
                self.position(i),
                self.stamp(first),
                self.position(first)
            ),
            Some(_) => format!("undefined at {at}"),
        }
    }
}

impl Repl for Session {
    fn eval(&mut self, text: &str) -> Reply {
        let text = text.trim();
        if text.is_empty() {
            return Reply::out("");
        }
        let (expr, ty, warnings) = match self.check(text) {
            Ok(c) => c,
            Err(reply) => return reply,
        };
        let mut reply = Reply::out("");
        reply.err = warnings;
        match evaluate_constant(&expr) {
            Ok(Some(v)) => return reply.line(v.show(&ty)),
            Ok(None) => return reply.line("undefined"),
            Err(e) if self.data.is_empty() => {
                let mut r = Reply::error(repl_hint(&e));
                r.err.insert_str(0, &reply.err);
                return r;
            }
            Err(_) => {}
        }
        let e = match self.series(text, &expr, &ty) {
            Ok(e) => e,
            Err(message) => {
                let mut r = Reply::error(message);
                r.err.insert_str(0, &reply.err);
                return r;
            }
        };
        let i = self.current;
        let at = self.stamp(i);
        let Some(value) = &e.values[i] else { return reply.line(self.undefined(&e, i)) };
        reply = reply.line(format!("{} at {at}", value.show(&ty)));
        if ty != "bool" {
            return reply;
        }
        let parts = self.parts(text);
        let whole = parts.len() == 1 && parts[0].0 == compact(text);
        if whole {
            if !parts[0].2.is_empty() {
                reply = reply.line(format!("  {}", self.operands_at(&parts[0].2, i)));
            }
        } else {
            let width = parts.iter().map(|(c, ..)| c.chars().count()).max().unwrap_or(0);
            for (cond, value, operands) in &parts {
                let truth = value.as_ref().map_or_else(|| "?".to_string(), |v| shown(v, i));
                let line = format!("  {truth:<9} {cond:<width$}  {}", self.operands_at(operands, i));
                reply = reply.line(line.trim_end());
            }
        }
        if *value != Value::Bool(true) {
            let last = e.values[..i].iter().rposition(|v| *v == Some(Value::Bool(true)));
            reply = reply.line(match last {
                Some(j) => format!(
                    "  last true on {} ({} bar{} earlier); `:when` lists every bar",
                    self.stamp(j),
                    count(i - j),
                    plural(i - j)
                ),
                None => "  not true at any earlier bar".to_string(),
            });
        }
        reply
    }

    fn when(&mut self, text: &str) -> Reply {
        let text = text.trim();
        if text.is_empty() {
            return Reply::error("`:when` needs a condition, e.g. `:when rsi(SPY, 14) < 30`");
        }
        let (expr, ty, warnings) = match self.check(text) {
            Ok(c) => c,
            Err(reply) => return reply,
        };
        if ty != "bool" {
            let mut r = Reply::error(format!("`:when` needs a condition (a bool); `{text}` is a {ty}"));
            r.err.insert_str(0, &warnings);
            return r;
        }
        if self.data.is_empty() {
            return Reply::error("no data loaded: `:data SYMBOL=PATH` loads some, e.g. `:data SPY=spy.csv`");
        }
        let e = match self.series(text, &expr, &ty) {
            Ok(e) => e,
            Err(message) => return Reply::error(message),
        };
        let mut reply = Reply::out("");
        reply.err = warnings;
        let n = e.values.len();
        let range = format!("{} to {}", self.stamp(0), self.stamp(n.saturating_sub(1)));
        let hits: Vec<usize> = (0..n).filter(|&i| e.values[i] == Some(Value::Bool(true))).collect();
        let undefined = e.values.iter().filter(|v| v.is_none()).count();
        let undefined =
            if undefined > 0 { format!("; undefined on {} (warm-up)", count(undefined)) } else { String::new() };
        let (Some(&first), Some(&last)) = (hits.first(), hits.last()) else {
            return reply.line(format!("never true in {} bars ({range}){undefined}", count(n)));
        };
        reply = reply.line(format!(
            "true on {} of {} bars ({range}){undefined}; first {}, last {}",
            count(hits.len()),
            count(n),
            self.stamp(first),
            self.stamp(last)
        ));
        let mut operands: Vec<(String, Rc<Evaluated>)> = Vec::new();
        for (_, _, ops) in self.parts(text) {
            for (t, v) in ops {
                if !operands.iter().any(|(o, _)| *o == t) {
                    operands.push((t, v));
                }
            }
        }
        let row =
            |s: &Session, i: usize| format!("  {}  {}", s.stamp(i), s.operands_at(&operands, i)).trim_end().to_string();
        if hits.len() <= 2 * SHOWN {
            for &i in &hits {
                reply = reply.line(row(self, i));
            }
        } else {
            for &i in &hits[..SHOWN] {
                reply = reply.line(row(self, i));
            }
            reply = reply.line(format!("  … {} more …", count(hits.len() - 2 * SHOWN)));
            for &i in &hits[hits.len() - SHOWN..] {
                reply = reply.line(row(self, i));
            }
        }
        reply
    }

    fn type_of(&mut self, text: &str) -> Reply {
        let text = text.trim();
        if text.is_empty() {
            return Reply::error("`:type` needs an expression, e.g. `:type price(SPY)`");
        }
        let t = strat_lang::repl::type_of(text);
        let rendered = if t.diagnostics.is_empty() { String::new() } else { self.diagnostics(text, &t.diagnostics) };
        match t.ty {
            Some(ty) => Reply { out: format!("{ty}\n"), err: rendered, ok: true },
            None => Reply { out: String::new(), err: rendered, ok: false },
        }
    }

    fn load(&mut self, path: &str) -> Reply {
        let path = path.trim();
        if path.is_empty() {
            return Reply::error("`:load` needs a file, e.g. `:load examples/dip_buyer.strat`");
        }
        let bytes = match read_source(Path::new(path)) {
            Ok(b) => b,
            Err(e) => return Reply::error(format!("cannot read `{path}`: {e}")),
        };
        let mut ws = Workspace::new();
        let root = ws.set_file(path, bytes);
        ws.load_imports(&[root], &mut |p: &str| read_source(Path::new(p)).map_err(|e| e.to_string()));
        let checked = ws.compile(&[root]);
        let mut buf = Vec::new();
        let _ = render::human(&ws, &checked.diagnostics, self.color, &mut buf);
        let errors = checked.diagnostics.iter().filter(|d| d.severity == Severity::Error).count();
        let warnings = checked.diagnostics.len() - errors;
        let mut reply = Reply { out: String::new(), err: String::from_utf8_lossy(&buf).into_owned(), ok: errors == 0 };
        reply = reply.line(if checked.diagnostics.is_empty() {
            format!("loaded {path}: no problems")
        } else {
            format!("loaded {path}: {errors} error{}, {warnings} warning{}", plural(errors), plural(warnings))
        });
        let mut by_kind: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        for item in &ws.parsed(root).ast.items {
            if let Some(n) = item.name().filter(|n| !n.text.is_empty()) {
                by_kind.entry(item.kind_word()).or_default().push(n.text.clone());
            }
        }
        for (kind, label) in [("agent", "agents"), ("workflow", "workflows"), ("team", "teams")] {
            let names = by_kind.get(kind).map_or_else(|| "none".to_string(), |v| v.join(", "));
            reply = reply.line(format!("  {label:<10} {names}"));
        }
        self.universes.clear();
        let universes: BTreeMap<String, Vec<String>> = match &checked.program {
            Some(p) => p.universes.clone(),
            None => ws
                .parsed(root)
                .ast
                .items
                .iter()
                .filter_map(|it| match it {
                    Item::Universe(u) => Some((u.name.text.clone(), literal_tickers(&u.symbols))),
                    _ => None,
                })
                .collect(),
        };
        if !universes.is_empty() {
            let listed: Vec<String> = universes.iter().map(|(n, s)| format!("{n} = [{}]", s.join(", "))).collect();
            reply = reply.line(format!("  {:<10} {}", "universes", listed.join("; ")));
        }
        for (name, symbols) in universes {
            self.universes.insert(name, Universe { symbols, file: path.to_string() });
        }
        reply.note(
            "declarations are checked, not evaluated here: expressions see the standard library and `:data`; \
             a universe's tickers are offered in completion, write one symbol at a time",
        )
    }

    fn data(&mut self, specs: &str) -> Reply {
        let specs: Vec<&str> = specs.split_whitespace().collect();
        if specs.is_empty() {
            if self.data.is_empty() {
                return Reply::out("no data loaded: `:data SYMBOL=PATH` loads some, e.g. `:data SPY=spy.csv`");
            }
            let mut reply = Reply::out("");
            for (sym, bars) in &self.data {
                let (first, last) = (bars[0].time, bars[bars.len() - 1].time);
                reply = reply.line(format!(
                    "  {sym:<6} {} bar{}, {} to {}  ({})",
                    count(bars.len()),
                    plural(bars.len()),
                    day_or_time(first),
                    day_or_time(last),
                    self.sources.get(sym).map_or("", String::as_str)
                ));
            }
            return reply;
        }
        let mut reply = Reply::out("");
        let mut changed = false;
        for spec in specs {
            let sym = spec.split_once('=').map_or("", |(s, _)| s);
            if !sym.is_empty() && !is_ticker(sym) {
                reply.err.push_str(&format!(
                    "error: `{sym}` is not a ticker: tickers are capitals and digits, e.g. `{}`\n",
                    sym.to_uppercase()
                ));
                reply.ok = false;
                continue;
            }
            match crate::data::load_one(spec, self.bad_rows) {
                Err(e) => {
                    reply.err.push_str(&format!("error: {e}\n"));
                    reply.ok = false;
                }
                Ok(loaded) => {
                    for w in &loaded.refused {
                        reply = reply.warn(format!("{w} (row skipped)"));
                    }
                    let (first, last) = (loaded.bars[0].time, loaded.bars[loaded.bars.len() - 1].time);
                    let line = format!(
                        "loaded {}: {} bar{}, {} to {}",
                        loaded.symbol,
                        count(loaded.bars.len()),
                        plural(loaded.bars.len()),
                        day_or_time(first),
                        day_or_time(last)
                    );
                    reply = reply.line(line);
                    self.sources.insert(loaded.symbol.clone(), loaded.path);
                    self.data.insert(loaded.symbol, loaded.bars);
                    changed = true;
                }
            }
        }
        if changed {
            let mut times: Vec<NaiveDateTime> = self.data.values().flat_map(|b| b.iter().map(|x| x.time)).collect();
            times.sort_unstable();
            times.dedup();
            self.timeline = times;
            self.current = self.timeline.len() - 1;
            self.cache.clear();
            reply = reply.line(format!("at {} ({})", self.stamp(self.current), self.position(self.current)));
        }
        reply
    }

    fn at(&mut self, when: &str) -> Reply {
        let when = when.trim();
        if self.timeline.is_empty() {
            return Reply::error("no data loaded: `:data SYMBOL=PATH` loads some, e.g. `:data SPY=spy.csv`");
        }
        let last = self.timeline.len() - 1;
        let target = match when {
            "" => return Reply::out(format!("at {} ({})", self.stamp(self.current), self.position(self.current))),
            "first" => Some(0),
            "last" => Some(last),
            _ => None,
        };
        let (index, asked) = match target {
            Some(i) => (i, None),
            None => {
                let Some((limit, inclusive, day)) = parse_when(when) else {
                    return Reply::error(format!(
                        "`{when}` is not a date: write YYYY-MM-DD or YYYY-MM-DD HH:MM, or `first` or `last`"
                    ));
                };
                if day > self.timeline[last].date() {
                    return Reply::error(format!("{when} is after the last bar ({})", self.stamp(last)));
                }
                let n = self.timeline.partition_point(|t| if inclusive { *t <= limit } else { *t < limit });
                if n == 0 {
                    return Reply::error(format!("{when} is before the first bar ({})", self.stamp(0)));
                }
                (n - 1, Some(when))
            }
        };
        self.current = index;
        let mut line = format!("at {} ({})", self.stamp(index), self.position(index));
        if let Some(a) = asked.filter(|a| *a != self.stamp(index)) {
            line.push_str(&format!(", the last bar at or before {a}"));
        }
        Reply::out(line)
    }

    fn tickers(&self) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        for (name, u) in &self.universes {
            for s in &u.symbols {
                out.insert(s.clone(), format!("in universe `{name}`"));
            }
        }
        for (sym, bars) in &self.data {
            out.insert(sym.clone(), format!("data: {} bar{}", count(bars.len()), plural(bars.len())));
        }
        out
    }
}

fn day_or_time(t: NaiveDateTime) -> String {
    if t.time() == chrono::NaiveTime::MIN { t.date().to_string() } else { t.format("%Y-%m-%d %H:%M").to_string() }
}

/// Text of an expression on one line, as the parts of a condition are shown.
fn compact(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A value of an evaluated expression at bar `i`, with its unit.
fn shown(e: &Evaluated, i: usize) -> String {
    match e.values.get(i) {
        Some(Some(v)) => v.show(&e.ty),
        _ => "undefined".to_string(),
    }
}

/// The runtime's messages name the command line's flags; the REPL has commands instead.
fn repl_hint(message: &str) -> String {
    if let Some(rest) = message.strip_prefix("no data for `")
        && let Some((sym, _)) = rest.split_once('`')
    {
        return format!("no data for `{sym}`: load it with `:data {sym}=PATH`");
    }
    message
        .replace("load price data first", "load price data first with `:data SYMBOL=PATH`")
        .replace("load some first", "load some with `:data SYMBOL=PATH`")
        .replace("add `--data VIX=PATH`", "load it with `:data VIX=PATH`")
        .replace("`strat eval` sees price history only", "the REPL sees price history only")
}

/// `YYYY-MM-DD` (up to the end of that day) or `YYYY-MM-DD HH:MM` (up to that instant): the
/// limit, whether a bar stamped exactly at it counts, and the day asked for.
fn parse_when(s: &str) -> Option<(NaiveDateTime, bool, NaiveDate)> {
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Some((d.succ_opt()?.and_hms_opt(0, 0, 0)?, false, d));
    }
    NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").ok().map(|t| (t, true, t.date()))
}

fn is_ticker(s: &str) -> bool {
    let toks = strat_lang::syntax::lexer::lex(strat_lang::FileId(0), s, 0).tokens;
    matches!(toks.as_slice(), [t, eof] if t.kind == strat_lang::syntax::token::Kind::Ticker
        && t.span.len() == s.len() && eof.kind == strat_lang::syntax::token::Kind::Eof)
}

fn literal_tickers(e: &strat_lang::syntax::ast::Expr) -> Vec<String> {
    use strat_lang::syntax::ast::Expr;
    match e {
        Expr::List(items, _) => items
            .iter()
            .filter_map(|i| match i {
                Expr::Ticker(t, _) => Some(t.clone()),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// A count with thousands separated: `5,241`.
pub fn count(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
