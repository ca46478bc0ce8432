//! `tapeline-wasm-bundle <input.wasm> <output-dir> <name>`: turns the front end's WebAssembly
//! (linked with `--emit-relocs`) into the bundle the site serves, in two steps:
//!
//! 1. cuts it at its `#[lazy]` split points (`app::pages::lazy`), as `cargo leptos --split`
//!    does, with the same crate;
//! 2. gives the main module its JavaScript glue, as `wasm-bindgen --target web
//!    --keep-lld-exports --no-demangle --out-name <name>` does, with the crate that command
//!    runs. The linker's exports stay: the split modules import the memory, the function
//!    table and the shared functions from the main module.
//!
//! Writes into `<output-dir>`:
//! - `<name>.js` and `<name>.wasm`, the main module and its glue (the names Leptos's
//!   hydration script loads);
//! - one module per split point and per set of split points that share code, and the
//!   JavaScript that loads them (`__wasm_split.______________________.js`, the name Leptos's
//!   `HydrationScripts` preloads);
//! - `__wasm_split_manifest.json`: for each split point, the modules it needs — the server
//!   reads it to preload a page's modules.
//!
//! Prints the split modules' paths, one per line, for the build to optimise.
//!
//! `--version` prints this tool's version and the wasm-bindgen version it generates glue for,
//! which must be the `wasm-bindgen` crate's version the front end was compiled with.

use std::path::{Path, PathBuf};

use eyre::WrapErr;

/// The loader's name: Leptos's `HydrationScripts` names it so in its preload link.
const LINK_NAME: &str = "./__wasm_split.______________________.js";

fn main() -> eyre::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--version") {
        // The wasm-bindgen version the glue is for, from the crate itself: scripts/build.sh
        // reinstalls the tool when it differs from the workspace's `wasm-bindgen`.
        println!(
            "tapeline-wasm-bundle {} wasm-bindgen {}",
            env!("CARGO_PKG_VERSION"),
            wasm_bindgen_shared::version()
        );
        return Ok(());
    }
    let [input, output_dir, name] = args.as_slice() else {
        eyre::bail!("usage: tapeline-wasm-bundle <input.wasm> <output-dir> <name>");
    };
    let output_dir = PathBuf::from(output_dir);
    std::fs::create_dir_all(&output_dir)
        .wrap_err_with(|| format!("creating {}", output_dir.display()))?;

    let main_module = output_dir.join(format!("{name}_split.wasm"));
    let split_modules = split(Path::new(input), &output_dir, &main_module, name)?;
    bindgen(&main_module, &output_dir, name)?;
    std::fs::remove_file(&main_module)?;

    for module in &split_modules {
        println!("{}", module.display());
    }
    Ok(())
}

/// Step 1: writes the main module to `main_out`, the split modules, their loader and the
/// manifest to `output_dir`; returns the split modules' paths.
fn split(input: &Path, output_dir: &Path, main_out: &Path, name: &str) -> eyre::Result<Vec<PathBuf>> {
    let input_wasm =
        std::fs::read(input).wrap_err_with(|| format!("reading {}", input.display()))?;
    let main_module = format!("./{name}.js");
    let split = wasm_split_cli_support::transform({
        let mut options = wasm_split_cli_support::Options::new(&input_wasm);
        options.output_dir = output_dir;
        options.main_out_path = main_out;
        options.main_module = &main_module;
        options.link_name = LINK_NAME;
        options
    })
    .wrap_err("splitting the module")?;
    std::fs::write(
        output_dir.join("__wasm_split_manifest.json"),
        serde_json::to_string_pretty(&split.prefetch_map)?,
    )?;
    Ok(split.split_modules)
}

/// Step 2: `<name>.js` and `<name>.wasm` from the main module, with the settings
/// `wasm-bindgen --target web --keep-lld-exports --no-demangle --out-name <name>` gives
/// (every other setting as that command's defaults leave it).
fn bindgen(main_module: &Path, output_dir: &Path, name: &str) -> eyre::Result<()> {
    let mut bindgen = wasm_bindgen_cli_support::Bindgen::new();
    bindgen
        .web(true)
        .map_err(|e| eyre::eyre!("{e:#}"))?
        .input_path(main_module)
        .out_name(name)
        .demangle(false)
        .keep_lld_exports(true)
        .typescript(false)
        // The command line's defaults where they differ from the library's.
        .omit_default_module_path(false)
        .reference_types(false);
    bindgen
        .generate(output_dir)
        .map_err(|e| eyre::eyre!("generating the JavaScript glue: {e:#}"))?;
    // wasm-bindgen names the module `<name>_bg.wasm`; Leptos loads `<name>.wasm`.
    std::fs::rename(
        output_dir.join(format!("{name}_bg.wasm")),
        output_dir.join(format!("{name}.wasm")),
    )?;
    Ok(())
}
