//! What an answered call costs, as Twilio bills and writes it: whole minutes rounded up, a
//! negative `price` with five decimals, in US dollars.

/// `price_unit` of every priced resource.
pub const PRICE_UNIT: &str = "USD";

/// Price of each started minute of an answered call to a US number, in 1/100000 USD
/// (0.01300 USD a minute, as for calls to US numbers).
pub const PRICE_PER_MINUTE: u32 = 1300;

/// Billed minutes of an answered call lasting `seconds`: rounded up, at least 1. The
/// `Duration` of a terminal status callback.
pub const fn billed_minutes(seconds: u64) -> u64 {
    let m = seconds.div_ceil(60);
    if m == 0 { 1 } else { m }
}

/// The price of an answered call lasting `seconds`, in 1/100000 USD.
pub fn price_units(seconds: u64) -> u32 {
    u32::try_from(billed_minutes(seconds)).unwrap_or(u32::MAX).saturating_mul(PRICE_PER_MINUTE)
}

/// `price` as Twilio writes it: negative, five decimals (`-0.01300`).
pub fn price_text(units: u32) -> String {
    format!("-{}.{:05}", units / 100_000, units % 100_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_and_minutes() {
        assert_eq!(billed_minutes(0), 1);
        assert_eq!(billed_minutes(60), 1);
        assert_eq!(billed_minutes(61), 2);
        assert_eq!(price_units(61), 2600);
        assert_eq!(price_units(u64::MAX), u32::MAX);
        assert_eq!(price_text(PRICE_PER_MINUTE), "-0.01300");
        assert_eq!(price_text(PRICE_PER_MINUTE * 100), "-1.30000");
    }
}
