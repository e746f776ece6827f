//! Warnings: what a caller should know about the figures, each with a stable code (the registry
//! of codes is [`WarningCode`], as [`crate::Error::kind`] is for errors) and a message in words.
//!
//! Documents carry both `warnings` (the messages, as before) and `warning_codes`
//! (`[{"code", "message"}]`), so that tools can act on a code without parsing prose.

use serde::{Deserialize, Serialize};

/// The stable code of a warning; its JSON form is the snake_case name (e.g. `no_scale`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum WarningCode {
    /// EXIF is damaged; what could be read is used.
    ExifDamaged,
    /// EXIF could not be read: capture date, camera and orientation unknown.
    ExifUnreadable,
    /// The EXIF orientation is not 1..8; the photo is used as stored.
    ExifOrientation,
    /// The EXIF date is not a valid date; capture date unknown.
    ExifDate,
    /// The photo's alpha channel is ignored.
    AlphaIgnored,
    /// A CMYK JPEG was converted to RGB without its colour profile.
    CmykConverted,
    /// No scale: lengths, areas, ink and density are null.
    NoScale,
    /// The camera blur is unknown: spread includes it.
    BlurUnknown,
    /// Skin shine (specular highlights) over part of the frame.
    Shine,
    /// Dots on a dark patch (a mole) were set aside.
    DarkPatch,
    /// Part of the frame is clipped (over- or under-exposed).
    Clipped,
    /// The sharpest dots are blurred: the photo looks out of focus.
    OutOfFocus,
    /// The dots are faint against the noise.
    LowSnr,
    /// No pigment dots were found.
    NoDots,
    /// No treated region was given and none could be found from the dots: density refers to the
    /// whole frame.
    RegionGuessed,
    /// A visit's given date is far from the date its camera wrote.
    DateMismatch,
    /// Two visits have the same date.
    SameDate,
    /// A visit could not be registered onto the first and is left out of the tracking.
    VisitLeftOut,
    /// A visit finds far fewer of its baseline's dots than the baseline shows.
    FewDotsFound,
    /// A visit shares few dots with its baseline; its figures are uncertain.
    FewSharedDots,
    /// Dots too small for the file's colour detail: colour figures are null.
    ColourUnresolved,
    /// Many of a visit's dots are seen at no other visit (strays or a poor photo).
    StrayDetections,
    /// A marker was expected (`marker.expected`) but none was found.
    MarkerNotFound,
    /// A marker seems to lie at the photo's edge, partly out of frame: its scale is not used.
    MarkerCutOff,
    /// A marker was seen but its frame is covered or damaged: its scale is not used.
    MarkerCovered,
    /// The marker is tilted to the camera beyond `marker.max_tilt_deg`.
    MarkerTilted,
    /// Two sources of the scale (caller, marker, device profile) differ by more than 2 %.
    ScaleDisagrees,
    /// A code written by a later version of smpscope.
    #[serde(other)]
    Other,
}

impl WarningCode {
    /// The code as written in JSON, e.g. `"no_scale"`.
    ///
    /// ```
    /// assert_eq!(smpscope::WarningCode::OutOfFocus.as_str(), "out_of_focus");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            WarningCode::ExifDamaged => "exif_damaged",
            WarningCode::ExifUnreadable => "exif_unreadable",
            WarningCode::ExifOrientation => "exif_orientation",
            WarningCode::ExifDate => "exif_date",
            WarningCode::AlphaIgnored => "alpha_ignored",
            WarningCode::CmykConverted => "cmyk_converted",
            WarningCode::NoScale => "no_scale",
            WarningCode::BlurUnknown => "blur_unknown",
            WarningCode::Shine => "shine",
            WarningCode::DarkPatch => "dark_patch",
            WarningCode::Clipped => "clipped",
            WarningCode::OutOfFocus => "out_of_focus",
            WarningCode::LowSnr => "low_snr",
            WarningCode::NoDots => "no_dots",
            WarningCode::RegionGuessed => "region_guessed",
            WarningCode::DateMismatch => "date_mismatch",
            WarningCode::SameDate => "same_date",
            WarningCode::VisitLeftOut => "visit_left_out",
            WarningCode::FewDotsFound => "few_dots_found",
            WarningCode::FewSharedDots => "few_shared_dots",
            WarningCode::ColourUnresolved => "colour_unresolved",
            WarningCode::StrayDetections => "stray_detections",
            WarningCode::MarkerNotFound => "marker_not_found",
            WarningCode::MarkerCutOff => "marker_cut_off",
            WarningCode::MarkerCovered => "marker_covered",
            WarningCode::MarkerTilted => "marker_tilted",
            WarningCode::ScaleDisagrees => "scale_disagrees",
            WarningCode::Other => "other",
        }
    }
}

/// One warning: its code and what it means for this photo or series, in words.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Warning {
    /// The stable code.
    pub code: WarningCode,
    /// The message a person reads (the same text as in `warnings`).
    pub message: String,
}

impl Warning {
    /// A warning of `code` saying `message`.
    pub fn new(code: WarningCode, message: impl Into<String>) -> Self {
        Warning { code, message: message.into() }
    }
}

/// The messages of `warnings`, in order: the `warnings` field of a document.
pub fn messages(warnings: &[Warning]) -> Vec<String> {
    warnings.iter().map(|w| w.message.clone()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_serialise_as_their_names_and_unknown_ones_are_read() {
        for code in [WarningCode::NoScale, WarningCode::OutOfFocus, WarningCode::ColourUnresolved] {
            assert_eq!(serde_json::to_value(code).unwrap(), code.as_str());
        }
        let w: Warning = serde_json::from_str(r#"{"code": "from_the_future", "message": "m"}"#).unwrap();
        assert_eq!(w.code, WarningCode::Other);
    }
}
