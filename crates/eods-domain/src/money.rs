//! Money: a decimal amount plus an ISO-4217 currency code. Amounts are exact decimals, written
//! as strings in JSON so that no float rounding ever touches a budget.

use rust_decimal::Decimal;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::fmt;

/// An ISO-4217 currency code: three upper-case ASCII letters (`EUR`, `USD`, `GBP`).
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

impl Currency {
    /// Parses a currency code; the error says what a valid code looks like.
    pub fn parse(s: &str) -> Result<Self, String> {
        if s.len() == 3 && s.bytes().all(|b| b.is_ascii_uppercase()) {
            Ok(Self(s.to_owned()))
        } else {
            Err(format!(
                "`{s}` is not an ISO-4217 currency code: use three upper-case letters such as EUR, USD or GBP"
            ))
        }
    }

    /// The code as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
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
    /// Builds an amount in `currency`, rounded to cents.
    pub fn new(amount: Decimal, currency: &Currency) -> Self {
        Self {
            amount: amount.round_dp(2),
            currency: currency.clone(),
        }
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.2} {}", self.amount, self.currency)
    }
}
