//! A small portable SQL layer: statements with `$n` placeholders and typed arguments run
//! unchanged on SQLite (written as anonymous `?`, see [`Sql::anonymous`]) and PostgreSQL, and
//! rows decode through one type. Dynamic statements are assembled only from fixed fragments and whitelisted column
//! names; every value is a bound argument.

use crate::StoreError;
use sqlx::Row as _;
use std::borrow::Cow;

/// A bound argument.
#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    Text(String),
    OptText(Option<String>),
    Int(i64),
    OptInt(Option<i64>),
    Bool(bool),
}

impl From<String> for Arg {
    fn from(v: String) -> Self {
        Arg::Text(v)
    }
}
impl From<&str> for Arg {
    fn from(v: &str) -> Self {
        Arg::Text(v.to_owned())
    }
}
impl From<&String> for Arg {
    fn from(v: &String) -> Self {
        Arg::Text(v.clone())
    }
}
impl From<Option<String>> for Arg {
    fn from(v: Option<String>) -> Self {
        Arg::OptText(v)
    }
}
impl From<i64> for Arg {
    fn from(v: i64) -> Self {
        Arg::Int(v)
    }
}
impl From<Option<i64>> for Arg {
    fn from(v: Option<i64>) -> Self {
        Arg::OptInt(v)
    }
}
impl From<bool> for Arg {
    fn from(v: bool) -> Self {
        Arg::Bool(v)
    }
}
impl From<uuid::Uuid> for Arg {
    fn from(v: uuid::Uuid) -> Self {
        Arg::Text(v.to_string())
    }
}

/// A statement and its arguments.
#[derive(Debug, Clone)]
pub struct Sql {
    pub text: Cow<'static, str>,
    pub args: Vec<Arg>,
}

impl Sql {
    /// A fixed statement.
    pub fn new(text: &'static str) -> Self {
        Sql {
            text: Cow::Borrowed(text),
            args: Vec::new(),
        }
    }
    /// A statement assembled at run time from fixed fragments (never from input).
    pub fn dynamic(text: String) -> Self {
        Sql {
            text: Cow::Owned(text),
            args: Vec::new(),
        }
    }
    /// Adds the next positional argument.
    pub fn bind(mut self, a: impl Into<Arg>) -> Self {
        self.args.push(a.into());
        self
    }
    /// Adds an argument and returns its placeholder, for dynamic statements.
    pub fn placeholder(&mut self, a: impl Into<Arg>) -> String {
        self.args.push(a.into());
        format!("${}", self.args.len())
    }
    /// How many arguments are bound so far.
    pub fn args_len(&self) -> usize {
        self.args.len()
    }
    /// Appends a fixed fragment.
    pub fn push(&mut self, fragment: &str) {
        self.text.to_mut().push_str(fragment);
    }
}

impl Sql {
    /// The statement for SQLite: every `$n` outside quotes written as an anonymous `?`, with
    /// the arguments in the order they are met (repeated where a `$n` repeats). SQLite finds a
    /// named or numbered parameter by walking a list, so preparing and binding `$1…$N` costs
    /// O(N²), which multi-row statements feel; anonymous parameters cost O(N). A text naming
    /// an argument it does not have is returned as it is (and fails as it would have).
    pub fn anonymous(&self) -> Sql {
        let (text, order) = self.anonymous_order();
        Sql {
            text: Cow::Owned(text.into_owned()),
            args: order.iter().map(|&i| self.args[i].clone()).collect(),
        }
    }

    /// [`Sql::anonymous`] without copying the arguments: the text, and for each `?` the index
    /// of the argument it takes.
    pub(crate) fn anonymous_order(&self) -> (Cow<'_, str>, Vec<usize>) {
        let src = self.text.as_ref();
        let bytes = src.as_bytes();
        if !bytes.contains(&b'$') {
            return (Cow::Borrowed(src), (0..self.args.len()).collect());
        }
        let mut text = String::with_capacity(src.len());
        let mut order = Vec::with_capacity(self.args.len());
        // Everything before `copied` is in `text`; placeholders and quotes are ASCII, so every
        // index where one starts is a character boundary.
        let (mut i, mut copied) = (0, 0);
        while i < bytes.len() {
            match bytes[i] {
                q @ (b'\'' | b'"') => {
                    i = bytes[i + 1..]
                        .iter()
                        .position(|&b| b == q)
                        .map_or(bytes.len(), |p| i + 1 + p + 1);
                }
                b'$' => {
                    let digits = bytes[i + 1..]
                        .iter()
                        .take_while(|b| b.is_ascii_digit())
                        .count();
                    match src[i + 1..i + 1 + digits].parse::<usize>() {
                        Ok(n) if n >= 1 && n <= self.args.len() => {
                            text.push_str(&src[copied..i]);
                            text.push('?');
                            order.push(n - 1);
                            copied = i + 1 + digits;
                        }
                        Ok(_) => return (Cow::Borrowed(src), (0..self.args.len()).collect()),
                        Err(_) => {}
                    }
                    i += 1 + digits;
                }
                _ => i += 1,
            }
        }
        text.push_str(&src[copied..]);
        (Cow::Owned(text), order)
    }
}

/// Builds a sqlx query (PostgreSQL) from a [`Sql`]. The query owns its text and values.
macro_rules! query {
    ($db:ty, $sql:expr) => {{
        let sql: &crate::sql::Sql = $sql;
        crate::sql::query!(@build $db, sql.clone())
    }};
    (@build $db:ty, $sql:expr) => {{
        let sql: crate::sql::Sql = $sql;
        let mut q = sqlx::query::<$db>(sqlx::AssertSqlSafe(sql.text.into_owned()));
        for a in sql.args {
            q = match a {
                crate::sql::Arg::Text(s) => q.bind(s),
                crate::sql::Arg::OptText(s) => q.bind(s),
                crate::sql::Arg::Int(i) => q.bind(i),
                crate::sql::Arg::OptInt(i) => q.bind(i),
                crate::sql::Arg::Bool(b) => q.bind(b),
            };
        }
        q
    }};
}
pub(crate) use query;

/// A row from either backend.
pub enum Row {
    Sqlite(crate::sqlite::SqliteRow),
    Postgres(sqlx::postgres::PgRow),
}

macro_rules! get {
    ($self:expr, $col:expr, $t:ty, $sqlite:ident) => {
        match $self {
            Row::Sqlite(r) => r.$sqlite($col),
            Row::Postgres(r) => r.try_get::<$t, _>($col).map_err(StoreError::from),
        }
    };
}

impl Row {
    pub fn text(&self, col: &str) -> Result<String, StoreError> {
        get!(self, col, String, text)
    }
    pub fn opt_text(&self, col: &str) -> Result<Option<String>, StoreError> {
        get!(self, col, Option<String>, opt_text)
    }
    pub fn int(&self, col: &str) -> Result<i64, StoreError> {
        get!(self, col, i64, int)
    }
    pub fn opt_int(&self, col: &str) -> Result<Option<i64>, StoreError> {
        get!(self, col, Option<i64>, opt_int)
    }
    pub fn boolean(&self, col: &str) -> Result<bool, StoreError> {
        get!(self, col, bool, boolean)
    }
    pub fn uuid(&self, col: &str) -> Result<uuid::Uuid, StoreError> {
        let s = self.text(col)?;
        uuid::Uuid::parse_str(&s)
            .map_err(|e| StoreError::Corrupt(format!("column {col} holds '{s}', not a UUID: {e}")))
    }
    pub fn timestamp(&self, col: &str) -> Result<jiff::Timestamp, StoreError> {
        from_micros(self.int(col)?)
    }
    pub fn opt_timestamp(&self, col: &str) -> Result<Option<jiff::Timestamp>, StoreError> {
        self.opt_int(col)?.map(from_micros).transpose()
    }
}

/// Stored form of a timestamp: microseconds since the Unix epoch.
pub fn micros(t: jiff::Timestamp) -> i64 {
    t.as_microsecond()
}

pub fn from_micros(us: i64) -> Result<jiff::Timestamp, StoreError> {
    jiff::Timestamp::from_microsecond(us)
        .map_err(|e| StoreError::Corrupt(format!("bad timestamp {us}: {e}")))
}

/// Escapes `%`, `_` and `\` for a LIKE pattern used with `ESCAPE '\'`.
pub fn like_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anonymous_parameters_follow_their_use() {
        let s = Sql::new("INSERT INTO t (a, b, c, d) VALUES ($1, $2, '$1', $3, $2)")
            .bind("x")
            .bind(2i64)
            .bind(true);
        let a = s.anonymous();
        assert_eq!(
            a.text,
            "INSERT INTO t (a, b, c, d) VALUES (?, ?, '$1', ?, ?)"
        );
        assert_eq!(
            a.args,
            vec![
                Arg::Text("x".into()),
                Arg::Int(2),
                Arg::Bool(true),
                Arg::Int(2)
            ]
        );
        // A placeholder without its argument leaves the statement as written.
        let bad = Sql::new("SELECT $2").bind(1i64);
        assert_eq!(bad.anonymous().text, "SELECT $2");
        // Quoted text and a lone `$` are kept; an unterminated quote runs to the end.
        let quoted = Sql::new("SELECT 'it''s $1', \"$1\", $ || $1 || 'é$1").bind(1i64);
        assert_eq!(
            quoted.anonymous().text,
            "SELECT 'it''s $1', \"$1\", $ || ? || 'é$1"
        );
        assert_eq!(quoted.anonymous().args, vec![Arg::Int(1)]);
    }

    #[test]
    fn placeholders_count_up() {
        let mut s = Sql::dynamic("SELECT 1 WHERE a = ".into());
        let p1 = s.placeholder("x");
        s.push(&p1);
        s.push(" AND b = ");
        let p2 = s.placeholder(3i64);
        s.push(&p2);
        assert_eq!(s.text, "SELECT 1 WHERE a = $1 AND b = $2");
        assert_eq!(s.args, vec![Arg::Text("x".into()), Arg::Int(3)]);
    }

    #[test]
    fn like_patterns_are_escaped() {
        assert_eq!(like_escape("50%_a\\b"), "50\\%\\_a\\\\b");
    }
}
