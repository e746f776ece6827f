//! docs/json.md keeps up with the documents: every key path the command writes (arrays
//! collapsed to `[]`, e.g. `dots[].diameter_um`) is written in backticks in the section of
//! docs/json.md headed by its document's schema.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(rel)
}

fn arg(p: &Path) -> &str {
    p.to_str().expect("a UTF-8 path")
}

/// Runs the command and returns its exit status code.
fn smpscope(args: &[&str]) -> Option<i32> {
    let o = Command::new(env!("CARGO_BIN_EXE_smpscope")).args(args).output().expect("the command runs");
    if !o.status.success() {
        eprintln!("{}", String::from_utf8_lossy(&o.stderr));
    }
    o.status.code()
}

fn read(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Every key path under `v`, `prefix` included: `a.b`, with `[]` for each array level.
fn key_paths(v: &Value, prefix: &str, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(map) => {
            for (k, x) in map {
                let path = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
                out.insert(path.clone());
                key_paths(x, &path, out);
            }
        }
        Value::Array(items) => {
            for x in items {
                key_paths(x, &format!("{prefix}[]"), out);
            }
        }
        _ => {}
    }
}

/// The part of docs/json.md under the `## ` heading that names `schema`.
fn section<'a>(reference: &'a str, schema: &str) -> &'a str {
    reference
        .split("\n## ")
        .find(|s| s.lines().next().is_some_and(|heading| heading.contains(schema)))
        .unwrap_or_else(|| panic!("docs/json.md has no section headed {schema}"))
}

/// Asserts that every key path of `doc` is written in backticks in its schema's section.
fn assert_documented(reference: &str, doc: &Value) -> BTreeSet<String> {
    let schema = doc["schema"].as_str().expect("a document names its schema");
    let text = section(reference, schema);
    let mut paths = BTreeSet::new();
    key_paths(doc, "", &mut paths);
    let missing: Vec<&String> = paths.iter().filter(|p| !text.contains(&format!("`{p}`"))).collect();
    assert!(missing.is_empty(), "docs/json.md, section {schema}, lacks {missing:#?}");
    paths
}

#[test]
fn every_key_the_command_writes_is_in_the_reference() {
    let reference = std::fs::read_to_string(repo("docs/json.md")).expect("docs/json.md exists");
    let out = tempfile::tempdir().unwrap();
    let profiles = repo("fixtures/devices.toml");

    let analysis = out.path().join("a.json");
    let demo = repo("fixtures/photos/demo-1.jpg");
    let code = smpscope(&["analyze", arg(&demo), "--profiles", arg(&profiles), "--json", arg(&analysis), "-q"]);
    assert_eq!(code, Some(0));
    let docs = read(&analysis);
    let paths = assert_documented(&reference, &docs[0]);
    assert!(paths.contains("dots[].diameter_um") && paths.contains("summary.distributions.ink.p90"));
    // A photo with the calibration marker: the marker block.
    let with_marker = out.path().join("m.json");
    let photo = repo("fixtures/photos/marker-demo.jpg");
    assert_eq!(smpscope(&["analyze", arg(&photo), "--json", arg(&with_marker), "-q"]), Some(0));
    let paths = assert_documented(&reference, &read(&with_marker)[0]);
    assert!(paths.contains("marker.white_balance.gains") && paths.contains("marker.tilt_deg"));

    let track = out.path().join("t.json");
    let visits: Vec<PathBuf> = (1..=3).map(|n| repo(&format!("fixtures/patient/visit-{n}.jpg"))).collect();
    let mut args: Vec<&str> = vec!["track"];
    args.extend(visits.iter().map(|v| arg(v)));
    args.extend(["--profiles", arg(&profiles), "--out", arg(&track), "-q"]);
    assert_eq!(smpscope(&args), Some(0));
    let paths = assert_documented(&reference, &read(&track));
    assert!(paths.contains("visits[].registration.transform.a") && paths.contains("matches[].changes[].delta_b"));

    // A photo that cannot be decoded: its error record.
    let errors = out.path().join("e.json");
    let broken = repo("fixtures/real/broken/pillow__truncated_jpeg.jpg");
    assert_eq!(smpscope(&["analyze", arg(&broken), "--json", arg(&errors), "-q"]), Some(1));
    let paths = assert_documented(&reference, &read(&errors)[0]);
    assert!(paths.contains("error.kind"));
}
