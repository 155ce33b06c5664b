//! The crate's key handling and test axon as commands, for
//! `scripts/interop-dendrite.sh` to compare them with the real SDK.
//!
//! ```text
//! keytool address KEYFILE              the hotkey file's SS58, as loaded here
//! keytool sign KEYFILE MESSAGE         an sr25519 signature (context substrate), 0x hex
//! keytool verify SS58 MESSAGE SIG      exit 0 when it verifies, else 1
//! keytool axon KEYFILE PAT             serve a test axon on 127.0.0.1; print its port;
//!                                      stop when stdin closes; then print its stats
//! ```

use std::io::Read;
use std::path::Path;
use std::process::ExitCode;

use gittensor_validator::testaxon::{Behaviour, TestAxon};
use gittensor_validator::wallet::{self, Hotkey};

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let load = |p: &str| match Hotkey::load(Path::new(p)) {
        Ok(k) => k,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["address", file] => println!("{}", load(file).ss58()),
        ["sign", file, message] => println!("0x{}", hex(&load(file).sign(message.as_bytes()))),
        ["verify", ss58, message, sig] => {
            let Some(public) = wallet::public_key_of(ss58) else {
                return ExitCode::from(1);
            };
            let bytes: Option<Vec<u8>> =
                sig.strip_prefix("0x").filter(|h| h.len() == 128).map(|h| {
                    (0..128)
                        .step_by(2)
                        .filter_map(|i| u8::from_str_radix(&h[i..i + 2], 16).ok())
                        .collect()
                });
            let Some(Ok(sig)) = bytes.map(<[u8; 64]>::try_from) else {
                return ExitCode::from(1);
            };
            if !wallet::verify(&sig, message.as_bytes(), &public) {
                return ExitCode::from(1);
            }
        }
        ["axon", file, pat] => {
            let axon = TestAxon::start(load(file), Behaviour::Pat(pat.to_string()))
                .expect("start a test axon");
            println!("{}", axon.addr().port());
            let _ = std::io::stdin().read_to_end(&mut Vec::new());
            let s = axon.stats();
            println!(
                "accepted {} not_verified {} other {}",
                s.accepted, s.not_verified, s.other
            );
        }
        _ => {
            eprintln!("usage: keytool address|sign|verify|axon ...");
            return ExitCode::from(2);
        }
    }
    ExitCode::SUCCESS
}
