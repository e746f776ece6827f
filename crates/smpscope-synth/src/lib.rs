//! smpscope-synth: deterministic synthetic scalp micropigmentation (SMP) photos with exact
//! ground truth, for testing the measuring core.
//!
//! The photo is rendered from a physical model in linear light (see `docs/model.md#the-photo`):
//! `I_c(x) = L_c(x) S_c(x) 10^(-OD_c(x)) + shine(x)`, with lighting L, skin reflectance S,
//! the optical density OD of every pigment dot and distractor, then camera blur, noise, sRGB
//! encoding, 8-bit quantisation, EXIF orientation and file encoding. The truth of every dot
//! (position, size, spread, amount, ink, colour) comes from the model, never from measuring.
//!
//! ```
//! use smpscope_synth::{SceneSpec, render, encode};
//! let spec = SceneSpec { width: 200, height: 150, skin_type: 5, ..Default::default() };
//! let scene = render(&spec);
//! assert_eq!(scene.upright.dimensions(), (200, 150));
//! let photo = encode(&scene, &spec);
//! assert_eq!(photo.extension, "png");
//! println!("{} dots, {:.1} per cm^2", scene.truth.dots.len(), scene.truth.density_per_cm2);
//! ```
//!
//! Modules: [`scene`] (the spec and its random sampling), [`skin`] (skin, light, shine),
//! [`dots`] (dot placement), [`hair`] (distractors), [`profile`] (the dot's radial profile),
//! [`raster`] (pixel-area integration of absorbers), [`region`] (treated region), [`render`],
//! [`encode`] (JPEG/EXIF/PNG) and [`truth`]; [`series`] renders one patient's visits over years
//! (fade, spread, blueing, loss, touch-up, camera pose and light per visit).

pub mod args;
pub mod dots;
pub mod encode;
pub mod evaluate;
pub mod evaluate_series;
pub mod hair;
pub mod marker;
pub mod marker_eval;
pub mod profile;
pub mod raster;
pub mod region;
pub mod render;
pub mod scene;
pub mod series;
pub mod skin;
pub mod truth;

pub use encode::{EXIF_MAKE, EXIF_MODEL, EncodedPhoto, encode, to_stored, write_photo};
pub use render::{Scene, od_map, render, render_dots, render_linear};
pub use scene::{Highlight, SceneSpec};
pub use series::{
    Pose, Series, SeriesDot, SeriesSpec, SeriesTruth, Shot, TouchUp, VisitScene, VisitTruth, render_series,
    write_series,
};
pub use truth::{Conditions, DistractorKind, TRUTH_SCHEMA, Truth, TruthDistractor, TruthDot};
