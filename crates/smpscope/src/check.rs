//! Checks of what a user writes: every number within a stated range, every key a known one.
//!
//! Each number a caller can give has a [`Range`]: a value outside it is refused with an error
//! naming the field, the value (shortened), the accepted range and a typical value, so that an
//! absurd number is never worked on (a camera blur of 1e9 um or dots of 1e15 um would otherwise
//! run for ever). Unknown keys in parameter files are refused by serde (`deny_unknown_fields`);
//! [`explain_serde`] adds the nearest known key to its message.

use crate::error::{Error, Result};

/// The accepted range of one number a user can give, inclusive at both ends.
///
/// ```
/// use smpscope::check::Range;
/// let blur = Range { name: "camera_blur_um", min: 0.0, max: 50.0, unit: "um", typical: "5-20" };
/// assert!(blur.check(12.0).is_ok());
/// let e = blur.check(1e9).unwrap_err().to_string();
/// assert!(e.contains("camera_blur_um") && e.contains("1.000e9") && e.contains("0 to 50 um"));
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Range {
    /// The field as the user spells it, e.g. `detect.max_diameter_um`.
    pub name: &'static str,
    /// Smallest accepted value.
    pub min: f64,
    /// Largest accepted value.
    pub max: f64,
    /// Unit shown after the range ("" for none).
    pub unit: &'static str,
    /// A typical value or span, in the same unit.
    pub typical: &'static str,
}

impl Range {
    /// Ok when `v` is a finite number within the range; else the error that explains it.
    pub fn check(&self, v: f64) -> Result<()> {
        if v.is_finite() && v >= self.min && v <= self.max {
            return Ok(());
        }
        let unit = if self.unit.is_empty() { String::new() } else { format!(" {}", self.unit) };
        Err(Error::InvalidParameter {
            name: self.name.to_string(),
            reason: format!(
                "{} is outside the accepted range {} to {}{unit} (typical: {}{unit})",
                short(v),
                short(self.min),
                short(self.max),
                self.typical
            ),
        })
    }
}

/// Worker threads a caller may ask for (the command's --threads, Python's threads=): results
/// never depend on it, and thousands of threads only cost memory and start-up time.
pub const THREADS: Range = Range { name: "threads", min: 1.0, max: 256.0, unit: "", typical: "the number of cores" };

/// A number written short enough to read: at most 4 significant digits, in exponent form when
/// very large or small ("1.000e308", never 309 digits).
///
/// ```
/// assert_eq!(smpscope::check::short(1e308), "1.000e308");
/// assert_eq!(smpscope::check::short(52.3), "52.3");
/// assert_eq!(smpscope::check::short(f64::NAN), "NaN");
/// ```
pub fn short(v: f64) -> String {
    if !v.is_finite() {
        return format!("{v}");
    }
    let a = v.abs();
    if a != 0.0 && !(1e-3..1e6).contains(&a) {
        return format!("{v:.3e}");
    }
    let s = format!("{v:.4}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s.is_empty() || s == "-" { "0".into() } else { s.to_string() }
}

/// A serde message about an unknown field, with the nearest expected field suggested
/// ("did you mean ..."); any other message unchanged.
///
/// ```
/// let msg = "unknown field `min_diamter_um`, expected one of `min_diameter_um`, `max_diameter_um`";
/// assert!(smpscope::check::explain_serde(msg).contains("did you mean `min_diameter_um`?"));
/// ```
pub fn explain_serde(message: &str) -> String {
    let Some(rest) = message.strip_prefix("unknown field `").or_else(|| message.split("unknown field `").nth(1)) else {
        return message.to_string();
    };
    let Some((field, expected)) = rest.split_once('`') else { return message.to_string() };
    let known: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
    let nearest = known
        .iter()
        .map(|k| (strsim::jaro_winkler(field, k), *k))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0));
    match nearest {
        Some((_, k)) => format!("{message} (did you mean `{k}`?)"),
        None => message.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_shortened() {
        assert_eq!(short(0.0), "0");
        assert_eq!(short(-2.5), "-2.5");
        assert_eq!(short(1e-9), "1.000e-9");
        assert_eq!(short(1234567.0), "1.235e6");
        assert_eq!(short(f64::INFINITY), "inf");
    }

    #[test]
    fn a_far_field_gets_no_suggestion() {
        let msg = "unknown field `banana`, expected one of `min_diameter_um`, `max_diameter_um`";
        assert_eq!(explain_serde(msg), msg);
        assert_eq!(explain_serde("missing field `x`"), "missing field `x`");
    }

    #[test]
    fn nan_and_infinity_are_outside_every_range() {
        let r = Range { name: "x", min: 0.0, max: 1.0, unit: "", typical: "0.5" };
        assert!(r.check(f64::NAN).is_err() && r.check(f64::INFINITY).is_err());
        assert!(r.check(0.0).is_ok() && r.check(1.0).is_ok());
        assert!(r.check(-0.1).unwrap_err().to_string().contains("0 to 1 (typical: 0.5)"));
    }
}
