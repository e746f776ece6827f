//! Argument parsers shared by the generator's commands.

/// `WIDTHxHEIGHT` in px, each 1..=20000.
pub fn parse_size(s: &str) -> Result<(u32, u32), String> {
    let (w, h) = parse_pair::<u32>(s)?;
    if w == 0 || h == 0 || w > 20_000 || h > 20_000 {
        return Err(format!("size {w}x{h} out of range 1..=20000"));
    }
    Ok((w, h))
}

/// `WIDTHxHEIGHT` in mm, each positive.
pub fn parse_frame_mm(s: &str) -> Result<(f64, f64), String> {
    let (w, h) = parse_pair::<f64>(s)?;
    if !(w > 0.0 && h > 0.0 && w.is_finite() && h.is_finite()) {
        return Err(format!("frame {w}x{h} mm must be positive"));
    }
    Ok((w, h))
}

/// The first seed of a run: the one given, else a fresh one from the clock (a multiple of 1000,
/// printed by the commands so that the run can be repeated).
pub fn first_seed(given: Option<u64>) -> u64 {
    use std::time::{SystemTime, UNIX_EPOCH};
    given.unwrap_or_else(|| {
        SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() % 1_000_000_000).unwrap_or(1) * 1000
    })
}

fn parse_pair<T: std::str::FromStr>(s: &str) -> Result<(T, T), String>
where
    T::Err: std::fmt::Display,
{
    let (w, h) = s.split_once(['x', 'X']).ok_or_else(|| format!("expected WIDTHxHEIGHT, e.g. 800x600, not {s:?}"))?;
    let w = w.trim().parse().map_err(|e| format!("bad width {w:?}: {e}"))?;
    let h = h.trim().parse().map_err(|e| format!("bad height {h:?}: {e}"))?;
    Ok((w, h))
}
