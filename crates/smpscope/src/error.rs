//! Errors of the core. Every error names what it concerns (a file, a parameter, an array) and
//! says what is wrong in words a user can act on; the command and Python layers map the kinds
//! to exit codes and exception types.

use thiserror::Error;

/// Everything that can go wrong while measuring a photo.
#[derive(Debug, Error)]
pub enum Error {
    /// The file could not be read from disk.
    #[error("{source_name}: cannot read the file: {reason}")]
    Io {
        /// Path of the file.
        source_name: String,
        /// The operating system's error.
        reason: String,
    },
    /// An output file or folder could not be written (kind "io", as for reading).
    #[error("{source_name}: cannot write: {reason}")]
    Write {
        /// Path of the file or folder.
        source_name: String,
        /// What failed, as the operating system or the encoder reports it.
        reason: String,
    },
    /// The bytes are not a photo smpscope can decode (corrupt, truncated, unsupported format).
    #[error("{source_name}: not a readable photo: {reason}")]
    Unreadable {
        /// Path of the file, or the label of bytes held in memory.
        source_name: String,
        /// Why it cannot be decoded.
        reason: String,
    },
    /// The photo decoded but cannot be measured (too small, too large, degenerate pixels).
    #[error("{source_name}: {reason}")]
    Unusable {
        /// Path of the file, or the label of pixels held in memory.
        source_name: String,
        /// Why it cannot be measured.
        reason: String,
    },
    /// The photo decoded but is not a measurable scalp photo: it is refused before any dot is
    /// measured, rather than given numbers (kind: the verdict's code).
    #[error("{source_name}: refused as {}: {reason}", verdict.as_str())]
    Refused {
        /// Path of the file, or the label of pixels held in memory.
        source_name: String,
        /// What the photo was judged to be.
        verdict: Verdict,
        /// The figures behind the verdict, and what to do about it.
        reason: String,
    },
    /// A parameter is out of its domain.
    #[error("invalid parameter `{name}`: {reason}")]
    InvalidParameter {
        /// The parameter's name as the caller spells it, e.g. `detect.min_diameter_um`.
        name: String,
        /// The domain it must lie in, and the value given.
        reason: String,
    },
    /// A device profile or region-of-interest file is malformed.
    #[error("{source_name}: {reason}")]
    BadInputFile {
        /// Path of the file.
        source_name: String,
        /// What is malformed.
        reason: String,
    },
    /// A visit has no capture date: none in its EXIF and none given.
    #[error("{source_name}: no capture date in the photo's EXIF; give the visit dates explicitly")]
    MissingDate {
        /// The visit's photo, as its analysis names it (`image.source`).
        source_name: String,
    },
    /// A visit cannot be registered onto the first (another scalp area, or too few dots).
    #[error("{source_name}: cannot register onto the first visit: {reason}")]
    Registration {
        /// The later visit's photo, as its analysis names it (`image.source`).
        source_name: String,
        /// Why it cannot be registered (too few dots, too few lined up).
        reason: String,
    },
}

impl Error {
    pub(crate) fn unreadable(source_name: &str, reason: impl Into<String>) -> Self {
        Error::Unreadable { source_name: source_name.to_string(), reason: reason.into() }
    }
    pub(crate) fn unusable(source_name: &str, reason: impl Into<String>) -> Self {
        Error::Unusable { source_name: source_name.to_string(), reason: reason.into() }
    }
    pub(crate) fn parameter(name: &str, reason: impl Into<String>) -> Self {
        Error::InvalidParameter { name: name.to_string(), reason: reason.into() }
    }
    pub(crate) fn input_file(source_name: &str, reason: impl Into<String>) -> Self {
        Error::BadInputFile { source_name: source_name.to_string(), reason: reason.into() }
    }
    /// The file or photo the error concerns (None for a parameter).
    pub fn source_name(&self) -> Option<&str> {
        match self {
            Error::InvalidParameter { .. } => None,
            Error::Io { source_name, .. }
            | Error::Write { source_name, .. }
            | Error::Unreadable { source_name, .. }
            | Error::Unusable { source_name, .. }
            | Error::Refused { source_name, .. }
            | Error::BadInputFile { source_name, .. }
            | Error::MissingDate { source_name }
            | Error::Registration { source_name, .. } => Some(source_name),
        }
    }
    /// A short machine-readable name of the kind of error, used in JSON error records.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::Io { .. } | Error::Write { .. } => "io",
            Error::Unreadable { .. } => "unreadable_photo",
            Error::Unusable { .. } => "unusable_photo",
            Error::Refused { verdict, .. } => verdict.as_str(),
            Error::InvalidParameter { .. } => "invalid_parameter",
            Error::BadInputFile { .. } => "bad_input_file",
            Error::MissingDate { .. } => "missing_date",
            Error::Registration { .. } => "registration",
        }
    }
}

/// Why a photo that decoded is refused: its code is the error's kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Sensor noise, not a photo of anything: the pixel-to-pixel noise alone is as large as a
    /// pigment dot's density.
    PureNoise,
    /// Most of the frame is clipped (blown out or black): nothing there can be measured.
    Clipped,
    /// A photo of something other than a scalp.
    NotScalp,
}

impl Verdict {
    /// The code: `pure_noise`, `clipped` or `not_scalp`.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::PureNoise => "pure_noise",
            Verdict::Clipped => "clipped",
            Verdict::NotScalp => "not_scalp",
        }
    }
}

/// The result of every fallible operation of the core, with its [`Error`](enum@Error).
pub type Result<T> = std::result::Result<T, Error>;
