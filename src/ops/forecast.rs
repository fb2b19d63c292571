//! Demand forecasting per SKU and the restock digest built on it.
//!
//! Daily unit sales are forecast with additive Holt-Winters exponential smoothing with a
//! weekly season (shoppers buy more on some weekdays), its three smoothing factors chosen
//! per SKU from a small grid by one-step-ahead error on the history. The reorder point is
//! the forecast demand over the supplier's lead time plus safety stock for the forecast's
//! own error; a digest line suggests an order that also covers `restock.cover_days`.

use std::collections::HashMap;

use sqlx::AnyConnection;

use crate::clock::{DAY, Timestamp};
use crate::store::Result;
use crate::store::catalog::Product;

pub const SEASON: usize = 7;

/// A fitted model: its forecast for the next days and its one-step error on the history.
#[derive(Debug, Clone, PartialEq)]
pub struct Forecast {
    pub daily: Vec<f64>,
    /// Root mean squared one-step-ahead error over the history, in units a day.
    pub rmse: f64,
}

impl Forecast {
    pub fn total(&self, days: usize) -> f64 {
        self.daily.iter().take(days).sum()
    }

    pub fn per_day(&self) -> f64 {
        if self.daily.is_empty() {
            0.0
        } else {
            self.daily.iter().sum::<f64>() / self.daily.len() as f64
        }
    }
}

/// Additive Holt-Winters with a weekly season; returns the forecast for `horizon` days and
/// the in-sample one-step error. Series shorter than two seasons fall back to their mean.
pub fn holt_winters(series: &[f64], horizon: usize) -> Forecast {
    if series.len() < 2 * SEASON {
        let mean = series.iter().sum::<f64>() / series.len().max(1) as f64;
        let rmse = (series.iter().map(|y| (y - mean).powi(2)).sum::<f64>()
            / series.len().max(1) as f64)
            .sqrt();
        return Forecast {
            daily: vec![mean; horizon],
            rmse,
        };
    }
    const ALPHAS: [f64; 4] = [0.05, 0.1, 0.2, 0.4];
    const BETAS: [f64; 3] = [0.0, 0.01, 0.05];
    const GAMMAS: [f64; 3] = [0.05, 0.15, 0.3];
    let mut best: Option<(f64, Smoother)> = None;
    for alpha in ALPHAS {
        for beta in BETAS {
            for gamma in GAMMAS {
                let mut s = Smoother::start(series, alpha, beta, gamma);
                let sse = s.run(series);
                if best.as_ref().is_none_or(|(b, _)| sse < *b) {
                    best = Some((sse, s));
                }
            }
        }
    }
    let (sse, smoother) = best.expect("the grid is not empty");
    let daily = (1..=horizon)
        .map(|h| smoother.predict(series.len(), h).max(0.0))
        .collect();
    Forecast {
        daily,
        rmse: (sse / series.len() as f64).sqrt(),
    }
}

#[derive(Debug, Clone)]
struct Smoother {
    alpha: f64,
    beta: f64,
    gamma: f64,
    level: f64,
    trend: f64,
    season: [f64; SEASON],
}

impl Smoother {
    fn start(y: &[f64], alpha: f64, beta: f64, gamma: f64) -> Smoother {
        let first: f64 = y[..SEASON].iter().sum::<f64>() / SEASON as f64;
        let second: f64 = y[SEASON..2 * SEASON].iter().sum::<f64>() / SEASON as f64;
        let mut season = [0.0; SEASON];
        for (i, s) in season.iter_mut().enumerate() {
            *s = y[i] - first;
        }
        Smoother {
            alpha,
            beta,
            gamma,
            level: first,
            trend: (second - first) / SEASON as f64,
            season,
        }
    }

    /// Runs through the series, updating the state; returns the sum of squared one-step errors.
    fn run(&mut self, y: &[f64]) -> f64 {
        let mut sse = 0.0;
        for (t, &obs) in y.iter().enumerate() {
            let s = self.season[t % SEASON];
            let predicted = self.level + self.trend + s;
            sse += (obs - predicted).powi(2);
            let previous = self.level;
            self.level = self.alpha * (obs - s) + (1.0 - self.alpha) * (self.level + self.trend);
            self.trend = self.beta * (self.level - previous) + (1.0 - self.beta) * self.trend;
            self.season[t % SEASON] = self.gamma * (obs - self.level) + (1.0 - self.gamma) * s;
        }
        sse
    }

    /// The forecast `h` days after a history of `n` days.
    fn predict(&self, n: usize, h: usize) -> f64 {
        self.level + h as f64 * self.trend + self.season[(n + h - 1) % SEASON]
    }
}

/// The seasonal naive forecast: each day sells what the same weekday sold a week earlier.
pub fn seasonal_naive(series: &[f64], horizon: usize) -> Vec<f64> {
    let n = series.len();
    (0..horizon)
        .map(|h| {
            if n >= SEASON {
                series[n - SEASON + h % SEASON]
            } else {
                0.0
            }
        })
        .collect()
}

/// Units sold per product per day over `days` days ending at `until` (exclusive), from
/// orders that were not cancelled. Index 0 is the oldest day.
pub async fn daily_units(
    conn: &mut AnyConnection,
    until: Timestamp,
    days: i64,
) -> Result<HashMap<i64, Vec<f64>>> {
    let since = until - days * DAY;
    let rows: Vec<(i64, i64, i64)> = sqlx::query_as(
        "SELECT i.product_id, o.created_at, i.quantity FROM order_items i JOIN orders o ON o.id = i.order_id \
         WHERE o.created_at >= $1 AND o.created_at < $2 AND o.status <> 'cancelled'",
    )
    .bind(since)
    .bind(until)
    .fetch_all(conn)
    .await?;
    let mut series: HashMap<i64, Vec<f64>> = HashMap::new();
    for (product, at, quantity) in rows {
        let day = ((at - since) / DAY) as usize;
        series
            .entry(product)
            .or_insert_with(|| vec![0.0; days as usize])[day] += quantity as f64;
    }
    Ok(series)
}

/// One line of the restock digest.
#[derive(Debug, Clone, PartialEq)]
pub struct RestockLine {
    pub sku: String,
    pub title: String,
    pub available: i64,
    pub on_order: i64,
    pub per_day: f64,
    pub reorder_point: i64,
    pub suggested: i64,
    pub days_of_cover: f64,
}

impl RestockLine {
    pub fn render(&self, lead_time_days: i64) -> String {
        format!(
            "{} {}: {} available, {} on order, selling {:.1}/day, {:.0} days of cover; reorder point {} ({} days lead time + safety stock) → order {}: /restock {} {} \"daily digest\"",
            self.sku,
            self.title,
            self.available,
            self.on_order,
            self.per_day,
            self.days_of_cover,
            self.reorder_point,
            lead_time_days,
            self.suggested,
            self.sku,
            self.suggested
        )
    }
}

/// Service level of the safety stock: about 95% of lead times without a stock-out.
const SAFETY_Z: f64 = 1.65;

/// The restock suggestion for one product, or None when it has enough.
pub fn restock_line(
    p: &Product,
    on_order: i64,
    forecast: &Forecast,
    cover_days: i64,
) -> Option<RestockLine> {
    let lead = p.lead_time_days.max(1) as usize;
    let safety = SAFETY_Z * forecast.rmse * (lead as f64).sqrt();
    let reorder_point = (forecast.total(lead) + safety).ceil() as i64;
    let position = p.available() + on_order;
    if position > reorder_point || forecast.per_day() <= 0.0 {
        return None;
    }
    let needed = forecast.total(lead + cover_days as usize) + safety - position as f64;
    let suggested = needed.ceil() as i64;
    (suggested > 0).then(|| RestockLine {
        sku: p.sku.clone(),
        title: p.title.clone(),
        available: p.available(),
        on_order,
        per_day: forecast.per_day(),
        reorder_point,
        suggested,
        days_of_cover: p.available() as f64 / forecast.per_day(),
    })
}

/// How much history the forecasts learn from.
pub const HISTORY_DAYS: i64 = 112;

/// Forecasts for every product that sold anything in the history window.
pub async fn forecasts(
    conn: &mut AnyConnection,
    now: Timestamp,
    horizon: usize,
) -> Result<HashMap<i64, Forecast>> {
    let series = daily_units(conn, now, HISTORY_DAYS).await?;
    Ok(series
        .into_iter()
        .map(|(product, s)| (product, holt_winters(&s, horizon)))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn learns_a_weekly_pattern() {
        let week = [2.0, 2.0, 2.0, 2.0, 3.0, 8.0, 9.0];
        let series: Vec<f64> = (0..70).map(|i| week[i % 7]).collect();
        let f = holt_winters(&series, 7);
        for (got, want) in f.daily.iter().zip(week) {
            assert!((got - want).abs() < 0.5, "{:?}", f.daily);
        }
    }

    #[test]
    fn short_series_fall_back_to_the_mean() {
        let f = holt_winters(&[1.0, 3.0], 3);
        assert_eq!(f.daily, vec![2.0, 2.0, 2.0]);
    }

    #[test]
    fn seasonal_naive_repeats_last_week() {
        let series: Vec<f64> = (0..14).map(|i| i as f64).collect();
        assert_eq!(
            seasonal_naive(&series, 8),
            vec![7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 7.0]
        );
    }
}
