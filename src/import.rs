//! `shopdesk import`: loads a real store's products, customers and orders from CSV files
//! (the columns are documented in docs/IMPORT.md).
//!
//! Every row is checked before anything is written, and the write is one transaction, so an
//! import never leaves a store half-loaded: either the report lists every problem and nothing
//! changed, or (with `skip_invalid`) exactly the valid rows went in and the rest are listed.
//! Rows that depend on a rejected row (the items of a rejected order, the orders of a
//! rejected customer) are rejected with it, saying why.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::Serialize;

use crate::clock::Timestamp;
use crate::money;
use crate::store::Store;
use crate::store::bulk::{insert, row};

#[derive(Debug, Clone, Default)]
pub struct ImportFiles {
    pub products: Option<PathBuf>,
    pub customers: Option<PathBuf>,
    pub orders: Option<PathBuf>,
    pub order_items: Option<PathBuf>,
}

#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// Write the valid rows and report the rest, instead of writing nothing.
    pub skip_invalid: bool,
    /// Default for missing creation times; later dates are rejected as in the future.
    pub now: Timestamp,
}

/// A row that was not imported, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rejected {
    pub file: String,
    /// 1-based line in the file; line 1 is the header.
    pub line: u64,
    pub reason: String,
}

#[derive(Debug, Clone, Default)]
pub struct ImportReport {
    pub products: usize,
    pub customers: usize,
    pub orders: usize,
    pub order_items: usize,
    pub rejected: Vec<Rejected>,
    /// False when nothing was written because rows were rejected.
    pub committed: bool,
}

impl fmt::Display for ImportReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.rejected.len();
        if self.committed {
            write!(
                f,
                "Imported {} products, {} customers and {} orders with {} items.",
                self.products, self.customers, self.orders, self.order_items
            )?;
            if n > 0 {
                write!(f, " Skipped {n} rejected {}:", plural(n, "row", "rows"))?;
            }
        } else {
            write!(
                f,
                "Nothing was imported: {n} {} rejected. Fix {} and run the import again, \
                 or pass --skip-invalid to import only the valid rows.",
                plural(n, "row was", "rows were"),
                plural(n, "it", "them")
            )?;
        }
        for r in &self.rejected {
            write!(f, "\n  {}:{}: {}", r.file, r.line, r.reason)?;
        }
        Ok(())
    }
}

fn plural<'a>(n: usize, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 { one } else { many }
}

/// Validates the files and, unless rows were rejected (or `skip_invalid` is set), writes
/// them in one transaction.
pub async fn import_csv(
    store: &Store,
    files: &ImportFiles,
    opts: &ImportOptions,
) -> anyhow::Result<ImportReport> {
    if files.orders.is_some() != files.order_items.is_some() {
        bail!(
            "orders and order items come together: give both files (an order's total is the sum of its items)"
        );
    }
    let mut rejected = Vec::new();
    let products = load(files.products.as_deref(), PRODUCT_COLUMNS, &mut rejected)?;
    let customers = load(files.customers.as_deref(), CUSTOMER_COLUMNS, &mut rejected)?;
    let orders = load(files.orders.as_deref(), ORDER_COLUMNS, &mut rejected)?;
    let items = load(files.order_items.as_deref(), ITEM_COLUMNS, &mut rejected)?;

    let existing = Existing::load(store).await?;
    let mut check = Checker {
        now: opts.now,
        existing,
        rejected,
    };
    let products = check.products(products);
    let customers = check.customers(customers);
    let (orders, items) = check.orders(orders, &customers, &products, items);

    let mut rejected = check.rejected;
    rejected.sort_by_key(|r| (file_rank(files, &r.file), r.line));
    if !rejected.is_empty() && !opts.skip_invalid {
        return Ok(ImportReport {
            rejected,
            ..ImportReport::default()
        });
    }

    let valid = Valid {
        products: products.rows,
        customers: customers.rows,
        orders,
        items,
    };
    let mut report = write(store, valid, opts.now).await?;
    report.rejected = rejected;
    Ok(report)
}

fn file_rank(files: &ImportFiles, name: &str) -> usize {
    [
        &files.products,
        &files.customers,
        &files.orders,
        &files.order_items,
    ]
    .iter()
    .position(|f| {
        f.as_deref()
            .is_some_and(|p| p.display().to_string() == name)
    })
    .unwrap_or(usize::MAX)
}

// ---------------------------------------------------------------------------------------
// Reading.

struct Column {
    name: &'static str,
    required: bool,
}

const fn req(name: &'static str) -> Column {
    Column {
        name,
        required: true,
    }
}

const fn opt(name: &'static str) -> Column {
    Column {
        name,
        required: false,
    }
}

const PRODUCT_COLUMNS: &[Column] = &[
    req("sku"),
    req("title"),
    opt("title_zh"),
    opt("description"),
    req("category"),
    req("price"),
    req("cost"),
    opt("floor_price"),
    opt("ceiling_price"),
    req("stock"),
    opt("reorder_point"),
    opt("lead_time_days"),
];

const CUSTOMER_COLUMNS: &[Column] = &[
    req("id"),
    req("name"),
    opt("email"),
    opt("phone"),
    opt("language"),
    opt("contact_opt_out"),
    opt("created_at"),
];

const ORDER_COLUMNS: &[Column] = &[
    req("id"),
    req("customer_id"),
    req("status"),
    req("payment_method"),
    opt("card_fingerprint"),
    req("shipping_name"),
    req("shipping_address"),
    req("shipping_country"),
    opt("ip_country"),
    opt("forwarder"),
    opt("rush"),
    opt("total"),
    req("created_at"),
    opt("updated_at"),
];

const ITEM_COLUMNS: &[Column] = &[
    req("order_id"),
    req("sku"),
    req("quantity"),
    opt("unit_price"),
];

const STATUSES: [&str; 7] = [
    "pending",
    "paid",
    "shipped",
    "delivered",
    "cancelled",
    "returned",
    "on_hold",
];

/// One file's data rows, with their values in the order of the file's column list.
struct Sheet {
    file: String,
    columns: &'static [Column],
    records: Vec<Record>,
}

struct Record {
    line: u64,
    /// Indexed like `Sheet::columns`; `None` when the column is absent or the cell empty.
    values: Vec<Option<String>>,
}

/// Reads a file's header and rows; header problems reject the whole file (as line 1).
fn load(
    path: Option<&Path>,
    columns: &'static [Column],
    rejected: &mut Vec<Rejected>,
) -> anyhow::Result<Sheet> {
    let Some(path) = path else {
        return Ok(Sheet {
            file: String::new(),
            columns,
            records: Vec::new(),
        });
    };
    let file = path.display().to_string();
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_path(path)
        .with_context(|| format!("cannot read {file}"))?;
    let mut sheet = Sheet {
        file: file.clone(),
        columns,
        records: Vec::new(),
    };
    let reject = |rejected: &mut Vec<Rejected>, line: u64, reason: String| {
        rejected.push(Rejected {
            file: file.clone(),
            line,
            reason,
        });
    };

    let header = match reader.headers() {
        Ok(h) => h.clone(),
        Err(e) => {
            reject(rejected, 1, format!("cannot read the header: {e}"));
            return Ok(sheet);
        }
    };
    let mut problems = Vec::new();
    let mut position: Vec<Option<usize>> = vec![None; columns.len()];
    for (i, name) in header.iter().enumerate() {
        let name = name.to_ascii_lowercase();
        match columns.iter().position(|c| c.name == name) {
            Some(c) if position[c].is_some() => {
                problems.push(format!("column `{name}` appears twice"))
            }
            Some(c) => position[c] = Some(i),
            None => {
                // Strict, because a misspelt optional column would otherwise be dropped silently.
                let known: Vec<&str> = columns.iter().map(|c| c.name).collect();
                let hint = known
                    .iter()
                    .filter(|k| strsim::levenshtein(k, &name) <= 2)
                    .map(|k| format!(" (did you mean `{k}`?)"))
                    .next()
                    .unwrap_or_default();
                problems.push(format!(
                    "unknown column `{name}`{hint}; the columns are {}",
                    known.join(", ")
                ));
            }
        }
    }
    for (c, column) in columns.iter().enumerate() {
        if column.required && position[c].is_none() {
            problems.push(format!("missing required column `{}`", column.name));
        }
    }
    if !problems.is_empty() {
        reject(
            rejected,
            1,
            format!("{}; no row of this file was read", problems.join("; ")),
        );
        return Ok(sheet);
    }

    for result in reader.records() {
        match result {
            Ok(record) => {
                let line = record.position().map_or(0, csv::Position::line);
                let values = position
                    .iter()
                    .map(|p| {
                        p.and_then(|i| record.get(i))
                            .filter(|v| !v.is_empty())
                            .map(str::to_string)
                    })
                    .collect();
                sheet.records.push(Record { line, values });
            }
            Err(e) => {
                let line = e.position().map_or(0, csv::Position::line);
                let reason = match e.kind() {
                    csv::ErrorKind::UnequalLengths {
                        len, expected_len, ..
                    } => {
                        format!("has {len} fields but the header has {expected_len}")
                    }
                    csv::ErrorKind::Utf8 { .. } => {
                        "is not valid UTF-8; save the file as UTF-8".to_string()
                    }
                    _ => format!("cannot be read: {e}"),
                };
                reject(rejected, line, reason);
            }
        }
    }
    Ok(sheet)
}

/// Reads one row's cells, collecting every problem rather than stopping at the first.
struct Cells<'a> {
    columns: &'static [Column],
    record: &'a Record,
    problems: Vec<String>,
}

impl<'a> Cells<'a> {
    fn new(sheet: &Sheet, record: &'a Record) -> Self {
        Cells {
            columns: sheet.columns,
            record,
            problems: Vec::new(),
        }
    }

    fn get(&self, name: &str) -> Option<&'a str> {
        let c = self
            .columns
            .iter()
            .position(|c| c.name == name)
            .expect("a known column");
        self.record.values[c].as_deref()
    }

    /// A cell that must not be empty.
    fn text(&mut self, name: &str) -> Option<String> {
        let value = self.get(name).map(str::to_string);
        if value.is_none() {
            self.problems.push(format!("`{name}` is empty"));
        }
        value
    }

    fn opt_text(&self, name: &str) -> Option<String> {
        self.get(name).map(str::to_string)
    }

    /// Parses a cell; `None` (with a problem noted) when it is required and empty, or bad.
    fn parse<T>(
        &mut self,
        name: &str,
        required: bool,
        parse: impl Fn(&str) -> Result<T, String>,
    ) -> Option<T> {
        match self.get(name) {
            None => {
                if required {
                    self.problems.push(format!("`{name}` is empty"));
                }
                None
            }
            Some(v) => match parse(v) {
                Ok(t) => Some(t),
                Err(e) => {
                    self.problems.push(format!("`{name}` {e}"));
                    None
                }
            },
        }
    }
}

fn parse_money(v: &str) -> Result<i64, String> {
    money::parse(v).map_err(|e| format!("is not valid: {e}"))
}

fn parse_count(v: &str) -> Result<i64, String> {
    v.parse::<i64>()
        .ok()
        .filter(|n| *n >= 0)
        .ok_or_else(|| format!("is `{v}`, not a whole number of 0 or more"))
}

fn parse_id(v: &str) -> Result<i64, String> {
    v.parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| format!("is `{v}`, not a whole number above 0"))
}

fn parse_flag(v: &str) -> Result<bool, String> {
    match v.to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" => Ok(true),
        "0" | "false" | "no" => Ok(false),
        _ => Err(format!("is `{v}`; write 1 or 0 (true/false, yes/no)")),
    }
}

fn parse_country(v: &str) -> Result<String, String> {
    if v.len() == 2 && v.chars().all(|c| c.is_ascii_alphabetic()) {
        Ok(v.to_ascii_uppercase())
    } else {
        Err(format!(
            "is `{v}`, not a two-letter country code like US or CN"
        ))
    }
}

/// `YYYY-MM-DD` (midnight UTC) or RFC 3339 (`2026-03-01T14:30:00Z`).
fn parse_time(v: &str) -> Result<Timestamp, String> {
    if v.len() == 10
        && let Ok(date) = chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d")
    {
        return Ok(date.and_time(chrono::NaiveTime::MIN).and_utc().timestamp());
    }
    chrono::DateTime::parse_from_rfc3339(v)
        .map(|t| t.timestamp())
        .map_err(|_| format!("is `{v}`, not a date like 2026-03-01 or 2026-03-01T14:30:00Z"))
}

fn check_email(v: &str) -> Result<String, String> {
    let looks_right = match v.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && domain.split('.').all(|part| !part.is_empty())
                && !v.chars().any(char::is_whitespace)
        }
        None => false,
    };
    if looks_right {
        Ok(v.to_string())
    } else {
        Err(format!(
            "is `{v}`, which does not look like an email address"
        ))
    }
}

// ---------------------------------------------------------------------------------------
// Checking.

/// What the store already holds, for uniqueness and references.
struct Existing {
    /// SKU → (product id, price).
    products: HashMap<String, (i64, i64)>,
    customers: HashSet<i64>,
    /// Lower-cased, so `Ann@x.com` and `ann@x.com` count as one address.
    emails: HashSet<String>,
    orders: HashSet<i64>,
}

impl Existing {
    async fn load(store: &Store) -> anyhow::Result<Existing> {
        let pool = store.pool();
        let products: Vec<(i64, String, i64)> =
            sqlx::query_as("SELECT id, sku, price FROM products")
                .fetch_all(pool)
                .await?;
        let customers: Vec<(i64,)> = sqlx::query_as("SELECT id FROM customers")
            .fetch_all(pool)
            .await?;
        let emails: Vec<(String,)> =
            sqlx::query_as("SELECT email FROM customers WHERE email IS NOT NULL")
                .fetch_all(pool)
                .await?;
        let orders: Vec<(i64,)> = sqlx::query_as("SELECT id FROM orders")
            .fetch_all(pool)
            .await?;
        Ok(Existing {
            products: products
                .into_iter()
                .map(|(id, sku, price)| (sku, (id, price)))
                .collect(),
            customers: customers.into_iter().map(|(id,)| id).collect(),
            emails: emails.into_iter().map(|(e,)| e.to_lowercase()).collect(),
            orders: orders.into_iter().map(|(id,)| id).collect(),
        })
    }
}

struct ProductRow {
    sku: String,
    title: String,
    title_zh: Option<String>,
    description: String,
    category: String,
    price: i64,
    cost: i64,
    floor_price: i64,
    ceiling_price: i64,
    stock: i64,
    reorder_point: i64,
    lead_time_days: i64,
}

struct CustomerRow {
    id: i64,
    name: String,
    email: Option<String>,
    phone: Option<String>,
    language: String,
    opt_out: bool,
    created_at: Timestamp,
}

struct OrderRow {
    line: u64,
    id: i64,
    customer_id: i64,
    status: String,
    payment_method: String,
    card_fingerprint: Option<String>,
    shipping_name: String,
    shipping_address: String,
    shipping_country: String,
    ip_country: Option<String>,
    forwarder: bool,
    rush: bool,
    total: Option<i64>,
    created_at: Timestamp,
    updated_at: Timestamp,
}

struct ItemRow {
    line: u64,
    order_id: i64,
    sku: String,
    quantity: i64,
    unit_price: i64,
}

/// The valid rows of a file, and what became of every key it mentioned, so that rows in
/// other files can say why a reference failed.
struct Checked<K, R> {
    file: String,
    rows: Vec<R>,
    /// Key → (line, accepted?).
    seen: HashMap<K, (u64, bool)>,
}

impl<K: std::hash::Hash + Eq + fmt::Display, R> Checked<K, R> {
    fn new(file: &str) -> Self {
        Checked {
            file: file.to_string(),
            rows: Vec::new(),
            seen: HashMap::new(),
        }
    }

    /// Why `key` cannot be used from another file, or `None` when it can.
    fn refusal(&self, key: &K, what: &str, store_has: bool) -> Option<String> {
        match self.seen.get(key) {
            Some((_, true)) => None,
            Some((line, false)) => {
                Some(format!("{what} {key} was rejected ({}:{line})", self.file))
            }
            None if store_has => None,
            None => Some(format!(
                "unknown {what} {key}: not in the store or in the import"
            )),
        }
    }
}

struct Checker {
    now: Timestamp,
    existing: Existing,
    rejected: Vec<Rejected>,
}

impl Checker {
    fn reject(&mut self, file: &str, line: u64, problems: Vec<String>) {
        self.rejected.push(Rejected {
            file: file.to_string(),
            line,
            reason: problems.join("; "),
        });
    }

    fn not_in_future(&self, cells: &mut Cells<'_>, name: &str, at: Option<Timestamp>) {
        if at.is_some_and(|t| t > self.now) {
            cells.problems.push(format!("`{name}` is in the future"));
        }
    }

    fn products(&mut self, sheet: Sheet) -> Checked<String, ProductRow> {
        let mut out = Checked::new(&sheet.file);
        for record in &sheet.records {
            let mut c = Cells::new(&sheet, record);
            let sku = c.text("sku");
            let title = c.text("title");
            let category = c.text("category");
            let price = c.parse("price", true, parse_money);
            let cost = c.parse("cost", true, parse_money);
            let floor_price = c.parse("floor_price", false, parse_money);
            let ceiling_price = c.parse("ceiling_price", false, parse_money);
            let stock = c.parse("stock", true, parse_count);
            let reorder_point = c.parse("reorder_point", false, parse_count).unwrap_or(0);
            let lead_time_days = c.parse("lead_time_days", false, parse_id).unwrap_or(7);
            if let Some(price) = price {
                if price == 0 {
                    c.problems.push("`price` must be above 0".to_string());
                }
                if let Some(cost) = cost.filter(|&cost| cost > price) {
                    c.problems.push(format!(
                        "cost {} is above price {}",
                        money::plain(cost),
                        money::plain(price)
                    ));
                }
                if let Some(floor) = floor_price.filter(|&f| f > price) {
                    c.problems.push(format!(
                        "price {} is below floor_price {}",
                        money::plain(price),
                        money::plain(floor)
                    ));
                }
                if let Some(ceiling) = ceiling_price.filter(|&f| f < price) {
                    c.problems.push(format!(
                        "price {} is above ceiling_price {}",
                        money::plain(price),
                        money::plain(ceiling)
                    ));
                }
            }
            if let Some(sku) = &sku {
                if let Some((first, _)) = out.seen.get(sku) {
                    c.problems
                        .push(format!("duplicate SKU `{sku}` (first on line {first})"));
                } else if self.existing.products.contains_key(sku) {
                    c.problems
                        .push(format!("SKU `{sku}` already exists in the store"));
                }
            }
            let ok = c.problems.is_empty();
            if let Some(sku) = &sku {
                out.seen.entry(sku.clone()).or_insert((record.line, ok));
            }
            match (sku, title, category, price, cost, stock) {
                (Some(sku), Some(title), Some(category), Some(price), Some(cost), Some(stock))
                    if ok =>
                {
                    out.rows.push(ProductRow {
                        sku,
                        title,
                        title_zh: c.opt_text("title_zh"),
                        description: c.opt_text("description").unwrap_or_default(),
                        category,
                        price,
                        cost,
                        floor_price: floor_price.unwrap_or(price),
                        ceiling_price: ceiling_price.unwrap_or(price),
                        stock,
                        reorder_point,
                        lead_time_days,
                    });
                }
                _ => self.reject(&sheet.file, record.line, c.problems),
            }
        }
        out
    }

    fn customers(&mut self, sheet: Sheet) -> Checked<i64, CustomerRow> {
        let mut out = Checked::new(&sheet.file);
        let mut emails: HashMap<String, u64> = HashMap::new();
        for record in &sheet.records {
            let mut c = Cells::new(&sheet, record);
            let id = c.parse("id", true, parse_id);
            let name = c.text("name");
            let email = c.parse("email", false, check_email);
            let language = c
                .parse("language", false, |v| {
                    match v.to_ascii_lowercase().as_str() {
                        l @ ("en" | "zh") => Ok(l.to_string()),
                        _ => Err(format!("is `{v}`; shopdesk answers in en or zh")),
                    }
                })
                .unwrap_or_else(|| "en".to_string());
            let opt_out = c
                .parse("contact_opt_out", false, parse_flag)
                .unwrap_or(false);
            let created_at = c.parse("created_at", false, parse_time);
            self.not_in_future(&mut c, "created_at", created_at);
            if let Some(id) = id {
                if let Some((first, _)) = out.seen.get(&id) {
                    c.problems.push(format!(
                        "duplicate customer id {id} (first on line {first})"
                    ));
                } else if self.existing.customers.contains(&id) {
                    c.problems
                        .push(format!("customer {id} already exists in the store"));
                }
            }
            if let Some(email) = &email {
                let key = email.to_lowercase();
                if let Some(first) = emails.get(&key) {
                    c.problems
                        .push(format!("duplicate email `{email}` (first on line {first})"));
                } else if self.existing.emails.contains(&key) {
                    c.problems.push(format!(
                        "email `{email}` already belongs to a customer in the store"
                    ));
                }
                emails.entry(key).or_insert(record.line);
            }
            let ok = c.problems.is_empty();
            if let Some(id) = id {
                out.seen.entry(id).or_insert((record.line, ok));
            }
            match (id, name) {
                (Some(id), Some(name)) if ok => out.rows.push(CustomerRow {
                    id,
                    name,
                    email,
                    phone: c.opt_text("phone"),
                    language,
                    opt_out,
                    created_at: created_at.unwrap_or(self.now),
                }),
                _ => self.reject(&sheet.file, record.line, c.problems),
            }
        }
        out
    }

    /// Checks orders and their items together: an order needs all its items, and an item
    /// needs its order.
    fn orders(
        &mut self,
        sheet: Sheet,
        customers: &Checked<i64, CustomerRow>,
        products: &Checked<String, ProductRow>,
        item_sheet: Sheet,
    ) -> (Vec<ValidOrder>, Vec<ItemRow>) {
        let mut orders: Checked<i64, OrderRow> = Checked::new(&sheet.file);
        for record in &sheet.records {
            let mut c = Cells::new(&sheet, record);
            let id = c.parse("id", true, parse_id);
            let customer_id = c.parse("customer_id", true, parse_id);
            let status = c.parse("status", true, |v| {
                let v = v.to_ascii_lowercase();
                if STATUSES.contains(&v.as_str()) {
                    Ok(v)
                } else {
                    Err(format!("is `{v}`; use one of {}", STATUSES.join(", ")))
                }
            });
            let payment_method = c.text("payment_method");
            let shipping_name = c.text("shipping_name");
            let shipping_address = c.text("shipping_address");
            let shipping_country = c.parse("shipping_country", true, parse_country);
            let ip_country = c.parse("ip_country", false, parse_country);
            let forwarder = c.parse("forwarder", false, parse_flag).unwrap_or(false);
            let rush = c.parse("rush", false, parse_flag).unwrap_or(false);
            let total = c.parse("total", false, parse_money);
            let created_at = c.parse("created_at", true, parse_time);
            let updated_at = c.parse("updated_at", false, parse_time);
            self.not_in_future(&mut c, "created_at", created_at);
            self.not_in_future(&mut c, "updated_at", updated_at);
            if let (Some(created), Some(updated)) = (created_at, updated_at)
                && updated < created
            {
                c.problems
                    .push("`updated_at` is before `created_at`".to_string());
            }
            if let Some(id) = id {
                if let Some((first, _)) = orders.seen.get(&id) {
                    c.problems
                        .push(format!("duplicate order id {id} (first on line {first})"));
                } else if self.existing.orders.contains(&id) {
                    c.problems
                        .push(format!("order {id} already exists in the store"));
                }
            }
            if let Some(why) = customer_id.and_then(|cid| {
                customers.refusal(&cid, "customer", self.existing.customers.contains(&cid))
            }) {
                c.problems.push(why);
            }
            let ok = c.problems.is_empty();
            if let Some(id) = id {
                orders.seen.entry(id).or_insert((record.line, ok));
            }
            match (
                id,
                customer_id,
                status,
                payment_method,
                shipping_name,
                shipping_address,
                shipping_country,
                created_at,
            ) {
                (
                    Some(id),
                    Some(customer_id),
                    Some(status),
                    Some(payment_method),
                    Some(shipping_name),
                    Some(shipping_address),
                    Some(shipping_country),
                    Some(created_at),
                ) if ok => orders.rows.push(OrderRow {
                    line: record.line,
                    id,
                    customer_id,
                    status,
                    payment_method,
                    card_fingerprint: c.opt_text("card_fingerprint"),
                    shipping_name,
                    shipping_address,
                    shipping_country,
                    ip_country,
                    forwarder,
                    rush,
                    total,
                    created_at,
                    updated_at: updated_at.unwrap_or(created_at),
                }),
                _ => self.reject(&sheet.file, record.line, c.problems),
            }
        }

        // Items on their own; then orders with a rejected (or no) item fall, and take
        // their remaining items with them.
        let imported_prices: HashMap<&str, i64> = products
            .rows
            .iter()
            .map(|p| (p.sku.as_str(), p.price))
            .collect();
        let mut items = Vec::new();
        let mut failed_item: HashMap<i64, u64> = HashMap::new();
        for record in &item_sheet.records {
            let mut c = Cells::new(&item_sheet, record);
            let order_id = c.parse("order_id", true, parse_id);
            let sku = c.text("sku");
            let quantity = c.parse("quantity", true, parse_id);
            let unit_price = c.parse("unit_price", false, parse_money);
            // Adding items to an order already in the store would change its total behind
            // its back, so items only come with their order.
            match order_id {
                Some(id)
                    if !orders.seen.contains_key(&id) && self.existing.orders.contains(&id) =>
                {
                    c.problems.push(format!(
                        "order {id} is already in the store; items can only be imported with their order"
                    ));
                }
                Some(id) => c.problems.extend(orders.refusal(&id, "order", false)),
                None => {}
            }
            if let Some(why) = sku
                .as_ref()
                .and_then(|s| products.refusal(s, "SKU", self.existing.products.contains_key(s)))
            {
                c.problems.push(why);
            }
            // Without a unit price the item sells at the product's current price.
            let listed = sku.as_deref().and_then(|s| {
                imported_prices
                    .get(s)
                    .copied()
                    .or_else(|| self.existing.products.get(s).map(|&(_, price)| price))
            });
            match (order_id, sku, quantity, unit_price.or(listed)) {
                (Some(order_id), Some(sku), Some(quantity), Some(unit_price))
                    if c.problems.is_empty() =>
                {
                    items.push(ItemRow {
                        line: record.line,
                        order_id,
                        sku,
                        quantity,
                        unit_price,
                    });
                }
                (order_id, ..) => {
                    if let Some(id) = order_id {
                        failed_item.entry(id).or_insert(record.line);
                    }
                    self.reject(&item_sheet.file, record.line, c.problems);
                }
            }
        }

        let mut sums: HashMap<i64, Option<i64>> = HashMap::new();
        for item in &items {
            let sum = sums.entry(item.order_id).or_insert(Some(0));
            *sum = sum.and_then(|s| {
                item.quantity
                    .checked_mul(item.unit_price)
                    .and_then(|v| s.checked_add(v))
            });
        }
        let mut fallen: HashMap<i64, u64> = HashMap::new();
        let mut kept = Vec::new();
        for order in orders.rows {
            let sum = match (failed_item.get(&order.id), sums.get(&order.id)) {
                (Some(line), _) => Err(format!(
                    "its item on {}:{line} was rejected",
                    item_sheet.file
                )),
                (None, None) => Err(format!("it has no items in {}", item_sheet.file)),
                (None, Some(None)) => {
                    Err("its items add up to more than can be stored".to_string())
                }
                (None, Some(Some(sum))) => match order.total {
                    Some(total) if total != *sum => Err(format!(
                        "`total` is {} but its items add up to {}",
                        money::plain(total),
                        money::plain(*sum)
                    )),
                    _ => Ok(*sum),
                },
            };
            match sum {
                Ok(total) => kept.push(ValidOrder { row: order, total }),
                Err(problem) => {
                    self.reject(&sheet.file, order.line, vec![problem]);
                    fallen.insert(order.id, order.line);
                }
            }
        }
        let mut surviving = Vec::with_capacity(items.len());
        for item in items {
            match fallen.get(&item.order_id) {
                Some(line) => self.reject(
                    &item_sheet.file,
                    item.line,
                    vec![format!(
                        "order {} was rejected ({}:{line})",
                        item.order_id, sheet.file
                    )],
                ),
                None => surviving.push(item),
            }
        }
        (kept, surviving)
    }
}

/// An order that passed, with the total of its items.
struct ValidOrder {
    row: OrderRow,
    total: i64,
}

// ---------------------------------------------------------------------------------------
// Writing.

struct Valid {
    products: Vec<ProductRow>,
    customers: Vec<CustomerRow>,
    orders: Vec<ValidOrder>,
    items: Vec<ItemRow>,
}

async fn write(store: &Store, valid: Valid, now: Timestamp) -> anyhow::Result<ImportReport> {
    // An error returns early and drops the transaction, which rolls everything back.
    let mut tx = store.begin().await?;
    let rows = valid
        .products
        .iter()
        .map(|p| {
            row![
                p.sku.as_str(),
                p.title.as_str(),
                p.title_zh.clone(),
                p.description.as_str(),
                p.category.as_str(),
                p.price,
                p.cost,
                p.floor_price,
                p.ceiling_price,
                p.stock,
                p.reorder_point,
                p.lead_time_days,
                now,
            ]
        })
        .collect();
    let products = insert(
        &mut tx,
        "products",
        &[
            "sku",
            "title",
            "title_zh",
            "description",
            "category",
            "price",
            "cost",
            "floor_price",
            "ceiling_price",
            "stock",
            "reorder_point",
            "lead_time_days",
            "updated_at",
        ],
        rows,
    )
    .await
    .context("writing products")?;

    let rows = valid
        .customers
        .iter()
        .map(|c| {
            row![
                c.id,
                c.name.as_str(),
                c.email.clone(),
                c.phone.clone(),
                c.language.as_str(),
                c.opt_out,
                c.created_at
            ]
        })
        .collect();
    let customers = insert(
        &mut tx,
        "customers",
        &[
            "id",
            "name",
            "email",
            "phone",
            "language",
            "contact_opt_out",
            "created_at",
        ],
        rows,
    )
    .await
    .context("writing customers")?;

    let rows = valid
        .orders
        .iter()
        .map(|ValidOrder { row: o, total }| {
            row![
                o.id,
                o.customer_id,
                o.status.as_str(),
                o.payment_method.as_str(),
                o.card_fingerprint.clone(),
                o.shipping_name.as_str(),
                o.shipping_address.as_str(),
                o.shipping_country.as_str(),
                o.ip_country.clone(),
                o.forwarder,
                o.rush,
                *total,
                o.created_at,
                o.updated_at,
            ]
        })
        .collect();
    let orders = insert(&mut tx, "orders", crate::store::bulk::ORDER_COLUMNS, rows)
        .await
        .context("writing orders")?;

    // The database numbered the new products; items refer to them by id.
    let ids: Vec<(i64, String)> = sqlx::query_as("SELECT id, sku FROM products")
        .fetch_all(&mut *tx)
        .await?;
    let ids: HashMap<String, i64> = ids.into_iter().map(|(id, sku)| (sku, id)).collect();
    let mut rows = Vec::with_capacity(valid.items.len());
    for item in &valid.items {
        let product_id = *ids
            .get(&item.sku)
            .with_context(|| format!("product {} vanished during the import", item.sku))?;
        rows.push(row![
            item.order_id,
            product_id,
            item.quantity,
            item.unit_price
        ]);
    }
    let order_items = insert(
        &mut tx,
        "order_items",
        &["order_id", "product_id", "quantity", "unit_price"],
        rows,
    )
    .await
    .context("writing order items")?;

    tx.commit().await.context("committing the import")?;
    store.sync_id_sequences().await?;
    Ok(ImportReport {
        products,
        customers,
        orders,
        order_items,
        rejected: Vec::new(),
        committed: true,
    })
}
