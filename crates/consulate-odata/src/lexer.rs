//! Tokenizer for `$filter`, plus the identifier and path scanners shared with `$orderby` and
//! `$expand`.
//!
//! The scanners only ever advance over ASCII bytes or over whole quoted strings (whose
//! delimiters are ASCII), so every offset they produce is a char boundary.

use crate::{ParseError, excerpt};

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    LParen,
    RParen,
    Comma,
    Colon,
    Slash,
    Str(String),
    Int(i64),
    Float(f64),
    Guid(String),
    DateTime(String),
    /// An identifier, possibly dotted (`microsoft.graph.user`). Keywords are identifiers too;
    /// the parser decides from context.
    Ident(String),
}

impl Tok {
    /// How the token is named in error messages.
    pub(crate) fn describe(&self) -> String {
        match self {
            Tok::LParen => "'('".to_owned(),
            Tok::RParen => "')'".to_owned(),
            Tok::Comma => "','".to_owned(),
            Tok::Colon => "':'".to_owned(),
            Tok::Slash => "'/'".to_owned(),
            Tok::Str(_) => "a string literal".to_owned(),
            Tok::Int(_) | Tok::Float(_) => "a number".to_owned(),
            Tok::Guid(_) => "a GUID".to_owned(),
            Tok::DateTime(_) => "a date-time".to_owned(),
            Tok::Ident(name) => format!("'{}'", excerpt(name)),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Token {
    pub tok: Tok,
    /// Byte offset of the token's first byte.
    pub pos: usize,
    /// Byte offset just past the token.
    pub end: usize,
}

pub(crate) fn is_ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_'
}

pub(crate) fn is_ident_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

pub(crate) fn is_space(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

pub(crate) fn skip_spaces(bytes: &[u8], mut i: usize) -> usize {
    while bytes.get(i).copied().is_some_and(is_space) {
        i += 1;
    }
    i
}

/// The character at byte offset `pos`, for error messages.
pub(crate) fn char_at(input: &str, pos: usize) -> char {
    input
        .get(pos..)
        .and_then(|rest| rest.chars().next())
        .unwrap_or('?')
}

fn unexpected_char(input: &str, pos: usize) -> ParseError {
    ParseError::new(
        format!("unexpected character {:?}", char_at(input, pos)),
        pos,
    )
}

/// Scans `[A-Za-z_][A-Za-z0-9_]*` starting at `i`; returns the end offset.
fn scan_simple_ident(bytes: &[u8], i: usize) -> Option<usize> {
    if !bytes.get(i).copied().is_some_and(is_ident_start) {
        return None;
    }
    let mut j = i + 1;
    while bytes.get(j).copied().is_some_and(is_ident_char) {
        j += 1;
    }
    Some(j)
}

/// Scans an identifier, possibly qualified with dots (`microsoft.graph.user`), at `i`.
/// Returns `Ok(None)` if no identifier starts at `i`.
pub(crate) fn scan_ident(input: &str, i: usize) -> Result<Option<usize>, ParseError> {
    let bytes = input.as_bytes();
    let Some(mut j) = scan_simple_ident(bytes, i) else {
        return Ok(None);
    };
    while bytes.get(j) == Some(&b'.') {
        match scan_simple_ident(bytes, j + 1) {
            Some(end) => j = end,
            None => return Err(ParseError::new("invalid qualified name", j)),
        }
    }
    Ok(Some(j))
}

/// Scans a member path (`a/b/microsoft.graph.c/d`, no spaces around `/`) at `i`.
/// Returns the segments and the end offset.
pub(crate) fn scan_path(input: &str, mut i: usize) -> Result<(Vec<String>, usize), ParseError> {
    let bytes = input.as_bytes();
    let mut segments = Vec::new();
    loop {
        let Some(end) = scan_ident(input, i)? else {
            let what = if i < bytes.len() {
                format!("found {:?}", char_at(input, i))
            } else {
                "found end of input".to_owned()
            };
            return Err(ParseError::new(
                format!("expected a property name, {what}"),
                i,
            ));
        };
        segments.push(input[i..end].to_owned());
        i = end;
        if bytes.get(i) == Some(&b'/') {
            i += 1;
        } else {
            return Ok((segments, i));
        }
    }
}

/// Splits a `$filter` into tokens.
pub(crate) fn tokenize(input: &str) -> Result<Vec<Token>, ParseError> {
    let bytes = input.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let pos = i;
        let (tok, end) = match bytes[i] {
            b' ' | b'\t' => {
                i += 1;
                continue;
            }
            b'(' => (Tok::LParen, i + 1),
            b')' => (Tok::RParen, i + 1),
            b',' => (Tok::Comma, i + 1),
            b':' => (Tok::Colon, i + 1),
            b'/' => (Tok::Slash, i + 1),
            b'\'' => {
                let (text, end) = scan_string(input, i)?;
                (Tok::Str(text), end)
            }
            b => {
                if let Some(end) = scan_guid(bytes, i) {
                    (Tok::Guid(input[pos..end].to_owned()), end)
                } else if let Some(end) = scan_datetime(bytes, i)? {
                    (Tok::DateTime(input[pos..end].to_owned()), end)
                } else if b.is_ascii_digit() || b == b'-' {
                    scan_number(input, i)?
                } else if let Some(end) = scan_ident(input, i)? {
                    (Tok::Ident(input[pos..end].to_owned()), end)
                } else {
                    return Err(unexpected_char(input, i));
                }
            }
        };
        i = end;
        tokens.push(Token { tok, pos, end });
    }
    Ok(tokens)
}

/// Scans a single-quoted string starting at the quote at `start`; `''` is an escaped quote.
fn scan_string(input: &str, start: usize) -> Result<(String, usize), ParseError> {
    let bytes = input.as_bytes();
    let mut text = String::new();
    let mut segment = start + 1;
    let mut i = segment;
    loop {
        let Some(offset) = bytes[i..].iter().position(|&b| b == b'\'') else {
            return Err(ParseError::new("unterminated string literal", start));
        };
        let quote = i + offset;
        text.push_str(&input[segment..quote]);
        if bytes.get(quote + 1) == Some(&b'\'') {
            text.push('\'');
            i = quote + 2;
            segment = i;
        } else {
            return Ok((text, quote + 1));
        }
    }
}

/// True if the byte at `i` (if any) would continue a literal, making it malformed.
fn continues_word(bytes: &[u8], i: usize) -> bool {
    bytes
        .get(i)
        .is_some_and(|&b| is_ident_char(b) || b == b'.' || b == b'-' || b == b':')
}

/// Matches an unquoted GUID (`8-4-4-4-12` hex digits) at `i`.
fn scan_guid(bytes: &[u8], i: usize) -> Option<usize> {
    let mut j = i;
    for (n, len) in [8, 4, 4, 4, 12].into_iter().enumerate() {
        if n > 0 {
            if bytes.get(j) != Some(&b'-') {
                return None;
            }
            j += 1;
        }
        for _ in 0..len {
            if !bytes.get(j).is_some_and(u8::is_ascii_hexdigit) {
                return None;
            }
            j += 1;
        }
    }
    (!continues_word(bytes, j)).then_some(j)
}

fn digits(bytes: &[u8], i: usize, n: usize) -> bool {
    (i..i + n).all(|k| bytes.get(k).is_some_and(u8::is_ascii_digit))
}

/// Matches an unquoted date (`2024-01-01`) or date-time (`2024-01-01T00:00:00.123+02:00`) at
/// `i`. Returns `Ok(None)` if the text does not start like a date; an error if it starts like
/// a date-time but is malformed. Field ranges are not checked; callers validate the value.
fn scan_datetime(bytes: &[u8], i: usize) -> Result<Option<usize>, ParseError> {
    if !(digits(bytes, i, 4)
        && bytes.get(i + 4) == Some(&b'-')
        && digits(bytes, i + 5, 2)
        && bytes.get(i + 7) == Some(&b'-')
        && digits(bytes, i + 8, 2))
    {
        return Ok(None);
    }
    let invalid = || ParseError::new("invalid date-time literal", i);
    let mut j = i + 10;
    if matches!(bytes.get(j), Some(b'T' | b't')) {
        j += 1;
        if !(digits(bytes, j, 2) && bytes.get(j + 2) == Some(&b':') && digits(bytes, j + 3, 2)) {
            return Err(invalid());
        }
        j += 5;
        if bytes.get(j) == Some(&b':') {
            if !digits(bytes, j + 1, 2) {
                return Err(invalid());
            }
            j += 3;
            if bytes.get(j) == Some(&b'.') {
                j += 1;
                let frac_start = j;
                while bytes.get(j).is_some_and(u8::is_ascii_digit) {
                    j += 1;
                }
                if j == frac_start {
                    return Err(invalid());
                }
            }
        }
        match bytes.get(j) {
            Some(b'Z' | b'z') => j += 1,
            Some(b'+' | b'-') => {
                if !(digits(bytes, j + 1, 2)
                    && bytes.get(j + 3) == Some(&b':')
                    && digits(bytes, j + 4, 2))
                {
                    return Err(invalid());
                }
                j += 6;
            }
            _ => {}
        }
    }
    if continues_word(bytes, j) || bytes.get(j) == Some(&b'+') {
        return Err(invalid());
    }
    Ok(Some(j))
}

/// Scans an integer or decimal literal (optional leading `-`, optional fraction and exponent).
fn scan_number(input: &str, start: usize) -> Result<(Tok, usize), ParseError> {
    let bytes = input.as_bytes();
    let mut j = start;
    if bytes[j] == b'-' {
        j += 1;
    }
    if !bytes.get(j).is_some_and(u8::is_ascii_digit) {
        return Err(unexpected_char(input, start));
    }
    while bytes.get(j).is_some_and(u8::is_ascii_digit) {
        j += 1;
    }
    let mut is_float = false;
    if bytes.get(j) == Some(&b'.') && bytes.get(j + 1).is_some_and(u8::is_ascii_digit) {
        is_float = true;
        j += 1;
        while bytes.get(j).is_some_and(u8::is_ascii_digit) {
            j += 1;
        }
    }
    if matches!(bytes.get(j), Some(b'e' | b'E')) {
        let mut k = j + 1;
        if matches!(bytes.get(k), Some(b'+' | b'-')) {
            k += 1;
        }
        if bytes.get(k).is_some_and(u8::is_ascii_digit) {
            is_float = true;
            j = k;
            while bytes.get(j).is_some_and(u8::is_ascii_digit) {
                j += 1;
            }
        }
    }
    if bytes.get(j).is_some_and(|&b| is_ident_char(b) || b == b'.') {
        return Err(ParseError::new("invalid number literal", start));
    }
    let text = &input[start..j];
    let tok = if is_float {
        match text.parse::<f64>() {
            Ok(v) if v.is_finite() => Tok::Float(v),
            _ => return Err(ParseError::new("number out of range", start)),
        }
    } else {
        match text.parse::<i64>() {
            Ok(v) => Tok::Int(v),
            Err(_) => return Err(ParseError::new("integer out of range", start)),
        }
    };
    Ok((tok, j))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(input: &str) -> Vec<Tok> {
        tokenize(input)
            .unwrap_or_else(|e| panic!("{input:?}: {e}"))
            .into_iter()
            .map(|t| t.tok)
            .collect()
    }

    fn err(input: &str) -> ParseError {
        tokenize(input).expect_err(input)
    }

    #[test]
    fn punctuation_and_identifiers() {
        assert_eq!(
            toks("a/microsoft.graph.x_1 ( ) , :\t"),
            vec![
                Tok::Ident("a".into()),
                Tok::Slash,
                Tok::Ident("microsoft.graph.x_1".into()),
                Tok::LParen,
                Tok::RParen,
                Tok::Comma,
                Tok::Colon,
            ]
        );
    }

    #[test]
    fn strings() {
        assert_eq!(toks("'let''s'"), vec![Tok::Str("let's".into())]);
        assert_eq!(toks("''"), vec![Tok::Str(String::new())]);
        assert_eq!(toks("''''"), vec![Tok::Str("'".into())]);
        assert_eq!(toks("'日本é'"), vec![Tok::Str("日本é".into())]);
        assert_eq!(err("a eq 'x").position, 5);
        assert_eq!(err("'''").position, 0);
    }

    #[test]
    fn numbers() {
        assert_eq!(
            toks("0 -12 1.5 -0.25 1e3 2E-2"),
            vec![
                Tok::Int(0),
                Tok::Int(-12),
                Tok::Float(1.5),
                Tok::Float(-0.25),
                Tok::Float(1000.0),
                Tok::Float(0.02),
            ]
        );
        assert_eq!(toks("9223372036854775807"), vec![Tok::Int(i64::MAX)]);
        assert_eq!(toks("-9223372036854775808"), vec![Tok::Int(i64::MIN)]);
        assert_eq!(err("9223372036854775808").message, "integer out of range");
        assert_eq!(err("1e999").message, "number out of range");
        assert_eq!(err("12abc").position, 0);
        assert_eq!(err("1.2.3").position, 0);
        assert_eq!(err("x - 1").position, 2);
    }

    #[test]
    fn guids_and_datetimes() {
        let guid = "0ab4f2b5-1c64-4e13-a9f7-2b5f3c9f8a01";
        assert_eq!(toks(guid), vec![Tok::Guid(guid.into())]);
        assert_eq!(
            toks("DEADBEEF-1C64-4E13-A9F7-2B5F3C9F8A01)"),
            vec![
                Tok::Guid("DEADBEEF-1C64-4E13-A9F7-2B5F3C9F8A01".into()),
                Tok::RParen
            ]
        );
        for dt in [
            "2024-01-01T00:00:00Z",
            "2024-01-01T00:00:00.123+02:00",
            "2024-01-01T00:00-05:00",
            "2024-01-01T00:00:00",
            "2024-01-01",
        ] {
            assert_eq!(toks(dt), vec![Tok::DateTime(dt.into())], "{dt}");
        }
        assert_eq!(err("2024-01-01T00").message, "invalid date-time literal");
        assert_eq!(err("2024-01-01T00:00:00.Z").position, 0);
        assert_eq!(err("2024-01-01T00:00:00Zx").position, 0);
        assert_eq!(err("2024-01-01T00:00:00+0200").position, 0);
    }

    #[test]
    fn bad_characters() {
        let e = err("a eq é");
        assert_eq!(
            (e.message.as_str(), e.position),
            ("unexpected character 'é'", 5)
        );
        assert_eq!(err("a.").position, 1);
        assert_eq!(err("a.1").position, 1);
        assert_eq!(err("@odata.type").position, 0);
        assert_eq!(err("a\nb").position, 1);
    }

    #[test]
    fn paths() {
        assert_eq!(
            scan_path("a/microsoft.graph.b/c desc", 0).unwrap(),
            (vec!["a".into(), "microsoft.graph.b".into(), "c".into()], 21)
        );
        assert_eq!(scan_path("a/", 0).unwrap_err().position, 2);
        assert_eq!(scan_path("1", 0).unwrap_err().position, 0);
    }
}
