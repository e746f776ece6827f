//! The README's Layout section names every source file of the core, so that it matches the tree.

use std::path::Path;

#[test]
fn the_readme_layout_names_every_core_file() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("../../README.md")).unwrap();
    let start = readme.find("## Layout").expect("a Layout section");
    let layout = &readme[start..];
    let layout = &layout[..layout[3..].find("\n## ").map_or(layout.len(), |e| e + 3)];
    let mut missing = Vec::new();
    let mut stack = vec![root.join("src")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if path.is_dir() {
                assert!(layout.contains(&format!("{name}/")), "the folder {name}/ is not in the README's Layout");
                stack.push(path);
            } else if name.ends_with(".rs") && name != "lib.rs" && !layout.contains(&name) {
                missing.push(path.strip_prefix(root).unwrap().display().to_string());
            }
        }
    }
    assert!(missing.is_empty(), "not in the README's Layout: {missing:?}");
}
