//! Repricing suggestions from stock cover, sales velocity and price history, always inside
//! the guardrails the reprice tool enforces (floor, cost plus minimum margin, ceiling, the
//! per-change limit). Staff approve a suggestion by running the `/reprice` it proposes.

use crate::config::Pricing;
use crate::money;
use crate::store::catalog::Product;

/// A suggested price change and why.
#[derive(Debug, Clone, PartialEq)]
pub struct PriceSuggestion {
    pub sku: String,
    pub old_price: i64,
    pub new_price: i64,
    /// `overstock` or `scarce`: the reason recorded with the reprice when approved.
    pub kind: &'static str,
    pub why: String,
    /// Stock value at the current price, to put the most money at stake first.
    pub stake: i64,
}

impl PriceSuggestion {
    pub fn render(&self, currency: &str) -> String {
        format!(
            "{}: {} → {} ({:+.1}%): {} → /reprice {} {} \"suggested: {}\"",
            self.sku,
            money::plain(self.old_price),
            money::format(self.new_price, currency),
            (self.new_price - self.old_price) as f64 * 100.0 / self.old_price as f64,
            self.why,
            self.sku,
            money::plain(self.new_price),
            self.kind
        )
    }
}

/// What the suggestion looks at for one product.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Demand {
    /// Forecast units a day.
    pub per_day: f64,
    /// Units a day over the last 7 days and over the 28 days before them.
    pub recent_per_day: f64,
    pub earlier_per_day: f64,
    /// Days since the last price change (None: never changed).
    pub days_since_change: Option<i64>,
}

/// Cover beyond which stock is tying up money.
const OVERSTOCK_DAYS: f64 = 120.0;
/// A price changed this recently is left alone, so shoppers do not see it jump around.
const SETTLE_DAYS: i64 = 14;

/// The lowest price the reprice tool accepts for this product.
pub fn lowest_allowed(p: &Product, pricing: &Pricing) -> i64 {
    p.floor_price
        .max((p.cost * (100 + pricing.min_margin_percent) + 99) / 100)
}

pub fn suggest(p: &Product, demand: Demand, pricing: &Pricing) -> Option<PriceSuggestion> {
    if demand.days_since_change.is_some_and(|d| d < SETTLE_DAYS) || p.available() == 0 {
        return None;
    }
    let cover = p.available() as f64 / demand.per_day.max(0.01);
    let slowing = demand.recent_per_day <= demand.earlier_per_day;
    let step = |percent: i64| {
        p.price * percent.clamp(-pricing.max_change_percent, pricing.max_change_percent) / 100
    };
    let (target, kind, why) = if cover > OVERSTOCK_DAYS && slowing {
        (
            p.price + step(-10),
            "overstock",
            format!(
                "{:.0} days of stock at {:.1}/day and sales not rising ({:.1}/day last week vs {:.1}/day before)",
                cover, demand.per_day, demand.recent_per_day, demand.earlier_per_day
            ),
        )
    } else if cover < p.lead_time_days as f64 && demand.recent_per_day > demand.earlier_per_day {
        (
            p.price + step(5),
            "scarce",
            format!(
                "only {:.0} days of stock, less than the {}-day lead time, and sales rising ({:.1}/day vs {:.1}/day)",
                cover, p.lead_time_days, demand.recent_per_day, demand.earlier_per_day
            ),
        )
    } else {
        return None;
    };
    let new_price = round_to_99(target).clamp(lowest_allowed(p, pricing), p.ceiling_price);
    (new_price != p.price).then(|| PriceSuggestion {
        sku: p.sku.clone(),
        old_price: p.price,
        new_price,
        kind,
        why,
        stake: p.available() * p.price,
    })
}

/// Shelf prices end in .99: the nearest such price at or below the target (20.13 → 19.99).
fn round_to_99(minor: i64) -> i64 {
    ((minor + 1) / 100) * 100 - 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn product(price: i64, available: i64) -> Product {
        Product {
            id: 1,
            sku: "SKU-1".into(),
            title: "Thing".into(),
            title_zh: None,
            description: String::new(),
            category: "home".into(),
            price,
            cost: 1000,
            floor_price: 1200,
            ceiling_price: 4000,
            stock: available,
            reserved: 0,
            reorder_point: 5,
            lead_time_days: 10,
        }
    }

    fn demand(per_day: f64, recent: f64, earlier: f64) -> Demand {
        Demand {
            per_day,
            recent_per_day: recent,
            earlier_per_day: earlier,
            days_since_change: None,
        }
    }

    #[test]
    fn overstock_gets_a_bounded_cut() {
        let s = suggest(
            &product(2000, 500),
            demand(1.0, 0.8, 1.0),
            &Pricing::default(),
        )
        .unwrap();
        assert_eq!(s.new_price, 1799);
        assert!(s.why.contains("500 days of stock"), "{}", s.why);
    }

    #[test]
    fn never_below_the_lowest_allowed_price() {
        let s = suggest(
            &product(1250, 500),
            demand(1.0, 0.5, 1.0),
            &Pricing::default(),
        );
        assert!(s.as_ref().is_none_or(|s| s.new_price >= 1200), "{s:?}");
    }

    #[test]
    fn scarce_and_rising_gets_a_small_rise_and_recent_changes_are_left_alone() {
        let s = suggest(
            &product(2000, 10),
            demand(2.0, 3.0, 2.0),
            &Pricing::default(),
        )
        .unwrap();
        assert_eq!(s.new_price, 2099);
        let mut d = demand(2.0, 3.0, 2.0);
        d.days_since_change = Some(3);
        assert!(suggest(&product(2000, 10), d, &Pricing::default()).is_none());
    }
}
