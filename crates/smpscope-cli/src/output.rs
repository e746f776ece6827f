//! Where the command writes: every output is planned and checked before any work starts (it is
//! writable and is none of the inputs), then written atomically (a temporary file in the same
//! folder, renamed over the target), so a failure never leaves a half-written file and an input
//! is never replaced by its own results.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use smpscope::Error;

fn write_error(path: &Path, reason: impl std::fmt::Display) -> Error {
    Error::Write { source_name: path.display().to_string(), reason: reason.to_string() }
}

/// The folder a file is written in ("." for a bare file name).
fn parent(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Whether `a` and `b` name the same file (by identity when both exist, by path otherwise).
fn same_file(a: &Path, b: &Path) -> bool {
    match same_file::is_same_file(a, b) {
        Ok(same) => same,
        Err(_) => {
            let abs = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
            abs(a) == abs(b)
        }
    }
}

/// Refuses an output that is one of the inputs.
pub fn not_an_input(output: &Path, inputs: &[PathBuf]) -> Result<(), Error> {
    match inputs.iter().find(|i| same_file(output, i)) {
        Some(i) => Err(write_error(
            output,
            format!("it is the input {}; choose another output name (inputs are never written to)", i.display()),
        )),
        None => Ok(()),
    }
}

/// Creates `dir` when missing and checks that a file can be created in it.
pub fn writable_dir(dir: &Path) -> Result<(), Error> {
    if dir.exists() && !dir.is_dir() {
        return Err(write_error(dir, "it is a file, not a folder"));
    }
    std::fs::create_dir_all(dir).map_err(|e| write_error(dir, e))?;
    tempfile::NamedTempFile::new_in(dir).map(drop).map_err(|e| write_error(dir, e))
}

/// Whether `path` exists and is neither a file nor a folder (/dev/null, a FIFO, a terminal):
/// such a target is written in place, never renamed over.
fn is_special(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| !m.is_file() && !m.is_dir())
}

/// Checks that `path` ("-" = standard output) can be written: not a folder, not an input, and
/// its folder accepts a new file.
pub fn writable_file(path: &Path, inputs: &[PathBuf]) -> Result<(), Error> {
    if path.as_os_str() == "-" || is_special(path) {
        return Ok(());
    }
    if path.is_dir() {
        return Err(write_error(path, "it is a folder; give a file name"));
    }
    not_an_input(path, inputs)?;
    let dir = parent(path);
    if !dir.is_dir() {
        return Err(write_error(path, format!("the folder {} does not exist", dir.display())));
    }
    tempfile::NamedTempFile::new_in(dir).map(drop).map_err(|e| write_error(path, e))
}

/// Writes `bytes` to `path` atomically: a temporary file beside it, renamed over it. A special
/// file (/dev/null, a FIFO) is written in place: renaming over it would replace the device.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    if is_special(path) {
        return std::fs::OpenOptions::new()
            .write(true)
            .open(path)
            .and_then(|mut f| f.write_all(bytes))
            .map_err(|e| write_error(path, e));
    }
    let mut tmp = tempfile::NamedTempFile::new_in(parent(path)).map_err(|e| write_error(path, e))?;
    tmp.write_all(bytes).and_then(|_| tmp.as_file().sync_data()).map_err(|e| write_error(path, e))?;
    tmp.persist(path).map(drop).map_err(|e| write_error(path, e.error))
}

/// Writes `text` and a newline to `path`, or to standard output for "-".
pub fn write_text(path: &Path, text: &str) -> Result<(), Error> {
    if path.as_os_str() == "-" {
        println!("{text}");
        return Ok(());
    }
    write_atomic(path, format!("{text}\n").as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_input_is_never_an_output() {
        let dir = tempfile::tempdir().unwrap();
        let photo = dir.path().join("victim.jpg");
        std::fs::write(&photo, b"photo").unwrap();
        let inputs = vec![photo.clone()];
        let e = writable_file(&photo, &inputs).unwrap_err();
        assert!(e.to_string().contains("it is the input"), "{e}");
        // The same file by another spelling of its path.
        let other = dir.path().join(".").join("victim.jpg");
        assert!(writable_file(&other, &inputs).is_err());
        assert!(writable_file(&dir.path().join("out.json"), &inputs).is_ok());
        assert_eq!(std::fs::read(&photo).unwrap(), b"photo");
    }

    #[test]
    fn unwritable_places_are_found_before_the_work() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a-file");
        std::fs::write(&file, b"x").unwrap();
        assert!(writable_dir(&file).unwrap_err().to_string().contains("not a folder"));
        assert!(writable_file(dir.path(), &[]).unwrap_err().to_string().contains("is a folder"));
        let missing = dir.path().join("no/such/folder/out.json");
        assert!(writable_file(&missing, &[]).unwrap_err().to_string().contains("does not exist"));
    }

    #[cfg(unix)]
    #[test]
    fn dev_null_is_written_to_not_replaced() {
        use std::os::unix::fs::FileTypeExt;
        let null = Path::new("/dev/null");
        writable_file(null, &[]).unwrap();
        write_text(null, "a document").unwrap();
        assert!(std::fs::metadata(null).unwrap().file_type().is_char_device());
    }

    #[test]
    fn atomic_writes_replace_whole_files() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out.json");
        write_text(&out, "first, longer text").unwrap();
        write_text(&out, "second").unwrap();
        assert_eq!(std::fs::read_to_string(&out).unwrap(), "second\n");
        // Only the target is left behind, no temporary file.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
