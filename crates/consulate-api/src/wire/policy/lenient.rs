//! Lenient input where Graph's own examples are lenient: booleans and integers sent as
//! strings, durations written by Python's `timedelta`, and GUIDs with a clear error.

use crate::error::ApiError;
use serde::Deserialize;
use serde::de::{self, Deserializer};
use serde_json::Value;
use uuid::Uuid;

/// A Boolean, also when sent as `"true"`/`"false"`.
pub(super) fn lenient_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    match Option::<Value>::deserialize(d)? {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(b)),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => Ok(Some(true)),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => Ok(Some(false)),
        Some(other) => Err(de::Error::custom(format!(
            "expected a Boolean, got {other}"
        ))),
    }
}

/// An integer, also when sent as a string.
pub(super) fn lenient_i32<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i32>, D::Error> {
    match Option::<Value>::deserialize(d)? {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_i64()
            .and_then(|i| i32::try_from(i).ok())
            .map(Some)
            .ok_or_else(|| de::Error::custom(format!("expected an integer, got {n}"))),
        Some(Value::String(s)) => s
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| de::Error::custom(format!("expected an integer, got \"{s}\""))),
        Some(other) => Err(de::Error::custom(format!(
            "expected an integer, got {other}"
        ))),
    }
}

/// A duration as ISO-8601. Also accepts Python's `str(timedelta)` (`7 days, 0:00:00`), which is
/// what msgraph-sdk's JSON writer sends for a `timedelta`; anything else is passed on as given
/// (and refused, if it is not ISO-8601, where it is parsed).
pub fn iso_duration(s: &str) -> String {
    let t = s.trim();
    let (days, clock) = match t.split_once(", ") {
        Some((d, c)) => (Some(d), c),
        None => (None, t),
    };
    let days: Option<u64> = match days {
        None => Some(0),
        Some(d) => d
            .strip_suffix(" days")
            .or_else(|| d.strip_suffix(" day"))
            .and_then(|n| n.parse().ok()),
    };
    let parts: Vec<&str> = clock.split(':').collect();
    let [h, m, sec] = parts.as_slice() else {
        return t.to_owned();
    };
    match (days, h.parse::<u64>(), m.parse::<u64>(), sec.parse::<f64>()) {
        (Some(days), Ok(h), Ok(m), Ok(v)) if m.to_string().len() <= 2 && v >= 0.0 => {
            // Seconds as Python wrote them, without padding: 04.500000 → 4.5, 10 → 10.
            let whole = v.trunc() as u64;
            let frac = sec
                .split_once('.')
                .map(|(_, f)| f.trim_end_matches('0'))
                .filter(|f| !f.is_empty());
            let sec = match frac {
                Some(f) => format!("{whole}.{f}"),
                None => whole.to_string(),
            };
            format!("P{days}DT{h}H{m}M{sec}S")
        }
        _ => t.to_owned(),
    }
}

pub(super) fn guid(target: &str, s: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(s.trim()).map_err(|_| {
        ApiError::bad_request(format!(
            "{target} '{}' is not a GUID",
            s.chars().take(64).collect::<String>()
        ))
        .with_target(target.to_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::iso_duration;

    #[test]
    fn python_timedeltas_become_iso() {
        assert_eq!(iso_duration("P365D"), "P365D");
        assert_eq!(iso_duration("365 days, 0:00:00"), "P365DT0H0M0S");
        assert_eq!(iso_duration("1 day, 2:03:04.500000"), "P1DT2H3M4.5S");
        assert_eq!(iso_duration("12:30:00"), "P0DT12H30M0S");
        assert_eq!(iso_duration("0:00:10"), "P0DT0H0M10S");
        assert_eq!(iso_duration("-1 day, 23:00:00"), "-1 day, 23:00:00");
        assert_eq!(iso_duration("fourteen days"), "fourteen days");
    }
}
