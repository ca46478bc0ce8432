//! `tapeline-wasm-split <input.wasm> <output-dir> <name>`: cuts the front end's WebAssembly
//! (linked with `--emit-relocs`) at its `#[lazy]` split points (`app::pages::lazy`).
//!
//! Writes into `<output-dir>`:
//! - `<name>_split.wasm`, the main module, for wasm-bindgen to finish as `<name>.js` and
//!   `<name>.wasm`;
//! - one module per split point and per set of split points that share code, and the
//!   JavaScript that loads them (`__wasm_split.______________________.js`, the name Leptos's
//!   `HydrationScripts` preloads);
//! - `__wasm_split_manifest.json`: for each split point, the modules it needs — the server
//!   reads it to preload a page's modules.
//!
//! Prints the split modules' paths, one per line, for the build to optimise.

use std::path::PathBuf;

/// The loader's name: Leptos's `HydrationScripts` names it so in its preload link.
const LINK_NAME: &str = "./__wasm_split.______________________.js";

fn main() -> eyre::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--version") {
        println!("tapeline-wasm-split {}", env!("CARGO_PKG_VERSION"));
        return Ok(());
    }
    let [input, output_dir, name] = args.as_slice() else {
        eyre::bail!("usage: tapeline-wasm-split <input.wasm> <output-dir> <name>");
    };
    let input_wasm = std::fs::read(input).map_err(|e| eyre::eyre!("reading {input}: {e}"))?;
    let output_dir = PathBuf::from(output_dir);
    std::fs::create_dir_all(&output_dir)?;
    let main_out = output_dir.join(format!("{name}_split.wasm"));
    let main_module = format!("./{name}.js");
    let split = wasm_split_cli_support::transform({
        let mut options = wasm_split_cli_support::Options::new(&input_wasm);
        options.output_dir = &output_dir;
        options.main_out_path = &main_out;
        options.main_module = &main_module;
        options.link_name = LINK_NAME;
        options
    })?;
    std::fs::write(
        output_dir.join("__wasm_split_manifest.json"),
        serde_json::to_string_pretty(&split.prefetch_map)?,
    )?;
    for module in &split.split_modules {
        println!("{}", module.display());
    }
    Ok(())
}
