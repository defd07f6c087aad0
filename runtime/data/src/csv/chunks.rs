//! Large bodies read in pieces by two threads, joined in order: the result is the same as
//! reading the body in one piece.

use super::*;
use std::sync::{Mutex, PoisonError};

/// Large bodies are read in pieces of about this size, shared out between two threads as each
/// becomes free (so a thread slowed by other work on the machine simply reads fewer pieces).
pub(super) const CHUNK_BYTES: usize = 1 << 20;
pub(super) const MAX_CHUNKS: usize = 32;

/// The starts of `count` pieces of `body` of about equal size, each beginning a line, then the
/// body's length. Fewer pieces where lines are long.
pub(super) fn chunk_bounds(body: &str, count: usize) -> Vec<usize> {
    let mut bounds = vec![0];
    for k in 1..count {
        let from = body.len() / count * k;
        let start = line_end(body.as_bytes(), from.max(bounds.last().copied().unwrap_or(0))) + 1;
        if start >= body.len() {
            break;
        }
        if bounds.last() != Some(&start) {
            bounds.push(start);
        }
    }
    bounds.push(body.len());
    bounds
}

/// About how many rows a body holds, from the lines in its first 64 KiB, so the bars are not
/// copied as their vector grows. Never more than one per 16 bytes: no row giving a bar is
/// shorter (`20200102,1,1,1,1`).
pub(super) fn estimate_rows(body: &str) -> usize {
    let b = body.as_bytes();
    let sample = b.get(..b.len().min(1 << 16)).unwrap_or(b);
    let lines = sample.iter().filter(|&&c| c == b'\n').count() + 1;
    (b.len() / (sample.len() / lines).max(1)).min(b.len() / 16) + 16
}

impl Reader<'_> {
    /// Reads the pieces of `body` (starting at `bounds`) on two threads into `rows`, exactly as
    /// one pass would; returns how many lines the body holds.
    ///
    /// This thread reads pieces from the front, in order and in place, as one pass does. The
    /// other reads pieces from the back, each as if it were a file of its own that had already
    /// seen a row of the right width, numbering its lines from 1; they meet where the work is
    /// half done, whatever else the machine is doing. The back pieces are then joined in order.
    /// A back piece's reading stands unless it depended on what came before it: the width of the
    /// file's first row (if nothing before it had a row of the right width), or the order of
    /// its first bar after the last bar before it. Then it is read again, in sequence.
    pub(super) fn parse_chunks(
        &self,
        body: &str,
        bounds: &[usize],
        first_line: usize,
        rows: &mut Rows,
    ) -> Result<usize, Problem> {
        let pieces = bounds.len() - 1;
        let piece = |k: usize| body.get(bounds[k]..bounds[k + 1]).unwrap_or("");
        // The pieces neither thread has taken yet.
        let open = Mutex::new(0..pieces);
        let take = |front: bool| {
            let mut open = lock(&open);
            if front { open.next() } else { open.next_back() }
        };
        // The other thread's vectors are kept from piece to piece and from body to body: a
        // thread that ends leaves what it allocated where some allocators do not take it back.
        let spare = Mutex::new(std::mem::take(&mut rows.spare));
        let from_back = || {
            let mut done = Vec::new();
            while let Some(k) = take(false) {
                let mut bars = lock(&spare).pop().unwrap_or_default();
                bars.clear();
                bars.reserve(estimate_rows(piece(k)));
                let mut r = Rows { checked_width: true, bars, ..Rows::default() };
                let lines = self.parse_rows(piece(k), 1, &mut r);
                done.push((k, lines, r));
            }
            done
        };
        let mut line = first_line;
        let (front, back) = std::thread::scope(|s| {
            let worker = std::thread::Builder::new().spawn_scoped(s, from_back).ok();
            let mut front = Ok(0);
            while let Some(k) = take(true) {
                match self.parse_rows(piece(k), line, rows) {
                    Ok(lines) => {
                        line += lines;
                        front = Ok(k + 1);
                    }
                    Err(problem) => {
                        // The file is refused: the other thread need read no further.
                        *lock(&open) = 0..0;
                        front = Err(problem);
                        break;
                    }
                }
            }
            (front, worker.and_then(|w| w.join().ok()).unwrap_or_default())
        });
        rows.spare = spare.into_inner().unwrap_or_else(PoisonError::into_inner);
        let end = self.join_back(&piece, front?..pieces, back, line, rows)?;
        Ok(end - first_line)
    }

    /// Joins the pieces `from` read from the back to `rows` (whose next line is `line`), in
    /// order, reading again those whose reading does not stand (see [`Reader::parse_chunks`]),
    /// and those the other thread did not read (it could not start, or failed); returns the
    /// number of the line after them.
    fn join_back<'t>(
        &self,
        piece: &impl Fn(usize) -> &'t str,
        from: std::ops::Range<usize>,
        mut back: Vec<(usize, Result<usize, Problem>, Rows)>,
        mut line: usize,
        rows: &mut Rows,
    ) -> Result<usize, Problem> {
        back.sort_by_key(|(k, _, _)| *k);
        let mut back = back.into_iter().peekable();
        for k in from {
            let read = if back.peek().is_some_and(|(j, _, _)| *j == k) { back.next() } else { None };
            match read {
                Some((_, Ok(lines), mut r))
                    if rows.checked_width
                        && match (rows.bars.last(), r.bars.first()) {
                            (Some(last), Some(first)) => follows(Some(last), first).is_ok(),
                            _ => true,
                        } =>
                {
                    rows.bars.append(&mut r.bars);
                    rows.problems.extend(r.problems.into_iter().map(|p| Problem { line: p.line + line - 1, ..p }));
                    rows.spare.push(r.bars);
                    line += lines;
                }
                other => {
                    rows.spare.extend(other.map(|(_, _, r)| r.bars));
                    line += self.parse_rows(piece(k), line, rows)?;
                }
            }
        }
        Ok(line)
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}
