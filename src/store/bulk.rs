//! Bulk writes for seeding and import: many rows per INSERT statement inside the caller's
//! transaction, because one statement per row is what makes loading a shop's history slow
//! (on SQLite each statement is a full VM run; on PostgreSQL a network round trip).

use super::Tx;

/// Bound values per statement. Far below SQLite's limit (32766) on purpose: sqlx resolves
/// each `$N` through `sqlite3_bind_parameter_name`, a linear scan, so binding costs grow
/// with the square of a statement's parameters. Measured on the demo seed (debug build):
/// 30000 per statement took 9.2 s, 1500 took 4.0 s, 300-600 about 2 s. PostgreSQL pays a
/// round trip per statement instead, which at this size is still well under a second.
const MAX_BINDS: usize = 500;

/// A bound value: the store takes only integers and text (money in minor units, flags 0/1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Val {
    Int(i64),
    OptInt(Option<i64>),
    Text(String),
    OptText(Option<String>),
}

impl From<i64> for Val {
    fn from(v: i64) -> Self {
        Val::Int(v)
    }
}

impl From<Option<i64>> for Val {
    fn from(v: Option<i64>) -> Self {
        Val::OptInt(v)
    }
}

impl From<String> for Val {
    fn from(v: String) -> Self {
        Val::Text(v)
    }
}

impl From<&str> for Val {
    fn from(v: &str) -> Self {
        Val::Text(v.to_string())
    }
}

impl From<Option<String>> for Val {
    fn from(v: Option<String>) -> Self {
        Val::OptText(v)
    }
}

impl From<bool> for Val {
    fn from(v: bool) -> Self {
        Val::Int(i64::from(v))
    }
}

/// `row![id, name, Some(42)]`: one row of values for [`insert`].
macro_rules! row {
    ($($v:expr),* $(,)?) => { vec![$($crate::store::bulk::Val::from($v)),*] };
}
pub(crate) use row;

/// Inserts `rows` (each in `columns` order) into `table`; returns how many.
pub async fn insert(
    tx: &mut Tx,
    table: &str,
    columns: &[&str],
    rows: Vec<Vec<Val>>,
) -> Result<usize, sqlx::Error> {
    let count = rows.len();
    let per_statement = (MAX_BINDS / columns.len().max(1)).max(1);
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<Vec<Val>> = rows.by_ref().take(per_statement).collect();
        let sql = statement(table, columns, chunk.len());
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for value in chunk.into_iter().flatten() {
            query = match value {
                Val::Int(v) => query.bind(v),
                Val::OptInt(v) => query.bind(v),
                Val::Text(v) => query.bind(v),
                Val::OptText(v) => query.bind(v),
            };
        }
        query.execute(&mut **tx).await?;
    }
    Ok(count)
}

/// `INSERT INTO t (a, b) VALUES ($1, $2), ($3, $4)`; table and column names come from code,
/// never from input.
fn statement(table: &str, columns: &[&str], rows: usize) -> String {
    use std::fmt::Write;
    let mut sql = format!("INSERT INTO {table} ({}) VALUES ", columns.join(", "));
    let mut n = 0;
    for r in 0..rows {
        sql.push_str(if r == 0 { "(" } else { ", (" });
        for c in 0..columns.len() {
            n += 1;
            let _ = write!(sql, "{}${n}", if c == 0 { "" } else { ", " });
        }
        sql.push(')');
    }
    sql
}

/// The columns of an order row, in the order the seed and the import write them.
pub const ORDER_COLUMNS: &[&str] = &[
    "id",
    "customer_id",
    "status",
    "payment_method",
    "card_fingerprint",
    "shipping_name",
    "shipping_address",
    "shipping_country",
    "ip_country",
    "forwarder",
    "rush",
    "total",
    "created_at",
    "updated_at",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_placeholders_across_rows() {
        assert_eq!(
            statement("t", &["a", "b"], 2),
            "INSERT INTO t (a, b) VALUES ($1, $2), ($3, $4)"
        );
    }
}
