//! What a clinician can do about each warning, by its stable code ([`WarningCode`]): the
//! warning's own message says what happened, this says what to do next.

use smpscope::WarningCode;

/// A warning's short title and what to do about it.
type Advice = (&'static str, &'static str);

/// A short title for the warning and what to do about it, in plain words.
pub fn advice(code: WarningCode) -> Advice {
    file_advice(code)
        .or_else(|| photo_advice(code))
        .or_else(|| series_advice(code))
        .unwrap_or(("Note", "Read the message; a later version of smpscope may say more."))
}

/// Advice on a warning about the photo's file (its metadata and encoding); None for the others.
fn file_advice(code: WarningCode) -> Option<Advice> {
    match code {
        WarningCode::ExifDamaged | WarningCode::ExifUnreadable => Some((
            "Photo details damaged",
            "Export the photo again from the camera or phone without editing it, so that its date and camera are kept.",
        )),
        WarningCode::ExifOrientation => Some((
            "Photo orientation unknown",
            "Check that the photo is upright; export it again from the camera if it is not.",
        )),
        WarningCode::ExifDate => {
            Some(("Capture date unreadable", "Give the visit dates yourself (--dates YYYY-MM-DD,...)."))
        }
        WarningCode::AlphaIgnored => Some((
            "Transparency ignored",
            "Use the camera's original JPEG rather than an edited PNG with transparency.",
        )),
        WarningCode::CmykConverted => Some((
            "Print colours converted",
            "Use the camera's original photo: colour figures of a print-converted file are approximate.",
        )),
        _ => None,
    }
}

/// Advice on a warning about how the photo was taken or what it shows; None for the others.
fn photo_advice(code: WarningCode) -> Option<Advice> {
    match code {
        WarningCode::NoScale => Some((
            "No scale: sizes and density not measured",
            "Give the scale (--px-per-mm) or a device profile for this camera (--profiles), or photograph with the calibration marker.",
        )),
        WarningCode::BlurUnknown => Some((
            "Camera blur unknown",
            "Add the camera's blur to its device profile (blur_um) so that it is taken off the measured spread.",
        )),
        WarningCode::Shine => Some((
            "Skin shine",
            "Re-light: use cross-polarised or diffuse light, or powder the skin lightly, and take the photo again.",
        )),
        WarningCode::DarkPatch => Some((
            "Dark patch set aside",
            "Nothing to do if it is a mole or a scar; frame the treated area without it to measure more dots.",
        )),
        WarningCode::Clipped => Some((
            "Over- or under-exposed areas",
            "Re-expose: lower the exposure or the light so that no part of the skin is pure white or black.",
        )),
        WarningCode::OutOfFocus => {
            Some(("Out of focus", "Refocus on the scalp and take the photo again, holding the camera still."))
        }
        WarningCode::LowSnr => Some((
            "Faint dots against noise",
            "Use more light and a lower ISO, or a closer photo, so that the dots stand out from the noise.",
        )),
        WarningCode::NoDots => Some((
            "No dots found",
            "Check that the photo shows the treated area, in focus and close enough for single dots to be seen.",
        )),
        WarningCode::RegionGuessed => Some((
            "Treated region not found",
            "Give the treated region (--roi) so that density refers to it and not to the whole frame.",
        )),
        _ => None,
    }
}

/// Advice on a warning about a series of visits (dates, registration, tracking); None for the
/// others.
fn series_advice(code: WarningCode) -> Option<Advice> {
    match code {
        WarningCode::DateMismatch => {
            Some(("Visit date far from the camera's", "Check the visit dates given against the camera's clock."))
        }
        WarningCode::SameDate => Some((
            "Two visits on one day",
            "Check the dates; for a retest on the same day, keep only the better photo in the series.",
        )),
        WarningCode::VisitLeftOut => Some((
            "A visit was left out",
            "Photograph the same area as the first visit, at the same distance and light, so that its dots can be lined up.",
        )),
        WarningCode::FewDotsFound => Some((
            "Many dots not found again",
            "Take a sharper, evenly lit photo at the same distance as the baseline visit.",
        )),
        WarningCode::FewSharedDots => Some((
            "Few dots shared with the baseline",
            "Photograph more of the same area as the baseline visit so that more dots can be followed.",
        )),
        WarningCode::ColourUnresolved => Some((
            "Dots too small for colour",
            "Take a closer photo, or save it at the highest JPEG quality, so that the dots' colour can be measured.",
        )),
        WarningCode::StrayDetections => Some((
            "Uncertain detections",
            "Check this visit's photo (hair, stubble, focus); a cleaner photo of the shaved area gives firmer figures.",
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_has_advice_in_words() {
        for code in ["no_scale", "out_of_focus", "shine", "visit_left_out", "colour_unresolved", "from_the_future"] {
            let code: WarningCode = serde_json::from_value(serde_json::json!(code)).unwrap();
            let (title, todo) = advice(code);
            assert!(!title.is_empty() && todo.ends_with('.'), "{code:?}");
        }
    }
}
