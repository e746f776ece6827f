//! Where the report's figures come from: the version of smpscope and the SHA-256 of each input
//! file, so that any figure can be reproduced from the same files.

use std::io::Read as _;
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::ReportError;

/// The version of smpscope that made the report (the workspace shares one version).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The SHA-256 of the file at `path`, as 64 lower-case hex digits; read in blocks.
pub fn sha256_file(path: &Path) -> Result<String, ReportError> {
    let read = |e: std::io::Error| ReportError::Read { source_name: path.display().to_string(), reason: e.to_string() };
    let mut file = std::fs::File::open(path).map_err(read)?;
    let mut hasher = Sha256::new();
    let mut block = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut block).map_err(read)?;
        if n == 0 {
            break;
        }
        hasher.update(&block[..n]);
    }
    Ok(hex(&hasher.finalize()))
}

/// The SHA-256 of `bytes`, as 64 lower-case hex digits.
pub fn sha256_bytes(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(digest: &[u8]) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_digests() {
        assert_eq!(sha256_bytes(b"abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        std::fs::write(&p, b"abc").unwrap();
        assert_eq!(sha256_file(&p).unwrap(), sha256_bytes(b"abc"));
        assert!(sha256_file(&dir.path().join("missing")).is_err());
    }
}
