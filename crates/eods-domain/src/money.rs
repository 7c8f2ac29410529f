//! Money: a decimal amount plus an active ISO 4217 currency code. Amounts are exact decimals, written
//! as strings in JSON so that no float rounding ever touches a budget.

use rust_decimal::Decimal;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::fmt;

/// An active ISO 4217 currency code (`EUR`, `USD`, `JPY`): codes that were never assigned
/// (`XYZ`), that were replaced (`HRK`, `BGN` by `EUR`), and the special and fund codes (`XXX`,
/// `XAU`, `BOV`) are refused, since an event cannot be budgeted in them.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(try_from = "String", into = "String")]
#[schemars(with = "CurrencySchema")]
pub struct Currency(String);

#[derive(JsonSchema)]
#[schemars(transparent)]
#[allow(dead_code)]
struct CurrencySchema(#[schemars(regex(pattern = r"^[A-Z]{3}$"))] String);

const EXAMPLES: &str = "such as EUR, USD, GBP, JPY, BRL or INR";

impl Currency {
    /// Parses an active ISO 4217 code; the error names the code, says why it is refused and
    /// gives examples of valid codes.
    pub fn parse(s: &str) -> Result<Self, String> {
        if !(s.len() == 3 && s.bytes().all(|b| b.is_ascii_uppercase())) {
            return Err(format!(
                "`{s}` is not an ISO 4217 currency code: use three upper-case letters {EXAMPLES}"
            ));
        }
        let Some(iso) = iso_currency::Currency::from_code(s) else {
            return Err(format!(
                "`{s}` is not an ISO 4217 currency code: use an active code {EXAMPLES}"
            ));
        };
        if let Some(by) = iso.is_superseded() {
            return Err(format!(
                "`{s}` ({}) is no longer an active ISO 4217 currency: it was replaced by {}",
                iso.name(),
                by.code()
            ));
        }
        if iso.is_special() || iso.is_fund() || iso.exponent().is_none() {
            return Err(format!(
                "`{s}` ({}) is an ISO 4217 special or fund code, not a currency an event can be budgeted in: use a currency {EXAMPLES}",
                iso.name()
            ));
        }
        Ok(Self(s.to_owned()))
    }

    /// The code as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The currency's English name from ISO 4217, e.g. `Japanese yen`.
    pub fn name(&self) -> String {
        iso_currency::Currency::from_code(&self.0)
            .map(|c| c.name().to_owned())
            .unwrap_or_default()
    }

    /// Digits after the decimal point of the minor unit: 2 for EUR, 0 for JPY, 3 for KWD.
    pub fn minor_units(&self) -> u32 {
        iso_currency::Currency::from_code(&self.0)
            .and_then(|c| c.exponent())
            .map_or(2, u32::from)
    }

    /// `amount` rounded to this currency's minor unit; a half goes to the even digit, as
    /// `Decimal::round_dp` (and so every amount EODS wrote before) does.
    pub fn round(&self, amount: Decimal) -> Decimal {
        amount.round_dp(self.minor_units())
    }
}

impl TryFrom<String> for Currency {
    type Error = String;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Currency::parse(&s)
    }
}

impl From<Currency> for String {
    fn from(c: Currency) -> Self {
        c.0
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An amount of money in one currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Money {
    /// Exact decimal amount, e.g. `"1250.00"`.
    pub amount: Decimal,
    /// ISO-4217 currency code.
    pub currency: Currency,
}

impl Money {
    /// Builds an amount in `currency`, rounded to its minor unit (cents, or whole yen).
    pub fn new(amount: Decimal, currency: &Currency) -> Self {
        Self {
            amount: currency.round(amount),
            currency: currency.clone(),
        }
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let dp = self.currency.minor_units() as usize;
        write!(f, "{:.dp$} {}", self.amount, self.currency)
    }
}

/// An exchange rate applied to an amount: one `from` bought `rate` units of `to`. It is the
/// newest published rate on or before the day converted on, and `date` is that rate's day (the
/// older one when the rate is crossed through the euro from two days).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ExchangeRate {
    pub from: Currency,
    pub to: Currency,
    /// Units of `to` for one `from`; the converted amount is `amount × rate` rounded to the
    /// minor unit of `to`.
    pub rate: Decimal,
    /// The day the rate was published for, e.g. `2026-10-30`.
    pub date: chrono::NaiveDate,
    /// Who published it, e.g. `ECB euro reference rates, bundled snapshot of 2026-10-30`.
    pub source: String,
}

/// An amount converted into another currency: what it was before, and the rate applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Conversion {
    /// The amount before conversion, in the currency it was quoted in.
    pub original: Money,
    pub rate: ExchangeRate,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(code: &str, expect: Result<(&str, u32), &str>) {
        match (Currency::parse(code), expect) {
            (Ok(c), Ok((name, minor))) => {
                assert_eq!(
                    (c.name().as_str(), c.minor_units()),
                    (name, minor),
                    "{code}"
                );
            }
            (Err(e), Err(part)) => {
                assert!(e.contains(code), "{code}: the error names the code: {e}");
                assert!(e.contains(part), "{code}: expected `{part}` in: {e}");
            }
            (got, want) => panic!("{code}: got {got:?}, expected {want:?}"),
        }
    }

    #[test]
    fn only_active_iso_4217_codes_parse() {
        check("EUR", Ok(("Euro", 2)));
        check("USD", Ok(("United States dollar", 2)));
        check("JPY", Ok(("Japanese yen", 0)));
        check("KWD", Ok(("Kuwaiti dinar", 3)));
        check("KES", Ok(("Kenyan shilling", 2)));
        check("XYZ", Err("such as EUR, USD"));
        check("usd", Err("three upper-case letters"));
        check("EURO", Err("three upper-case letters"));
        check("HRK", Err("replaced by EUR"));
        check("XXX", Err("special or fund code"));
        check("XAU", Err("special or fund code"));
        check("BOV", Err("special or fund code"));
    }

    #[test]
    fn json_refuses_an_unknown_code() {
        let e = serde_json::from_value::<Currency>(serde_json::json!("XYZ")).unwrap_err();
        assert!(e.to_string().contains("`XYZ` is not an ISO 4217"), "{e}");
        let c: Currency = serde_json::from_value(serde_json::json!("BRL")).unwrap();
        assert_eq!(c.as_str(), "BRL");
    }

    #[test]
    fn money_rounds_and_prints_in_the_minor_unit() {
        let jpy = Currency::parse("JPY").unwrap();
        let eur = Currency::parse("EUR").unwrap();
        let kwd = Currency::parse("KWD").unwrap();
        let d = |s: &str| s.parse::<Decimal>().unwrap();
        assert_eq!(Money::new(d("1234.6"), &jpy).to_string(), "1235 JPY");
        assert_eq!(Money::new(d("1234.5"), &jpy).to_string(), "1234 JPY");
        assert_eq!(Money::new(d("10.005"), &eur).to_string(), "10.00 EUR");
        assert_eq!(Money::new(d("10.015"), &eur).to_string(), "10.02 EUR");
        assert_eq!(Money::new(d("-10.015"), &eur).to_string(), "-10.02 EUR");
        assert_eq!(Money::new(d("1.2346"), &kwd).to_string(), "1.235 KWD");
        assert_eq!(Money::new(d("7"), &eur).to_string(), "7.00 EUR");
    }
}
