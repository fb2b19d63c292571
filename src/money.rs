//! Money is integer minor units (cents, fen) from the database to the screen; floats
//! never touch it. This module parses and prints amounts.

/// Parses `19.99`, `19.9`, `19` or `¥19.99`/`$19.99` into minor units (1999). At most two
/// decimals; no exponents, no negatives.
pub fn parse(text: &str) -> Result<i64, String> {
    let t = text.trim().trim_start_matches(['$', '¥', '€', '£']);
    let (whole, frac) = t.split_once('.').unwrap_or((t, ""));
    let valid = !whole.is_empty()
        && whole.chars().all(|c| c.is_ascii_digit())
        && frac.len() <= 2
        && frac.chars().all(|c| c.is_ascii_digit())
        && !(t.contains('.') && frac.is_empty());
    if !valid {
        return Err(format!("`{text}` is not an amount: write it like 19.99"));
    }
    let whole: i64 = whole
        .parse()
        .map_err(|_| format!("`{text}` is too large"))?;
    let frac: i64 = format!("{frac:0<2}").parse().unwrap_or(0);
    whole
        .checked_mul(100)
        .and_then(|w| w.checked_add(frac))
        .ok_or_else(|| format!("`{text}` is too large"))
}

/// `19.99 USD`.
pub fn format(minor: i64, currency: &str) -> String {
    format!("{} {currency}", plain(minor))
}

/// `19.99`.
pub fn plain(minor: i64) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    let m = minor.unsigned_abs();
    format!("{sign}{}.{:02}", m / 100, m % 100)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_exact_minor_units() {
        assert_eq!(parse("19.99"), Ok(1999));
        assert_eq!(parse("19.9"), Ok(1990));
        assert_eq!(parse("19"), Ok(1900));
        assert_eq!(parse("$0.07"), Ok(7));
        assert_eq!(parse("0.29"), Ok(29));
    }

    #[test]
    fn rejects_what_is_not_an_amount() {
        for bad in [
            "",
            "-1",
            "1.234",
            "1e3",
            "abc",
            "1.",
            ".5",
            "1,5",
            "99999999999999999999",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn formats() {
        assert_eq!(format(1999, "USD"), "19.99 USD");
        assert_eq!(plain(-5), "-0.05");
    }
}
