//! Loads weight tables and prints what was kept: a quick check of real files.
//! `cargo run --example load_tables -- master_repositories.json programming_languages.json`

fn main() {
    env_logger::init();
    let args: Vec<String> = std::env::args().collect();
    let (Some(repos), Some(langs)) = (args.get(1), args.get(2)) else {
        eprintln!("usage: load_tables REPOSITORIES LANGUAGES");
        std::process::exit(2);
    };
    match gittensor_validator::inputs::load_repositories(std::path::Path::new(repos)) {
        Ok(t) => println!("{repos}: {} repositories kept", t.len()),
        Err(e) => println!("error: {e}"),
    }
    match gittensor_validator::inputs::load_languages(std::path::Path::new(langs)) {
        Ok(t) => println!(
            "{langs}: loaded (rs weighs {}, unknown weighs {})",
            t.weight("rs"),
            t.weight("no-such-ext")
        ),
        Err(e) => println!("error: {e}"),
    }
}
