//! Standard Webhooks signatures (<https://www.standardwebhooks.com>): the service checks the
//! incoming webhooks with them and signs its outgoing notifications.
//!
//! A signature is `v1,` and the base64 of HMAC-SHA256 under the secret's key of
//! `{webhook-id}.{webhook-timestamp}.{body}`, over the raw bytes of the body as they arrived: a
//! body parsed and serialised again does not verify. A request is accepted when its timestamp is
//! within [`TOLERANCE_SECS`] of the current time (passed in; nothing here reads a clock) and any
//! `v1` entry of its `webhook-signature` header matches, so a sender rotating its key can sign
//! with the old and the new one for a while.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ring::hmac;

/// How far, in seconds, a request's timestamp may be from the current time, either way.
pub const TOLERANCE_SECS: i64 = 300;

/// The longest accepted `webhook-id`, in bytes.
pub const MAX_ID_LEN: usize = 256;

/// The most entries of a `webhook-signature` header that are examined; a longer list is refused.
pub const MAX_SIGNATURES: usize = 16;

/// The header carrying the message id.
pub const ID_HEADER: &str = "webhook-id";

/// The header carrying the unix time, in seconds, at which the message was signed.
pub const TIMESTAMP_HEADER: &str = "webhook-timestamp";

/// The header carrying the space-delimited list of `version,base64` signatures.
pub const SIGNATURE_HEADER: &str = "webhook-signature";

/// The prefix of a secret's text.
const SECRET_PREFIX: &str = "whsec_";

/// The accepted lengths of a secret's key, in bytes.
const KEY_LEN: std::ops::RangeInclusive<usize> = 16..=128;

/// A webhook secret: the HMAC-SHA256 key. Its `Debug` shows no key.
#[derive(Clone)]
pub struct Secret {
    key: hmac::Key,
}

impl Secret {
    /// Parses `whsec_` followed by the standard base64 (with padding) of the key.
    pub fn parse(text: &str) -> Result<Secret, SecretError> {
        let encoded = text.strip_prefix(SECRET_PREFIX).ok_or(SecretError::MissingPrefix)?;
        let key = STANDARD.decode(encoded).map_err(|_| SecretError::NotBase64)?;
        if !KEY_LEN.contains(&key.len()) {
            return Err(SecretError::Length { got: key.len() });
        }
        Ok(Secret { key: hmac::Key::new(hmac::HMAC_SHA256, &key) })
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(..)")
    }
}

/// Why a secret's text was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretError {
    /// The text does not begin with `whsec_`.
    MissingPrefix,
    /// What follows `whsec_` is not standard base64 with padding.
    NotBase64,
    /// The key is too short or too long.
    Length { got: usize },
}

const SECRET_FORM: &str = "a webhook secret is `whsec_` followed by base64 of 24 to 64 random bytes";

impl fmt::Display for SecretError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SecretError::MissingPrefix => write!(f, "the webhook secret does not begin with `whsec_`; {SECRET_FORM}"),
            SecretError::NotBase64 => {
                write!(f, "the webhook secret after `whsec_` is not standard base64 with padding; {SECRET_FORM}")
            }
            SecretError::Length { got } => write!(
                f,
                "the webhook secret's key is {got} bytes; {} to {} are accepted, and {SECRET_FORM}",
                KEY_LEN.start(),
                KEY_LEN.end()
            ),
        }
    }
}

impl std::error::Error for SecretError {}

/// The three Standard Webhooks headers of a request, as they arrived (`None` when absent).
#[derive(Debug, Clone, Copy, Default)]
pub struct Headers<'a> {
    pub id: Option<&'a str>,
    pub timestamp: Option<&'a str>,
    pub signature: Option<&'a str>,
}

/// Why a request was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The named header is absent.
    MissingHeader(&'static str),
    /// The `webhook-id` is empty, too long, or has a character other than printable ASCII
    /// without `.`.
    BadId,
    /// The `webhook-timestamp` is not an integer number of unix seconds.
    BadTimestamp,
    /// The timestamp is more than [`TOLERANCE_SECS`] in the past.
    TooOld { age: i64 },
    /// The timestamp is more than [`TOLERANCE_SECS`] in the future.
    InTheFuture { ahead: i64 },
    /// The body is not valid UTF-8.
    NotUtf8,
    /// The `webhook-signature` header has more than [`MAX_SIGNATURES`] entries.
    TooManySignatures,
    /// The `webhook-signature` header has no `v1` entry.
    NoV1Signature,
    /// No `v1` entry matches.
    BadSignature,
}

impl Refusal {
    /// The HTTP status the endpoint answers: 400 for a malformed request, 401 for one whose
    /// signature does not hold or whose timestamp is stale or ahead (a possible replay).
    pub fn status(&self) -> u16 {
        match self {
            Refusal::MissingHeader(_) | Refusal::BadId | Refusal::BadTimestamp | Refusal::NotUtf8 => 400,
            Refusal::TooOld { .. }
            | Refusal::InTheFuture { .. }
            | Refusal::NoV1Signature
            | Refusal::BadSignature
            | Refusal::TooManySignatures => 401,
        }
    }

    /// A short, stable machine word for the refusal.
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::MissingHeader(_) => "missing_header",
            Refusal::BadId => "bad_id",
            Refusal::BadTimestamp => "bad_timestamp",
            Refusal::TooOld { .. } => "too_old",
            Refusal::InTheFuture { .. } => "in_the_future",
            Refusal::NotUtf8 => "not_utf8",
            Refusal::NoV1Signature => "no_v1_signature",
            Refusal::BadSignature => "bad_signature",
            Refusal::TooManySignatures => "too_many_signatures",
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::MissingHeader(name) => write!(
                f,
                "the {name} header is missing; a signed webhook carries {ID_HEADER}, {TIMESTAMP_HEADER} and {SIGNATURE_HEADER}"
            ),
            Refusal::BadId => write!(
                f,
                "the {ID_HEADER} must be 1 to {MAX_ID_LEN} printable ASCII characters without `.` or whitespace"
            ),
            Refusal::BadTimestamp => write!(f, "the {TIMESTAMP_HEADER} is not an integer number of unix seconds"),
            Refusal::TooOld { age } => {
                write!(f, "the {TIMESTAMP_HEADER} is {age} s old; at most {TOLERANCE_SECS} s is accepted")
            }
            Refusal::InTheFuture { ahead } => {
                write!(f, "the {TIMESTAMP_HEADER} is {ahead} s in the future; at most {TOLERANCE_SECS} s is accepted")
            }
            Refusal::NotUtf8 => write!(f, "the webhook body is not valid UTF-8"),
            Refusal::NoV1Signature => write!(f, "the {SIGNATURE_HEADER} header has no `v1,` signature"),
            Refusal::BadSignature => {
                write!(f, "no `v1` signature of the {SIGNATURE_HEADER} header matches the body and the secret")
            }
            Refusal::TooManySignatures => {
                write!(f, "the {SIGNATURE_HEADER} header lists more than {MAX_SIGNATURES} signatures")
            }
        }
    }
}

impl std::error::Error for Refusal {}

/// The `v1,<base64>` signature of a message: what goes in its `webhook-signature` header.
pub fn sign(secret: &Secret, id: &str, timestamp: i64, body: &[u8]) -> String {
    let tag = hmac::sign(&secret.key, &signed_content(id, &timestamp.to_string(), body));
    format!("v1,{}", STANDARD.encode(tag.as_ref()))
}

/// Checks a request's headers and raw body at unix time `now`, in the order of [`Refusal`]'s
/// variants: the headers are present and well formed, the timestamp is fresh, the body is UTF-8,
/// and a `v1` signature matches.
pub fn verify(secret: &Secret, headers: &Headers<'_>, body: &[u8], now: i64) -> Result<(), Refusal> {
    let id = headers.id.ok_or(Refusal::MissingHeader(ID_HEADER))?;
    let timestamp = headers.timestamp.ok_or(Refusal::MissingHeader(TIMESTAMP_HEADER))?;
    let signature = headers.signature.ok_or(Refusal::MissingHeader(SIGNATURE_HEADER))?;
    check_id(id)?;
    check_age(parse_timestamp(timestamp)?, now)?;
    std::str::from_utf8(body).map_err(|_| Refusal::NotUtf8)?;
    let candidates = v1_signatures(signature)?;
    let content = signed_content(id, timestamp, body);
    let matches =
        |encoded: &&str| STANDARD.decode(encoded).is_ok_and(|tag| hmac::verify(&secret.key, &content, &tag).is_ok());
    if candidates.iter().any(matches) { Ok(()) } else { Err(Refusal::BadSignature) }
}

/// What is signed: `{id}.{timestamp}.{body}`.
fn signed_content(id: &str, timestamp: &str, body: &[u8]) -> Vec<u8> {
    let mut content = Vec::with_capacity(id.len() + timestamp.len() + body.len() + 2);
    content.extend_from_slice(id.as_bytes());
    content.push(b'.');
    content.extend_from_slice(timestamp.as_bytes());
    content.push(b'.');
    content.extend_from_slice(body);
    content
}

/// A message id is 1 to [`MAX_ID_LEN`] bytes of printable ASCII other than `.` (the separator of
/// the signed content); space is not printable here.
fn check_id(id: &str) -> Result<(), Refusal> {
    let well_formed =
        !id.is_empty() && id.len() <= MAX_ID_LEN && id.bytes().all(|byte| byte.is_ascii_graphic() && byte != b'.');
    if well_formed { Ok(()) } else { Err(Refusal::BadId) }
}

/// Unix seconds: ASCII digits only (no sign, no fraction, no spaces) that fit an `i64`.
fn parse_timestamp(text: &str) -> Result<i64, Refusal> {
    if text.is_empty() || !text.bytes().all(|byte| byte.is_ascii_digit()) {
        return Err(Refusal::BadTimestamp);
    }
    text.parse().map_err(|_| Refusal::BadTimestamp)
}

fn check_age(timestamp: i64, now: i64) -> Result<(), Refusal> {
    let age = now.saturating_sub(timestamp);
    if age > TOLERANCE_SECS {
        Err(Refusal::TooOld { age })
    } else if age < -TOLERANCE_SECS {
        Err(Refusal::InTheFuture { ahead: age.saturating_neg() })
    } else {
        Ok(())
    }
}

/// The base64 parts of the header's `v1` entries; entries of other versions are ignored. At most
/// [`MAX_SIGNATURES`] entries are read, so a huge header costs bounded work.
fn v1_signatures(header: &str) -> Result<Vec<&str>, Refusal> {
    let entries: Vec<&str> = header.split(' ').filter(|entry| !entry.is_empty()).take(MAX_SIGNATURES + 1).collect();
    if entries.len() > MAX_SIGNATURES {
        return Err(Refusal::TooManySignatures);
    }
    let v1: Vec<&str> = entries
        .into_iter()
        .filter_map(|entry| entry.split_once(','))
        .filter(|(version, _)| *version == "v1")
        .map(|(_, encoded)| encoded)
        .collect();
    if v1.is_empty() { Err(Refusal::NoV1Signature) } else { Ok(v1) }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
    const ID: &str = "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk";
    const TS: i64 = 1649367553;
    const TS_TEXT: &str = "1649367553";
    const BODY: &[u8] = br#"{"email":"test@example.com","username":"test_user"}"#;
    const KNOWN_SIGNATURE: &str = "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=";

    fn secret() -> Secret {
        Secret::parse(SECRET).expect("the known-answer secret parses")
    }

    fn headers(signature: &str) -> Headers<'_> {
        Headers { id: Some(ID), timestamp: Some(TS_TEXT), signature: Some(signature) }
    }

    /// Verifies the known message with `signature` at `now`.
    fn check(signature: &str, now: i64) -> Result<(), Refusal> {
        verify(&secret(), &headers(signature), BODY, now)
    }

    /// Signs the known id and body at `timestamp` and verifies them at the known time.
    fn check_signed_at(timestamp: i64) -> Result<(), Refusal> {
        let ts = timestamp.to_string();
        let signature = sign(&secret(), ID, timestamp, BODY);
        let headers = Headers { id: Some(ID), timestamp: Some(&ts), signature: Some(&signature) };
        verify(&secret(), &headers, BODY, TS)
    }

    #[test]
    fn sign_gives_the_standard_webhooks_known_answer() {
        assert_eq!(sign(&secret(), ID, TS, BODY), KNOWN_SIGNATURE);
    }

    #[test]
    fn verify_accepts_the_known_answer() {
        assert_eq!(check(KNOWN_SIGNATURE, TS), Ok(()));
    }

    #[test]
    fn a_changed_body_byte_is_refused() {
        let mut body = BODY.to_vec();
        body[2] = b'E';
        assert_eq!(verify(&secret(), &headers(KNOWN_SIGNATURE), &body, TS), Err(Refusal::BadSignature));
    }

    #[test]
    fn a_body_serialised_again_with_other_whitespace_is_refused() {
        let body = br#"{"email": "test@example.com", "username": "test_user"}"#;
        assert_eq!(verify(&secret(), &headers(KNOWN_SIGNATURE), body, TS), Err(Refusal::BadSignature));
    }

    #[test]
    fn a_wrong_secret_is_refused() {
        let other = Secret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").expect("the other secret parses");
        assert_eq!(verify(&other, &headers(KNOWN_SIGNATURE), BODY, TS), Err(Refusal::BadSignature));
    }

    #[test]
    fn a_timestamp_301_seconds_old_is_refused_as_too_old() {
        assert_eq!(check(KNOWN_SIGNATURE, TS + 301), Err(Refusal::TooOld { age: 301 }));
    }

    #[test]
    fn a_timestamp_six_minutes_old_is_refused_as_too_old() {
        assert_eq!(check_signed_at(TS - 360), Err(Refusal::TooOld { age: 360 }));
    }

    #[test]
    fn a_timestamp_ten_minutes_in_the_future_is_refused() {
        assert_eq!(check_signed_at(TS + 600), Err(Refusal::InTheFuture { ahead: 600 }));
    }

    #[test]
    fn a_timestamp_exactly_300_seconds_old_or_ahead_is_accepted() {
        assert_eq!(check(KNOWN_SIGNATURE, TS + 300), Ok(()));
        assert_eq!(check(KNOWN_SIGNATURE, TS - 300), Ok(()));
        assert_eq!(check(KNOWN_SIGNATURE, TS - 301), Err(Refusal::InTheFuture { ahead: 301 }));
    }

    #[test]
    fn each_missing_header_is_refused_by_name() {
        let no_id = Headers { id: None, ..headers(KNOWN_SIGNATURE) };
        let no_timestamp = Headers { timestamp: None, ..headers(KNOWN_SIGNATURE) };
        let no_signature = Headers { signature: None, ..headers(KNOWN_SIGNATURE) };
        assert_eq!(verify(&secret(), &no_id, BODY, TS), Err(Refusal::MissingHeader("webhook-id")));
        assert_eq!(verify(&secret(), &no_timestamp, BODY, TS), Err(Refusal::MissingHeader("webhook-timestamp")));
        assert_eq!(verify(&secret(), &no_signature, BODY, TS), Err(Refusal::MissingHeader("webhook-signature")));
        assert_eq!(verify(&secret(), &Headers::default(), BODY, TS), Err(Refusal::MissingHeader("webhook-id")));
    }

    /// Verifies a message with `id`, correctly signed.
    fn check_id_signed(id: &str) -> Result<(), Refusal> {
        let signature = sign(&secret(), id, TS, BODY);
        let headers = Headers { id: Some(id), timestamp: Some(TS_TEXT), signature: Some(&signature) };
        verify(&secret(), &headers, BODY, TS)
    }

    #[test]
    fn an_id_with_a_dot_whitespace_or_nothing_is_refused() {
        for id in ["msg.1", "msg 1", "msg\t1", "msg_é", ""] {
            assert_eq!(check_id_signed(id), Err(Refusal::BadId), "{id:?}");
        }
    }

    #[test]
    fn an_over_long_id_is_refused() {
        assert_eq!(check_id_signed(&"a".repeat(MAX_ID_LEN)), Ok(()));
        assert_eq!(check_id_signed(&"a".repeat(MAX_ID_LEN + 1)), Err(Refusal::BadId));
    }

    #[test]
    fn a_non_integer_timestamp_is_refused() {
        for ts in ["", "soon", "1649367553.0", "-1649367553", "+1649367553", " 1649367553", "99999999999999999999"] {
            let headers = Headers { timestamp: Some(ts), ..headers(KNOWN_SIGNATURE) };
            assert_eq!(verify(&secret(), &headers, BODY, TS), Err(Refusal::BadTimestamp), "{ts:?}");
        }
    }

    #[test]
    fn an_invalid_utf8_body_signed_correctly_is_refused() {
        let body = b"{\"email\":\"\xff\xfe\"}";
        let signature = sign(&secret(), ID, TS, body);
        assert_eq!(verify(&secret(), &headers(&signature), body, TS), Err(Refusal::NotUtf8));
    }

    #[test]
    fn only_entries_of_other_versions_are_refused_as_no_v1_signature() {
        let digest = KNOWN_SIGNATURE.trim_start_matches("v1,");
        let header = format!("v1a,{digest} v0,{digest} V1,{digest} {digest}");
        assert_eq!(check(&header, TS), Err(Refusal::NoV1Signature));
    }

    #[test]
    fn an_empty_signature_header_is_refused_as_no_v1_signature() {
        assert_eq!(check("", TS), Err(Refusal::NoV1Signature));
        assert_eq!(check("   ", TS), Err(Refusal::NoV1Signature));
    }

    #[test]
    fn one_valid_entry_among_several_is_accepted() {
        let old_key = sign(&Secret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").expect("parses"), ID, TS, BODY);
        let header = format!("v1a,abcd {old_key}  {KNOWN_SIGNATURE} v1,not-base64");
        assert_eq!(check(&header, TS), Ok(()));
    }

    #[test]
    fn sixteen_entries_are_examined_and_seventeen_refused() {
        let wrong = "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
        let sixteen = format!("{} {KNOWN_SIGNATURE}", vec![wrong; 15].join(" "));
        assert_eq!(check(&sixteen, TS), Ok(()));
        let seventeen = format!("{wrong} {sixteen}");
        assert_eq!(check(&seventeen, TS), Err(Refusal::TooManySignatures));
        assert_eq!(check(&vec![wrong; 10_000].join(" "), TS), Err(Refusal::TooManySignatures));
    }

    #[test]
    fn garbage_base64_in_an_entry_is_refused_as_bad_signature() {
        for header in ["v1,", "v1,!!!!", "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw", "v1,,,", "v1,\u{1F600}"] {
            assert_eq!(check(header, TS), Err(Refusal::BadSignature), "{header:?}");
        }
    }

    #[test]
    fn the_first_failing_check_is_the_one_reported() {
        let bad_everything = Headers { id: Some("a.b"), timestamp: Some("soon"), signature: Some("v0,x") };
        assert_eq!(verify(&secret(), &bad_everything, b"\xff", TS), Err(Refusal::BadId));
        let stale = Headers { timestamp: Some("1"), ..headers("v0,x") };
        assert_eq!(verify(&secret(), &stale, b"\xff", TS), Err(Refusal::TooOld { age: TS - 1 }));
        assert_eq!(verify(&secret(), &headers("v0,x"), b"\xff", TS), Err(Refusal::NotUtf8));
    }

    #[test]
    fn refusals_answer_400_when_malformed_and_401_when_unauthenticated() {
        let cases = [
            (Refusal::MissingHeader(ID_HEADER), 400, "missing_header"),
            (Refusal::BadId, 400, "bad_id"),
            (Refusal::BadTimestamp, 400, "bad_timestamp"),
            (Refusal::NotUtf8, 400, "not_utf8"),
            (Refusal::TooOld { age: 301 }, 401, "too_old"),
            (Refusal::InTheFuture { ahead: 600 }, 401, "in_the_future"),
            (Refusal::NoV1Signature, 401, "no_v1_signature"),
            (Refusal::BadSignature, 401, "bad_signature"),
            (Refusal::TooManySignatures, 401, "too_many_signatures"),
        ];
        for (refusal, status, code) in cases {
            assert_eq!((refusal.status(), refusal.code()), (status, code), "{refusal:?}");
        }
    }

    #[test]
    fn a_stale_timestamp_says_how_old_it_is() {
        let message = Refusal::TooOld { age: 361 }.to_string();
        assert_eq!(message, "the webhook-timestamp is 361 s old; at most 300 s is accepted");
    }

    #[test]
    fn a_secret_without_the_prefix_is_refused() {
        let error = Secret::parse("C2FVsBQIhrscChlQIMV+b5sSYspob7oD").expect_err("no prefix");
        assert_eq!(error, SecretError::MissingPrefix);
        assert!(error.to_string().contains("`whsec_` followed by base64"), "{error}");
    }

    #[test]
    fn a_secret_that_is_not_base64_is_refused() {
        for text in
            ["whsec_not base64!", "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7o", "whsec_C2FVsBQIhrscChlQIMV-b5sSYspob7oD"]
        {
            assert_eq!(Secret::parse(text).expect_err("not base64"), SecretError::NotBase64, "{text:?}");
        }
    }

    #[test]
    fn a_secret_key_too_short_or_too_long_is_refused() {
        let of_len = |len: usize| Secret::parse(&format!("whsec_{}", STANDARD.encode(vec![7u8; len])));
        assert_eq!(of_len(0).expect_err("empty"), SecretError::Length { got: 0 });
        assert_eq!(of_len(15).expect_err("short"), SecretError::Length { got: 15 });
        assert_eq!(of_len(129).expect_err("long"), SecretError::Length { got: 129 });
        assert!(of_len(16).is_ok() && of_len(128).is_ok());
        assert!(SecretError::Length { got: 15 }.to_string().contains("15 bytes; 16 to 128"));
    }

    #[test]
    fn a_secret_debug_shows_no_key() {
        assert_eq!(format!("{:?}", secret()), "Secret(..)");
    }
}
