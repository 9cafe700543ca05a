//! Listing with server-driven paging: keyset cursors (never offsets), a page size, an optional
//! count, a filter and a name search.

use crate::StoreResult;
use crate::filter_sql::{FieldMap, push_filter};
use crate::sql::{Sql, like_escape};
use consulate_core::filter::Filter;

/// The largest page a caller may ask for.
pub const MAX_PAGE_SIZE: u32 = 999;

/// How a list is ordered. Ties always break on `id`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Order {
    /// Creation order (ids are time-ordered UUIDv7).
    #[default]
    Created,
    /// By case-folded display name.
    DisplayName { descending: bool },
}

/// Where the previous page ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    /// The sort key of the last item (empty for [`Order::Created`]).
    pub key: String,
    pub id: String,
}

/// One list request.
#[derive(Debug, Clone)]
pub struct ListQuery<F> {
    pub filter: Option<Filter<F>>,
    /// Case-insensitive substring of the display name.
    pub search: Option<String>,
    pub order: Order,
    pub top: u32,
    pub after: Option<Cursor>,
    pub count: bool,
}

impl<F> Default for ListQuery<F> {
    fn default() -> Self {
        ListQuery {
            filter: None,
            search: None,
            order: Order::Created,
            top: 100,
            after: None,
            count: false,
        }
    }
}

/// One page of results.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<Cursor>,
    pub count: Option<i64>,
}

/// The table a list reads: `FROM` clause, alias columns for id and folded name.
pub(crate) struct ListSource {
    pub select: &'static str,
    pub from: &'static str,
    pub id: &'static str,
    pub name: &'static str,
    /// The table whose `(display_name_fold, id)` index a name search scans.
    pub table: &'static str,
    /// An extra fixed condition with its own arguments (e.g. a parent id).
    pub scope: Option<(&'static str, Vec<crate::sql::Arg>)>,
}

/// Builds the page query (fetching `top + 1` rows to learn whether a next page exists) and,
/// if asked, the count query.
pub(crate) fn build<F: FieldMap>(
    src: &ListSource,
    q: &ListQuery<F>,
) -> StoreResult<(Sql, Option<Sql>)> {
    let mut conditions = Sql::dynamic(String::new());
    let mut parts = 0;
    let and = |sql: &mut Sql, parts: &mut i32| {
        if *parts > 0 {
            sql.push(" AND ");
        }
        *parts += 1;
    };
    if let Some((cond, args)) = &src.scope {
        and(&mut conditions, &mut parts);
        // Scope conditions use $1.. numbering; they are placed first.
        conditions.push(cond);
        conditions.args.extend(args.iter().cloned());
    }
    if let Some(f) = &q.filter {
        and(&mut conditions, &mut parts);
        push_filter(&mut conditions, f)?;
    }
    if let Some(s) = q.search.as_deref().filter(|s| !s.trim().is_empty()) {
        and(&mut conditions, &mut parts);
        let p = conditions.placeholder(format!("%{}%", like_escape(&s.trim().to_lowercase())));
        let cond = match q.order {
            // In creation order the scan reads the table (clustered by id) and stops after a
            // page of matches.
            Order::Created => format!("{} LIKE {p} ESCAPE '\\'", src.name),
            // In name order nothing can stop early, so the match runs over the small
            // `(display_name_fold, id)` index alone and rows are fetched for matches only.
            Order::DisplayName { .. } => format!(
                "{} IN (SELECT id FROM {} WHERE display_name_fold LIKE {p} ESCAPE '\\')",
                src.id, src.table
            ),
        };
        conditions.push(&cond);
    }
    let count = if q.count {
        let mut c = Sql::dynamic(format!("SELECT COUNT(*) AS n FROM {}", src.from));
        if parts > 0 {
            c.push(" WHERE ");
            c.push(&conditions.text);
        }
        c.args = conditions.args.clone();
        Some(c)
    } else {
        None
    };
    let mut page = conditions;
    if let Some(cur) = &q.after {
        and(&mut page, &mut parts);
        match q.order {
            Order::Created => {
                let p = page.placeholder(cur.id.clone());
                page.push(&format!("{} > {p}", src.id));
            }
            Order::DisplayName { descending } => {
                let k = page.placeholder(cur.key.clone());
                let i = page.placeholder(cur.id.clone());
                let op = if descending { "<" } else { ">" };
                page.push(&format!(
                    "({n} {op} {k} OR ({n} = {k} AND {id} {op} {i}))",
                    n = src.name,
                    id = src.id
                ));
            }
        }
    }
    let where_clause = if parts > 0 {
        format!(" WHERE {}", page.text)
    } else {
        String::new()
    };
    let order = match q.order {
        Order::Created => format!("{} ASC", src.id),
        Order::DisplayName { descending: false } => format!("{} ASC, {} ASC", src.name, src.id),
        Order::DisplayName { descending: true } => format!("{} DESC, {} DESC", src.name, src.id),
    };
    let limit = i64::from(q.top.clamp(1, MAX_PAGE_SIZE)) + 1;
    let mut sql = Sql::dynamic(format!(
        "SELECT {} FROM {}{where_clause} ORDER BY {order}",
        src.select, src.from
    ));
    sql.args = page.args;
    let lp = sql.placeholder(limit);
    sql.push(&format!(" LIMIT {lp}"));
    Ok((sql, count))
}

/// Trims the extra row and computes the cursor for the next page.
pub(crate) fn finish<T>(
    mut items: Vec<T>,
    q_top: u32,
    order: Order,
    key: impl Fn(&T) -> (String, String),
    count: Option<i64>,
) -> Page<T> {
    let top = q_top.clamp(1, MAX_PAGE_SIZE) as usize;
    let next = if items.len() > top {
        items.truncate(top);
        items.last().map(|last| {
            let (name, id) = key(last);
            Cursor {
                key: if order == Order::Created {
                    String::new()
                } else {
                    name
                },
                id,
            }
        })
    } else {
        None
    };
    Page { items, next, count }
}

impl crate::Store {
    /// Runs a list: the page rows (one extra, to detect a next page) and, if asked, the count.
    pub(crate) async fn fetch_page<F: FieldMap>(
        &self,
        src: &ListSource,
        q: &ListQuery<F>,
    ) -> StoreResult<(Vec<crate::sql::Row>, Option<i64>)> {
        let (page_sql, count_sql) = build(src, q)?;
        let rows = self.fetch_all(&page_sql).await?;
        let count = match count_sql {
            Some(c) => Some(
                self.fetch_all_long(&c)
                    .await?
                    .first()
                    .map(|r| r.int("n"))
                    .transpose()?
                    .unwrap_or(0),
            ),
            None => None,
        };
        Ok((rows, count))
    }
}
