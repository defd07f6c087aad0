//! CSV read from a reader block by block, so that a file's text is never held whole: each block
//! of a few MiB is cut after its last line, its lines are read as the text loader reads a body
//! (the fast path, two threads over its pieces), and the unfinished line is carried into the
//! next block. The result is the one [`parse_csv_with`] gives on the whole text.

use super::*;
use std::io::Read;

/// The input is read in blocks of this size (each with the end of the line before it).
const BLOCK_BYTES: usize = 4 << 20;
/// The longest line read before the file is refused.
const MAX_LINE_BYTES: usize = 16 << 20;
/// A block is read in pieces of about this size, shared out between two threads: smaller than
/// a whole text's, since the threads meet at every block's end, where the one done first waits.
const PIECE_BYTES: usize = 512 << 10;

/// Why a CSV stream was not loaded.
#[derive(Debug)]
pub enum ReadError {
    /// The reader failed: the file could not be read.
    Io(std::io::Error),
    /// The text was refused whole: its header, its first row, or bytes that are not UTF-8.
    Refused(Problem),
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadError::Io(e) => write!(f, "cannot read the CSV: {e}"),
            ReadError::Refused(p) => p.fmt(f),
        }
    }
}

impl std::error::Error for ReadError {}

impl From<std::io::Error> for ReadError {
    fn from(e: std::io::Error) -> ReadError {
        ReadError::Io(e)
    }
}

impl From<Problem> for ReadError {
    fn from(p: Problem) -> ReadError {
        ReadError::Refused(p)
    }
}

/// [`parse_csv_with`] on the text `reader` gives, read a block at a time: the bars, problems
/// and layout are the same, but only a block of the text is held at once. `size_hint` is the
/// input's size in bytes if known (a file's length): the bars' vector is then sized once for
/// the whole file. Text that is not UTF-8 is refused at the line that holds the first bad byte.
pub fn parse_csv_reader<R: Read>(reader: R, options: &CsvOptions, size_hint: Option<u64>) -> Result<Loaded, ReadError> {
    stream(reader, options, size_hint, BLOCK_BYTES, None)
}

/// [`parse_csv_reader`] with blocks of `block` bytes, each read in `pieces` pieces (by default,
/// as many as its size calls for: one per [`PIECE_BYTES`]).
pub(super) fn stream<R: Read>(
    mut input: R,
    options: &CsvOptions,
    size_hint: Option<u64>,
    block: usize,
    pieces: Option<usize>,
) -> Result<Loaded, ReadError> {
    let block = block.max(1);
    let mut state =
        Stream { options, pieces, line: 1, reader: None, rows: Rows::default(), size_hint, read: 0, body: (0, 0) };
    // What has been read and not parsed: the end of a line whose `\n` is still to come.
    let mut buf: Vec<u8> = Vec::new();
    loop {
        let carried = buf.len();
        let eof = fill(&mut input, &mut buf, block)?;
        // The lines up to the last `\n` (the carried bytes hold none), or at the end all of it.
        let cut = match buf.get(carried..).and_then(|new| new.iter().rposition(|&c| c == b'\n')) {
            _ if eof => buf.len(),
            Some(i) => carried + i + 1,
            // A line longer than a block: read on, up to a bound no row of bars comes near (so
            // input without line ends, such as /dev/zero, cannot grow without limit).
            None if buf.len() > MAX_LINE_BYTES => {
                let message = format!("a line longer than {} MiB: this is not a file of bars", MAX_LINE_BYTES >> 20);
                return Err(ReadError::Refused(Problem { line: state.line, message }));
            }
            None => continue,
        };
        state.take(buf.get(..cut).unwrap_or_default())?;
        buf.copy_within(cut.., 0);
        buf.truncate(buf.len() - cut);
        if eof {
            return state.finish();
        }
    }
}

/// Reads up to `block` more bytes onto the end of `buf`; whether the input has ended.
fn fill<R: Read>(input: &mut R, buf: &mut Vec<u8>, block: usize) -> Result<bool, std::io::Error> {
    buf.reserve(block);
    let n = input.by_ref().take(block as u64).read_to_end(buf)?;
    Ok(n < block)
}

/// A stream being read.
struct Stream<'o> {
    options: &'o CsvOptions,
    pieces: Option<usize>,
    /// The number of the next line to read.
    line: usize,
    /// The reader of the rows, once the header is read.
    reader: Option<Reader<'o>>,
    rows: Rows,
    /// The input's size if known, and how many of its bytes have been taken.
    size_hint: Option<u64>,
    read: u64,
    /// How many lines and bytes of the body have been read.
    body: (usize, u64),
}

impl Stream<'_> {
    /// Reads `bytes`: whole lines, or the rest of the input. Refuses the first line that is not
    /// UTF-8, once the lines before it are read (a problem there comes first).
    fn take(&mut self, bytes: &[u8]) -> Result<(), Problem> {
        let (text, bad) = match std::str::from_utf8(bytes) {
            Ok(text) => (text, None),
            Err(e) => {
                let valid = bytes.get(..e.valid_up_to()).unwrap_or_default();
                let start = valid.iter().rposition(|&c| c == b'\n').map_or(0, |i| i + 1);
                (std::str::from_utf8(valid.get(..start).unwrap_or_default()).unwrap_or_default(), Some((start, e)))
            }
        };
        self.take_text(text)?;
        self.read += bytes.len() as u64;
        match bad {
            None => Ok(()),
            Some((start, e)) => {
                Err(not_utf8(self.line, bytes.get(start..).unwrap_or_default(), e.valid_up_to() - start))
            }
        }
    }

    /// Reads `text`: whole lines, or the rest of the input.
    fn take_text(&mut self, text: &str) -> Result<(), Problem> {
        let body = match self.reader {
            Some(_) => text,
            None => match header_line(text, self.line) {
                Ok((header, line, start)) => {
                    self.reader = Some(Reader::for_header(header, line, self.options)?);
                    self.line = line + 1;
                    text.get(start..).unwrap_or_default()
                }
                Err(next) => {
                    self.line = next;
                    return Ok(());
                }
            },
        };
        self.make_room(body);
        let Some(reader) = &self.reader else { return Ok(()) };
        let pieces = self.pieces.unwrap_or((body.len() / PIECE_BYTES).clamp(1, MAX_CHUNKS));
        let lines = reader.parse_body(body, self.line, Some(pieces), &mut self.rows)?;
        self.line += lines;
        self.body = (self.body.0 + lines, self.body.1 + body.len() as u64);
        Ok(())
    }

    /// Makes room for the bars of `block` (the next lines of the body) and of the rest of the
    /// input, at the bytes a line of the body so far (of the block, at first), with an eighth
    /// more: the vector is sized once for the whole input rather than grown (and copied) as it
    /// fills, unless its lines turn out an eighth shorter than the first block's. Without the
    /// input's size (or past it), it grows as usual.
    fn make_room(&mut self, block: &str) {
        let bars = &mut self.rows.bars;
        let rest = self.size_hint.map(|size| size.saturating_sub(self.read)).filter(|&rest| rest >= block.len() as u64);
        let Some(rest) = rest else {
            bars.reserve(estimate_rows(block));
            return;
        };
        let (lines, bytes) = match self.body {
            (0, _) => (block.as_bytes().iter().filter(|&&c| c == b'\n').count() + 1, block.len() as u64),
            seen => seen,
        };
        let per_line = (bytes / lines as u64).max(16);
        let rows = usize::try_from(rest / per_line).unwrap_or(usize::MAX).saturating_add(1);
        if bars.capacity() - bars.len() < rows {
            bars.reserve_exact(rows.saturating_add(rows / 8));
        }
    }

    fn finish(self) -> Result<Loaded, ReadError> {
        let Some(reader) = self.reader else {
            return Err(Problem { line: 1, message: "the file is empty".into() }.into());
        };
        let mut bars = self.rows.bars;
        // Rows refused, or a size hint past the input, leave room that is not needed.
        if bars.capacity() > bars.len() + bars.len() / 16 + 64 {
            bars.shrink_to_fit();
        }
        Ok(Loaded { layout: reader.layout, bars, problems: self.rows.problems })
    }
}

/// Refuses line `line` (`bytes`, from its start) for the byte at `at`, which is not UTF-8.
fn not_utf8(line: usize, bytes: &[u8], at: usize) -> Problem {
    let before = bytes.get(..at).unwrap_or_default();
    let column = std::str::from_utf8(before).map_or(at, |s| s.chars().count()) + 1;
    let byte = bytes.get(at).copied().unwrap_or_default();
    Problem {
        line,
        message: format!(
            "the file is not UTF-8 text: byte 0x{byte:02X} at column {column} is not valid UTF-8 (save the file as UTF-8)"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn streamed(bytes: &[u8], block: usize) -> Result<Loaded, ReadError> {
        stream(bytes, &CsvOptions::default(), Some(bytes.len() as u64), block, None)
    }

    fn refused(bytes: &[u8], block: usize) -> Problem {
        match streamed(bytes, block) {
            Err(ReadError::Refused(p)) => p,
            other => panic!("not refused: {other:?}"),
        }
    }

    #[test]
    fn bytes_that_are_not_utf8_refuse_the_file_at_their_line_and_column() {
        let text = b"\n date,open,high,low,close\n2020-01-02,10,11,9,10.5\n2020-01-03,1\xe9,11,9,10.5\n2020-01-06,10,11,9,10\n";
        for block in [1, 7, 40, 1 << 20] {
            let p = refused(text, block);
            assert_eq!(
                (p.line, p.message.as_str()),
                (4, "the file is not UTF-8 text: byte 0xE9 at column 13 is not valid UTF-8 (save the file as UTF-8)"),
                "blocks of {block}"
            );
        }
        // In the header, after a blank line; the column counts characters, not bytes.
        let p = refused(b"\r\nd\xc3\xa4te,open\xff,high\n", 3);
        assert_eq!((p.line, p.message.contains("byte 0xFF at column 10")), (2, true), "{p}");
        // On a last line without a newline, cut short in a character.
        assert_eq!(refused(b"date,open,high,low,close\n2020-01-02,10,11,9,10\xc3", 8).line, 2);
    }

    #[test]
    fn a_problem_before_the_first_bad_byte_is_the_one_reported() {
        let text = b"date,open,high,low,close\n2020-01-02,10,11,9\n2020-01-03,1\xe9,11,9,10.5\n";
        for block in [1, 30, 1 << 20] {
            let p = refused(text, block);
            assert_eq!((p.line, p.message.as_str()), (2, "rows have 4 fields, but the header names 5"));
        }
    }

    #[test]
    fn an_input_that_fails_to_read_is_an_io_error() {
        struct Broken;
        impl Read for Broken {
            fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
                Err(std::io::Error::other("the disk went away"))
            }
        }
        let e = parse_csv_reader(Broken, &CsvOptions::default(), None).expect_err("fails");
        assert!(matches!(&e, ReadError::Io(io) if io.to_string() == "the disk went away"), "{e:?}");
        assert_eq!(e.to_string(), "cannot read the CSV: the disk went away");
    }

    #[test]
    fn an_input_without_line_ends_is_refused_once_a_line_passes_the_bound() {
        let zeros = std::io::Read::take(std::io::repeat(0), 64 << 20);
        let e = parse_csv_reader(zeros, &CsvOptions::default(), None).expect_err("refused");
        assert!(matches!(&e, ReadError::Refused(p) if p.line == 1 && p.message.contains("longer than 16 MiB")), "{e}");
    }

    #[test]
    fn an_empty_or_blank_input_is_the_empty_file() {
        for text in ["", "\n\n", " \r\n\t\n  "] {
            let p = refused(text.as_bytes(), 2);
            assert_eq!((p.line, p.message.as_str()), (1, "the file is empty"), "{text:?}");
        }
        let header_only = streamed(b"\n\ndate,open,high,low,close", 4).expect("a header without rows loads");
        assert!(header_only.bars.is_empty() && header_only.problems.is_empty());
    }

    #[test]
    fn a_quoted_field_holding_a_newline_is_cut_there_as_in_the_whole_text() {
        // Neither loader reads a newline inside quotes: the line ends there, in both alike.
        let text = "date,open,high,low,close,note\n2020-01-02,10,11,9,10.5,\"a\nb\"\n2020-01-03,10,11,9,10,x\n";
        let whole = parse_csv(text).expect("header");
        for block in [1, 5, 33, 1 << 20] {
            // Debug forms: the bars' volumes are NaN (not given), which `==` never matches.
            let got = streamed(text.as_bytes(), block).expect("header");
            assert_eq!(format!("{got:?}"), format!("{whole:?}"), "blocks of {block}");
        }
        assert_eq!(whole.bars.len(), 2);
        assert_eq!(whole.problems, [Problem { line: 3, message: "1 fields, but the header names 6".into() }]);
    }

    #[test]
    fn the_bars_vector_ends_close_to_its_length_whatever_the_hint() {
        let mut text = String::from("date,time,open,high,low,close,volume\n");
        for m in 0..20_000 {
            text.push_str(&format!("2020-01-02,{:02}:{:02}:00,10.25,11.5,9.75,10.5,{m}\n", m / 60 % 24, m % 60));
        }
        let text = text.replace("2020-01-02,00:00", "2020-01-01,00:00");
        for hint in [Some(text.len() as u64), None, Some(1), Some(text.len() as u64 * 10)] {
            let l = stream(text.as_bytes(), &CsvOptions::default(), hint, 4096, None).expect("loads");
            assert_eq!(l.bars.len() + l.problems.len(), 20_000);
            assert!(
                l.bars.capacity() <= l.bars.len() + l.bars.len() / 16 + 64,
                "{hint:?}: {} for {}",
                l.bars.capacity(),
                l.bars.len()
            );
        }
    }
}
