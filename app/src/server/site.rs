//! The site's WebAssembly bundle: where the one this binary serves lives.

use leptos::config::LeptosOptions;
use std::sync::{Arc, OnceLock};

/// The options `HydrationScripts` loads the front end with.
///
/// `scripts/build.sh` puts the front end's files — the main WebAssembly module and its
/// JavaScript, the lazily loaded modules (`app::pages::lazy`), their loader and the manifest
/// naming each split point's modules — into one directory of the package named by a hash of
/// them all, `pkg/<hash>/`, and writes `bundle: <hash>` to the hash file next to the binary
/// it built. The files keep their plain names there, because they import one another by
/// them; the directory's name changes whenever any of them does, so browsers may keep them
/// for a year (`policy::is_hashed_asset`). Without that line (`cargo leptos watch`, which
/// writes the plain layout), the options as they are.
pub fn bundle_options(options: &LeptosOptions) -> LeptosOptions {
    static BUNDLE: OnceLock<Option<Arc<str>>> = OnceLock::new();
    let bundle = BUNDLE.get_or_init(|| {
        if !options.hash_files {
            return None;
        }
        let path = std::env::current_exe().ok()?.parent()?.join(&*options.hash_file);
        bundle_of(&std::fs::read_to_string(path).ok()?)
    });
    let mut options = options.clone();
    if let Some(bundle) = bundle {
        options.site_pkg_dir = format!("{}/{bundle}", options.site_pkg_dir).into();
        // Its files are not named by their hashes: the directory is.
        options.hash_files = false;
    }
    options
}

/// The `bundle: <hash>` line of a hash file.
fn bundle_of(hash_file: &str) -> Option<Arc<str>> {
    hash_file.lines().find_map(|line| line.strip_prefix("bundle:")).map(str::trim).filter(|h| !h.is_empty()).map(Arc::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundle_is_read_from_its_line_of_the_hash_file() {
        assert_eq!(bundle_of("css: 0123\nbundle: abcdef0123456789abcd\n").as_deref(), Some("abcdef0123456789abcd"));
        assert_eq!(bundle_of("css: 0123\n"), None);
        assert_eq!(bundle_of("bundle: \n"), None);
    }
}
