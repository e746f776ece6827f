//! EXIF metadata: orientation, capture date, camera make and model, salvaged from damaged
//! blocks where possible (damage is a warning, never an error).

use crate::warning::{Warning, WarningCode};

/// What a photo's EXIF says that smpscope uses.
#[derive(Default)]
pub(super) struct ExifMeta {
    /// EXIF orientation, 1..8.
    pub orientation: Option<u8>,
    /// Capture date and time, ISO 8601.
    pub captured_at: Option<String>,
    /// Camera make.
    pub make: Option<String>,
    /// Camera model.
    pub model: Option<String>,
}

/// Salvages what it can from EXIF; damage becomes a warning, never an error.
pub(super) fn read_exif(mut raw: Vec<u8>, warnings: &mut Vec<Warning>) -> ExifMeta {
    if raw.starts_with(b"Exif\0\0") {
        raw.drain(..6);
    }
    let exif = match exif::Reader::new().continue_on_error(true).read_raw(raw) {
        Ok(e) => e,
        Err(e) => match e.distill_partial_result(|errs| {
            warnings.push(Warning::new(
                WarningCode::ExifDamaged,
                format!(
                    "EXIF is damaged ({} problems, e.g. {}); using what could be read",
                    errs.len(),
                    errs.first().map(|e| e.to_string()).unwrap_or_default()
                ),
            ))
        }) {
            Ok(e) => e,
            Err(e) => {
                warnings.push(Warning::new(
                    WarningCode::ExifUnreadable,
                    format!("EXIF could not be read ({e}); capture date, camera and orientation unknown"),
                ));
                return ExifMeta::default();
            }
        },
    };
    let text = |tag| {
        exif.get_field(tag, exif::In::PRIMARY)
            .and_then(|f| match &f.value {
                exif::Value::Ascii(v) => v.first().map(|s| {
                    String::from_utf8_lossy(s).trim_matches(|c: char| c == '\0' || c.is_whitespace()).to_string()
                }),
                _ => None,
            })
            .filter(|s| !s.is_empty())
    };
    let orientation = exif
        .get_field(exif::Tag::Orientation, exif::In::PRIMARY)
        .and_then(|f| f.value.get_uint(0))
        .and_then(|v| match v {
            1..=8 => Some(v as u8),
            _ => {
                warnings.push(Warning::new(
                    WarningCode::ExifOrientation,
                    format!("EXIF orientation {v} is not 1..8; the photo is used as stored"),
                ));
                None
            }
        });
    let captured_at =
        [exif::Tag::DateTimeOriginal, exif::Tag::DateTimeDigitized, exif::Tag::DateTime].into_iter().find_map(|tag| {
            let s = text(tag)?;
            match iso_datetime(&s, text(exif::Tag::OffsetTimeOriginal).as_deref()) {
                Some(d) => Some(d),
                None => {
                    warnings.push(Warning::new(
                        WarningCode::ExifDate,
                        format!("EXIF date {s:?} is not a valid date; capture date unknown"),
                    ));
                    None
                }
            }
        });
    ExifMeta { orientation, captured_at, make: text(exif::Tag::Make), model: text(exif::Tag::Model) }
}

/// EXIF "YYYY:MM:DD HH:MM:SS" (+ optional "+HH:MM" offset) to ISO 8601; None if it is not a real date.
fn iso_datetime(s: &str, offset: Option<&str>) -> Option<String> {
    let dt = exif::DateTime::from_ascii(s.as_bytes()).ok()?;
    let valid = (1900..=2200).contains(&dt.year)
        && (1..=12).contains(&dt.month)
        && (1..=31).contains(&dt.day)
        && dt.hour < 24
        && dt.minute < 60
        && dt.second < 61;
    if !valid {
        return None;
    }
    let mut out =
        format!("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", dt.year, dt.month, dt.day, dt.hour, dt.minute, dt.second);
    if let Some(o) =
        offset.filter(|o| o.len() == 6 && (o.starts_with('+') || o.starts_with('-')) && o.as_bytes()[3] == b':')
    {
        out.push_str(o);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exif_dates_become_iso() {
        assert_eq!(iso_datetime("2024:03:05 14:02:09", None).as_deref(), Some("2024-03-05T14:02:09"));
        assert_eq!(iso_datetime("2024:03:05 14:02:09", Some("+02:00")).as_deref(), Some("2024-03-05T14:02:09+02:00"));
        assert_eq!(iso_datetime("0000:00:00 00:00:00", None), None);
        assert_eq!(iso_datetime("garbage", None), None);
    }
}
