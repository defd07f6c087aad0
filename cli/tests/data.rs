//! `--data` files through the real binary: a bad row refuses the file with its line and reason
//! unless `--skip-bad-rows` is given; a file without volume loads, but reading its volume is an
//! error naming it.
#![allow(clippy::disallowed_methods)] // tests write their data files

mod common;
use common::run;

/// The first `rows` rows of the real SPY file, rewritten by `edit` (index, row) → row.
fn spy_file(name: &str, rows: usize, edit: impl Fn(usize, String) -> String) -> String {
    let text = std::fs::read_to_string(common::root().join("../shared/data/prices/SPY_D.csv")).expect("data");
    let mut lines = text.lines();
    let mut out = format!("{}\n", lines.next().unwrap_or_default());
    for (i, l) in lines.take(rows).enumerate() {
        out.push_str(&edit(i, l.to_string()));
        out.push('\n');
    }
    let path = std::env::temp_dir().join(format!("strat-data-{name}-{}.csv", std::process::id()));
    std::fs::write(&path, out).expect("write");
    path.to_string_lossy().into_owned()
}

fn eval(expr: &str, path: &str, extra: &[&str]) -> (i32, String, String) {
    let data = format!("SPY={path}");
    run(&[&["eval", expr, "--data", &data][..], extra].concat())
}

#[test]
fn a_file_in_reverse_order_is_refused_at_its_second_row_not_cut_to_one_bar() {
    let text = std::fs::read_to_string(common::root().join("../shared/data/prices/SPY_D.csv")).expect("data");
    let mut lines: Vec<&str> = text.lines().collect();
    let header = lines.remove(0);
    let reversed: Vec<&str> = lines.iter().take(119).rev().copied().collect();
    let path = std::env::temp_dir().join(format!("strat-data-reversed-{}.csv", std::process::id()));
    std::fs::write(&path, format!("{header}\n{}\n", reversed.join("\n"))).expect("write");
    let path = path.to_string_lossy().into_owned();
    let (code, out, err) = eval("close(SPY)", &path, &[]);
    assert_eq!((code, out.as_str()), (2, ""), "{err}");
    assert!(err.starts_with(&format!("error: {path}:3: timestamp ")), "{err}");
    assert!(err.contains("rows must run oldest first (117 more rows of the file would be refused too)"), "{err}");
    assert!(err.contains("--skip-bad-rows"), "{err}");
}

#[test]
fn one_future_dated_row_names_the_row_after_it() {
    let path = spy_file("future", 60, |i, l| if i == 30 { l.replacen("1999-", "2030-", 1) } else { l });
    let (code, _, err) = eval("close(SPY)", &path, &[]);
    assert_eq!(code, 2, "{err}");
    assert!(err.starts_with(&format!("error: {path}:33: timestamp 1999-")), "{err}");
    assert!(err.contains("earlier than the one before (2030-"), "{err}");
}

#[test]
fn skipped_rows_are_listed_and_counted() {
    // Rows 10 and 20 get a close above their high.
    let path = spy_file("skip", 40, |i, l| {
        if i != 10 && i != 20 {
            return l;
        }
        let mut f: Vec<String> = l.split(',').map(str::to_string).collect();
        f[5] = "1e17".into();
        f.join(",")
    });
    let (code, _, err) = eval("close(SPY)", &path, &[]);
    assert_eq!(code, 2);
    assert!(err.contains(&format!("{path}:12: close price 1e17 is over 1e9")), "{err}");
    let (code, out, err) = eval("close(SPY)", &path, &["--skip-bad-rows", "--format", "csv"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.lines().count(), 1 + 38);
    assert!(err.contains(&format!("warning: {path}:12: close price 1e17")), "{err}");
    assert!(err.contains(&format!("warning: {path}:22: close price 1e17")), "{err}");
    assert!(err.contains(&format!("warning: 2 rows of `{path}` skipped (--skip-bad-rows); 38 loaded")), "{err}");
}

#[test]
fn reading_the_volume_of_a_file_without_one_is_an_error_naming_it() {
    // Drop the volume column (the last) from the header and every row.
    let path = spy_file("novolume", 30, |_, l| l.rsplit_once(',').map_or(l.clone(), |(a, _)| a.to_string()));
    let text = std::fs::read_to_string(&path).expect("written");
    let (header, rest) = text.split_once('\n').unwrap_or_default();
    let header = header.rsplit_once(',').map_or(header, |(a, _)| a);
    std::fs::write(&path, format!("{header}\n{rest}")).expect("rewrite");
    let (code, _, err) = eval("close(SPY)", &path, &[]);
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = eval("volume(SPY) > 1000", &path, &[]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("`volume(SPY)` reads the volume, but the data for `SPY` has no volume column"), "{err}");
    let (code, _, err) = eval("avg_volume(SPY, 20d)", &path, &[]);
    assert_eq!(code, 1);
    assert!(err.contains("`avg_volume(SPY, …)` reads the volume"), "{err}");
}

#[test]
fn a_window_finer_than_the_data_is_an_error_naming_the_bar_length() {
    let spy = "SPY=../shared/data/prices/SPY_D.csv";
    let (code, _, err) = run(&["eval", "change(SPY, 1h)", "--data", spy]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("`change`: a window of 1h is shorter than one bar of the data (1d)"), "{err}");
    let (code, _, err) = run(&["eval", "avg_volume(SPY, 30m)", "--data", spy]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("a window of 30m is shorter than one bar of the data (1d)"), "{err}");
    let (code, _, err) = run(&["eval", "change(SPY, 1d)", "--data", spy]);
    assert_eq!(code, 0, "{err}");
}

#[test]
fn min_liquidity_over_a_file_without_volume_is_warned_at_the_start_and_refuses() {
    let path = spy_file("liquidity", 40, |_, l| l.rsplit_once(',').map_or(l.clone(), |(a, _)| a.to_string()));
    let text = std::fs::read_to_string(&path).expect("written");
    let (header, rest) = text.split_once('\n').unwrap_or_default();
    std::fs::write(&path, format!("{}\n{rest}", header.rsplit_once(',').map_or(header, |(a, _)| a))).expect("rewrite");
    let dir = std::env::temp_dir().join(format!("strat-liquidity-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let file = dir.join("l.strat");
    std::fs::write(&file, "limits { max_position $50_000\n min_liquidity 1000 }\nworkflow W {\n  on bar(SPY, 1d)\n  buy SPY size 1 shares\n}\n")
        .expect("write");
    let data = format!("SPY={path}");
    let (code, _, err) = run(&["backtest", &file.to_string_lossy(), "--data", &data, "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains(
            "`W`: min_liquidity cannot be evaluated for SPY (its data has no volume column), so its buys are refused"
        ),
        "{err}"
    );
}

#[test]
fn a_date_format_and_a_separator_can_be_named() {
    // Day-first dates, semicolons: the AAPL file's first rows rewritten.
    let text = std::fs::read_to_string(common::root().join("../shared/data/prices/AAPL_2012-2014.csv")).expect("data");
    let mut out = String::from("date;open;high;low;close;volume\n");
    for line in text.lines().skip(1).take(30) {
        let f: Vec<&str> = line.split(',').collect();
        let d = chrono::NaiveDate::parse_from_str(f[0], "%Y-%m-%d").expect("date");
        out.push_str(&format!("{};{}\n", d.format("%d.%m.%Y"), f[1..6].join(";")));
    }
    let path = std::env::temp_dir().join(format!("strat-data-dayfirst-{}.csv", std::process::id()));
    std::fs::write(&path, out).expect("write");
    let path = path.to_string_lossy().into_owned();
    let (code, _, err) = eval("close(SPY)", &path, &[]);
    assert_eq!(code, 2, "without the format the dates are refused: {err}");
    assert!(err.contains("is not YYYY-MM-DD, MM/DD/YYYY"), "{err}");
    let (code, out, err) = eval("close(SPY)", &path, &["--csv-date-format", "%d.%m.%Y", "--format", "csv"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.lines().nth(1).is_some_and(|l| l.starts_with("2012-01-03")), "{out}");
    assert_eq!(out.lines().count(), 31);
    let (code, _, _) = eval("close(SPY)", &path, &["--csv-date-format", "%d.%m.%Y", "--csv-delimiter", ";"]);
    assert_eq!(code, 0);
    let (code, _, err) = eval("close(SPY)", &path, &["--csv-delimiter", "|"]);
    assert_eq!(code, 2);
    assert!(err.contains("`|` is not a separator: give `,`, `;` or `tab`"), "{err}");
}

/// `rows` one-minute bars, 390 a weekday from 2010-01-04, as `date,time,open,high,low,close,volume`.
fn minute_bars(rows: usize) -> Vec<u8> {
    let mut out = b"date,time,open,high,low,close,volume\n".to_vec();
    let mut day = chrono::NaiveDate::from_ymd_opt(2010, 1, 4).expect("date");
    let mut written = 0;
    while written < rows {
        for m in 0..390.min(rows - written) {
            let t = 9 * 60 + 30 + m;
            let p = 100.0 + (written % 1000) as f64 / 100.0;
            let row = format!(
                "{day},{:02}:{:02}:00,{p:.2},{:.2},{:.2},{p:.2},{}\n",
                t / 60,
                t % 60,
                p + 0.05,
                p - 0.05,
                100 + m
            );
            out.extend_from_slice(row.as_bytes());
            written += 1;
        }
        day = day.succ_opt().expect("date");
        while chrono::Datelike::weekday(&day).number_from_monday() > 5 {
            day = day.succ_opt().expect("date");
        }
    }
    out
}

fn write_bytes(name: &str, bytes: &[u8]) -> String {
    let path = std::env::temp_dir().join(format!("strat-data-{name}-{}.csv", std::process::id()));
    std::fs::write(&path, bytes).expect("write");
    path.to_string_lossy().into_owned()
}

#[test]
fn a_file_of_many_blocks_names_its_rows_by_their_exact_lines() {
    // About 6.5 MB: read in several blocks; row 100,000 (line 100,001) gets a high below its low.
    let mut text = String::from_utf8(minute_bars(120_000)).expect("ASCII");
    let line = text.lines().nth(100_001).expect("row").to_string();
    let mut f: Vec<&str> = line.split(',').collect();
    f[3] = "1";
    text = text.replacen(&line, &f.join(","), 1);
    let path = write_bytes("blocks", text.as_bytes());
    let (code, _, err) = eval("close(SPY)", &path, &[]);
    assert_eq!(code, 2, "{err}");
    assert!(err.starts_with(&format!("error: {path}:100002: high 1 is below low")), "{err}");
    let (code, out, err) = eval("close(SPY)", &path, &["--skip-bad-rows", "--format", "csv"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains(&format!("warning: 1 row of `{path}` skipped (--skip-bad-rows); 119999 loaded")), "{err}");
    assert_eq!(out.lines().count(), 1 + 119_999);
}

#[test]
fn a_file_that_is_not_utf8_is_refused_at_the_line_of_its_first_bad_byte() {
    let mut bytes = minute_bars(200);
    // Line 151 gets a Latin-1 `é` (one byte, 0xE9) after its time.
    let at = bytes.split(|&c| c == b'\n').take(150).map(|l| l.len() + 1).sum::<usize>() + 19;
    bytes.insert(at, 0xe9);
    let path = write_bytes("latin1", &bytes);
    let (code, _, err) = eval("close(SPY)", &path, &[]);
    assert_eq!(code, 2, "{err}");
    assert_eq!(
        err.trim(),
        format!(
            "error: {path}:151: the file is not UTF-8 text: byte 0xE9 at column 20 is not valid UTF-8 (save the file as UTF-8)"
        )
    );
    let (code, _, err) = eval("close(SPY)", "no/such/file.csv", &[]);
    assert_eq!(
        (code, err.trim()),
        (2, "error: cannot read `no/such/file.csv`: No such file or directory (os error 2)")
    );
}

/// The first 30 rows of the AAPL file as `header`, each row's fields given by `row` from the
/// date, open, high, low, close and volume.
fn aapl_as(name: &str, header: &str, row: impl Fn(&[&str]) -> String) -> String {
    let text = std::fs::read_to_string(common::root().join("../shared/data/prices/AAPL_2012-2014.csv")).expect("data");
    let mut out = format!("{header}\n");
    for line in text.lines().skip(1).take(30) {
        let f: Vec<&str> = line.split(',').collect();
        out.push_str(&row(&f[..6]));
        out.push('\n');
    }
    write_bytes(name, out.as_bytes())
}

#[test]
fn a_column_named_for_a_field_is_read_for_it() {
    // An adjusted close halfway between the low and the high, beside the close.
    let path = aapl_as("adjusted", "Date,Open,High,Low,Close,Adj Close,Volume", |f| {
        let mid = (f[2].parse::<f64>().unwrap_or(0.0) + f[3].parse::<f64>().unwrap_or(0.0)) / 2.0;
        format!("{},{mid},{}", f[..5].join(","), f[5])
    });
    let (code, out, err) = eval("close(SPY)", &path, &["--format", "csv"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.lines().nth(1), Some("2012-01-03,58.747143"), "the unadjusted close by default");
    let (code, out, err) = eval("close(SPY)", &path, &["--format", "csv", "--csv-column", "close=Adj Close"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.lines().nth(1), Some("2012-01-03,58.67857"), "{out}");
    // Names detection does not know, in any case, with spaces around them.
    let path = aapl_as("renamed", "Timestamp,Open,High,Low,Last,Vol", |f| f.join(","));
    let (code, _, err) = eval("close(SPY)", &path, &[]);
    assert_eq!(code, 2);
    assert!(err.contains("the header has no `close` column (found: timestamp,open,high,low,last,vol)"), "{err}");
    assert!(err.contains("or name it with --csv-column close=HEADER"), "{err}");
    let (code, out, err) = eval("volume(SPY)", &path, &["--format", "csv", "--csv-column", "CLOSE= last "]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.lines().nth(1), Some("2012-01-03,75555200"), "{out}");
}

#[test]
fn a_column_named_wrongly_is_an_error_saying_how() {
    let path = aapl_as("wrongly", "date,open,high,low,close,volume", |f| f.join(","));
    let (code, _, err) = eval("close(SPY)", &path, &["--csv-column", "close=Adj Close"]);
    assert_eq!(code, 2);
    assert_eq!(
        err.trim(),
        format!(
            "error: {path}:1: --csv-column close=Adj Close: the header has no column `Adj Close` (found: date,open,high,low,close,volume)"
        )
    );
    let (code, _, err) = eval("close(SPY)", &path, &["--csv-column", "open=close", "--csv-column", "close=Close"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("--csv-column open and --csv-column close both name the column `Close`: a column holds one field"),
        "{err}"
    );
    let (code, _, err) = eval("close(SPY)", &path, &["--csv-column", "last=close"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("`last` is not a field of a bar: give one of date, time, open, high, low, close, volume"),
        "{err}"
    );
    let (code, _, err) = eval("close(SPY)", &path, &["--csv-column", "close"]);
    assert_eq!(code, 2);
    assert!(err.contains("`close` is not FIELD=HEADER"), "{err}");
}
